"""Degenerate inputs of the neighbour-based measures (issue 16): ties, duplicates, huge offsets, (N, 1) labels,
float32 ranking; each row of the issue's table with the value it must give, then property-based tests."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lib.measures.intrinsic_dimension import (DuplicatePointsError, UndefinedDimensionError, intrinsic_dimensions,
                                              mle_dimension, twonn_dimension)
from lib.measures.label_sharpness import label_sharpness
from lib.measures import neighbours
from lib.measures.neighbours import SQUARED_RTOL, _sparse_nonzero, knn_distances


def offset_cloud() -> torch.Tensor:
    """The issue's row: 400 points 1e6 + 0.01 * randn(400, 8), float64, seed 1."""
    return 1e6 + 0.01 * torch.randn(400, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def brute_force(X: torch.Tensor, k: int) -> torch.Tensor:
    """The k smallest float64 distances of every point to the others, from the differences (no matmul form)."""
    X = X.flatten(1).double()
    d = torch.cat([(X[s:s + 256, None, :] - X[None, :, :]).norm(dim=2) for s in range(0, len(X), 256)])
    d.fill_diagonal_(math.inf)
    return d.sort(dim=1).values[:, :k]


# ----------------------------------------------------------------------------------------- the rows
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_evenly_spaced_points_tie_rule(dtype):
    """200 evenly spaced points of [0, 1]: TwoNN was 1.08e12. Every interior point has mu = 1 (r1 = r2), which the
    rule drops; 2 points are left, so TwoNN is undefined (a clear error). The MLE's neighbourhoods are not all tied
    (h, h, 2h, 2h, ...): it is finite, near 1 (1.168 at k = 20: the boundary points inflate it)."""
    X = torch.linspace(0, 1, 200, dtype=dtype)[:, None]
    with pytest.raises(UndefinedDimensionError, match="198 have r2 = r1"):
        twonn_dimension(X)
    with pytest.raises(UndefinedDimensionError, match="TwoNN is undefined"):
        intrinsic_dimensions(X)
    assert mle_dimension(X) == pytest.approx(1.1684, abs=1e-3)


def test_integer_grid_twonn_is_a_clear_error_not_nan():
    grid = torch.stack(torch.meshgrid(torch.arange(10.0), torch.arange(10.0), indexing="ij"), -1).reshape(-1, 2)
    with pytest.raises(UndefinedDimensionError, match="of 100 points, 100 have r2 = r1"):
        twonn_dimension(grid)
    with pytest.raises(UndefinedDimensionError):
        twonn_dimension(grid.long())  # integer dtype: exact ties


def test_mle_on_equidistant_points_is_a_clear_error_not_inf():
    with pytest.raises(UndefinedDimensionError, match="for all 21 points the k = 20 nearest neighbours are equidi"):
        mle_dimension(torch.eye(21), k=20)
    with pytest.raises(UndefinedDimensionError):
        mle_dimension(torch.eye(21), k=20, averaging="mean")


def test_estimators_are_translation_invariant():
    """Was MLE 2.71, TwoNN 3.94 with the offset; the centred cloud gives 7.01 and 8.18."""
    X = offset_cloud()
    centred = X - X.mean(0)
    assert mle_dimension(X) == pytest.approx(7.008265, abs=1e-5)
    assert twonn_dimension(X) == pytest.approx(8.181257, abs=1e-5)
    assert mle_dimension(X) == pytest.approx(mle_dimension(centred), rel=1e-9)
    assert twonn_dimension(X) == pytest.approx(twonn_dimension(centred), rel=1e-9)


# the same class, found by the newcomer review: storage, near-ties, magnitudes, integers, arguments
def test_float32_values_stored_as_float64_tie_as_in_float32():
    """A float32 lattice converted to float64 gave TwoNN 9.5e4 (a 1-D line), 2.7e5, 6.3e6: float64's resolution took
    the float32 rounding for distinct distances. Values that are all float32 numbers now get float32's resolution,
    so the same values give the same answer in either dtype; a genuine float64 cloud is unchanged."""
    grid = torch.stack(torch.meshgrid(torch.arange(10.0), torch.arange(10.0), indexing="ij"), -1).reshape(-1, 2)
    for X in (torch.linspace(0, 1, 200)[:, None], (torch.arange(200.0) / 255)[:, None], grid / 255):
        for stored in (X, X.double()):
            with pytest.raises(UndefinedDimensionError, match="have r2 = r1"):
                twonn_dimension(stored)
    X = offset_cloud()
    assert twonn_dimension(X) == pytest.approx(8.181257, abs=1e-5)


def test_nearly_tied_neighbourhoods_are_undefined_not_huge():
    """A lattice with a jitter finer than the tie tolerance gave 2.7e6 (TwoNN, a line, D = 1) and 6.2e7 (MLE,
    eye(21)): estimates above MAX_DIMENSION_FACTOR x D are refused, saying why."""
    g = torch.Generator().manual_seed(0)
    line = torch.linspace(0, 1, 200, dtype=torch.float64)[:, None] + 1e-9 * torch.randn(200, 1, generator=g,
                                                                                        dtype=torch.float64)
    with pytest.raises(UndefinedDimensionError, match=r"TwoNN .* more than 4 times the ambient dimension D = 1\b"):
        twonn_dimension(line)
    assert mle_dimension(line) == pytest.approx(1.1684, abs=1e-3)  # its neighbourhoods are not tied
    simplex = torch.eye(21, dtype=torch.float64) + 1e-8 * torch.randn(21, 21, generator=g, dtype=torch.float64)
    with pytest.raises(UndefinedDimensionError, match=r"MLE .* more than 4 times the ambient dimension D = 21\b"):
        mle_dimension(simplex, 20)


def test_distances_whose_squares_overflow_are_refused():
    """Coordinates of 1e154 gave infinite distances, then a wrong 'duplicates' error; 1e150 works."""
    Z = torch.randn(300, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with pytest.raises(ValueError, match=r"squared distances overflow float64 \(coordinates up to 3.15e\+154\)"):
        knn_distances(Z * 1e154, 3)
    assert mle_dimension(Z * 1e150, 10) == pytest.approx(mle_dimension(Z, 10), rel=1e-9)


def test_integer_coordinates_are_exact_beyond_float64_integers():
    """int64 values above 2^53 were rounded on the way to float64 (TwoNN 4.84 for 4.96, then 'duplicates'); they
    are shifted in integers first, and a range float64 cannot hold is refused."""
    c = torch.randint(0, 256, (300, 5), generator=torch.Generator().manual_seed(1))
    assert twonn_dimension(c + 2 ** 54) == twonn_dimension(c + 2 ** 60) == twonn_dimension(c)
    with pytest.raises(ValueError, match=r"integer coordinates spanning \d+ > 2\^53"):
        knn_distances(c * 2 ** 55, 3)


def test_argument_errors_name_the_argument():
    Z = torch.randn(50, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    for k in (20.0, True, "5"):
        with pytest.raises(TypeError, match=r"k must be an int, got"):
            mle_dimension(Z, k)
    with pytest.raises(UndefinedDimensionError, match="all 100 points have a duplicate, and duplicates='drop' left"):
        mle_dimension(torch.cat([Z, Z]), 10, duplicates="drop")


def test_label_sharpness_accepts_medmnist_label_shape_and_offsets():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(60, 5, generator=g, dtype=torch.float64)
    y = torch.arange(60) % 2
    ref = label_sharpness(X, y, M=None)
    d = torch.cdist(X, X)
    assert ref == pytest.approx(1 / float(d[y[:, None] != y[None, :]].min()), rel=1e-12)
    assert label_sharpness(X, y[:, None], M=None) == ref  # (N, 1): MedMNIST's layout
    assert label_sharpness(X, y.to(torch.uint8)[:, None], M=None) == ref
    assert label_sharpness(1e6 + X, y, M=None) == pytest.approx(ref, rel=1e-6)  # offsets change nothing
    with pytest.raises(ValueError, match=r"y must be class labels of shape \(N,\) or \(N, 1\), got \(60, 2\)"):
        label_sharpness(X, torch.zeros(60, 2, dtype=torch.long), M=None)
    with pytest.raises(ValueError, match="y has 59 labels but there are 60 points"):
        label_sharpness(X, y[:59], M=None)


# ------------------------------------------------------------------------------------- exact neighbours
@pytest.mark.parametrize("rank_dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("offset", [0.0, 1e3, 1e6])
def test_knn_is_exact_whatever_offset_and_ranking_dtype(rank_dtype, offset):
    """The float32 ranking is certified by the rounding bound (rows that fail it are widened), so the distances are
    those of a float64 brute force to the proven 5e-11, even with an offset 1e8 times the spacing of the points."""
    X = offset + 0.01 * torch.randn(300, 16, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    d, i = knn_distances(X, 10, rank_dtype=rank_dtype, margin=0, budget_bytes=30_000)
    ref = brute_force(X, 10)
    assert torch.allclose(d, ref, rtol=SQUARED_RTOL / 2, atol=0)  # the proven accuracy
    assert torch.allclose((X[i] - X[:, None, :]).norm(dim=2), d, rtol=SQUARED_RTOL / 2, atol=0)


def test_knn_widens_on_ties_at_the_kth_neighbour():
    """A 12 x 12 grid: the k-th neighbour ties with points outside the first candidates; widening finds them. The
    distances agree to the proven accuracy, not bit for bit: how a CPU's kernels round sqrt(2) differs by one ulp
    between the two formulas (a missed tie would differ by at least 0.2)."""
    grid = torch.stack(torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij"), -1).reshape(-1, 2)
    d, _ = knn_distances(grid, 5, rank_dtype=torch.float32, margin=0)
    assert torch.allclose(d, brute_force(grid, 5), rtol=SQUARED_RTOL / 2, atol=0)


@pytest.mark.parametrize("budget_bytes", [1 << 28, 40_000, 4_000])
def test_knn_symmetric_search_on_duplicates_and_blocks(budget_bytes):
    """Clusters of exact duplicates (more tied entries below a row's threshold than a block's top-k keeps: the
    top-k path) and a last block smaller than k + 1 rows (merged into the one before) give the brute force."""
    g = torch.Generator().manual_seed(5)
    centres = torch.randn(7, 5, generator=g, dtype=torch.float64)
    X = torch.cat([centres.repeat_interleave(40, 0), torch.randn(103, 5, generator=g, dtype=torch.float64)])
    X = X[torch.randperm(len(X), generator=g)]
    d, i = knn_distances(X, 12, margin=2, budget_bytes=budget_bytes)
    assert torch.allclose(d, brute_force(X, 12), rtol=SQUARED_RTOL / 2, atol=0)
    assert torch.allclose((X[i] - X[:, None, :]).norm(dim=2), d, rtol=SQUARED_RTOL / 2, atol=0)
    assert not (i == torch.arange(len(X))[:, None]).any()  # self never a neighbour, duplicates are


@pytest.mark.parametrize("budget_bytes", [14_400, 40_000])
def test_knn_symmetric_search_when_other_blocks_are_closer(budget_bytes):
    """Rows whose own block is far (points on a sphere of radius 100) and another block much closer (a cluster at
    its centre): more than 4 kc entries per row beat the thresholds, the block's top-k path is taken, and the
    tables and sorts that reduce many kept pieces agree with the brute force."""
    g = torch.Generator().manual_seed(6)
    sphere = torch.nn.functional.normalize(torch.randn(60, 20, generator=g, dtype=torch.float64), dim=1) * 100
    X = torch.cat([sphere, torch.randn(300, 20, generator=g, dtype=torch.float64)])
    d, i = knn_distances(X, 4, margin=1, budget_bytes=budget_bytes)
    assert torch.allclose(d, brute_force(X, 4), rtol=SQUARED_RTOL / 2, atol=0)
    assert torch.allclose((X[i] - X[:, None, :]).norm(dim=2), d, rtol=SQUARED_RTOL / 2, atol=0)


def test_knn_at_default_sizes_on_a_clustered_cloud():
    """The default blocks (2,048 rows, a merged last one) and diagonal blocks built from their upper halves down to
    512 rows, on 4,500 points in 30 clusters with an offset of 1e3: the brute force to the proven accuracy."""
    g = torch.Generator().manual_seed(7)
    centres = torch.randn(30, 40, generator=g, dtype=torch.float64) * 3
    X = 1e3 + centres[torch.randint(0, 30, (4500,), generator=g)] + torch.randn(4500, 40, generator=g,
                                                                               dtype=torch.float64)
    d, i = knn_distances(X, 20)
    assert torch.allclose(d, brute_force(X, 20), rtol=SQUARED_RTOL / 2, atol=0)
    assert torch.allclose((X[i] - X[:, None, :]).norm(dim=2), d, rtol=SQUARED_RTOL / 2, atol=0)


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 40), density=st.floats(0, 1), seed=st.integers(0, 2**16))
def test_sparse_nonzero_equals_nonzero(rows, cols, density, seed):
    mask = torch.rand(rows, cols, generator=torch.Generator().manual_seed(seed)) < density
    for got, want in zip(_sparse_nonzero(mask), mask.nonzero(as_tuple=True)):
        assert torch.equal(got, want)


def test_knn_rejects_unsupported_rank_dtype():
    with pytest.raises(ValueError, match="rank_dtype must be None, torch.float32, torch.float64 or torch.int8"):
        knn_distances(torch.rand(10, 3), 2, rank_dtype=torch.float16)


# ------------------------------------------------------------------------------------- property-based tests
def _clouds() -> st.SearchStrategy[np.ndarray]:
    """Small clouds with the degeneracies of real data: duplicated rows, lattice values (ties), constant columns,
    huge offsets, tiny N."""
    @st.composite
    def build(draw):
        n = draw(st.integers(2, 40))
        d = draw(st.integers(1, 6))
        lattice = draw(st.booleans())
        elements = st.integers(-3, 3).map(float) if lattice else st.floats(-1, 1, allow_nan=False, width=64)
        x = draw(arrays(np.float64, (n, d), elements=elements))
        if draw(st.booleans()):  # duplicate some rows
            rows = draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n))
            x = np.concatenate([x, x[rows]])
        if draw(st.booleans()):  # a constant column
            x[:, draw(st.integers(0, d - 1))] = draw(st.floats(-10, 10, allow_nan=False))
        return x + draw(st.sampled_from([0.0, 1e3, 1e6]))
    return build()


def _assert_sane_or_clear(fn, X: torch.Tensor, n_points: int) -> None:
    try:
        value = fn(X)
    except (DuplicatePointsError, UndefinedDimensionError) as e:
        assert "undefined" in str(e) or "duplicate" in str(e)
        return
    except ValueError as e:  # too few points for k
        assert f"N={n_points}" in str(e)
        return
    values = value.values() if isinstance(value, dict) else [value]
    assert all(math.isfinite(v) and v > 0 for v in values), value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_clouds(), st.sampled_from(["error", "drop"]))
def test_estimators_give_a_finite_value_or_a_clear_error(x, duplicates):
    X = torch.from_numpy(x)
    n = len(X)
    _assert_sane_or_clear(lambda X: twonn_dimension(X, duplicates=duplicates), X, n)
    _assert_sane_or_clear(lambda X: mle_dimension(X, k=min(5, max(3, n - 1)), duplicates=duplicates), X, n)
    _assert_sane_or_clear(lambda X: mle_dimension(X, k=3, averaging="mean", duplicates=duplicates), X, n)


@settings(max_examples=100, deadline=None)
@given(_clouds(), st.sampled_from([torch.float32, torch.float64]), st.sampled_from([1 << 28, 400]),
       st.sampled_from([0, 3]), st.sampled_from([512, 2]))
def test_knn_distances_equal_brute_force_on_degenerate_clouds(x, rank_dtype, budget_bytes, margin, diagonal_rows):
    """Any cloud, one block or blocks of about 10 rows (the symmetric search, its thresholds and merged last block),
    diagonal blocks whole or built from their upper halves, candidates all recomputed or only those in the band."""
    X = torch.from_numpy(x)
    k = min(3, len(X) - 1)
    with mock.patch.object(neighbours, "_MIN_DIAGONAL_ROWS", diagonal_rows):
        d, _ = knn_distances(X, k, rank_dtype=rank_dtype, margin=margin, budget_bytes=budget_bytes)
    assert torch.allclose(d, brute_force(X, k), rtol=SQUARED_RTOL / 2, atol=1e-12 * float(X.abs().max()))


@given(st.integers(2, 30), st.sampled_from([math.nan, math.inf, -math.inf]))
def test_non_finite_points_are_refused_by_name(n, bad):
    X = torch.rand(n, 3, dtype=torch.float64)
    X[n // 2, 1] = bad
    for fn in (twonn_dimension, mle_dimension, lambda X: knn_distances(X, 1)):
        with pytest.raises(ValueError, match=f"X contains NaN or infinite values .*first at row {n // 2}"):
            fn(X)


@settings(max_examples=100, deadline=None)
@given(_clouds(), st.integers(0, 2 ** 16), st.booleans())
def test_label_sharpness_gives_the_brute_force_value_or_a_clear_error(x, seed, column_labels):
    X = torch.from_numpy(x)
    y = torch.randint(0, 2, (len(X),), generator=torch.Generator().manual_seed(seed))
    try:
        value = label_sharpness(X, y[:, None] if column_labels else y, M=None)
    except ValueError as e:
        assert "two distinct labels" in str(e) or "distance zero" in str(e)
        return
    d = (X[:, None, :] - X[None, :, :]).norm(dim=2)
    d = d[(y[:, None] != y[None, :]) & (d > 0)]
    assert value == pytest.approx(1 / float(d.min()), rel=1e-9)
