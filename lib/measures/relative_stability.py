"""Relative stability to diffeomorphisms R_f = D_f / G_f (Petrini et al. 2021, Eqs. 4-5).

    D_f = <||f(tau x) - f(x)||^2>_{x,tau} / <||f(x) - f(z)||^2>_{x,z}
    G_f = <||f(x + eta) - f(x)||^2>_{x,eta} / <||f(x) - f(z)||^2>_{x,z}

with eta uniform on a sphere whose radius matches the size of the diffeomorphism, ||eta|| = ||tau x - x||.
Three reductions ``<.>`` are offered; the first is the default because every published R_f was computed with it:

- ``"median_per_logit"`` (the authors' ``relative_distance``, diffeo-sota): for each output unit k, the median over
  test points of (f_k(tau x) - f_k(x))^2, summed over k; the normaliser is the median of ||f(x) - f(z)||^2 over the
  full P x P matrix, its zero diagonal included (it cancels in R_f). Medians are torch's lower medians, as there.
- ``"median"`` (the paper's text): the median over test points of the squared norm; normaliser over pairs x != z.
- ``"mean"`` (App. E.3): means throughout; normaliser over pairs x != z.

Noise matching: ``"per_image"`` (the authors' code) gives each image's eta the norm of that image's ||tau x - x||;
``"mean"`` (the paper's text) gives every eta the mean of these norms. One diffeomorphism and one noise vector per
test point, as in the paper. Over seeds, R_f, D_f and G_f are each combined by a geometric mean (:func:`log_mean`).
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable, Iterable, Iterator

import torch
from torch import nn

from lib.measures.diffeomorphisms import displacement, remap, sample_coefficients
from lib.pipeline.widgets import progress_bar
from lib.training.supervised import predict

REDUCTIONS = ("median_per_logit", "median", "mean")
NOISE_MATCHING = ("per_image", "mean")


def sphere_noise(shape: torch.Size | tuple[int, ...], radius: torch.Tensor, *,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Noise uniform on spheres: row b has Euclidean norm ``radius[b]`` (a direction drawn from an isotropic Gaussian)."""
    g = torch.randn(shape, generator=generator, dtype=torch.float64)
    g = g / g.flatten(1).norm(dim=1).reshape(-1, *[1] * (len(shape) - 1))
    return g * radius.to(torch.float64).reshape(-1, *[1] * (len(shape) - 1))


def _pair_sq_distances(f0: torch.Tensor, include_diagonal: bool) -> torch.Tensor:
    d2 = torch.cdist(f0, f0).pow(2)
    if include_diagonal:
        return d2.flatten()
    i, j = torch.triu_indices(len(f0), len(f0), offset=1)
    return d2[i, j]


def stability_statistics(f0: torch.Tensor, f_diffeo: torch.Tensor, f_noise: torch.Tensor,
                         reduction: str = "median_per_logit") -> dict[str, float]:
    """D_f, G_f and R_f (Eqs. 4-5) from the outputs (P, K) on the clean test points and the outputs on their deformed
    and noisy copies: (P, K) for one of each per point, or (S, P, K) for S draws per point (every (draw, point) pair
    then counts as one sample of the numerators' median or mean; the normaliser is over the P clean points)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; use one of {REDUCTIONS}")
    if (f0.ndim != 2 or f_diffeo.shape != f_noise.shape or f_diffeo.shape[-2:] != f0.shape
            or f_diffeo.ndim not in (2, 3)):
        raise ValueError(f"outputs must be clean (P, K) and deformed, noisy (P, K) or (S, P, K); got "
                         f"{tuple(f0.shape)}, {tuple(f_diffeo.shape)}, {tuple(f_noise.shape)}")
    f0, f_diffeo, f_noise = (t.double() for t in (f0, f_diffeo, f_noise))
    for name, t in (("clean", f0), ("deformed", f_diffeo), ("noisy", f_noise)):
        if not torch.isfinite(t).all():
            raise ValueError(f"the network's outputs on the {name} inputs contain NaN or inf")
    dd, dn = ((f - f0).pow(2).reshape(-1, f0.shape[1]) for f in (f_diffeo, f_noise))
    if reduction == "median_per_logit":
        num_d, num_g = dd.median(0).values.sum(), dn.median(0).values.sum()
        norm = _pair_sq_distances(f0, include_diagonal=True).median()
    elif reduction == "median":
        num_d, num_g = dd.sum(1).quantile(0.5), dn.sum(1).quantile(0.5)
        norm = _pair_sq_distances(f0, include_diagonal=False).quantile(0.5)
    else:
        num_d, num_g = dd.sum(1).mean(), dn.sum(1).mean()
        norm = _pair_sq_distances(f0, include_diagonal=False).mean()
    if norm <= 0 or num_g <= 0:
        raise ValueError("the network's output does not vary over the test points or under noise; R_f is undefined")
    d, g = float(num_d / norm), float(num_g / norm)
    return {"D": d, "G": g, "R": d / g}


def perturb(x: torch.Tensor, T: float, c: float, interp: str = "bilinear", noise: str = "per_image", *,
            generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """The clean reference, one diffeomorphism and one matched noise vector per test point.

    With Gaussian interpolation the clean reference is the image smoothed by the same kernel (a zero displacement),
    as in the authors' code, so that D_f does not count the smoothing itself. Returns ``clean``, ``diffeo``,
    ``noisy`` and the per-image displacement norms ``r`` = ||tau x - x||.
    """
    if noise not in NOISE_MATCHING:
        raise ValueError(f"unknown noise matching {noise!r}; use one of {NOISE_MATCHING}")
    coef = sample_coefficients(len(x), T, c, generator=generator)
    field = displacement(coef, x.shape[-1])
    clean = remap(x, torch.zeros_like(field), interp) if interp == "gaussian" else x
    deformed = remap(x, field, interp)
    r = (deformed - clean).flatten(1).double().norm(dim=1)
    radius = r if noise == "per_image" else r.mean().expand_as(r)
    noisy = clean + sphere_noise(x.shape, radius, generator=generator).to(x.dtype)
    return {"clean": clean, "diffeo": deformed, "noisy": noisy, "r": r}


@contextlib.contextmanager
def batchnorm_batch_statistics(model: nn.Module) -> Iterator[nn.Module]:
    """Within the block, BatchNorm layers normalise with the statistics of each batch, also in eval mode, and leave
    their running statistics untouched (the authors' ``track_running_stats=False`` for networks at initialisation,
    whose running statistics are still the placeholders 0 and 1)."""
    saved = {}
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
            saved[m] = (m.running_mean, m.running_var)
            m.running_mean, m.running_var = None, None
    try:
        yield model
    finally:
        for m, (mean, var) in saved.items():
            m.running_mean, m.running_var = mean, var


def relative_stability(model: nn.Module, x: torch.Tensor, T: float, c: float, interp: str = "bilinear", *,
                       reduction: str = "median_per_logit", noise: str = "per_image", seed: int = 0,
                       batch_size: int = 512, layers: dict[str, nn.Module] | None = None, n_diffeos: int = 1,
                       amp: bool = False, per_draw: bool = False, progress: bool = False) -> dict:
    """R_f, D_f, G_f of ``model`` on test points ``x`` (P, C, n, n) for diffeomorphisms of temperature T and cutoff c.

    ``n_diffeos`` independent diffeomorphisms, each with its matched noise vector, per test point (the paper: 1;
    more lower the sampling error of the numerators at a cost of 2 P ``n_diffeos`` forward passes; they are drawn and
    evaluated ``n_diffeos`` rounds of P images at a time, and the first round is the draw of ``n_diffeos = 1``).
    ``amp``: run the network under bfloat16 autocast (:func:`lib.training.supervised.predict`): faster on CPUs with
    AVX512-BF16 and on GPUs, at a rounding error of the outputs of ~1% of their scale that adds to the squared
    differences; measure its effect before trusting it. ``per_draw``: also return ``per_draw``, the lists ``R``, ``D``,
    ``G`` of each round alone (the spread of the one-diffeomorphism estimator). ``progress``: a progress bar over the
    rounds.

    With ``layers`` ({name: module}) the same statistics are also computed on each module's flattened output
    (App. E.3, Fig. 14), returned under ``"layers"`` as a list in the order of ``layers`` (only with
    ``n_diffeos = 1``). The model runs in eval mode on its own device; the clean, deformed and noisy points go
    through it as separate batches (which matters under :func:`batchnorm_batch_statistics`). Returns ``D``, ``G``,
    ``R`` (floats) and ``displacement_norm``, the mean of ||tau x - x|| over every draw. Raises ``ValueError`` for
    ``n_diffeos`` < 1, or ``layers`` with ``n_diffeos`` > 1.
    """
    if isinstance(n_diffeos, bool) or not isinstance(n_diffeos, int) or n_diffeos < 1:
        raise ValueError(f"n_diffeos must be an integer >= 1, got {n_diffeos!r}")
    if layers and n_diffeos > 1:
        raise ValueError(f"layers are measured with one diffeomorphism per point; got n_diffeos = {n_diffeos}")
    gen = torch.Generator().manual_seed(seed)
    hooks, captured = [], {name: [] for name in (layers or {})}
    for name, module in (layers or {}).items():
        hooks.append(module.register_forward_hook(
            lambda _m, _i, out, name=name: captured[name].append(  # a copy: later in-place ops reuse the buffer
                out.detach().flatten(1).to("cpu", torch.float32, copy=True))))
    outs, radii = {"clean": [], "diffeo": [], "noisy": []}, []
    try:
        for draw in progress_bar(range(n_diffeos), desc="diffeomorphisms", disable=not progress, leave=False):
            batch = perturb(x, T, c, interp, noise, generator=gen)
            for k in (("clean", "diffeo", "noisy") if draw == 0 else ("diffeo", "noisy")):
                outs[k].append(predict(model, batch[k], batch_size=batch_size, amp=amp))
            radii.append(batch["r"])
    finally:
        for h in hooks:
            h.remove()
    f0, fd, fn = outs["clean"][0], torch.stack(outs["diffeo"]), torch.stack(outs["noisy"])
    result = {**stability_statistics(f0, fd.squeeze(0) if n_diffeos == 1 else fd,
                                     fn.squeeze(0) if n_diffeos == 1 else fn, reduction=reduction),
              "displacement_norm": float(torch.cat(radii).mean())}
    if per_draw:
        draws = [stability_statistics(f0, d, g, reduction=reduction) for d, g in zip(fd, fn)]
        result["per_draw"] = {q: [s[q] for s in draws] for q in ("R", "D", "G")}
    if layers:  # a list, input to output (JSON records sort dictionary keys)
        result["layers"] = [{"layer": name, **stability_statistics(*torch.cat(acts).chunk(3), reduction=reduction)}
                            for name, acts in captured.items()]
    return result


def log_mean(values: Iterable[float]) -> float:
    """The geometric mean exp(<log v>): how the authors combine R_f (and D_f, G_f) over seeds."""
    vals = [float(v) for v in values]
    if not vals or min(vals) <= 0:
        raise ValueError(f"log_mean needs positive values, got {vals}")
    return math.exp(sum(math.log(v) for v in vals) / len(vals))


def invariant_stability(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, d_par: int, radius: float, *,
                        generator: torch.Generator | None = None) -> float:
    """R_f for a task invariant to the last d - d_par coordinates, Eq. (6) of Petrini et al. (2021):
    ``<|f(x_par, x_perp + nu) - f(x)|^2> / <|f(x + eta) - f(x)|^2>``, nu isotropic in the invariant directions, eta
    isotropic in all of them, ||nu|| = ||eta|| = ``radius``, one of each per point, means over the points ``x``."""
    n, d = x.shape
    if not 0 < d_par < d:
        raise ValueError(f"d_par must be between 1 and d - 1 = {d - 1}, got {d_par}")
    r = torch.full((n,), float(radius), dtype=torch.float64)
    nu = torch.cat([torch.zeros(n, d_par, dtype=torch.float64),
                    sphere_noise((n, d - d_par), r, generator=generator)], 1).to(x)
    eta = sphere_noise((n, d), r, generator=generator).to(x)
    with torch.no_grad():
        f0 = fn(x)
        num, den = (fn(x + nu) - f0).pow(2).mean(), (fn(x + eta) - f0).pow(2).mean()
    if not torch.isfinite(num + den) or den <= 0:
        raise ValueError("f does not change under isotropic noise (or is not finite); Eq. (6) is undefined")
    return float(num / den)
