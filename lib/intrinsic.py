"""Intrinsic dimension and label sharpness of a point cloud (chapter 1, Konz & Mazurowski 2024, Sec. 3).

All functions take a tensor ``X`` of shape (N, ...) (flattened to (N, D)) and run on its device. Nearest neighbours
are found in chunks: candidates are ranked with the matmul form ||a||^2 + ||b||^2 - 2 a.b in ``rank_dtype`` (fast,
float32 by default), then their distances are recomputed exactly in float64 from the differences and re-sorted, so
the returned distances are exact.
"""

from __future__ import annotations

import math

import torch

from .data import balanced_indices


class DuplicatePointsError(ValueError):
    """Zero nearest-neighbour distances (duplicate points) make log-distance estimators infinite."""


def _flat(X: torch.Tensor) -> torch.Tensor:
    if X.ndim < 2:
        raise ValueError(f"expected points of shape (N, ...), got {tuple(X.shape)}")
    X = X.flatten(1)
    if not torch.isfinite(X).all():
        raise ValueError("the points contain NaN or infinite values")
    return X


def _chunk_rows(n_rows: int, n_cols: int, budget_bytes: int) -> int:
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
    X = _flat(X)
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
    step = _chunk_rows(n, max(n, kc * X.shape[1] if exact_rerank else n), budget_bytes)
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


def _check_duplicates(first: torch.Tensor, duplicates: str) -> torch.Tensor:
    """A mask of points to keep, given their first-neighbour distances."""
    zero = first == 0
    if duplicates not in ("error", "drop"):
        raise ValueError(f"duplicates must be 'error' or 'drop', not {duplicates!r}")
    if zero.any() and duplicates == "error":
        raise DuplicatePointsError(
            f"{int(zero.sum())} points have a duplicate (zero distance to a nearest neighbour); deduplicate the "
            "data first (e.g. torch.unique(X.flatten(1), dim=0)) or pass duplicates='drop' to leave those points "
            "out of the estimate")
    return ~zero


def _check_options(averaging: str, normaliser: str, k: int, discard_fraction: float) -> None:
    if averaging not in ("inverse", "mean"):
        raise ValueError(f"averaging must be 'inverse' or 'mean', not {averaging!r}")
    if normaliser not in ("k-1", "k-2"):
        raise ValueError(f"normaliser must be 'k-1' or 'k-2', not {normaliser!r}")
    if k < 3:
        raise ValueError(f"the MLE estimator needs k >= 3, got {k}")
    if not 0 <= discard_fraction < 1:
        raise ValueError(f"discard_fraction must be in [0, 1), got {discard_fraction}")


def mle_dimension(X: torch.Tensor, k: int = 20, *, averaging: str = "inverse", normaliser: str = "k-1",
                  duplicates: str = "error") -> float:
    """Maximum-likelihood intrinsic dimension (Levina & Bickel 2004), Konz & Mazurowski Sec. 3.1.

    With the per-point sum S_i = sum_{j=1}^{k-1} log(T_k(x_i) / T_j(x_i)):

    - ``averaging="inverse"`` (default, the paper's formula, MacKay & Ghahramani's averaging):
      d = [ 1 / (N (k-1)) * sum_i S_i ]^{-1};
    - ``averaging="mean"`` (Levina & Bickel's original): d = (1/N) sum_i (k-1) / S_i.

    ``normaliser="k-2"`` replaces k-1 by k-2, as the authors' released code does (values (k-2)/(k-1) = 18/19 of the
    paper's at k = 20; scikit-dimension's ``MLE(unbiased=True)``). Duplicate points: see ``duplicates``.
    """
    _check_options(averaging, normaliser, k, 0.0)
    T, _ = knn_distances(X, k)
    return _mle_from_distances(T[_check_duplicates(T[:, 0], duplicates)], averaging, normaliser)


def _mle_from_distances(T: torch.Tensor, averaging: str, normaliser: str) -> float:
    k = T.shape[1]
    S = torch.log(T[:, -1:] / T[:, :-1]).sum(1)
    norm = (k - 1) if normaliser == "k-1" else (k - 2)
    d = 1.0 / (S / norm).mean() if averaging == "inverse" else (norm / S).mean()
    return float(d)


def twonn_dimension(X: torch.Tensor, *, discard_fraction: float = 0.1, duplicates: str = "error") -> float:
    """TwoNN intrinsic dimension (Facco et al. 2017).

    mu_i = T_2(x_i) / T_1(x_i) follows a Pareto law with shape d, so -log(1 - F(mu)) = d log(mu). The ratios are
    sorted, the largest ``discard_fraction`` of them are discarded, the empirical CDF is F_i = i / N (N counts all
    points), and d is the least-squares slope through the origin: d = sum x_i y_i / sum x_i^2 with x = log mu,
    y = -log(1 - F). The largest ratio (F = 1, y infinite) is always left out. This is scikit-dimension's
    ``TwoNN(discard_fraction=0.1)`` (releases with the F_i = i/N fix); ``discard_fraction=0`` drops only the largest
    ratio, the variant of the code of Konz et al. (ppope/dimensions).
    """
    _check_options("inverse", "k-1", 3, discard_fraction)
    T, _ = knn_distances(X, 2)
    return _twonn_from_distances(T[_check_duplicates(T[:, 0], duplicates)], discard_fraction)


def _twonn_from_distances(T: torch.Tensor, discard_fraction: float) -> float:
    mu = (T[:, 1] / T[:, 0]).sort().values
    n = len(mu)
    keep = min(int(n * (1 - discard_fraction)), n - 1)
    if keep < 2:
        raise ValueError(f"TwoNN needs more points: {n} points, {keep} kept")
    x = torch.log(mu[:keep])
    y = -torch.log1p(-torch.arange(1, keep + 1, dtype=torch.float64, device=mu.device) / n)
    return float((x * y).sum() / (x * x).sum())


def intrinsic_dimensions(X: torch.Tensor, k: int = 20, *, averaging: str = "inverse", normaliser: str = "k-1",
                         discard_fraction: float = 0.1, duplicates: str = "error") -> dict[str, float]:
    """MLE (k neighbours) and TwoNN from ONE nearest-neighbour search; the same values as :func:`mle_dimension` and
    :func:`twonn_dimension` with the same arguments (TwoNN uses the first two of the k neighbours)."""
    _check_options(averaging, normaliser, k, discard_fraction)
    T, _ = knn_distances(X, k)
    T = T[_check_duplicates(T[:, 0], duplicates)]
    return {"mle": _mle_from_distances(T, averaging, normaliser),
            "twonn": _twonn_from_distances(T[:, :2], discard_fraction)}


def label_sharpness(X: torch.Tensor, y: torch.Tensor, *, M: int | None = 1000, seed: int = 0,
                    budget_bytes: int = 1 << 28) -> float:
    """Label sharpness K_F, Konz & Mazurowski Eqs. (1) and (6).

    K_F = max over ALL M^2 pairs (j, k) of 1[y_j != y_k] / ||x_j - x_k||, on a class-balanced random sample of M
    points (``M=None``: every point). For binary labels 1[y_j != y_k] = |y_j - y_k|, so Eq. (6) is Eq. (1). The
    maximum is 1 / (smallest distance between two points of different labels); pairs at distance zero (the same
    image under two labels) are left out, as the released code drops the infinite ratios they give.
    """
    X = _flat(X)
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} points but y has {len(y)} labels")
    if M is not None and M < len(X):
        idx = torch.as_tensor(balanced_indices(y.cpu().numpy(), n=M, seed=seed), device=X.device)
        X, y = X[idx], y.to(X.device)[idx]
    else:
        y = y.to(X.device)
    if len(torch.unique(y)) < 2:
        raise ValueError("label sharpness needs at least two distinct labels")
    X64 = X.to(torch.float64)
    sq = (X64 * X64).sum(1)
    tol = 1e-10 * float(sq.max()) + 1e-300  # rounding of the matmul form, in squared-distance units
    best = math.inf
    step = _chunk_rows(len(X), len(X), budget_bytes)
    for start in range(0, len(X), step):
        rows = torch.arange(start, min(len(X), start + step), device=X.device)
        d2 = sq[rows, None] + sq[None, :] - 2.0 * (X64[rows] @ X64.T)
        d2[y[rows, None] == y[None, :]] = math.inf
        # Candidates: pairs that may be identical, and pairs within rounding of the chunk's smallest distance.
        near = d2 <= tol
        d2[near] = math.inf
        smallest = float(d2.min())
        cand = near | (d2 <= smallest + tol) if math.isfinite(smallest) else near
        i, j = cand.nonzero(as_tuple=True)
        exact = (X64[rows[i]] - X64[j]).norm(dim=1)
        exact = exact[exact > 0]
        if len(exact):
            best = min(best, float(exact.min()))
    if math.isinf(best):
        raise ValueError("every pair of points with different labels is at distance zero")
    return 1.0 / best
