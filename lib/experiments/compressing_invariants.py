"""Chapter 3's experiments (Paccolat et al. 2021): feature vs lazy learning of linear-invariant tasks, and the
MnasNet-like CNN on MNIST parity.

``run_learning`` is the unit of a sweep (:func:`lib.pipeline.results.run_sweep`): for one data model, dimension, training-set
size p, width h and seed it trains

- the network in the feature regime (alpha = 1e-6 by default), recording t*, Lambda(t) (Eq. 9), Lambda* = Lambda(t*)
  and Lambda_max;
- the frozen initial NTK (the lazy limit alpha -> infinity) on the same data;
- the frozen initial NTK on data whose invariant directions are compressed by Lambda* (x_perp -> x_perp / Lambda*);
- the frozen NTK at the end of feature training, on an independent training set of the same size (Sec. 5.2);

and returns their test errors on ``n_test`` fresh points, in plain dicts. :func:`stripe_fixed_points` solves the
p -> infinity fixed-point condition of Eq. (6) for the single-stripe model.

The real-data experiment (Sec. 5.2, Figs. 8-10): the MnasNet-like CNN on MNIST parity, the network in the feature
regime against four frozen kernels.

``run_parity`` is the unit of a sweep (:func:`lib.pipeline.results.run_sweep`). For one training-set size p, channel scale h
and seed it draws three disjoint sets of MNIST digits (training, kernel training, test), then

- trains the network with the alpha-trick (F = alpha (f - f_0), alpha = 2e-3 and the softhinge with beta_s = 3 as
  the released MNIST runs) by the adaptive gradient flow of :mod:`lib.training.gradient_flow`;
- computes four Gram matrices on the kernel-training set: the NTK (every parameter) and the last-layer kernel
  (readout weights and bias only: pooled post-activations) at initialisation and after training;
- trains each frozen kernel on the kernel-training set, "an independent trainset of the same size" (Fig. 8), and
  measures every test error on the same test set;
- summarises each Gram matrix by kernel PCA (:func:`lib.measures.ntk.pca_summary`: eigenvalues, label projections, mutual
  information of the top eigenvectors with the label, the first two eigenvectors) for Figs. 9-10.

``run_amplification`` is the cheap unit of the Lambda* scale ladder: the feature flow alone, stopped at t*;
``run_ladder`` runs it for many sizes and seeds (the extended runs of Sections 4-5). ``run_lazy`` is the frozen initial
NTK alone, and ``run_lazy_ladder`` its learning curve at larger p and width (the extended run of Section 3).

The chapter's statistics (:mod:`lib.pipeline.verdicts` estimates): :func:`exponent_estimate` fits a power law on every
run (not on medians) with its 95% interval; :func:`ratio_estimate` is the geometric mean of per-run ratios with a
Student-t interval of their mean log; :func:`lib.pipeline.verdicts.direction_row` gives a paper-vs-here row for a claim that states
a direction and no size.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
from scipy.special import ndtr
from tqdm.auto import tqdm

from lib.data.invariant import X_MAX, X_MIN, compress, informative_dims
from lib.data.parity import parity_sets
from lib.measures.amplification import amplification
from lib.measures.ntk import empirical_ntk, ntk_gram, pca_summary
from lib.nets.mnasnet_like import MnasNetLike
from lib.nets.one_hidden_layer import OneHiddenLayer, draw_problem
from lib.pipeline.device import describe_device, pick_device
from lib.pipeline.verdicts import Estimate, geometric_estimate, loglog_slope
from lib.training.gradient_flow import FlowResult, flow_options, sign_error, train_kernel, train_network

MAX_HISTORY = 300  # Lambda(t) is kept at this many log-spaced steps


def _thin(history: list[dict], keys: tuple[str, ...]) -> dict[str, list[float]]:
    idx = np.unique(np.geomspace(1, len(history), MAX_HISTORY).astype(int) - 1)
    return {k: [history[i][k] for i in idx] for k in keys}


def kernel_test_error(model: OneHiddenLayer, x: torch.Tensor, y: torch.Tensor, x_test: torch.Tensor,
                      y_test: torch.Tensor, **flow) -> tuple[float, dict]:
    """Test error of the frozen-NTK flow of ``model`` trained on (x, y), and the flow's step counts."""
    a, result = train_kernel(ntk_gram(model, x), y, **flow)
    err = sign_error(ntk_gram(model, x_test, x) @ a, y_test)
    return err, {"steps": result.steps, "forced": result.forced, "converged": result.converged,
                 "fitted": result.history[-1]["fitted"]}


def run_learning(params: dict) -> dict:
    """One feature run and three frozen-kernel runs. ``params``: model, d, p, h, alpha, seed, n_test, and the
    flow's loss, min_step, max_steps and until (the fitted fraction at which every flow stops; 1: all points);
    optional ``device`` (data and weights are drawn on the CPU, then moved, so results do not depend on it)."""
    model_name, d, p = params["model"], params["d"], params["p"]
    d_par = informative_dims(model_name)
    ((x, y), (x_kernel, y_kernel), (x_test, y_test)), net, init, _ = draw_problem(params, (p, p, params["n_test"]))
    flow = flow_options(params)
    with torch.no_grad():
        f0_test = net(x_test)
    feature = train_network(net, x, y, params["alpha"], observe=lambda t, F: {"Lambda": amplification(net, d_par)},
                            **flow)
    with torch.no_grad():
        feature_err = sign_error(net(x_test) - f0_test, y_test)
    lam = feature.column("Lambda")
    t_star = feature.t_star if feature.t_star is not None else feature.t
    lam_star = next(l for h, l in zip(feature.history, lam) if h["t"] >= t_star)
    lazy_err, lazy = kernel_test_error(init, x, y, x_test, y_test, **flow)
    comp_err, comp = kernel_test_error(init, compress(x, lam_star, d_par), y, compress(x_test, lam_star, d_par),
                                       y_test, **flow)
    final_err, final = kernel_test_error(net, x_kernel, y_kernel, x_test, y_test, **flow)
    return {"model": model_name, "d": d, "p": p, "h": params["h"], "alpha": params["alpha"], "seed": params["seed"],
            "feature": {"test_error": feature_err, "t_star": feature.t_star, "t_end": feature.t,
                        "lambda_star": lam_star, "lambda_max": max(lam), "steps": feature.steps,
                        "forced": feature.forced, "converged": feature.converged,
                        "fitted": feature.history[-1]["fitted"],
                        "history": _thin(feature.history, ("t", "Lambda", "fitted"))},
            "lazy": {"test_error": lazy_err, **lazy}, "lazy_compressed": {"test_error": comp_err, **comp},
            "final_ntk": {"test_error": final_err, **final}}


def run_amplification(params: dict) -> dict:
    """The feature flow of ``run_learning`` alone, stopped at t* (10% of the training set fitted): Lambda* and
    Lambda(t), the quantities of Fig. 5, at a fraction of the cost (no kernels, no fitting phase). ``params``: model,
    d, p, h, alpha, seed, n_test, loss, min_step, max_steps; optional ``device``. The draws are those of
    ``run_learning`` with the same parameters (its training set and network), so the two give the same Lambda*."""
    d_par = informative_dims(params["model"])
    ((x, y), _, _), net, _, _ = draw_problem(params, (params["p"], params["p"], params["n_test"]))
    flow = flow_options({**params, "until": 0.1})
    feature = train_network(net, x, y, params["alpha"], observe=lambda t, F: {"Lambda": amplification(net, d_par)},
                            **flow)
    lam = feature.column("Lambda")
    return {"model": params["model"], "d": params["d"], "p": params["p"], "h": params["h"], "alpha": params["alpha"],
            "seed": params["seed"], "min_step": params["min_step"], "t_star": feature.t_star,
            "lambda_star": lam[-1], "reached_t_star": feature.t_star is not None, "steps": feature.steps,
            "forced": feature.forced, "history": _thin(feature.history, ("t", "Lambda", "fitted"))}


def run_lazy(params: dict) -> dict:
    """The frozen initial NTK alone: ``run_learning``'s "lazy" learner (the same draws, so the same test error for
    the same parameters) without the three other learners. ``params``: model, d, p, h, seed, n_test and the flow's
    loss, min_step, max_steps and until; optional ``device``. Its cost is that of the two Gram matrices (p x p and
    n_test x p, O(p (p + n_test) h) operations) and of the kernel flow, so it reaches a larger p and the paper's
    width h = 10^4 where the feature flow cannot.

    Returns ``{"model", "d", "p", "h", "seed", "test_error", "steps", "forced", "converged", "fitted"}``: the test
    error is the fraction of the ``n_test`` test points misclassified (Fig. 2's epsilon_t), ``fitted`` the fraction of
    training points fitted when the flow stopped."""
    ((x, y), _, (x_test, y_test)), _, init, _ = draw_problem(params, (params["p"], params["p"], params["n_test"]))
    err, flow = kernel_test_error(init, x, y, x_test, y_test, **flow_options(params))
    return {**{k: params[k] for k in ("model", "d", "p", "h", "seed")}, "test_error": err, **flow}


AMPLIFICATION_KEPT = ("p", "seed", "lambda_star", "t_star", "reached_t_star", "steps", "forced")
LAZY_KEPT = ("p", "seed", "test_error", "steps", "forced", "fitted")


def _positive_ints(name: str, values) -> tuple[int, ...]:
    ok = isinstance(values, (list, tuple)) and len(values) > 0 and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 2 for v in values)
    if not ok or len(set(values)) != len(values):
        raise ValueError(f"{name} must be a non-empty list of distinct integers >= 2, got {values!r}")
    return tuple(sorted(values))


def _ladder(params: dict, unit, kept: tuple[str, ...], what: str) -> dict:
    """``unit`` at every size in ``params["ps"]`` with ``params["seeds"]`` seeds per size, sequentially (each run
    uses every CPU thread), with a tqdm bar; the ``kept`` entries of each result and its wall time in seconds."""
    ps = _positive_ints("ps", params.get("ps"))
    seeds = params.get("seeds")
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise ValueError(f"seeds must be an integer >= 1, got {seeds!r}")
    base = {k: v for k, v in params.items() if k not in ("ps", "seeds")}
    runs = []
    with tqdm(total=len(ps) * seeds, desc=f"{what} ladder ({params['model']}, h = {params['h']})", leave=False) as bar:
        for p in ps:
            for r in range(seeds):
                start = time.perf_counter()
                result = unit({**base, "p": p, "seed": params["seed"] + r})
                runs.append({**{k: result[k] for k in kept}, "seconds": round(time.perf_counter() - start, 3)})
                bar.update()
    return {"runs": runs, "device": describe_device(pick_device(params.get("device", "cpu")))}


def run_ladder(params: dict) -> dict:
    """Lambda* of the feature flow for every size in ``params["ps"]`` and ``params["seeds"]`` seeds per size.

    ``params``: everything :func:`run_amplification` takes except ``p`` and ``seed`` (model, d, h, alpha, n_test,
    loss, min_step, max_steps; optional device), plus ``ps`` (distinct integers >= 2), ``seeds`` (an integer >= 1)
    and ``seed`` (the first seed: size p runs seeds seed, ..., seed + seeds - 1, the seeds of the chapter's own
    runs, so each run equals the chapter's run with the same parameters). This is the extended ladder of the
    chapter's Sections 4-5: the paper's Lambda* ~ sqrt(p) (Eq. 8) is a statement about medians over 20 (stripe,
    Fig. 5) or 49 (cylinder, Fig. 7) realisations, and Lambda* of one seed scatters by factors of several at one p.
    Runs are sequential (each uses every CPU thread), with a tqdm bar.

    Returns ``{"runs": [{"p", "seed", "lambda_star", "t_star", "reached_t_star", "steps", "forced", "seconds"},
    ...], "device": the device in words}``: Lambda* dimensionless (Eq. 9), t* in the flow's time units, seconds the
    run's wall time. Raises ValueError naming the argument for ``ps`` not a non-empty list of distinct integers >= 2
    or ``seeds`` not an integer >= 1."""
    return _ladder(params, run_amplification, AMPLIFICATION_KEPT, "Lambda*")


def run_lazy_ladder(params: dict) -> dict:
    """The test error of the frozen initial NTK (:func:`run_lazy`) for every size in ``params["ps"]`` and
    ``params["seeds"]`` seeds per size: the extended learning curve of the lazy regime (Fig. 2's red curve, whose
    exponent the theory puts at beta_lazy = d / (3d - 2), Sec. 3.1), at larger p and wider networks than the
    chapter's own runs.

    ``params``: everything :func:`run_lazy` takes except ``p`` and ``seed``, plus ``ps``, ``seeds`` and ``seed`` as
    in :func:`run_ladder` (size p runs seeds seed, ..., seed + seeds - 1, so a run equals the chapter's
    ``run_learning`` lazy learner with the same parameters). Returns ``{"runs": [{"p", "seed", "test_error", "steps",
    "forced", "fitted", "seconds"}, ...], "device"}``; raises ValueError as :func:`run_ladder` does."""
    return _ladder(params, run_lazy, LAZY_KEPT, "lazy-kernel")


def exponent_estimate(ps, values, sign: float = 1.0) -> Estimate | None:
    """``sign`` times the slope of log(values) against log(p), fitted on every run (one value per run, the runs of
    every p pooled: not on medians), with its 95% t-interval; None with fewer than three positive values or fewer
    than two distinct p; two values at two sizes give their slope with no interval (labelled one run).
    ``sign = -1`` turns the slope of a learning curve into its exponent beta."""
    p, v = np.asarray(ps, dtype=float), np.asarray(values, dtype=float)
    keep = v > 0
    if keep.sum() < 2 or len(set(p[keep])) < 2:
        return None
    if keep.sum() == 2:
        (p1, p2), (v1, v2) = p[keep], v[keep]
        return Estimate(float(sign * np.log(v2 / v1) / np.log(p2 / p1)))
    fit = loglog_slope(p[keep], v[keep])
    low, high = sorted((sign * fit.low, sign * fit.high))
    return Estimate(sign * fit.value, low, high, fit.runs)


def local_slopes(ps, values, sign: float = 1.0) -> list[dict]:
    """:func:`exponent_estimate` on the runs of each pair of neighbouring sizes: ``[{"p from", "p to", "estimate"}]``
    (estimate None where the pair has fewer than two positive values). A slope that drifts along the list is a
    power law not yet reached (or left)."""
    p, v = np.asarray(ps, dtype=float), np.asarray(values, dtype=float)
    sizes = sorted(set(p.tolist()))
    out = []
    for a, b in zip(sizes, sizes[1:]):
        pick = (p == a) | (p == b)
        out.append({"p from": int(a), "p to": int(b), "estimate": exponent_estimate(p[pick], v[pick], sign)})
    return out


def ratio_estimate(numerator, denominator) -> Estimate:
    """The geometric mean of the paired per-run ratios numerator / denominator with the Student-t 95%
    interval over runs (:func:`lib.pipeline.verdicts.geometric_estimate`); one pair: that ratio, labelled one run.
    Raises ValueError for non-positive values or unequal lengths. (Not :func:`lib.pipeline.verdicts.ratio_estimate`,
    the ratio of the means of two independent sets of runs.)"""
    a, b = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise ValueError(f"numerator and denominator must be equal-length 1-d, got {a.shape} and {b.shape}")
    if (a <= 0).any() or (b <= 0).any():
        raise ValueError(f"ratios need positive values, got {a.tolist()} / {b.tolist()}")
    return geometric_estimate(a / b)






def lazy_exponent(d: int) -> float:
    """beta_lazy = d / (3d - 2) (Sec. 3.1)."""
    return d / (3 * d - 2)


def feature_exponent(d: int, d_par: int = 1) -> float:
    """beta_feature = (2d - 1)/(3d - 2) for d_par = 1 and (d + d_perp / 2)/(3d - 2) for d_par > 1 (Secs. 3-4)."""
    return (2 * d - 1) / (3 * d - 2) if d_par == 1 else (d + (d - d_par) / 2) / (3 * d - 2)


def _stripe_segments(x_min: float, x_max: float) -> list[tuple[float, float, float]]:
    return [(-math.inf, x_min, 1.0), (x_min, x_max, -1.0), (x_max, math.inf, 1.0)]


def _half_line_moments(zeta: np.ndarray, sign: int, x_min: float, x_max: float) -> tuple[np.ndarray, np.ndarray]:
    """C_1(zeta) = <y x Theta(sign (x - zeta))> and C_b(zeta) = <y Theta(sign (x - zeta))> for x ~ N(0, 1)."""
    pdf = lambda u: np.exp(-np.square(u) / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    c1, cb = np.zeros_like(zeta), np.zeros_like(zeta)
    for lo, hi, y in _stripe_segments(x_min, x_max):
        a = np.maximum(lo, zeta) if sign > 0 else np.full_like(zeta, lo)
        b = np.full_like(zeta, hi) if sign > 0 else np.minimum(hi, zeta)
        valid = b > a
        c1 += np.where(valid, y * (pdf(a) - pdf(b)), 0.0)
        cb += np.where(valid, y * (ndtr(b) - ndtr(a)), 0.0)
    return c1, cb


def stripe_fixed_points(d: int, x_min: float = X_MIN, x_max: float = X_MAX, grid: int = 20001) -> list[dict]:
    """Fixed points z* of Eq. (6) for the single stripe as p -> infinity: zeros of d C_b(z) + z C_1(z) on each side
    (``sign`` = +1 for lambda -> +infinity, the neuron active for x_1 > z; -1 for the other side), with
    zeta' ~ -sign(C_1) [d C_b + z C_1] (since beta omega_1 has the sign of C_1); ``stable`` where that slope is
    negative."""
    z = np.linspace(-4, 4, grid)
    points = []
    for sign in (1, -1):
        c1, cb = _half_line_moments(z, sign, x_min, x_max)
        bracket = d * cb + z * c1
        speed = -np.sign(c1) * bracket
        for i in np.nonzero(np.sign(bracket[:-1]) * np.sign(bracket[1:]) < 0)[0]:
            root = z[i] - bracket[i] * (z[i + 1] - z[i]) / (bracket[i + 1] - bracket[i])
            points.append({"z": float(root), "side": sign, "stable": bool(speed[i + 1] - speed[i] < 0)})
    return points


# --- Sec. 5.2: the MnasNet-like CNN on MNIST parity (Figs. 8-10) ---

DTYPES = {"float32": torch.float32, "float64": torch.float64}
READOUT = ("readout", "bias")  # the last layer's parameters
KERNELS = ("init_ntk", "init_last_layer", "final_ntk", "final_last_layer")


def _flow_summary(flow: FlowResult) -> dict:
    return {"steps": flow.steps, "rejected": flow.rejected, "t_end": flow.t, "t_star": flow.t_star,
            "converged": flow.converged, "fitted": flow.history[-1]["fitted"]}


def _kernels(net: MnasNetLike, x: torch.Tensor, x_test: torch.Tensor, chunk: int) -> dict[str, tuple]:
    """(train Gram, test-train Gram) in float64 for the full NTK and the last-layer kernel of ``net``."""
    out = {}
    for name, params in (("ntk", None), ("last_layer", READOUT)):
        k_train = empirical_ntk(net, x, chunk=chunk, parameters=params).double()
        k_test = empirical_ntk(net, x_test, x, chunk=chunk, parameters=params).double()
        out[name] = (k_train, k_test)
    return out


def run_parity(params: dict) -> dict:
    """One network and four frozen kernels on MNIST parity. ``params``: p, h, alpha, seed, n_test, dtype
    ("float32" or "float64"), data_root, and the flow's loss, softness, max_dgrad, tau, until, max_steps; optional
    ``device``, ``top`` (eigenvectors kept, default 10) and ``chunk`` (per-sample gradients at a time, default 256)."""
    if params["dtype"] not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {params['dtype']!r}")
    dtype = DTYPES[params["dtype"]]
    device = pick_device(params.get("device", "cpu"))
    chunk, top = params.get("chunk", 256), params.get("top", 10)
    p, n_test = params["p"], params["n_test"]
    sets = parity_sets((p, p, n_test), seed=params["seed"], root=params["data_root"])
    (x, y), (x_k, y_k), (x_test, y_test) = [(a.to(device, dtype), b.to(device, dtype)) for a, b in sets]
    g = torch.Generator().manual_seed(params["seed"])
    net = MnasNetLike(params["h"], generator=g).to(device, dtype)
    flow = {k: params[k] for k in ("loss", "softness", "max_dgrad", "tau", "until", "max_steps")}
    start = time.perf_counter()
    init = _kernels(net, x_k, x_test, chunk)
    with torch.no_grad():
        f0_test = net(x_test)
    feature = train_network(net, x, y, params["alpha"], **flow)
    with torch.no_grad():
        network_error = sign_error(net(x_test) - f0_test, y_test)
    final = _kernels(net, x_k, x_test, chunk)
    record = {"p": p, "h": params["h"], "alpha": params["alpha"], "seed": params["seed"],
              "parameters": sum(w.numel() for w in net.parameters()),
              "network": {"test_error": network_error, **_flow_summary(feature)},
              "labels": y_k.tolist()}
    y_k, y_test = y_k.double(), y_test.double()
    for name, (k_train, k_test) in (("init_ntk", init["ntk"]), ("init_last_layer", init["last_layer"]),
                                    ("final_ntk", final["ntk"]), ("final_last_layer", final["last_layer"])):
        a, kflow = train_kernel(k_train, y_k, loss=flow["loss"], softness=flow["softness"], until=flow["until"],
                                max_steps=flow["max_steps"])
        record[name] = {"test_error": sign_error(k_test @ a, y_test), **_flow_summary(kflow),
                        "pca": pca_summary(k_train.cpu(), y_k.cpu(), top=top)}
    record["wall_s"] = time.perf_counter() - start
    return record
