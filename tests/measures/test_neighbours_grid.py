"""The integer ranking of 8-bit data in lib.measures.neighbours: exact squared distances of the codes by an int8 GEMM,
certified against the float64 brute force whatever the dtype the grid values are stored in."""
from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lib.measures import neighbours
from lib.measures.neighbours import SQUARED_RTOL, knn_distances


def brute_force(X: torch.Tensor, k: int) -> torch.Tensor:
    """The k smallest float64 distances of every point to the others, from the differences (no matmul form)."""
    X = X.flatten(1).double()
    d = torch.cat([(X[s:s + 256, None, :] - X[None, :, :]).norm(dim=2) for s in range(0, len(X), 256)])
    d.fill_diagonal_(math.inf)
    return d.sort(dim=1).values[:, :k]


def ranking_of(X: torch.Tensor, rank_dtype: torch.dtype | None = None) -> torch.dtype:
    """The dtype of the ranking values ``knn_distances`` would use on ``X`` (int32 for the integer ranking)."""
    X = X.flatten(1)
    X64 = X.double()
    centred = X64 - X64.mean(0)
    sq = (centred * centred).sum(1)
    return neighbours._choose_ranking(X, X64, centred, sq, sq.sqrt(), rank_dtype).dtype


def assert_exact(X: torch.Tensor, k: int, **kwargs) -> None:
    d, i = knn_distances(X, k, **kwargs)
    X64 = X.flatten(1).double()
    assert torch.allclose(d, brute_force(X, k), rtol=SQUARED_RTOL / 2, atol=0)
    assert torch.allclose((X64[i] - X64[:, None, :]).norm(dim=2), d, rtol=SQUARED_RTOL / 2, atol=0)
    assert not (i == torch.arange(len(X))[:, None]).any()


def _codes(n: int, d: int, seed: int, high: int = 256) -> torch.Tensor:
    return torch.randint(0, high, (n, d), generator=torch.Generator().manual_seed(seed))


EIGHT_BIT = {  # the ways 8-bit data reach the measures
    "uint8 codes": lambda c: c.to(torch.uint8),
    "int64 codes with an offset": lambda c: c + 10_000,
    "float32 k/255 (the loaders, ToTensor)": lambda c: c.float() / 255,
    "float64 k/255": lambda c: c.double() / 255,
    "float32 k/255 stored as float64 (the benchmark)": lambda c: (c.float() / 255).double(),
    "integer-valued float64 with an offset of 1e6": lambda c: c.double() + 1e6,
    "images of shape (N, 1, 4, 9)": lambda c: (c.float() / 255).view(-1, 1, 4, 9),
}


@pytest.mark.parametrize("make", EIGHT_BIT.values(), ids=EIGHT_BIT.keys())
def test_eight_bit_data_are_ranked_in_integers_and_exact(make):
    X = make(_codes(700, 36, 0))
    assert ranking_of(X) == torch.int32
    assert_exact(X, 10, budget_bytes=60_000)  # several row blocks: the symmetric search on int32 values


@pytest.mark.parametrize("dim", [1, 3, 9, 784])
def test_any_dimension_is_padded_for_the_int8_gemm(dim):
    """torch._int_mm on the CPU gives wrong sums for a single column (D = 1): codes are padded to 8 columns."""
    X = _codes(300, dim, 1, high=6).float() / 255  # few levels: many ties at the k-th neighbour, widened
    assert ranking_of(X) == torch.int32
    assert_exact(X, 7, margin=0)


def test_extreme_codes_do_not_overflow_int32():
    """Codes 0 and 255 only in D = 3,000: squared distances up to 255^2 D = 1.95e8 and dot products of -128s."""
    X = (_codes(80, 3000, 2, high=2) * 255).to(torch.uint8)
    assert ranking_of(X) == torch.int32
    assert_exact(X, 5)


def test_dimensions_beyond_int32_sums_use_the_float_ranking():
    X = _codes(50, 40, 3).float() / 255
    with mock.patch.object(neighbours, "_GRID_MAX_DIM", 39):
        assert ranking_of(X) == torch.float32
        assert_exact(X, 5)


@pytest.mark.parametrize("noise", [1e-6, 1e-4, 1e-2])
def test_data_near_the_grid_are_exact_with_either_ranking(noise):
    """Noise on the grid: the automatic choice takes the float ranking once the grid's bound (twice the largest
    ||x - k/255||) is looser than float32's; forcing the integer ranking stays exact (its bound decides the float64
    recompute and widening), only slower."""
    g = torch.Generator().manual_seed(4)
    X = _codes(400, 6, 4, high=4).double() / 255 + noise * torch.randn(400, 6, generator=g, dtype=torch.float64)
    assert ranking_of(X) == torch.float32
    assert ranking_of(X, torch.int8) == torch.int32
    assert_exact(X, 8, margin=0)
    assert_exact(X, 8, margin=0, rank_dtype=torch.int8)


def test_float_data_are_not_mistaken_for_a_grid():
    X = torch.rand(200, 5, generator=torch.Generator().manual_seed(5))
    assert ranking_of(X) == torch.float32
    with pytest.raises(ValueError, match=r"rank_dtype=torch.int8 needs 8-bit data"):
        knn_distances(X * 1000, 3, rank_dtype=torch.int8)  # 255,000 levels of 1/255 and 1,000 integers: > 256


def test_more_than_256_levels_use_the_float_ranking():
    X = torch.arange(600.0)[:, None] / 255  # 600 levels of 1/255 in one column
    assert ranking_of(X) == torch.float32
    assert_exact(torch.cat([X, X.flip(0)], 1), 4)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 60), d=st.integers(1, 12), levels=st.sampled_from([2, 5, 256]),
       store=st.sampled_from(list(EIGHT_BIT)[:6]), duplicates=st.integers(0, 10), seed=st.integers(0, 2 ** 16),
       rank_dtype=st.sampled_from([None, torch.int8]), margin=st.sampled_from([0, 4]),
       budget_bytes=st.sampled_from([1 << 28, 300]))
@example(n=2, d=2, levels=256, store="float32 k/255 (the loaders, ToTensor)", duplicates=0, seed=3073, rank_dtype=None,
         margin=0, budget_bytes=1 << 28)  # CI's find: the float32 ranking is tighter here, and exact
def test_integer_ranking_equals_brute_force(n, d, levels, store, duplicates, seed, rank_dtype, margin,
                                            budget_bytes):
    """Random 8-bit clouds in every storage, with duplicated rows and few levels (ties), one block or blocks of a
    few rows: the distances of the float64 brute force to the proven accuracy. The automatic choice may take the
    float32 ranking for a tiny cloud of float32 values (its bound scales with the cloud's size, the grid's with the
    values' rounding: 2 points 0.15 apart, seed 3073); forced, the integer ranking is used."""
    codes = _codes(n, d, seed, high=levels)
    codes = torch.cat([codes, codes[torch.from_numpy(np.arange(duplicates) % n)]])
    X = EIGHT_BIT[store](codes)
    if rank_dtype == torch.int8 or not X.is_floating_point():
        assert ranking_of(X, rank_dtype) == torch.int32
    k = min(3, len(X) - 1)
    d_, _ = knn_distances(X, k, rank_dtype=rank_dtype, margin=margin, budget_bytes=budget_bytes)
    assert torch.allclose(d_, brute_force(X, k), rtol=SQUARED_RTOL / 2, atol=0)
