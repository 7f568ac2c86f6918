"""Exact k-nearest neighbours of a point cloud, the shared first step of the intrinsic-dimension estimators.

Points are a tensor of shape (N, ...) flattened to (N, D); the search runs on the tensor's device in chunks.
Candidates are ranked with the matmul form ||a||^2 + ||b||^2 - 2 a.b in ``rank_dtype`` (fast, float32 by default on
CUDA), then their distances are recomputed exactly in float64 from the differences and re-sorted, so the returned
distances are exact.
"""

from __future__ import annotations

import torch


def flatten_points(X: torch.Tensor) -> torch.Tensor:
    """``X`` (N, ...) as (N, D); ValueError for fewer than two axes or non-finite values."""
    if X.ndim < 2:
        raise ValueError(f"expected points of shape (N, ...), got {tuple(X.shape)}")
    X = X.flatten(1)
    if not torch.isfinite(X).all():
        raise ValueError("the points contain NaN or infinite values")
    return X


def chunk_rows(n_rows: int, n_cols: int, budget_bytes: int) -> int:
    """Rows per chunk so that an (rows, n_cols) float64 block stays within ``budget_bytes``."""
    return max(1, min(n_rows, budget_bytes // max(1, 8 * n_cols)))


def knn_distances(X: torch.Tensor, k: int, *, rank_dtype: torch.dtype | None = None, margin: int = 8,
                  budget_bytes: int = 1 << 28) -> tuple[torch.Tensor, torch.Tensor]:
    """Distances (float64, ascending) and indices of the ``k`` nearest neighbours of every point, self excluded.

    Shapes (N, k). Neighbours are ranked with the matmul form in ``rank_dtype`` (default float64 on the CPU,
    float32 on CUDA). With float64 the ranked distances are already accurate to ~1e-13 relative; only near-zero
    ones, where the matmul form cancels, are recomputed from the differences. With float32, ``margin`` extra
    candidates absorb the rounding of the ranking and all candidates are re-ranked by exact float64 distances.
    Memory stays within about ``budget_bytes`` per chunk.
    """
    X = flatten_points(X)
    n = len(X)
    if not 1 <= k < n:
        raise ValueError(f"k={k} nearest neighbours need 1 <= k < N={n}")
    rank_dtype = rank_dtype or (torch.float32 if X.is_cuda else torch.float64)
    exact_rerank = rank_dtype != torch.float64
    kc = min(n - 1, k + margin) if exact_rerank else k
    Xr = X.to(rank_dtype)
    sq = (Xr * Xr).sum(1)
    X64 = X.to(torch.float64)
    tiny = 1e-8 * float(sq.max())  # squared distances below this are recomputed from the differences
    dists, idxs = [], []
    step = chunk_rows(n, max(n, kc * X.shape[1] if exact_rerank else n), budget_bytes)
    for start in range(0, n, step):
        rows = torch.arange(start, min(n, start + step), device=X.device)
        # Rank by ||b||^2 - 2 a.b (one fused GEMM); the row's own ||a||^2 does not change the order.
        partial = torch.addmm(sq[None, :], Xr[rows], Xr.T, alpha=-2.0)
        partial[torch.arange(len(rows), device=X.device), rows] = float("inf")  # exclude self, keep duplicates
        vals, cand = partial.topk(kc, dim=1, largest=False)
        if exact_rerank:
            exact = (X64[cand] - X64[rows, None, :]).norm(dim=2)
        else:
            vals = vals + sq[rows, None]
            exact = vals.clamp_min(0.0).sqrt()
            fix = (vals < tiny).nonzero(as_tuple=True)
            exact[fix] = (X64[cand[fix]] - X64[rows[fix[0]]]).norm(dim=1)
        exact, order = exact.sort(dim=1)
        dists.append(exact[:, :k])
        idxs.append(cand.gather(1, order)[:, :k])
    return torch.cat(dists), torch.cat(idxs)
