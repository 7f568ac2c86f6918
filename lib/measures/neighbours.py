"""Exact k-nearest neighbours of a point cloud, the shared first step of the intrinsic-dimension estimators.

Points are a tensor of shape (N, ...) flattened to (N, D); the search runs on the tensor's device in chunks. The
cloud is centred first (distances do not change; the matmul form loses no digits to a common offset). Candidates
are ranked with the matmul form ||b||^2 - 2 a.b in ``rank_dtype`` (fast; float32 by default on CUDA). A rounding
bound of the matmul form (:func:`matmul_error_bound`) decides which candidate distances must be recomputed from
the differences in float64 and proves that no point outside the candidates can be closer than the k-th returned
neighbour; rows where the proof fails get more candidates. The result is exact to a proven relative 5e-11 whatever
the offset and dtype.
"""

from __future__ import annotations

import torch

from lib.pipeline.checks import as_points

_UNIT_ROUNDOFF = {torch.float64: 2.0 ** -53, torch.float32: 2.0 ** -24}
_TF32_UNIT_ROUNDOFF = 2.0 ** -11  # 10 mantissa bits
SQUARED_RTOL = 1e-10  # proven relative accuracy of every returned squared distance (5e-11 on distances)


def chunk_rows(n_rows: int, n_cols: int, budget_bytes: int) -> int:
    """Rows per chunk so that an (rows, n_cols) float64 block stays within ``budget_bytes``."""
    return max(1, min(n_rows, budget_bytes // max(1, 8 * n_cols)))


def unit_roundoff(dtype: torch.dtype, device: torch.device) -> float:
    """Unit roundoff u of a matrix product in ``dtype`` on ``device`` (TF32's when CUDA float32 GEMMs may use it).

    Raises ValueError for dtypes other than float32 and float64."""
    if dtype not in _UNIT_ROUNDOFF:
        raise ValueError(f"rank_dtype must be torch.float32 or torch.float64, got {dtype}")
    if dtype == torch.float32 and device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32:
        return _TF32_UNIT_ROUNDOFF
    return _UNIT_ROUNDOFF[dtype]


def matmul_error_bound(norm_a: torch.Tensor, norm_max: float, n_terms: int, u: float,
                       underflow: float = 0.0) -> torch.Tensor:
    """Bound on ``abs((||b||^2 - 2 a.b + ||a||^2) - ||a - b||^2)`` when the matmul form is evaluated in floating point.

    With coordinates rounded to unit roundoff ``u`` and sums of ``n_terms`` products, the standard bound for dot
    products in any summation order (Higham, *Accuracy and Stability of Numerical Algorithms*, Sec. 3.1),
    ``abs(fl(a.b) - a.b) <= gamma_n ||a|| ||b||`` with ``gamma_n = n u / (1 - n u)``, applied to ``||b||^2``,
    ``a.b``, the final additions and the rounding of the coordinates, gives ``gamma_{D+8} (||a|| + ||b||)^2 <=
    gamma_{D+8} (||a|| + M)^2`` with M the largest norm, plus ``underflow``, the absolute error that gradual
    underflow can add (Higham Sec. 2.1; callers pass ``(D + 8)`` times the smallest normal number of the dtype).
    ``norm_a`` (rows,) float64; returns (rows,) float64.
    Raises ValueError when ``(n_terms + 8) u >= 1/2`` (no useful bound)."""
    nu = (n_terms + 8) * u
    if nu >= 0.5:
        raise ValueError(f"D = {n_terms} coordinates are too many for a rounding bound at unit roundoff {u:.3g}")
    return nu / (1 - nu) * (norm_a + norm_max) ** 2 + underflow


def _pair_distances(X64: torch.Tensor, a: torch.Tensor, b: torch.Tensor, budget_bytes: int) -> torch.Tensor:
    """float64 distances ||X64[a] - X64[b]|| of the index pairs ``a``, ``b`` (m,), from the differences, in pieces of
    at most ``budget_bytes``."""
    step = chunk_rows(len(a), X64.shape[1], budget_bytes)
    return torch.cat([(X64[a[i:i + step]] - X64[b[i:i + step]]).norm(dim=1) for i in range(0, len(a), step)]
                     or [X64.new_empty(0)])


def knn_distances(X: torch.Tensor, k: int, *, rank_dtype: torch.dtype | None = None, margin: int = 8,
                  budget_bytes: int = 1 << 28) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances (float64, ascending) and indices of the ``k`` nearest neighbours of every point, self excluded.

    ``X``: (N, ...) real, finite; returns two (N, k) tensors on ``X``'s device, float64 distances and int64
    indices. Duplicates are kept (distance 0). The ranking uses the matmul form in ``rank_dtype`` (default float64
    on the CPU, float32 on CUDA) on the centred cloud, keeping ``k + margin`` candidates per point. A candidate's
    squared distance is taken from the matmul form where its rounding bound (:func:`matmul_error_bound`) is at
    most ``SQUARED_RTOL`` of it, and recomputed from the differences in float64 elsewhere (near-duplicates, and
    every candidate of a float32 ranking). A point's result is accepted when its k-th distance is at most the
    smallest distance any non-candidate can have given the bound; otherwise its candidate list is doubled until it
    is (at most N - 1, the brute force). Every returned distance is therefore that of an exact search to a proven
    relative error of ``SQUARED_RTOL / 2`` (5e-11), whatever the offset or dtype of ``X``; among equidistant
    neighbours the indices may differ from another exact search. Memory stays within about ``budget_bytes`` per
    chunk.

    Raises ValueError unless 1 <= k < N, for non-finite points, or an unsupported ``rank_dtype``.
    """
    X = as_points(X)
    n, dim = X.shape
    if not 1 <= k < n:
        raise ValueError(f"k={k} nearest neighbours need 1 <= k < N={n}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    rank_dtype = rank_dtype or (torch.float32 if X.is_cuda else torch.float64)
    u = unit_roundoff(rank_dtype, X.device)
    X64 = X.to(torch.float64)  # exact differences are taken here: centring would round away tiny ones
    centred = X64 - X64.mean(0)  # translation changes no distance; the matmul form then cancels no common offset
    Xr = centred.to(rank_dtype)
    sq = (Xr * Xr).sum(1)
    norms = centred.norm(dim=1)
    bound = matmul_error_bound(norms, float(norms.max()), dim, u, (dim + 8) * torch.finfo(rank_dtype).tiny)
    kc0 = min(n - 1, k + margin)
    dists, idxs = [], []
    step = chunk_rows(n, n, budget_bytes)
    for start in range(0, n, step):
        rows = torch.arange(start, min(n, start + step), device=X.device)
        # Rank by ||b||^2 - 2 a.b (one fused GEMM); the row's own ||a||^2 does not change the order.
        partial = torch.addmm(sq[None, :], Xr[rows], Xr.T, alpha=-2.0)
        partial[torch.arange(len(rows), device=X.device), rows] = float("inf")  # exclude self, keep duplicates
        d_out = torch.empty(len(rows), k, dtype=torch.float64, device=X.device)
        i_out = torch.empty(len(rows), k, dtype=torch.long, device=X.device)
        todo, kc = torch.arange(len(rows), device=X.device), kc0
        while len(todo):
            vals, cand = partial[todo].topk(kc, dim=1, largest=False)
            vals = vals.to(torch.float64) + sq[rows[todo], None].to(torch.float64)  # squared distances, rounded
            err = bound[rows[todo], None]
            dist = vals.clamp_min(0.0).sqrt()
            # Recompute where the bound is not within SQUARED_RTOL of the value (zero values included): distances
            # (not their squares, which could underflow) from the differences of the uncentred points.
            loose = (err >= SQUARED_RTOL * vals.clamp_min(0.0)).nonzero(as_tuple=True)
            dist[loose] = _pair_distances(X64, rows[todo][loose[0]], cand[loose], budget_bytes)
            dist, order = dist.sort(dim=1)
            if kc == n - 1:  # every other point is a candidate: nothing to prove
                done = torch.ones(len(todo), dtype=torch.bool, device=X.device)
            else:
                # A non-candidate b has a computed value >= vals[:, -1], so its true squared distance is at least
                # vals[:, -1] - err; the k-th returned one is at most dist[:, k-1]^2 (1 + SQUARED_RTOL).
                done = dist[:, k - 1] ** 2 * (1 + SQUARED_RTOL) <= vals[:, -1] - err[:, 0]
            d_out[todo[done]] = dist[done, :k]
            i_out[todo[done]] = cand[done].gather(1, order[done])[:, :k]
            todo, kc = todo[~done], min(n - 1, 2 * kc)
        dists.append(d_out)
        idxs.append(i_out)
    return torch.cat(dists), torch.cat(idxs)
