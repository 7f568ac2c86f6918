"""Chapter 2's experiment: train a network, then measure its relative stability to diffeomorphisms.

Protocol (Petrini et al. 2021, Sec. 3-5 and App. E): a training set of P images, a fixed set of probe images from
held-out data (the paper: the first 500 test images) and a disjoint held-out test set for the test error. R_f, D_f
and G_f are measured at initialisation and after training, at delta = 1 (T from the asymptotic Eq. 3, as the
authors) for each cutoff c, optionally as curves over delta and per layer. At initialisation BatchNorm uses batch
statistics, as in the authors' code (:func:`lib.measures.relative_stability.batchnorm_batch_statistics`). ``run_model`` is the unit of
a sweep (:func:`lib.pipeline.results.run_sweep`); it takes and returns plain dicts.

Inputs stay in [0, 1] (torchvision ``ToTensor``, the authors' MNIST setting) for every dataset.

The chapter's paper-vs-here verdicts (:mod:`lib.pipeline.verdicts`) use exponents in P with their regression
intervals (:func:`lib.pipeline.verdicts.loglog_slope`), geometric means over runs
(:func:`lib.pipeline.verdicts.geometric_estimate`), Fig. 5's prefactor, exponent and correlation over architectures
(:func:`zoo_fit`, at the end of this module) and rows of claims that state only a direction
(:func:`lib.pipeline.verdicts.direction_row`).
"""

from __future__ import annotations

import time
from itertools import groupby
from typing import Sequence

import numpy as np
import torch
from torch import nn
from torchvision.models import EfficientNet

from lib.data import image_pool
from lib.data.invariant import informative_dims
from lib.measures.amplification import amplification
from lib.measures.diffeomorphisms import displacement_sq, temperature_for_delta
from lib.measures.relative_stability import (NOISE_MATCHING, REDUCTIONS, batchnorm_batch_statistics,
                                             invariant_stability, log_mean, relative_stability)
from lib.nets.classifiers import build_model, last_linear
from lib.nets.one_hidden_layer import draw_problem
from lib.pipeline.device import describe_device, pick_device
from lib.pipeline.verdicts import geometric_estimate, pearson_estimate, slope_estimate
from lib.training.gradient_flow import flow_options, sign_error, train_network
from lib.training.supervised import evaluate, recalibrate_batchnorm, train

# The authors' recipe (diffeo-sota): SGD, lr 0.1, momentum 0.9, weight decay 5e-4, batch 128, cosine annealing,
# for 250 epochs; their fully connected net uses Adam. In the few hundred steps a CPU profile affords, SGD at lr 0.1
# does not get the networks without BatchNorm off the ground (measured: chance accuracy for VGG-11, AlexNet and
# LeNet after 160 steps), so short trainings give those Adam with its usual lr 1e-3, as the FC net has.
RECIPES = {
    "sgd": {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4, "lr_schedule": "cosine"},
    "adam": {"optimizer": "adam", "lr": 1e-3, "momentum": 0.0, "weight_decay": 0.0, "lr_schedule": None},
}
WITHOUT_BATCHNORM = ("fc", "lenet", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19")


def recipe(model: str, short: bool = True) -> dict:
    """The training recipe of an architecture (see ``RECIPES``): the authors' (SGD, Adam for the FC net) for a full
    training; for a ``short`` one, Adam for every network without BatchNorm."""
    adam = model == "fc" or (short and model in WITHOUT_BATCHNORM)
    return dict(RECIPES["adam" if adam else "sgd"])


def split_pool(x: torch.Tensor, y: torch.Tensor, n_train: int, n_probe: int, n_test: int,
               seed: int) -> dict[str, torch.Tensor]:
    """Probe, test and training sets drawn from one pool of images.

    Probes and test points are the same for every run (a fixed permutation); the training set is a random subset of
    size ``n_train`` of the remaining images, drawn with ``seed`` (the paper's "16 different subsets").
    """
    held = n_probe + n_test
    if held + n_train > len(x):
        raise ValueError(f"the pool has {len(x)} images; {n_probe} probes + {n_test} test + {n_train} training "
                         f"need {held + n_train}. Lower n_train or n_test.")
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    rest = order[held:]
    train_idx = rest[torch.randperm(len(rest), generator=torch.Generator().manual_seed(seed))[:n_train]]
    probe, test = order[:n_probe], order[n_probe:held]
    return {"x_train": x[train_idx], "y_train": y[train_idx], "x_probe": x[probe], "x_test": x[test],
            "y_test": y[test]}


def probe_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The layers whose outputs the layerwise R_f is measured on (App. E.3, Fig. 14), input to output.

    ResNets: the four stages and the head; EfficientNet: the feature blocks and the head; other nets: every ReLU
    module and the last linear layer.
    """
    if hasattr(model, "layer4"):
        return {**{f"stage{i}": getattr(model, f"layer{i}") for i in range(1, 5)}, "output": model.fc}
    if isinstance(model, EfficientNet):
        return {**{f"block{i}": block for i, block in enumerate(model.features)}, "output": model.classifier}
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    return {**{f"relu{i + 1}": m for i, m in enumerate(relus)}, "output": last_linear(model)}


def measure(model: nn.Module, probes: torch.Tensor, deltas: list[float], cuts: list[int], interps: list[str],
            seed: int, layerwise: bool = False) -> list[dict]:
    """R_f, D_f, G_f for every (delta, c, interpolation): one row each, with T and the exact rms displacement."""
    n = probes.shape[-1]
    rows = []
    for delta in deltas:
        for c in cuts:
            T = temperature_for_delta(delta, c, n)
            for interp in interps:
                out = relative_stability(model, probes, T, c, interp, seed=seed,
                                         layers=probe_layers(model) if layerwise else None)
                rows.append({"delta": delta, "c": c, "interp": interp, "T": T,
                             "delta_exact": displacement_sq(T, c, n) ** 0.5, **out})
    return rows


def _network_and_data(params: dict) -> tuple[nn.Module, dict[str, torch.Tensor], torch.device]:
    """The untrained network of ``params`` on its device and the data split of its run (:func:`split_pool`)."""
    torch.set_num_threads(params.get("threads", torch.get_num_threads()))
    device = pick_device(params.get("device", "auto"))
    x, y = image_pool(params["dataset"], params.get("data_root") or None)
    data = split_pool(x, y, params["n_train"], params["n_probe"], params["n_test"], params["seed"])
    model = build_model(params["model"], num_classes=int(y.max()) + 1, in_channels=x.shape[1],
                        input_size=x.shape[-1], seed=params["seed"], **_arch_kwargs(params)).to(device)
    return model, data, device


def _fit(model: nn.Module, data: dict[str, torch.Tensor], params: dict, device: torch.device) -> dict:
    """Train as :func:`run_model` describes, recalibrate BatchNorm, and return the training summary."""
    start = time.perf_counter()
    hist = train(model, data["x_train"], data["y_train"], epochs=params["epochs"], batch_size=params["batch_size"],
                 optimizer=params["optimizer"], lr=params["lr"], momentum=params["momentum"],
                 weight_decay=params["weight_decay"], lr_schedule=params["lr_schedule"],
                 target_train_acc=params.get("target_train_acc"), device=device, seed=params["seed"], progress=False)
    recalibrate_batchnorm(model, data["x_train"], device=device)
    test = evaluate(model, data["x_test"], data["y_test"])
    return {"train_seconds": time.perf_counter() - start, "train_acc": hist.last()["acc"],
            "epochs_run": len(hist.epochs), "fitted": hist.stopped == "target", "test_error": 1 - test["acc"],
            "test_loss": test["loss"], "device": describe_device(device),
            "parameters": sum(p.numel() for p in model.parameters())}


def run_model(params: dict) -> dict:
    """Train ``params['model']`` on ``params['n_train']`` images of ``params['dataset']``; measure R_f before/after.

    Training runs for ``params['epochs']`` epochs, or stops earlier once the running training accuracy reaches
    ``params['target_train_acc']`` (when given). BatchNorm statistics are then recomputed on the training set
    (:func:`lib.training.supervised.recalibrate_batchnorm`): after a few hundred steps the running averages are still stale.
    """
    model, data, device = _network_and_data(params)
    grid = dict(deltas=[params["delta"]], cuts=params["cuts"], interps=["bilinear"], seed=params["seed"],
                layerwise=params.get("layerwise", False))
    curve = dict(deltas=params.get("curve_deltas", []), cuts=params["cuts"], interps=["bilinear", "gaussian"],
                 seed=params["seed"])
    with batchnorm_batch_statistics(model):  # the authors' convention at initialisation
        out = {"init": measure(model, data["x_probe"], **grid),
               "curve_init": measure(model, data["x_probe"], **curve)}
    out.update(_fit(model, data, params, device))
    out.update(trained=measure(model, data["x_probe"], **grid), curve_trained=measure(model, data["x_probe"], **curve))
    if params.get("variants"):
        out["variants"] = variants(model, data["x_probe"], params["cuts"][0], params["seed"])
    return out


def run_many_diffeos(params: dict) -> dict:
    """The extended run: the network of :func:`run_model`'s ``params`` trained the same way, then R_f at
    ``params['delta']`` and cutoff ``params['cuts'][0]`` on its probes with ``params['n_diffeos']`` diffeomorphisms
    (and noise vectors) per probe, in float32 with the network in channels-last memory format.

    Returns the training summary; ``many`` (R, D, G over all draws, ``seconds``); ``one_draw`` (R, D, G of each
    draw alone: the spread of the paper's one-diffeomorphism estimator on this network); and ``precision``: for the
    first ``params['check_diffeos']`` draws, R and forward throughput (images/s) in float32 with the default memory
    format, float32 channels-last and bfloat16 autocast channels-last, on the same draws.
    """
    model, data, device = _network_and_data(params)
    out = _fit(model, data, params, device)
    probes, c = data["x_probe"], params["cuts"][0]
    T = temperature_for_delta(params["delta"], c, probes.shape[-1])
    forwards = lambda k: len(probes) * (2 * k + 1)  # noqa: E731 - clean once, deformed and noisy k times each
    precision = []
    for label, layout, amp in (("float32", torch.contiguous_format, False),
                               ("float32 channels-last", torch.channels_last, False),
                               ("bfloat16 autocast channels-last", torch.channels_last, True)):
        model = model.to(memory_format=layout)
        start = time.perf_counter()
        res = relative_stability(model, probes, T, c, seed=params["seed"], n_diffeos=params["check_diffeos"],
                                 amp=amp)
        seconds = time.perf_counter() - start
        precision.append({"setting": label, "R": res["R"], "D": res["D"], "G": res["G"], "seconds": seconds,
                          "images_per_s": forwards(params["check_diffeos"]) / seconds})
    start = time.perf_counter()
    many = relative_stability(model.to(memory_format=torch.channels_last), probes, T, c, seed=params["seed"],
                              n_diffeos=params["n_diffeos"], progress=True, per_draw=True)
    seconds = time.perf_counter() - start
    out.update(many={k: many[k] for k in ("R", "D", "G", "displacement_norm")}, one_draw=many["per_draw"],
               precision=precision, T=T, c=c, n_probes=len(probes), measure_seconds=seconds,
               images_per_s=forwards(params["n_diffeos"]) / seconds)
    return out


def variants(model: nn.Module, probes: torch.Tensor, c: int, seed: int) -> list[dict]:
    """R_f at delta = 1 under every reduction and noise matching of :mod:`lib.measures.relative_stability` (the paper's text vs the
    authors' code), same diffeomorphisms and noise directions."""
    T = temperature_for_delta(1.0, c, probes.shape[-1])
    return [{"reduction": red, "noise": noise, **relative_stability(model, probes, T, c, reduction=red, noise=noise,
                                                                     seed=seed)}
            for red in REDUCTIONS for noise in NOISE_MATCHING]


def _arch_kwargs(params: dict) -> dict:
    if params["model"] in ("lenet", "fc"):
        return {}
    return {"width": params.get("width", 1.0)}


def stability_rows(records: list[dict], key: str = "trained") -> list[dict]:
    """One flat row per (run, measurement) of ``key`` (``init``, ``trained``, ``curve_init``, ``curve_trained``)."""
    rows = []
    for rec in records:
        p, r = rec["params"], rec["result"]
        for m in r[key]:
            rows.append({"dataset": p["dataset"], "model": p["model"], "P": p["n_train"], "seed": p["seed"],
                         "test_error": r["test_error"], "state": key, **{k: v for k, v in m.items() if k != "layers"},
                         **({"layers": m["layers"]} if "layers" in m else {})})
    return rows


def combine_seeds(rows: list[dict], by: tuple[str, ...]) -> list[dict]:
    """Geometric means over seeds (as the authors: "log-averaging") of R, D, G and the test error, per group ``by``."""
    out = []
    keyf = lambda r: tuple(r[k] for k in by)  # noqa: E731
    for key, group in groupby(sorted(rows, key=keyf), key=keyf):
        group = list(group)
        out.append({**dict(zip(by, key)), "seeds": len(group),
                    **{q: log_mean(g[q] for g in group) for q in ("R", "D", "G")},
                    "test_error": log_mean(max(g["test_error"], 1e-4) for g in group)})
    return out


def run_stripe_stability(params: dict) -> dict:
    """Relative stability of the stripe model, Eq. (6) of Petrini et al. (2021) (their Fig. 7): train Eq. (1) in the
    feature regime on p points (``params`` as :func:`lib.experiments.compressing_invariants.run_learning`, plus ``radius``, the noise norm) and measure R_f
    of the initial function f_0 and of the trained predictor F on ``n_test`` fresh points, with Lambda and the
    test error."""
    d, p, d_par = params["d"], params["p"], informative_dims(params["model"])
    ((x, y), (x_test, y_test)), net, init, g = draw_problem(params, (p, params["n_test"]))
    flow = train_network(net, x, y, params["alpha"], **flow_options(params))
    trained = lambda z: net(z) - init(z)  # noqa: E731 - F / alpha
    with torch.no_grad():
        err = sign_error(trained(x_test), y_test)
    r_init = invariant_stability(init, x_test, d_par, params["radius"], generator=g)
    r_trained = invariant_stability(trained, x_test, d_par, params["radius"], generator=g)
    return {"model": params["model"], "d": d, "p": p, "seed": params["seed"], "R_init": r_init, "R": r_trained,
            "lambda": amplification(net, d_par), "test_error": err, "fitted": flow.history[-1]["fitted"],
            "steps": flow.steps}


# --- The chapter's paper-vs-here verdicts (criterion: lib.pipeline.verdicts.CRITERION) ---------------------------


def zoo_fit(R: Sequence[float], err: Sequence[float], resamples: int = 2000, seed: int = 0) -> dict:
    """Fig. 5's statistics over architectures (one point each): the prefactor ``a`` of eps_t = a sqrt(R_f) (geometric
    mean of eps_t / sqrt(R_f)), the correlation of log eps_t and log R_f, and the free exponent of eps_t ~ R_f^b.

    ``a`` gets the Student-t interval of its mean log over architectures, the correlation a percentile-bootstrap
    interval (resamples with a constant log R_f or log eps_t are skipped), the exponent its regression interval. Fewer than three architectures: ``corr``
    and ``exponent`` are None."""
    lr, le = np.log(np.asarray(R, dtype=float)), np.log(np.asarray(err, dtype=float))
    n = len(lr)
    out = {"n": n, "a": geometric_estimate(np.exp(le - 0.5 * lr)), "corr": None, "exponent": None}
    if n < 3:
        return out
    out["corr"] = pearson_estimate(lr, le, resamples=resamples, seed=seed)
    out["exponent"] = slope_estimate(lr, le)
    return out


def steepest_drop(values) -> tuple[int, float]:
    """Where a sequence of positive values (R_f by layer, input to output) falls most: the index ``i`` of the step
    ``values[i] -> values[i + 1]`` with the largest decrease of the logarithm, and that step's ratio."""
    logs = np.log(np.asarray(values, dtype=float))
    if len(logs) < 2:
        raise ValueError(f"need at least two values, got {len(logs)}")
    steps = np.diff(logs)
    i = int(np.argmin(steps))
    return i, float(np.exp(steps[i]))
