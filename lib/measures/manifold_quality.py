"""Characteristics of a representation manifold measured along alteration walks (van der Merwe et al. 2022).

Each image x_i is altered by a sequence A_0 = identity, A_1, ..., A_J of growing strength (white noise of growing
variance, or the iterates of a PGD attack) and mapped to the representation manifold (RM): phi_ij = f(A_j(x_i)).
From the walk phi_i0, ..., phi_iJ:

- D      (Eq. 1): mean over images and j = 1..J of ||phi_i0 - phi_ij||, the average distance moved;
- D_RC   (Eq. 2): mean over images of (1/J) sum_{j=1..J} abs((d(0,j) - d(0,j-1)) / d(0,j)), relative changes of the
  distance to the original point, each divided by the *current* distance;
- P_RC   (Eq. 3): mean over images of (1/J) sum_{j=2..J} abs((d(j-1,j) - d(j-1,j-2)) / d(j-1,j)), the same for the
  distance between successive alterations;
- RMQM   (Eq. 4): ln(1 + D + 1/D_RC + 1/P_RC).

The released code (ByteFuse/representation-manifold-quality-metric, ``src/metrics.py`` and the plotting notebook)
computes a variant, available as ``variant="code"``: relative changes are pandas ``pct_change`` along j, i.e.
divided by the *previous* distance, the first change is dropped and so is every image with an infinite or undefined
change; and RMQM = ln(1 + D + D_prev + 1/spike + 1/spike_prev), with D_prev the mean step length. Both variants
work on L2-normalised embeddings by default (the paper's "normalised Euclidean distance"; the code calls
``F.normalize`` first).

Everything here streams over images: only the N x J distances are kept, never the N x J x E embeddings.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from lib.nets.classifiers import eval_mode, model_device

VARIANTS = ("paper", "code")
Alteration = Callable[[torch.Tensor, torch.Generator], torch.Tensor]  # (n, C, H, W) -> (n, J + 1, C, H, W)


def walk_distances(phi: torch.Tensor, normalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances along walks ``phi`` of shape (N, J + 1, E) (j = 0 is the unaltered point).

    Returns ``d_orig`` (N, J + 1), d_orig[:, j] = ||phi_0 - phi_j|| (column 0 is 0), and ``d_prev`` (N, J),
    d_prev[:, j - 1] = ||phi_{j-1} - phi_j||. With ``normalize`` the embeddings are first scaled to unit L2 norm.
    """
    if phi.ndim != 3 or phi.shape[1] < 3:
        raise ValueError(f"walks must have shape (N, J + 1, E) with J >= 2 alterations, got {tuple(phi.shape)}")
    if not torch.isfinite(phi).all():
        raise ValueError("the embeddings contain NaN or inf; check the encoder and its inputs")
    if normalize:
        phi = F.normalize(phi, dim=-1)
    d_orig = (phi - phi[:, :1]).norm(dim=-1)
    d_prev = (phi[:, 1:] - phi[:, :-1]).norm(dim=-1)
    return d_orig, d_prev


def _mean_finite(values: torch.Tensor) -> tuple[float, int]:
    """Mean of the finite entries and the number of non-finite ones left out."""
    finite = torch.isfinite(values)
    if not finite.any():
        raise ValueError("every relative change is undefined (zero distances): the encoder does not move at all "
                         "along this walk")
    return float(values[finite].mean()), int((~finite).sum())


def relative_changes(d_orig: torch.Tensor, d_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image relative changes of Eqs. (2) and (3): (N,) tensors D_RC_i and P_RC_i.

    Both sums carry the paper's 1/J (Eq. 3 sums J - 1 terms but divides by J). An image with a zero distance in a
    denominator gets a non-finite value, which :func:`manifold_characteristics` leaves out and counts.
    """
    J = d_prev.shape[1]
    d_rc = ((d_orig[:, 1:] - d_orig[:, :-1]) / d_orig[:, 1:]).abs().sum(1) / J
    p_rc = ((d_prev[:, 1:] - d_prev[:, :-1]) / d_prev[:, 1:]).abs().sum(1) / J
    return d_rc, p_rc


def pct_change_spikes(d: torch.Tensor) -> torch.Tensor:
    """The absolute value of pandas ``pct_change`` along a row of distances with the first change dropped (the released code):
    abs(d_j - d_{j-1}) / d_{j-1} for j = 2..J of a (N, J) array, rows with a non-finite value removed."""
    spikes = ((d[:, 2:] - d[:, 1:-1]) / d[:, 1:-1]).abs()
    return spikes[torch.isfinite(spikes).all(1)]


def manifold_characteristics(d_orig: torch.Tensor, d_prev: torch.Tensor, variant: str = "paper") -> dict:
    """D, D_RC, P_RC and RMQM (Eqs. 1-4) from the distances of :func:`walk_distances`, as ``variant``:

    - ``"paper"``: Eqs. 1-4 as written; ``dropped`` counts images whose relative changes are undefined.
    - ``"code"``: the released code. D is the mean distance to the original (j >= 1), D_prev the mean step, spike and
      spike_prev the means of abs(pct_change) of both rows (from the original's j = 1..J and the steps' j = 1..J, first
      change dropped, rows with inf/NaN removed), RMQM = ln(1 + D + D_prev + 1/spike + 1/spike_prev); the keys
      D_RC and P_RC hold spike and spike_prev.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; use one of {VARIANTS}")
    D = float(d_orig[:, 1:].mean())
    if variant == "paper":
        d_rc, p_rc = relative_changes(d_orig, d_prev)
        D_RC, drop_d = _mean_finite(d_rc)
        P_RC, drop_p = _mean_finite(p_rc)
        return {"D": D, "D_RC": D_RC, "P_RC": P_RC, "RMQM": math.log(1 + D + _inv(D_RC) + _inv(P_RC)),
                "dropped": max(drop_d, drop_p)}
    # the code's d_orig has no j = 0 column and its first pct_change is NaN; pct_change_spikes drops column 0 of
    # its argument, so pad d_prev with a leading column to drop the same (first) change.
    spike_o = pct_change_spikes(d_orig)
    spike_p = pct_change_spikes(torch.cat([d_prev[:, :1], d_prev], 1))
    if len(spike_o) == 0 or len(spike_p) == 0:
        raise ValueError("every walk has an undefined relative change: the encoder does not move along it")
    D_prev = float(d_prev.mean())
    spike, spike_prev = float(spike_o.mean()), float(spike_p.mean())
    return {"D": D, "D_prev": D_prev, "D_RC": spike, "P_RC": spike_prev,
            "RMQM": math.log(1 + D + D_prev + _inv(spike) + _inv(spike_prev)),
            "dropped": len(d_orig) - min(len(spike_o), len(spike_p))}


def _inv(value: float) -> float:
    """1 / value, infinite at 0 (a perfectly even walk has no relative change: RMQM is then infinite)."""
    return math.inf if value == 0 else 1 / value


def reference_metrics(points, steps: int) -> dict[str, float]:
    """The released code's ``calculate_pointwise_distances_metrics`` + ``return_distances`` on embeddings (N * steps,
    E) sorted by (image, alteration): L2 normalisation, a full steps x steps ``cdist`` per image, pandas
    ``pct_change``, rows with inf/NaN dropped. A test oracle for ``variant="code"``, and the baseline of
    ``benchmarks/manifold_quality.py``; returns D, D_prev, spike and spike_prev."""
    import numpy as np
    import pandas as pd

    pts = F.normalize(torch.tensor(np.asarray(points)), p=2, dim=1)
    pts = pts.reshape(pts.shape[0] // steps, -1, pts.shape[-1])
    dist = torch.cdist(pts, pts, p=2)
    to_orig = dist[:, 1:, 0]
    to_prev = torch.diagonal(dist, offset=-1, dim1=1, dim2=2)
    spikes = []
    for d in (to_orig, to_prev):
        pct = pd.DataFrame(d.numpy()).pct_change(axis=1).drop(0, axis=1)
        spikes.append(pct.replace([np.inf, -np.inf], np.nan).dropna().values)
    return {"D": float(to_orig.mean(1).mean()), "D_prev": float(to_prev.mean(1).mean()),
            "spike": float(np.abs(spikes[0]).mean(1).mean()), "spike_prev": float(np.abs(spikes[1]).mean(1).mean())}


def walk_curves(d_orig: torch.Tensor, d_prev: torch.Tensor) -> dict[str, list[float]]:
    """Per-step means and standard errors over images (Figs. 2, 5-7): the distance to the original point and its
    relative change abs(d(0,j) - d(0,j-1)) / d(0,j) (Eq. 2's summand), for j = 1..J."""
    n = len(d_orig)
    rel = ((d_orig[:, 1:] - d_orig[:, :-1]) / d_orig[:, 1:]).abs()
    rel = torch.where(torch.isfinite(rel), rel, torch.nan)
    dist = d_orig[:, 1:]
    return {"distance": dist.mean(0).tolist(), "distance_se": (dist.std(0) / math.sqrt(n)).tolist(),
            "relative_change": rel.nanmean(0).tolist(),
            "relative_change_se": (_nanstd(rel) / math.sqrt(n)).tolist()}


def _nanstd(x: torch.Tensor) -> torch.Tensor:
    mean = x.nanmean(0, keepdim=True)
    return ((x - mean) ** 2).nanmean(0).sqrt()


# ------------------------------------------------------------------------------------------------- alterations
def noise_walk(x: torch.Tensor, generator: torch.Generator, *, steps: int = 100, eps_max: float = 1.0,
               redraw: bool = True) -> torch.Tensor:
    """White-noise alterations (App. A): x_j = clip(x + a_j, 0, 1), a_j ~ N(0, eps_j^2), eps_j = linspace(0, eps_max,
    steps) so that j = 0 (eps = 0) is the image itself. ``redraw``: fresh noise at every eps (the released code);
    otherwise one direction per image scaled by eps_j (a straight ray). Returns (n, steps, C, H, W)."""
    eps = torch.linspace(0, eps_max, steps, dtype=x.dtype, device=x.device).view(1, steps, *([1] * (x.ndim - 1)))
    shape = (len(x), steps if redraw else 1, *x.shape[1:])
    z = torch.randn(shape, generator=generator, dtype=x.dtype, device=generator.device).to(x.device)
    return (x.unsqueeze(1) + eps * z).clamp_(0.0, 1.0)


@torch.no_grad()
def measure_walks(encoder: nn.Module, x: torch.Tensor, alteration: Alteration, *, seed: int = 0,
                  batch_size: int = 64, normalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Stream images through ``alteration`` and ``encoder``: every alteration of a batch goes through one forward
    pass; returns the (N, J + 1) and (N, J) distances of :func:`walk_distances` on the CPU (float64).

    The encoder runs in eval mode on its own device; the noise generator lives on that device and is seeded once,
    so the same ``seed`` gives the same alterations for every encoder (the paper's fair comparison).
    """
    device = model_device(encoder)
    gen = torch.Generator(device).manual_seed(seed)
    origs, prevs = [], []
    with eval_mode(encoder):
        for start in range(0, len(x), batch_size):
            walks = alteration(x[start:start + batch_size].to(device), gen)
            n, J1 = walks.shape[:2]
            d_orig, d_prev = walk_distances(encoder(walks.flatten(0, 1)).view(n, J1, -1), normalize)
            origs.append(d_orig.cpu().double())
            prevs.append(d_prev.cpu().double())
    return torch.cat(origs), torch.cat(prevs)


@torch.no_grad()
def path_distances(encoder: nn.Module, path: torch.Tensor, *, batch_size: int = 64,
                   normalize: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`walk_distances` for precomputed alteration paths (N, J + 1, C, H, W), e.g. a PGD path."""
    return measure_walks(encoder, path, lambda walks, gen: walks, batch_size=batch_size, normalize=normalize)
