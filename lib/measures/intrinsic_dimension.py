"""Intrinsic dimension of a point cloud: the MLE (Levina & Bickel 2004, with MacKay & Ghahramani's averaging) and
TwoNN (Facco et al. 2017), as used by Konz & Mazurowski (2024), Sec. 3 (chapter 1).

All functions take a tensor ``X`` of shape (N, ...) (flattened to (N, D)) and run on its device; the neighbours
come from :func:`lib.measures.neighbours.knn_distances` (exact float64 distances).
"""

from __future__ import annotations

import torch

from lib.measures.neighbours import knn_distances


class DuplicatePointsError(ValueError):
    """Zero nearest-neighbour distances (duplicate points) make log-distance estimators infinite."""


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
