"""Intrinsic dimension of a point cloud: the MLE (Levina & Bickel 2004, with MacKay & Ghahramani's averaging) and
TwoNN (Facco et al. 2017), as used by Konz & Mazurowski (2024), Sec. 3 (chapter 1).

All functions take a tensor ``X`` of shape (N, ...) (flattened to (N, D)) and run on its device; the neighbours
come from :func:`lib.measures.neighbours.knn_distances` (exact to a proven 5e-11, whatever the offset of ``X``).

Degenerate neighbourhoods (the rule, the same in every function):

- **Zero distances** (duplicate points) make log T_1 infinite. ``duplicates="error"`` (default) refuses them with a
  :class:`DuplicatePointsError`; ``duplicates="drop"`` leaves those points out, as DADApy's
  ``remove_identical_points`` does before estimating.
- **Ties** (equal neighbour distances: within a relative ``TIE_RTOL``, or within the resolution of ``X``'s
  precision, 4 u sqrt(D) max|X| with u its unit roundoff, the most by which two equal distances can differ once the
  coordinates are rounded, e.g. a float32 ``linspace``; float64 data whose values are all float32 numbers are
  treated as float32 data, so the same values give the same answer in either dtype. The tolerance follows the
  stored precision at the data's magnitude: float16/bfloat16 data tie distances within about 1e-3 relative, and
  float32 data far from the origin within that magnitude's rounding; cast to float64 to take the values as exact): both estimators assume a density that is
  continuous and locally constant (Levina & Bickel 2004, Sec. 2; Facco et al. 2017, Eq. 2), under which ties have
  probability zero; they come from discretised data (lattices, quantised values). A point whose first two
  distances tie has mu = 1 (log mu = 0), which is not a draw of the Pareto law; a point whose k distances all tie
  has S_i = 0, where its local likelihood has no maximum (d -> infinity). Such points are dropped: TwoNN drops
  mu = 1, the MLE drops S_i = 0; the empirical CDF and the averages count the remaining points. Partial ties
  (some, not all, distances equal) are ordinary values of the formulas and are kept.
- When fewer points than the estimate needs are left (every point tied, e.g. a regular grid), the value is not
  finite, or it exceeds ``MAX_DIMENSION_FACTOR`` times the ambient dimension D (an intrinsic dimension cannot
  exceed D; such values come from nearly tied neighbourhoods: a lattice with a jitter finer than the tie tolerance,
  data rounded to a coarser precision than their dtype holds), :class:`UndefinedDimensionError` says why; no NaN,
  infinity or 1e12 is ever returned as a dimension.
"""

from __future__ import annotations

import torch

from lib.measures.neighbours import knn_distances
from lib.pipeline.checks import as_points

TIE_RTOL = 1e-9  # distances equal to this relative precision tie: 20x the proven accuracy of knn_distances
MAX_DIMENSION_FACTOR = 4  # an estimate above this many times the ambient dimension D is refused as undefined


class DuplicatePointsError(ValueError):
    """Zero nearest-neighbour distances (duplicate points) make log-distance estimators infinite."""


class UndefinedDimensionError(ValueError):
    """The estimate is undefined on this point cloud (every neighbourhood tied, too few points left)."""


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


def _resolution(X: torch.Tensor) -> float:
    """The most by which two equal distances between points of ``X`` (N, D) can differ after rounding to its
    precision (float32's for float64 data that are all float32 numbers): each coordinate difference is off by at
    most 2 u max|X|, a distance by 2 u sqrt(D) max|X|. 0 for integers."""
    if not X.is_floating_point():
        return 0.0
    single = X.dtype == torch.float64 and all(bool((Y.float().double() == Y).all()) for Y in (X[:64], X))  # float32
    # values held in float64 (the first rows tell most other data apart at once)
    u = torch.finfo(torch.float32 if single else X.dtype).eps / 2
    lo, hi = X.aminmax()  # a tenth of abs().max()'s time
    return 4 * u * X.shape[1] ** 0.5 * max(-float(lo), float(hi))


def _untied(T: torch.Tensor, resolution: float) -> torch.Tensor:
    """Mask of the rows of ``T`` (n, k) whose last distance exceeds the first by more than the tie tolerance."""
    return T[:, -1] - T[:, 0] > torch.clamp(T[:, -1] * TIE_RTOL, min=resolution)


def _neighbours(X: torch.Tensor, k: int, duplicates: str) -> tuple[torch.Tensor, float, int]:
    """Exact distances (n, k) of the points kept by the duplicate rule, the tie resolution of ``X`` and its ambient
    dimension D."""
    T, _ = knn_distances(X, k)
    kept = T[_check_duplicates(T[:, 0], duplicates)]
    if len(kept) == 0:
        raise UndefinedDimensionError(f"the dimension is undefined: all {len(T)} points have a duplicate, and "
                                      "duplicates='drop' left none")
    X = as_points(X)
    return kept, _resolution(X), X.shape[1]


def _finite(d: float, name: str, n: int, dim: int) -> float:
    if not torch.isfinite(torch.tensor(d)) or d <= 0:
        raise UndefinedDimensionError(f"{name} is undefined on these {n} points (the formula gives {d})")
    if d > MAX_DIMENSION_FACTOR * dim:
        raise UndefinedDimensionError(
            f"{name} is undefined on these {n} points: the formula gives {d:.4g}, more than {MAX_DIMENSION_FACTOR} "
            f"times the ambient dimension D = {dim}, which an intrinsic dimension cannot exceed; the neighbourhoods "
            "are nearly tied (a lattice with a jitter finer than the tie tolerance, or data rounded to a coarser "
            "precision than their dtype holds: see the tie rule of lib.measures.intrinsic_dimension)")
    return d


def _check_options(averaging: str, normaliser: str, k: int, discard_fraction: float) -> None:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__} {k!r}")
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
    paper's at k = 20; scikit-dimension's ``MLE(unbiased=True)``). Duplicates and ties: see the module's rule.

    ``X``: (N, ...) real and finite. Returns a finite positive float. Raises ValueError for bad options, k >= N or
    non-finite points, :class:`DuplicatePointsError` and :class:`UndefinedDimensionError` (module docstring).
    """
    _check_options(averaging, normaliser, k, 0.0)
    return _mle_from_distances(*_neighbours(X, k, duplicates), averaging, normaliser)


def _mle_from_distances(T: torch.Tensor, resolution: float, dim: int, averaging: str, normaliser: str) -> float:
    n, k = T.shape
    T = T[_untied(T, resolution)]
    if len(T) == 0:
        raise UndefinedDimensionError(
            f"MLE is undefined: for all {n} points the k = {k} nearest neighbours are equidistant (ties, e.g. a "
            "regular grid or a simplex), where the likelihood has no maximum; use more neighbours (k) or other data")
    S = torch.log(T[:, -1:] / T[:, :-1]).sum(1)
    norm = (k - 1) if normaliser == "k-1" else (k - 2)
    d = 1.0 / (S / norm).mean() if averaging == "inverse" else (norm / S).mean()
    return _finite(float(d), "MLE", len(T), dim)


def twonn_dimension(X: torch.Tensor, *, discard_fraction: float = 0.1, duplicates: str = "error") -> float:
    """TwoNN intrinsic dimension (Facco et al. 2017).

    mu_i = T_2(x_i) / T_1(x_i) follows a Pareto law with shape d, so -log(1 - F(mu)) = d log(mu). The ratios are
    sorted, the largest ``discard_fraction`` of them are discarded, the empirical CDF is F_i = i / N (N counts all
    points), and d is the least-squares slope through the origin: d = sum x_i y_i / sum x_i^2 with x = log mu,
    y = -log(1 - F). The largest ratio (F = 1, y infinite) is always left out. This is scikit-dimension's
    ``TwoNN(discard_fraction=0.1)`` (releases with the F_i = i/N fix); ``discard_fraction=0`` drops only the largest
    ratio, the variant of the code of Konz et al. (ppope/dimensions). Ties mu = 1 are dropped first (module rule).

    ``X``: (N, ...) real and finite, N >= 3. Returns a finite positive float. Raises ValueError for bad options or
    non-finite points, :class:`DuplicatePointsError` and :class:`UndefinedDimensionError` (module docstring).
    """
    _check_options("inverse", "k-1", 3, discard_fraction)
    return _twonn_from_distances(*_neighbours(X, 2, duplicates), discard_fraction)


def _twonn_from_distances(T: torch.Tensor, resolution: float, dim: int, discard_fraction: float) -> float:
    untied = _untied(T, resolution)
    mu = (T[untied, 1] / T[untied, 0]).sort().values
    n = len(mu)
    keep = min(int(n * (1 - discard_fraction)), n - 1)
    if keep < 2:
        raise UndefinedDimensionError(
            f"TwoNN is undefined: of {len(T)} points, {int((~untied).sum())} have r2 = r1 (ties, mu = 1, e.g. a "
            f"regular grid), which are dropped, and {n} are left, of which {max(keep, 0)} after discarding the "
            f"largest {discard_fraction:g}; the fit needs at least 2")
    x = torch.log(mu[:keep])
    y = -torch.log1p(-torch.arange(1, keep + 1, dtype=torch.float64, device=mu.device) / n)
    return _finite(float((x * y).sum() / (x * x).sum()), "TwoNN", keep, dim)


def intrinsic_dimensions(X: torch.Tensor, k: int = 20, *, averaging: str = "inverse", normaliser: str = "k-1",
                         discard_fraction: float = 0.1, duplicates: str = "error") -> dict[str, float]:
    """MLE (k neighbours) and TwoNN from ONE nearest-neighbour search; the same values as :func:`mle_dimension` and
    :func:`twonn_dimension` with the same arguments (TwoNN uses the first two of the k neighbours)."""
    _check_options(averaging, normaliser, k, discard_fraction)
    T, resolution, dim = _neighbours(X, k, duplicates)
    return {"mle": _mle_from_distances(T, resolution, dim, averaging, normaliser),
            "twonn": _twonn_from_distances(T[:, :2], resolution, dim, discard_fraction)}
