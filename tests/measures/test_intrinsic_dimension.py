"""Intrinsic dimension, label sharpness, FGSM penalty and scaling-law fits against known answers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.optimize import curve_fit

from lib.data.manifolds import MANIFOLDS
from lib.measures.adversarial import fgsm_loss_penalty
from lib.measures.intrinsic_dimension import DuplicatePointsError, intrinsic_dimensions, mle_dimension, twonn_dimension
from lib.measures.label_sharpness import label_sharpness
from lib.measures.neighbours import knn_distances
from lib.measures.statistics import mean_ci, pearson, scaling_law_likelihood_ratio


def cloud(name: str, n: int, d: int, D: int, seed: int = 0) -> torch.Tensor:
    return MANIFOLDS[name](n, d, D, torch.Generator().manual_seed(seed))


# ------------------------------------------------------------------------------------------------ neighbours
@pytest.mark.parametrize("rank_dtype", [torch.float64, torch.float32])
def test_knn_matches_brute_force_with_chunking(rank_dtype):
    X = torch.rand(300, 17, generator=torch.Generator().manual_seed(0))
    full = torch.cdist(X.double(), X.double())
    full.fill_diagonal_(math.inf)
    ref_d, ref_i = full.sort(dim=1)
    d, i = knn_distances(X, 6, rank_dtype=rank_dtype, budget_bytes=20_000)  # forces many chunks
    assert torch.allclose(d, ref_d[:, :6], rtol=1e-12) and torch.equal(i, ref_i[:, :6])


def test_knn_keeps_true_duplicates_and_validates_k():
    X = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0], [0.0, 3.0]])
    d, _ = knn_distances(X, 2)
    assert d[0].tolist() == [0.0, 1.0] and d[3].tolist() == [3.0, 3.0] and d[2].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="1 <= k < N=4"):
        knn_distances(X, 4)


# ------------------------------------------------------------------------------------------------ estimators
skdim = pytest.importorskip("skdim")


@pytest.mark.parametrize("seed", [0, 1])
def test_mle_variants_equal_scikit_dimension(seed):
    X = cloud("sphere", 800, 5, 20, seed)
    x = X.numpy()
    assert mle_dimension(X) == pytest.approx(skdim.id.MLE().fit(x, n_neighbors=20).dimension_, rel=1e-9)
    assert mle_dimension(X, averaging="mean") == pytest.approx(
        skdim.id.MLE().fit(x, n_neighbors=20, comb="mean").dimension_, rel=1e-9)
    assert mle_dimension(X, normaliser="k-2") == pytest.approx(
        skdim.id.MLE(unbiased=True).fit(x, n_neighbors=20).dimension_, rel=1e-9)


def test_one_search_gives_both_estimates():
    X = cloud("sphere", 700, 4, 16)
    both = intrinsic_dimensions(X, 20, normaliser="k-2", discard_fraction=0.2)
    assert both["mle"] == mle_dimension(X, 20, normaliser="k-2")
    assert both["twonn"] == twonn_dimension(X, discard_fraction=0.2)


def test_released_code_normaliser_is_18_19_of_the_paper():
    X = cloud("gaussian", 600, 4, 12)
    assert mle_dimension(X, normaliser="k-2") / mle_dimension(X) == pytest.approx(18 / 19, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_twonn_equals_scikit_dimension(seed):
    X = cloud("gaussian", 800, 6, 30, seed)
    assert twonn_dimension(X) == pytest.approx(skdim.id.TwoNN().fit(X.numpy()).dimension_, rel=1e-9)
    # discard_fraction=0: only the largest ratio goes (the variant in Konz et al.'s code), computed here directly.
    d = np.sort(torch.cdist(X, X).numpy(), axis=1)[:, 1:3]
    mu = np.sort(d[:, 1] / d[:, 0])[:-1]
    x, y = np.log(mu), -np.log(1 - np.arange(1, len(mu) + 1) / len(d))
    assert twonn_dimension(X, discard_fraction=0.0) == pytest.approx((x @ y) / (x @ x), rel=1e-9)


@pytest.mark.parametrize("name,d", [("gaussian", 2), ("gaussian", 5), ("gaussian", 10), ("sphere", 2), ("sphere", 5),
                                    ("hypercube", 2), ("swiss_roll", 2)])
def test_estimators_recover_known_dimensions_within_10_percent(name, d):
    X = cloud(name, 2000, d, 100)
    assert mle_dimension(X) == pytest.approx(d, rel=0.10)
    assert twonn_dimension(X) == pytest.approx(d, rel=0.10)


def test_mle_underestimates_high_dimensional_bounded_manifolds():
    # The known negative bias (boundary and finite sample): a 10-cube at N = 2000 reads about 8, not 10.
    assert 7.0 < mle_dimension(cloud("hypercube", 2000, 10, 100)) < 9.0


def test_estimators_are_invariant_to_resizing_and_channels():
    X = torch.rand(400, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    big = F.interpolate(X, scale_factor=2, mode="nearest")  # each pixel copied 4 times: every distance doubles
    rgb = X.expand(-1, 3, -1, -1)
    for est in (mle_dimension, twonn_dimension):
        assert est(big) == pytest.approx(est(X), rel=1e-9)
        assert est(rgb) == pytest.approx(est(X), rel=1e-9)


def test_duplicates_raise_or_are_dropped():
    X = torch.cat([cloud("gaussian", 200, 3, 5).float(), torch.zeros(2, 5)])
    with pytest.raises(DuplicatePointsError, match="2 points have a duplicate"):
        mle_dimension(X)
    with pytest.raises(DuplicatePointsError):
        twonn_dimension(X)
    assert mle_dimension(X, duplicates="drop") == pytest.approx(mle_dimension(X[:-1]), rel=0.05)


def test_nan_input_is_rejected():
    X = torch.rand(50, 4)
    X[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        twonn_dimension(X)


# ------------------------------------------------------------------------------------------------ label sharpness
def brute_force_sharpness(X: np.ndarray, y: np.ndarray) -> float:
    best = 0.0
    for j, k in itertools.product(range(len(X)), repeat=2):
        dist = math.sqrt(sum((a - b) ** 2 for a, b in zip(X[j], X[k])))
        if y[j] != y[k] and dist > 0:
            best = max(best, 1.0 / dist)
    return best


@pytest.mark.parametrize("classes", [2, 3])
def test_label_sharpness_equals_a_float64_brute_force_loop(classes):
    g = torch.Generator().manual_seed(classes)
    X = torch.rand(45, 6, generator=g)
    y = torch.arange(45) % classes
    expected = brute_force_sharpness(X.double().numpy(), y.numpy())
    assert label_sharpness(X, y, M=None) == pytest.approx(expected, rel=1e-12)
    assert label_sharpness(X, y, M=None, budget_bytes=2_000) == pytest.approx(expected, rel=1e-12)


def test_label_sharpness_finds_the_closest_cross_label_pair_and_ignores_identical_images():
    X = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.3, 0.4], [5.0, 5.0], [5.0, 5.1]])
    y = torch.tensor([0, 1, 1, 0, 0])  # points 0 and 1 are the same image with two labels: left out
    assert label_sharpness(X, y, M=None) == pytest.approx(1 / 0.5)


def test_label_sharpness_scales_inversely_with_resizing_and_uses_a_balanced_sample():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(300, 1, 6, 6, generator=g)
    y = (torch.arange(300) % 2)
    k = label_sharpness(X, y, M=200, seed=1)
    big = F.interpolate(X, scale_factor=3, mode="nearest")  # distances x3
    assert label_sharpness(big, y, M=200, seed=1) == pytest.approx(k / 3, rel=1e-10)
    assert label_sharpness(X.expand(-1, 3, -1, -1), y, M=200, seed=1) == pytest.approx(k / math.sqrt(3), rel=1e-10)
    with pytest.raises(ValueError, match="two distinct labels"):
        label_sharpness(X, torch.zeros(300, dtype=torch.long), M=None)


# ------------------------------------------------------------------------------------------------ FGSM
class LinearModel(torch.nn.Module):
    """Logits W x on flattened inputs: its FGSM direction is known in closed form."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
        self.lin.weight.data.copy_(w)

    def forward(self, x):
        return self.lin(x.flatten(1))


def test_fgsm_penalty_matches_the_analytic_attack_on_a_linear_model():
    torch.manual_seed(0)
    w = torch.randn(2, 12)
    model = LinearModel(w)
    x = torch.rand(30, 1, 3, 4) * 0.8 + 0.1  # away from the clip boundaries for eps <= 0.1
    y = torch.randint(0, 2, (30,))
    # For logits W x, d CE / dx = W^T (softmax - onehot): its sign is the sign of (w_other - w_true) * (p_other).
    out = fgsm_loss_penalty(model, x, y, eps=(0.01, 0.05), batch_size=7)
    for row in out:
        sign = torch.sign((w[1 - y] - w[y])).view(30, 1, 3, 4)
        x_adv = (x + row["eps"] * sign).clamp(0, 1)
        with torch.no_grad():
            expected = F.cross_entropy(model(x_adv), y) - F.cross_entropy(model(x), y)
        assert row["loss_penalty"] == pytest.approx(float(expected), rel=1e-5)
        assert row["loss_penalty"] > 0 and row["adv_acc"] <= row["clean_acc"]


def test_fgsm_computes_one_gradient_per_batch_for_all_budgets(monkeypatch):
    calls = []
    real_grad = torch.autograd.grad
    monkeypatch.setattr(torch.autograd, "grad", lambda *a, **k: calls.append(1) or real_grad(*a, **k))
    model = LinearModel(torch.randn(3, 4))
    fgsm_loss_penalty(model, torch.rand(25, 4), torch.randint(0, 3, (25,)), batch_size=10)
    assert len(calls) == 3  # ceil(25 / 10) batches, four budgets


# ------------------------------------------------------------------------------------------------ statistics
def test_likelihood_ratio_fits_equal_curve_fit_and_prefer_the_true_model():
    rng = np.random.default_rng(0)
    d = rng.uniform(5, 25, 60)
    n = rng.choice([500, 1000, 1750], 60)
    k = np.exp(rng.uniform(np.log(1e-4), np.log(3e-3), 60))
    log_l = -np.log(n) / d + np.log(k) + 2.0 + rng.normal(0, 0.1, 60)  # generated by model A with a = 2
    res = scaling_law_likelihood_ratio(log_l, d, n, k)
    (a_cf,), _ = curve_fit(lambda X, a: -np.log(X[1]) / X[0] + np.log(X[2]) + a, (d, n, k), log_l)
    (b_cf,), _ = curve_fit(lambda X, b: -np.log(X[1]) / X[0] + b, (d, n), log_l)
    assert res["a"] == pytest.approx(a_cf, rel=1e-8) and res["b"] == pytest.approx(b_cf, rel=1e-8)
    assert res["a"] == pytest.approx(2.0, abs=0.05) and res["log_R"] > 10
    flat = -np.log(n) / d + 1.0 + rng.normal(0, 0.1, 60)  # generated by model B
    assert scaling_law_likelihood_ratio(flat, d, n, k)["log_R"] < 0


def test_mean_ci_and_pearson():
    m, h = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and h == pytest.approx(4.302653 * 1.0 / math.sqrt(3), rel=1e-6)  # t_{0.975, 2} = 4.3027
    assert mean_ci([5.0]) == (5.0, 0.0)
    r, _ = pearson([1, 2, 3, 4], [2, 4, 6, 8.5])
    assert r == pytest.approx(0.9983814, abs=1e-6)
