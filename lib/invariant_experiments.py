"""Chapter 3's experiments: feature vs lazy learning of linear-invariant tasks (Paccolat et al. 2021).

``run_learning`` is the unit of a sweep (:func:`lib.results.run_sweep`): for one data model, dimension, training-set
size p, width h and seed it trains

- the network in the feature regime (alpha = 1e-6 by default), recording t*, Lambda(t) (Eq. 9), Lambda* = Lambda(t*)
  and Lambda_max;
- the frozen initial NTK (the lazy limit alpha -> infinity) on the same data;
- the frozen initial NTK on data whose invariant directions are compressed by Lambda* (x_perp -> x_perp / Lambda*);
- the frozen NTK at the end of feature training, on an independent training set of the same size (Sec. 5.2);

and returns their test errors on ``n_test`` fresh points, in plain dicts. :func:`stripe_fixed_points` solves the
p -> infinity fixed-point condition of Eq. (6) for the single-stripe model.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats
from scipy.special import ndtr

from .config import pick_device
from .data.invariant import X_MAX, X_MIN, compress, informative_dims, invariant_data
from .gradient_flow import train_kernel, train_network
from .shallow import OneHiddenLayer, amplification, ntk_gram
from .stability import invariant_stability

MAX_HISTORY = 300  # Lambda(t) is kept at this many log-spaced steps


def sign_error(prediction: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of points whose predicted sign differs from the label y = +-1."""
    return float((torch.sign(prediction) != y).double().mean())


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


def _draw(params: dict, sizes: tuple[int, ...]) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], OneHiddenLayer,
                                                         OneHiddenLayer, torch.Generator]:
    """From ``params["seed"]``, in this order: data sets of the given sizes, then the network; a frozen copy of it
    at initialisation; all moved to ``params["device"]`` (default CPU). Returns the generator for later draws."""
    g = torch.Generator().manual_seed(params["seed"])
    sets = [invariant_data(params["model"], n, params["d"], generator=g) for n in sizes]
    net = OneHiddenLayer(params["d"], params["h"], generator=g)
    init = OneHiddenLayer(params["d"], params["h"])
    init.load_state_dict(net.state_dict())
    device = pick_device(params.get("device", "cpu"))
    return [(x.to(device), y.to(device)) for x, y in sets], net.to(device), init.to(device), g


def _flow_options(params: dict) -> dict:
    return {k: params[k] for k in ("loss", "min_step", "max_steps", "until")}


def run_learning(params: dict) -> dict:
    """One feature run and three frozen-kernel runs. ``params``: model, d, p, h, alpha, seed, n_test, and the
    flow's loss, min_step, max_steps and until (the fitted fraction at which every flow stops; 1: all points);
    optional ``device`` (data and weights are drawn on the CPU, then moved, so results do not depend on it)."""
    model_name, d, p = params["model"], params["d"], params["p"]
    d_par = informative_dims(model_name)
    ((x, y), (x_kernel, y_kernel), (x_test, y_test)), net, init, _ = _draw(params, (p, p, params["n_test"]))
    flow = _flow_options(params)
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


def power_law(p, values) -> dict:
    """Least-squares slope of log(values) against log(p) with its 95% confidence half-width: values ~ p^slope."""
    p, v = np.asarray(p, dtype=float), np.asarray(values, dtype=float)
    keep = v > 0
    if keep.sum() < 3:
        raise ValueError("a power law needs at least three positive values")
    fit = stats.linregress(np.log(p[keep]), np.log(v[keep]))
    half = stats.t.ppf(0.975, keep.sum() - 2) * fit.stderr
    return {"slope": float(fit.slope), "ci": float(half), "intercept": float(fit.intercept)}


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


def run_stripe_stability(params: dict) -> dict:
    """Relative stability of the stripe model, Eq. (6) of Petrini et al. (2021) (their Fig. 7): train Eq. (1) in the
    feature regime on p points (``params`` as :func:`run_learning`, plus ``radius``, the noise norm) and measure R_f
    of the initial function f_0 and of the trained predictor F on ``n_test`` fresh points, with Lambda and the
    test error."""
    d, p, d_par = params["d"], params["p"], informative_dims(params["model"])
    ((x, y), (x_test, y_test)), net, init, g = _draw(params, (p, params["n_test"]))
    flow = train_network(net, x, y, params["alpha"], **_flow_options(params))
    trained = lambda z: net(z) - init(z)  # noqa: E731 - F / alpha
    with torch.no_grad():
        err = sign_error(trained(x_test), y_test)
    r_init = invariant_stability(init, x_test, d_par, params["radius"], generator=g)
    r_trained = invariant_stability(trained, x_test, d_par, params["radius"], generator=g)
    return {"model": params["model"], "d": d, "p": p, "seed": params["seed"], "R_init": r_init, "R": r_trained,
            "lambda": amplification(net, d_par), "test_error": err, "fitted": flow.history[-1]["fitted"],
            "steps": flow.steps}
