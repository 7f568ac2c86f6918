"""Chapter 5's experiments: linear regions of small ReLU nets on 1-D data manifolds while they learn.

Toy problem of the paper (Sec. 4.1, App. H): regress z = a sin(nu * param) + noise on the unit circle
(theta in (-pi, pi)) or the tractrix (t in (-3, 3)), embedded in R^n_in by an orthonormal frame, with an MLP trained
by Adam (lr 0.01). At every epoch the exact number of activation regions along the curve and the mean distance to the
nearest boundary are recorded. ``run_toy`` is the unit of a sweep (plain dicts in and out).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from lib.data import load_dataset
from lib.data.manifolds import random_orthonormal
from lib.measures.linear_regions import (circle, count_along_polylines, geodesic_boundary_distance, hyperplane_distance,
                                         relu_layers, tangent_gradient_norms, tractrix, tractrix_arclength,
                                         tractrix_at_arclength)
from lib.nets.classifiers import FCNet
from lib.nets.vae import latent_curves
from lib.pipeline.verdicts import Estimate, bootstrap_estimate
from lib.training.vae import train_vae

DOMAINS = {"circle": (-math.pi, math.pi), "tractrix": (-3.0, 3.0)}


def curve_points(manifold: str, param: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
    """Points psi(param) of the manifold in R^n_in (``frame``: orthonormal (2, n_in))."""
    if manifold == "circle":
        return circle(param, frame)
    if manifold == "tractrix":
        return tractrix(param) @ frame.double()
    raise ValueError(f"unknown manifold {manifold!r}; use 'circle' or 'tractrix'")


def arclength(manifold: str, param: torch.Tensor) -> torch.Tensor:
    """Arc length from the start of the domain to ``param``."""
    lo = DOMAINS[manifold][0]
    if manifold == "circle":
        return param.double() - lo
    return tractrix_arclength(param) - tractrix_arclength(torch.tensor(lo))


def param_at_arclength(manifold: str, s: torch.Tensor) -> torch.Tensor:
    lo = DOMAINS[manifold][0]
    if manifold == "circle":
        return s.double() + lo
    return tractrix_at_arclength(s + tractrix_arclength(torch.tensor(lo)))


def uniform_on_curve(manifold: str, n: int, generator: torch.Generator) -> torch.Tensor:
    """Parameters of ``n`` points uniform in arc length (uniform on the manifold); for the tractrix this is not
    uniform in t, since its speed abs(tanh t) vanishes at the cusp t = 0."""
    lo, hi = DOMAINS[manifold]
    total = float(arclength(manifold, torch.tensor(hi)))
    return param_at_arclength(manifold, torch.rand(n, generator=generator, dtype=torch.float64) * total)


def uniform_in_parameter(manifold: str, n: int, generator: torch.Generator) -> torch.Tensor:
    """Parameters of ``n`` points uniform in the parameter (theta or t), the paper's "sampling directly from theta and
    t"; for the tractrix this crowds points near the cusp."""
    lo, hi = DOMAINS[manifold]
    return lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)


SAMPLERS = {"arclength": uniform_on_curve, "parameter": uniform_in_parameter}


def tangents(manifold: str, param: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
    """Tangent vectors psi'(param) in R^n_in (zero at the tractrix's cusp)."""
    p = param.double()
    if manifold == "circle":
        d = torch.stack([-torch.sin(p), torch.cos(p)], -1)
    else:
        d = torch.stack([torch.tanh(p) ** 2, -torch.tanh(p) / torch.cosh(p)], -1)
    return d @ frame.double()


def measure(model: torch.nn.Module, manifold: str, frame: torch.Tensor, n_vertices: int, n_probe: int,
            generator: torch.Generator) -> dict[str, float]:
    """Regions along the curve and mean distances to the nearest boundary.

    ``dist_param``: Hanin & Rolnick's Euclidean distance at points uniform in the parameter (the paper's protocol);
    ``dist_uniform``: the same at points uniform on the curve; ``dist_geodesic``: distance along the curve to the
    nearest crossing, at points uniform on the curve; ``tangent_ratio``: mean ||P_T grad z|| / ||grad z||.
    """
    layers = relu_layers(model)
    lo, hi = DOMAINS[manifold]
    grid = torch.linspace(lo, hi, n_vertices + 1, dtype=torch.float64)
    res = count_along_polylines(layers, curve_points(manifold, grid, frame)[None])
    # Crossing positions as parameters, then as exact arc length.
    seg, t = res.segment, res.t
    cross_param = grid[seg] + t * (grid[seg + 1] - grid[seg])
    cross_s = arclength(manifold, cross_param)
    p_param = lo + (hi - lo) * torch.rand(n_probe, generator=generator, dtype=torch.float64)
    p_unif = uniform_on_curve(manifold, n_probe, generator)
    x_unif = curve_points(manifold, p_unif, frame)
    proj, full = tangent_gradient_norms(layers, x_unif, tangents(manifold, p_unif, frame))
    alive = full > 0
    return {"regions": int(res.regions[0]), "pieces": int(res.pieces[0]),
            "dist_param": float(hyperplane_distance(layers, curve_points(manifold, p_param, frame)).mean()),
            "dist_uniform": float(hyperplane_distance(layers, x_unif).mean()),
            "dist_geodesic": float(geodesic_boundary_distance(arclength(manifold, p_unif), cross_s).mean()),
            "tangent_ratio": float((proj[alive] / full[alive]).mean())}


def run_toy(params: dict, return_model: bool = False):
    """Train an MLP on a sin target along a manifold; measure regions and distances before training and after
    every epoch. ``params``: manifold, n_in, widths, n_train, a, nu, noise, epochs, batch_size, lr, seed,
    n_vertices, n_probe, and optionally ``sampling`` of the training and test points: "arclength" (uniform on the
    curve, the default) or "parameter" (uniform in theta or t). With ``return_model`` the trained network is
    returned too."""
    torch.set_num_threads(params.get("threads", 1))
    g = torch.Generator().manual_seed(params["seed"])
    frame = random_orthonormal(2, params["n_in"], g) if params["n_in"] > 2 else torch.eye(2, dtype=torch.float64)
    manifold = params["manifold"]
    sampling = params.get("sampling", "arclength")
    if sampling not in SAMPLERS:
        raise ValueError(f"sampling={sampling!r}; use one of {sorted(SAMPLERS)}")

    def sample(n):
        p = SAMPLERS[sampling](manifold, n, g)
        y = params["a"] * torch.sin(params["nu"] * p) + params["noise"] * torch.randn(n, generator=g, dtype=torch.float64)
        return curve_points(manifold, p, frame).float(), y.float()[:, None]

    x_tr, y_tr = sample(params["n_train"])
    x_te, y_te = sample(params["n_train"] // 4)
    torch.manual_seed(params["seed"])
    model = FCNet(params["n_in"], tuple(params["widths"]), 1)
    opt = torch.optim.Adam(model.parameters(), lr=params["lr"])
    history = [{"epoch": 0, **measure(model, manifold, frame, params["n_vertices"], params["n_probe"], g),
                "test_mse": float(F.mse_loss(model(x_te), y_te).detach())}]
    for epoch in range(1, params["epochs"] + 1):
        for idx in torch.randperm(len(x_tr), generator=g).split(params["batch_size"]):
            opt.zero_grad()
            F.mse_loss(model(x_tr[idx]), y_tr[idx]).backward()
            opt.step()
        with torch.no_grad():
            mse = float(F.mse_loss(model(x_te), y_te))
        history.append({"epoch": epoch, **measure(model, manifold, frame, params["n_vertices"], params["n_probe"], g),
                        "test_mse": mse})
    result = {"history": history, "neurons": int(sum(params["widths"]))}
    return (result, model) if return_model else result


def curve_lengths(curves: torch.Tensor) -> torch.Tensor:
    """Euclidean length of each polyline (C, P, D)."""
    return (curves[:, 1:] - curves[:, :-1]).norm(dim=2).sum(1)


def history_array(records: list[dict], key: str) -> np.ndarray:
    """(runs, epochs + 1) array of one measured quantity from ``run_toy`` results."""
    return np.array([[h[key] for h in rec["result"]["history"]] for rec in records], dtype=float)


def run_image_manifold(params: dict) -> dict:
    """Regions of an MLP trained on random labels, on decoded latent curves (on the manifold) vs the straight lines
    between the same endpoints (off it), per epoch (the paper's Fig. 9 with a VAE on MNIST instead of StyleGAN on
    MetFaces). ``params``: n_vae, vae_epochs, latent, n_train, widths, epochs, lr, momentum, batch_size, n_curves,
    n_points, seed, data_root. Raises ValueError when the MNIST test split on disk has fewer than n_vae + n_train +
    2 n_curves images (the 1,000 of the embedded stand-in hold the smoke sizes only)."""
    torch.set_num_threads(params.get("threads", torch.get_num_threads()))
    g = torch.Generator().manual_seed(params["seed"])
    images = load_dataset("mnist", "test", root=params.get("data_root") or None).x.flatten(1)
    need = params["n_vae"] + params["n_train"] + 2 * params["n_curves"]
    if need > len(images):
        raise ValueError(f"n_vae={params['n_vae']} + n_train={params['n_train']} + 2 n_curves={2 * params['n_curves']}"
                         f" = {need} disjoint images are needed, but the MNIST test split here has {len(images)}")
    perm = torch.randperm(len(images), generator=g)
    vae, vae_losses = train_vae(images[perm[: params["n_vae"]]], latent=params["latent"], epochs=params["vae_epochs"],
                                seed=params["seed"])
    x = images[perm[params["n_vae"]: params["n_vae"] + params["n_train"]]]
    y = torch.randint(0, 2, (len(x),), generator=g)  # random labels: the net can only memorise
    mean, std = float(x.mean()), float(x.std())
    ends = perm[params["n_vae"] + params["n_train"]:][: 2 * params["n_curves"]]
    on = (latent_curves(vae, images[ends[0::2]], images[ends[1::2]], params["n_points"]) - mean) / std
    w = torch.linspace(0, 1, params["n_points"])[None, :, None]
    off = (1 - w) * on[:, :1] + w * on[:, -1:]  # the straight line between the same two decoded images
    len_on, len_off = curve_lengths(on.double()), curve_lengths(off.double())
    torch.manual_seed(params["seed"])
    model = FCNet(x.shape[1], tuple(params["widths"]), 2)
    opt = torch.optim.SGD(model.parameters(), lr=params["lr"], momentum=params["momentum"])
    xn = (x - mean) / std
    history = []
    for epoch in range(params["epochs"] + 1):
        if epoch:
            for idx in torch.randperm(len(xn), generator=g).split(params["batch_size"]):
                opt.zero_grad()
                F.cross_entropy(model(xn[idx]), y[idx]).backward()
                opt.step()
        layers = relu_layers(model)
        r_on = count_along_polylines(layers, on).regions.double()
        r_off = count_along_polylines(layers, off).regions.double()
        with torch.no_grad():
            acc = float((model(xn).argmax(1) == y).float().mean())
        d_on, d_off = torch.log(r_on / len_on), torch.log(r_off / len_off)
        history.append({"epoch": epoch, "train_acc": acc,
                        "log_density_on": float(d_on.mean()), "log_density_off": float(d_off.mean()),
                        "log_density_on_curves": d_on.tolist(), "log_density_off_curves": d_off.tolist(),
                        "regions_on": float(r_on.mean()), "regions_off": float(r_off.mean())})
    return {"history": history, "vae_loss": vae_losses, "length_on": float(len_on.mean()),
            "length_off": float(len_off.mean())}


# --- Statistics of the chapter's paper-vs-here table (what lib.pipeline.verdicts does not cover) ---------------------




def grouped_slope_estimate(groups: dict[float, list[float]], resamples: int = 2000, seed: int = 0) -> Estimate:
    """Least-squares slope of ``value`` on ``x`` over all runs of ``groups`` ({x: [value per run]}), with a 95%
    bootstrap interval that resamples the runs within each x (no interval when every x has a single run). Raises
    ValueError for fewer than two distinct x."""
    xs = sorted(groups)
    if len(xs) < 2:
        raise ValueError(f"a slope needs at least two values of x, got {xs}")
    vals = [np.asarray(groups[x], float) for x in xs]
    x_all = np.concatenate([np.full(len(v), xi, float) for xi, v in zip(xs, vals)])

    def slope(*idx: np.ndarray) -> float:
        return float(np.polyfit(x_all, np.concatenate([v[i] for v, i in zip(vals, idx)]), 1)[0])
    return bootstrap_estimate(slope, [len(v) for v in vals], resamples=resamples, seed=seed)


def paired_estimate(per_network: list) -> tuple[Estimate, str]:
    """Mean of paired per-curve differences (e.g. on- minus off-manifold log density), with its 95% Student-t
    interval and what the interval is over: over networks when there are several (each network's mean over its
    curves is one run), over the curves of the single network otherwise (curve-sampling noise of one network, not
    network-to-network noise). ``per_network``: one 1-d array of per-curve values per network."""
    arrays = [np.asarray(v, float) for v in per_network]
    if len(arrays) > 1:
        return Estimate.from_runs([a.mean() for a in arrays]), "networks"
    return Estimate.from_runs(arrays[0]), "curves of one network"


def estimate_text(est: Estimate, over: str, fmt: str = ".3g") -> str:
    """``est.text`` with what its runs are (``"0.42 [0.31, 0.55] (20 curves of one network)"``)."""
    if est.single:
        return f"{est.value:{fmt}} (one run)"
    return f"{est.value:{fmt}} [{est.low:{fmt}}, {est.high:{fmt}}] ({est.runs} {over})"
