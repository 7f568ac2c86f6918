"""Label sharpness K_F of a labelled point cloud (Konz & Mazurowski 2024, Eqs. 1 and 6; chapter 1)."""

from __future__ import annotations

import math

import torch

from lib.data import balanced_indices
from lib.measures.neighbours import chunk_rows, matmul_error_bound, unit_roundoff
from lib.pipeline.checks import as_labels, as_points


def label_sharpness(X: torch.Tensor, y: torch.Tensor, *, M: int | None = 1000, seed: int = 0,
                    budget_bytes: int = 1 << 28) -> float:
    """Label sharpness K_F, Konz & Mazurowski Eqs. (1) and (6).

    K_F = max over ALL M^2 pairs (j, k) of 1[y_j != y_k] / ||x_j - x_k||, on a class-balanced random sample of M
    points (``M=None``: every point). For binary labels 1[y_j != y_k] = abs(y_j - y_k), so Eq. (6) is Eq. (1). The
    maximum is 1 / (smallest distance between two points of different labels); pairs at distance zero (the same
    image under two labels) are left out, as the released code drops the infinite ratios they give.

    ``X``: (N, ...) real, finite; ``y``: (N,) or (N, 1) (MedMNIST's layout) integer labels. The cloud is centred
    and pairs within the matmul form's rounding bound of the smallest distance are recomputed from the differences,
    so the value is exact whatever the offset of ``X``. Raises ValueError for bad shapes, non-finite points, fewer
    than two distinct labels, ``M`` < 2, or when every pair with different labels is at distance zero.
    """
    X = as_points(X)
    y = as_labels(y, len(X))
    if M is not None and M < 2:
        raise ValueError(f"M must be None or an integer >= 2, got {M}")
    if M is not None and M < len(X):
        idx = torch.as_tensor(balanced_indices(y.cpu().numpy(), n=M, seed=seed), device=X.device)
        X, y = X[idx], y.to(X.device)[idx]
    else:
        y = y.to(X.device)
    if len(torch.unique(y)) < 2:
        raise ValueError("label sharpness needs at least two distinct labels")
    X64 = X.to(torch.float64)  # exact differences are taken here: centring would round away tiny ones
    centred = X64 - X64.mean(0)  # no distance changes; the matmul form cancels no common offset
    sq = (centred * centred).sum(1)
    radius = float(sq.max().sqrt())
    # rounding of the matmul form, in squared-distance units (Higham's bound, lib.measures.neighbours)
    tol = float(matmul_error_bound(torch.tensor(radius), radius, X.shape[1], unit_roundoff(torch.float64, X.device),
                                   (X.shape[1] + 8) * torch.finfo(torch.float64).tiny))
    best = math.inf
    step = chunk_rows(len(X), len(X), budget_bytes)
    for start in range(0, len(X), step):
        rows = torch.arange(start, min(len(X), start + step), device=X.device)
        d2 = sq[rows, None] + sq[None, :] - 2.0 * (centred[rows] @ centred.T)
        d2[y[rows, None] == y[None, :]] = math.inf
        # Candidates: pairs that may be identical, and pairs within rounding of the chunk's smallest distance.
        near = d2 <= tol
        d2[near] = math.inf
        smallest = float(d2.min())
        cand = near | (d2 <= smallest + 2 * tol) if math.isfinite(smallest) else near
        i, j = cand.nonzero(as_tuple=True)
        exact = (X64[rows[i]] - X64[j]).norm(dim=1)
        exact = exact[exact > 0]
        if len(exact):
            best = min(best, float(exact.min()))
    if math.isinf(best):
        raise ValueError("every pair of points with different labels is at distance zero")
    return 1.0 / best
