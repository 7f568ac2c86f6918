"""Chapter 3's experiment helpers: predicted exponents, power-law fits and their estimates (pooled runs, local
slopes, ratios, direction-only verdicts), the stripe's fixed points (Eq. 6) checked by Monte Carlo, one small
feature-vs-lazy run with the cheap Lambda* and lazy-kernel runs that must agree with it, the ladders of both, and
the stripe's relative stability
(Petrini et al. 2021, Eq. 6)."""

import numpy as np
import pytest
import torch
from scipy import stats

from lib.data.invariant import X_MAX, X_MIN
from lib.experiments.compressing_invariants import (exponent_estimate, feature_exponent, lazy_exponent, local_slopes,
                                                    ratio_estimate, run_amplification, run_ladder, run_lazy,
                                                    run_lazy_ladder, run_learning, stripe_fixed_points)
from lib.experiments.relative_stability import run_stripe_stability
from lib.measures.relative_stability import invariant_stability


def test_predicted_exponents():
    assert lazy_exponent(5) == pytest.approx(5 / 13)
    assert feature_exponent(5) == pytest.approx(9 / 13)
    assert lazy_exponent(3) == pytest.approx(3 / 7)
    assert feature_exponent(3, d_par=2) == pytest.approx(0.5)  # the cylinder, Sec. 4


def test_exponent_estimate_is_the_log_log_fit_with_its_student_t_interval():
    rng = np.random.default_rng(0)
    p = np.array([64, 128, 256, 512, 1024, 2048])
    v = 3.0 * p ** -0.4 * np.exp(rng.normal(0, 0.01, len(p)))
    fit = stats.linregress(np.log(p), np.log(v))
    half = stats.t.ppf(0.975, len(p) - 2) * fit.stderr
    est = exponent_estimate(p, v)
    assert est.value == pytest.approx(-0.4, abs=0.02) and 0 < half < 0.05 and est.runs == 6
    assert (est.low, est.high) == pytest.approx((fit.slope - half, fit.slope + half), rel=1e-12)
    flipped = exponent_estimate(p, v, sign=-1)
    assert (flipped.value, flipped.low, flipped.high) == pytest.approx((-est.value, -est.high, -est.low), rel=1e-12)


def test_exponent_estimate_pools_runs_and_flips_the_sign_for_learning_curves():
    rng = np.random.default_rng(2)
    p = np.repeat([64, 128, 256, 512, 1024], 4)
    err = 2.0 * p ** -0.4 * np.exp(rng.normal(0, 0.05, len(p)))
    beta = exponent_estimate(p, err, sign=-1)
    assert beta.runs == 20 and beta.low < 0.4 < beta.high and beta.value == pytest.approx(0.4, abs=0.05)
    assert beta.high - beta.low < 0.1
    assert exponent_estimate(p, err).value == pytest.approx(-beta.value)
    assert exponent_estimate([64, 64, 64], [0.1, 0.2, 0.3]) is None  # one size: no slope
    two = exponent_estimate([64, 128], [0.1, 0.2])  # two runs: their slope, no interval
    assert two.single and two.value == pytest.approx(1.0)
    assert exponent_estimate([64, 128], [0.1, 0.0]) is None


def test_local_slopes_see_a_bend_in_a_power_law():
    p = np.repeat([100, 1000, 10000], 3)
    noise = np.tile([0.99, 1.0, 1.01], 3)
    lam = np.where(p <= 1000, p ** 0.5, 1000 ** 0.5 * (p / 1000) ** 1.0) * noise
    rows = local_slopes(p, lam)
    assert [(r["p from"], r["p to"]) for r in rows] == [(100, 1000), (1000, 10000)]
    assert rows[0]["estimate"].value == pytest.approx(0.5, abs=0.01)
    assert rows[1]["estimate"].value == pytest.approx(1.0, abs=0.01)


def test_ratio_estimate_is_a_geometric_mean_with_an_interval():
    est = ratio_estimate([2.0, 8.0, 4.0, 4.0], [1.0, 2.0, 1.0, 1.0])  # ratios 2, 4, 4, 4
    assert est.value == pytest.approx(2 ** 1.75) and est.runs == 4 and est.low <= est.value <= est.high
    one = ratio_estimate([3.0], [2.0])
    assert one.single and one.value == pytest.approx(1.5)
    with pytest.raises(ValueError, match="positive"):
        ratio_estimate([1.0, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="equal-length"):
        ratio_estimate([1.0, 2.0], [1.0])


def test_stripe_fixed_points_zero_the_monte_carlo_bracket_of_eq6():
    d = 2
    x = np.random.default_rng(1).standard_normal(4_000_000)
    y = np.where((x > X_MIN) & (x < X_MAX), -1.0, 1.0)
    points = stripe_fixed_points(d)
    assert sum(fp["stable"] for fp in points) >= 2
    for fp in points:
        active = x > fp["z"] if fp["side"] > 0 else x < fp["z"]
        c1, cb = np.mean(y * x * active), np.mean(y * active)
        assert d * cb + fp["z"] * c1 == pytest.approx(0.0, abs=3e-3)


def test_feature_training_compresses_and_beats_the_lazy_kernel():
    torch.set_num_threads(1)
    out = run_learning(dict(model="stripe", d=3, p=128, h=200, alpha=1e-6, seed=0, n_test=4000, loss="softhinge",
                            min_step=1e-2, max_steps=20000, until=0.95))
    assert out["feature"]["fitted"] >= 0.95 and out["lazy"]["fitted"] >= 0.95
    feature = out["feature"]
    assert feature["t_star"] is not None and feature["lambda_star"] > 2.0
    assert feature["lambda_max"] >= feature["lambda_star"]
    assert feature["test_error"] < out["lazy"]["test_error"]
    for key in ("lazy", "lazy_compressed", "final_ntk"):
        assert 0.0 <= out[key]["test_error"] < 0.5
    assert out["lazy_compressed"]["test_error"] < out["lazy"]["test_error"]
    # the cheap Lambda* run draws the same training set and network, so it stops at the same t* with the same Lambda*
    cheap = run_amplification(dict(model="stripe", d=3, p=128, h=200, alpha=1e-6, seed=0, n_test=4000,
                                   loss="softhinge", min_step=1e-2, max_steps=20000))
    assert cheap["t_star"] == pytest.approx(feature["t_star"], rel=1e-12)
    assert cheap["lambda_star"] == pytest.approx(feature["lambda_star"], rel=1e-12)


def test_invariant_stability_of_linear_and_invariant_functions():
    g = torch.Generator().manual_seed(3)
    d, d_par = 10, 1
    x = torch.randn(20000, d, generator=g, dtype=torch.float64)
    w = torch.randn(d, generator=g, dtype=torch.float64)
    # f = w.x: E[(w_perp.nu)^2] = |w_perp|^2 r^2 / d_perp and E[(w.eta)^2] = |w|^2 r^2 / d
    expected = float(w[d_par:].pow(2).sum() / (d - d_par) / (w.pow(2).sum() / d))
    assert invariant_stability(lambda z: z @ w, x, d_par, 0.5, generator=g) == pytest.approx(expected, rel=0.03)
    assert invariant_stability(lambda z: torch.sin(3 * z[:, 0]), x, d_par, 0.5, generator=g) == 0.0
    with pytest.raises(ValueError, match="d_par"):
        invariant_stability(lambda z: z.sum(1), x, d, 0.5)


def test_stripe_stability_falls_after_feature_training():
    torch.set_num_threads(1)
    out = run_stripe_stability(dict(model="stripe", d=10, p=128, h=100, alpha=1e-6, seed=0, n_test=2000,
                                    loss="softhinge", min_step=1e-2, max_steps=20000, until=0.95, radius=1.0))
    assert 0.5 < out["R_init"] < 2.0
    assert out["R"] < 0.2 * out["R_init"]


LADDER_BASE = dict(model="stripe", d=3, h=60, alpha=1e-6, n_test=50, loss="softhinge", min_step=1e-2, max_steps=5000)


def test_ladder_runs_are_the_single_runs_with_the_same_parameters():
    out = run_ladder({**LADDER_BASE, "ps": (64, 32), "seeds": 2, "seed": 5})
    assert [(r["p"], r["seed"]) for r in out["runs"]] == [(32, 5), (32, 6), (64, 5), (64, 6)]
    assert out["device"].startswith("cpu")
    for run in out["runs"]:
        alone = run_amplification({**LADDER_BASE, "p": run["p"], "seed": run["seed"]})
        assert run["lambda_star"] == alone["lambda_star"] and run["t_star"] == alone["t_star"]
        assert run["steps"] == alone["steps"] and run["reached_t_star"] and run["seconds"] > 0
        assert run["lambda_star"] > 1  # the flow amplifies the informative direction (Lambda = 1 at initialisation)


LAZY_BASE = dict(model="stripe", d=3, h=60, n_test=400, loss="softhinge", min_step=1e-2, max_steps=5000, until=0.95)


def test_lazy_run_is_the_lazy_learner_of_the_full_run():
    full = run_learning({**LAZY_BASE, "p": 48, "seed": 3, "alpha": 1e-6})
    alone = run_lazy({**LAZY_BASE, "p": 48, "seed": 3})
    assert alone["test_error"] == full["lazy"]["test_error"] and alone["steps"] == full["lazy"]["steps"]
    assert alone["fitted"] >= 0.95 and (alone["p"], alone["h"], alone["seed"]) == (48, 60, 3)
    assert 0 < alone["test_error"] < 0.5  # learns something, not everything, from 48 points in d = 3


def test_lazy_ladder_runs_are_the_single_runs_and_its_error_falls_with_p():
    out = run_lazy_ladder({**LAZY_BASE, "ps": (256, 32), "seeds": 3, "seed": 0})
    assert [(r["p"], r["seed"]) for r in out["runs"]] == [(32, 0), (32, 1), (32, 2), (256, 0), (256, 1), (256, 2)]
    for run in out["runs"]:
        alone = run_lazy({**LAZY_BASE, "p": run["p"], "seed": run["seed"]})
        assert run["test_error"] == alone["test_error"] and run["fitted"] == alone["fitted"] and run["seconds"] > 0
    errors = {p: np.median([r["test_error"] for r in out["runs"] if r["p"] == p]) for p in (32, 256)}
    assert errors[256] < 0.75 * errors[32]  # eight times the data: a learning curve, not noise


@pytest.mark.parametrize("ladder, base", [(run_ladder, LADDER_BASE), (run_lazy_ladder, LAZY_BASE)])
@pytest.mark.parametrize("ps", [(), [], (32, 32), (1, 32), (32.0, 64), ("32",), (True, 64), 32, None])
def test_ladder_refuses_bad_sizes(ps, ladder, base):
    with pytest.raises(ValueError, match="ps must be"):
        ladder({**base, "ps": ps, "seeds": 1, "seed": 0})


@pytest.mark.parametrize("ladder, base", [(run_ladder, LADDER_BASE), (run_lazy_ladder, LAZY_BASE)])
@pytest.mark.parametrize("seeds", [0, -1, 1.5, True, "3", None])
def test_ladder_refuses_bad_seed_counts(seeds, ladder, base):
    with pytest.raises(ValueError, match="seeds must be"):
        ladder({**base, "ps": (32,), "seeds": seeds, "seed": 0})
