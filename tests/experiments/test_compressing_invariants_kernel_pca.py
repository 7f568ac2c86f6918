"""Chapter 3's kernel PCA of the stripe (lib.experiments.compressing_invariants_kernel_pca): the draws are the
page's (data first, then weights, one seeded generator), the summaries equal an explicit eigendecomposition of the
returned kernels, and bad sizes are refused."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from lib.data.invariant import invariant_data
from lib.experiments.compressing_invariants_kernel_pca import (KERNELS, TRAINED, first_mode_share, run_stripe_pca,
                                                               stripe_kernels)
from lib.measures.ntk import ntk_gram
from lib.nets.one_hidden_layer import OneHiddenLayer

PARAMS = dict(d=3, p=48, h=20, alpha=1e-6, top=5, loss="softhinge", min_step=1e-2, max_steps=400, until=0.9, seed=3)


def test_first_mode_share_known_values():
    assert first_mode_share([3.0, 1.0]) == pytest.approx(0.75)
    assert first_mode_share([0.2] * 10) == pytest.approx(0.1)  # no dependence on the rank: 1/len
    assert first_mode_share([1.0, 0.0, 0.0]) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [[], [0.0, 0.0], [1.0, -0.5], [[1.0, 2.0]]])
def test_first_mode_share_refuses_what_is_not_a_projection(bad):
    with pytest.raises(ValueError, match="projections"):
        first_mode_share(bad)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=20).filter(lambda v: sum(v) > 0))
def test_first_mode_share_is_a_fraction(values):
    share = first_mode_share(values)
    assert 0 <= share <= 1
    assert share == pytest.approx(values[0] / sum(values))


def test_stripe_kernels_draw_as_the_page_did():
    """Data first, then the network, from one generator seeded with ``seed``: the initial NTK is that of this draw."""
    x, y, kernels, flow = stripe_kernels(PARAMS)
    g = torch.Generator().manual_seed(PARAMS["seed"])
    x0, y0 = invariant_data("stripe", PARAMS["p"], PARAMS["d"], generator=g)
    net = OneHiddenLayer(PARAMS["d"], PARAMS["h"], generator=g)
    assert torch.equal(x, x0) and torch.equal(y, y0)
    assert torch.allclose(kernels["NTK at initialisation"], ntk_gram(net, x0), rtol=0, atol=1e-12)
    assert set(kernels) == set(KERNELS)
    for K in kernels.values():
        assert K.shape == (PARAMS["p"], PARAMS["p"]) and K.dtype == torch.float64
        assert torch.allclose(K, K.T, atol=1e-10)
        assert torch.linalg.eigvalsh(K).min() > -1e-8 * torch.linalg.eigvalsh(K).max()  # a Gram matrix
    assert flow.steps > 0
    assert not torch.allclose(kernels[TRAINED], kernels["NTK at initialisation"])  # training moved the kernel


def test_run_stripe_pca_matches_an_explicit_eigendecomposition():
    out = run_stripe_pca(PARAMS)
    _, y, kernels, _ = stripe_kernels(PARAMS)  # deterministic: the same draws and flow
    p, top = PARAMS["p"], PARAMS["top"]
    for name, K in kernels.items():
        vals, vecs = torch.linalg.eigh(K)
        vals, vecs = vals.flip(0)[:top], vecs.flip(1)[:, :top]
        omega2 = ((vecs.T @ y) ** 2 / p**2).numpy()
        summary = out["kernels"][name]
        np.testing.assert_allclose(summary["eigenvalues"], vals.numpy(), rtol=1e-8)
        np.testing.assert_allclose(summary["projections"], omega2, rtol=1e-6, atol=1e-14)
        assert summary["first_mode_share"] == pytest.approx(omega2[0] / omega2.sum(), rel=1e-6)
    phi1 = torch.linalg.eigh(kernels[TRAINED])[1][:, -1].numpy()
    assert out["phi1"]["constant_cosine"] == pytest.approx(abs(phi1.sum()) / np.sqrt(p), rel=1e-6)
    assert out["phi1"]["one_sign"] == bool((phi1 > 0).all() or (phi1 < 0).all())
    rho = spearmanr(np.abs(phi1), kernels[TRAINED].diagonal().numpy())[0]
    assert out["phi1"]["diagonal_spearman"] == pytest.approx(rho, abs=1e-9)
    assert out["flow"]["steps"] <= PARAMS["max_steps"] and 0 <= out["flow"]["fitted"] <= 1


@pytest.mark.parametrize("name, value", [("p", 0), ("h", 0), ("d", 0)])
def test_stripe_kernels_refuse_empty_sizes(name, value):
    with pytest.raises(ValueError, match=name):
        stripe_kernels({**PARAMS, name: value})
