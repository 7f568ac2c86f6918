"""Kendall's tau, the granulated tau Psi and sign-errors against scipy and brute-force loops on small zoos."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from lib.measures.rank_correlation import (bootstrap_interval, granulated_interval, granulated_tau, kendall_tau,
                                          sign_errors)


def brute_tau(mu, gap):
    n, total = len(mu), 0.0
    for i in range(n):
        for j in range(n):
            if i != j:
                total += np.sign(mu[i] - mu[j]) * np.sign(gap[i] - gap[j])
    return total / (n * (n - 1))


def zoo(seed: int = 0):
    """A 3 x 2 x 2 grid with a measure that tracks the gap on two axes and is reversed on the third."""
    rng = np.random.default_rng(seed)
    settings = [{"width": w, "depth": d, "lr": lr} for w, d, lr in itertools.product((1, 2, 3), (1, 2), (0.1, 0.01))]
    gap = np.array([s["width"] + 2 * s["depth"] + 10 * s["lr"] + 0.01 * rng.standard_normal() for s in settings])
    mu = np.array([s["width"] + 2 * s["depth"] - 10 * s["lr"] for s in settings])
    return settings, mu, gap


def test_tau_equals_scipy_and_brute_force():
    rng = np.random.default_rng(1)
    mu, gap = rng.standard_normal(30), rng.standard_normal(30)
    assert kendall_tau(mu, gap) == pytest.approx(brute_tau(mu, gap), abs=1e-12)
    assert kendall_tau(mu, gap) == pytest.approx(stats.kendalltau(mu, gap).statistic, abs=1e-12)  # no ties: a = b
    assert kendall_tau(mu, mu) == 1.0 and kendall_tau(mu, -mu) == -1.0


def test_tau_counts_ties_as_zero_like_tau_a():
    mu, gap = [1.0, 1.0, 2.0], [1.0, 2.0, 3.0]
    assert kendall_tau(mu, gap) == pytest.approx(brute_tau(np.array(mu), np.array(gap))) == pytest.approx(2 / 3)


def test_granulated_tau_by_brute_force():
    settings, mu, gap = zoo()
    psi = granulated_tau(settings, mu, gap, ("width", "depth", "lr"))
    # width: 4 groups of 3 networks, each ranked exactly; depth: 6 groups of 2, exact; lr: reversed everywhere
    assert psi["width"] == 1.0 and psi["depth"] == 1.0 and psi["lr"] == -1.0
    assert psi["Psi"] == pytest.approx(1 / 3)
    # brute force for one axis: groups by the other axes
    groups = {}
    for i, s in enumerate(settings):
        groups.setdefault((s["depth"], s["lr"]), []).append(i)
    expected = np.mean([brute_tau(mu[g], gap[g]) for g in groups.values()])
    assert psi["width"] == pytest.approx(expected)


def test_sign_errors_per_environment_and_worst_case():
    settings, mu, gap = zoo()
    err = sign_errors(settings, mu, gap, ("width", "depth", "lr"))
    # environments: width 3 values -> 3 pairs x 4 groups; depth 1 pair x 6; lr 1 pair x 6 (one seed: errors 0 or 1)
    assert len(err["environments"]) == 12 + 6 + 6
    assert err["width"] == 0.0 and err["depth"] == 0.0 and err["lr"] == 1.0
    assert err["max"] == 1.0 and err["mean"] == pytest.approx(6 / 24)


def test_sign_errors_average_over_seeds_and_drop_pairs_within_noise():
    settings = [{"w": w, "seed": s} for w in (1, 2) for s in (0, 1, 2, 3)]
    gap = np.array([0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2, 0.105])
    mu = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 0.0, 2.0])  # seed 2 mispredicts
    err = sign_errors(settings, mu, gap, ("w",))
    assert err["environments"] == [{"axis": "w", "error": 0.25, "pairs": 4}] and err["max"] == 0.25
    # seed 3's gap difference (0.005) is within noise 0.01 per network: left out
    err = sign_errors(settings, mu, gap, ("w",), min_gap_difference=0.01)
    assert err["environments"] == [{"axis": "w", "error": pytest.approx(1 / 3), "pairs": 3}]
    with pytest.raises(ValueError, match="no pair of coupled networks"):
        sign_errors(settings, mu, gap, ("w",), min_gap_difference=1.0)


def test_bad_inputs_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="finite"):
        kendall_tau([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="same length"):
        kendall_tau([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least 2"):
        kendall_tau([1.0], [1.0])
    settings, mu, gap = zoo()
    with pytest.raises(ValueError, match="no hyperparameter 'seed'"):
        granulated_tau(settings, mu, gap, ("seed",))
    single = [{"width": 1, "depth": d} for d in (1, 2)]
    with pytest.raises(ValueError, match="differ in 'width' alone"):
        granulated_tau(single, [1.0, 2.0], [1.0, 2.0], ("width",))


def test_bootstrap_interval_covers_the_statistic():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal(200)
    gap = mu + 0.5 * rng.standard_normal(200)
    tau = kendall_tau(mu, gap)
    lo, hi = bootstrap_interval(lambda i: kendall_tau(mu[i], gap[i]), 200, resamples=300)
    assert lo < tau < hi and hi - lo < 0.2


def test_granulated_interval_resamples_groups():
    settings, mu, gap = zoo()
    # every group of every axis has the same tau, so every resample gives Psi = 1/3 exactly
    assert granulated_interval(settings, mu, gap, ("width", "depth", "lr"), resamples=100) == \
        pytest.approx((1 / 3, 1 / 3))
    rng = np.random.default_rng(3)
    noisy = gap + rng.standard_normal(len(gap))
    lo, hi = granulated_interval(settings, noisy, gap, ("width", "depth", "lr"), resamples=500)
    psi = granulated_tau(settings, noisy, gap, ("width", "depth", "lr"))["Psi"]
    assert lo <= psi <= hi and lo < hi

