"""Verdicts of the paper-vs-here tables: each outcome of the criterion on a hand-made case, and the estimates."""

import numpy as np
import pytest

from lib.pipeline.verdicts import (INCONCLUSIVE, NOT_COMPARABLE, NOT_REPRODUCED, REPRODUCED, SAME_DIRECTION, Claim, Estimate,
                                   check_statement, comparison_row, verdict)

RATIO = Claim.point(2.5, null=1.0, text="~2.5")  # "medical K_F is ~2.5x natural"


@pytest.mark.parametrize("here, expected", [
    (Estimate(2.3, 2.0, 2.7, 5), REPRODUCED),  # the paper's value inside our interval
    (Estimate(10.9, 6.0, 15.0, 5), SAME_DIRECTION),  # above 1 like the paper, but far larger
    (Estimate(1.2, 0.9, 1.6, 5), NOT_REPRODUCED),  # the interval holds the null, not the paper's value
    (Estimate(1.8, 0.5, 3.0, 3), INCONCLUSIVE),  # the interval holds both: too few runs to tell
    (Estimate(0.5, 0.4, 0.6, 5), NOT_REPRODUCED),  # the other side of the null
    (Estimate(1.7), SAME_DIRECTION + " (one run)"),
    (Estimate(2.5), REPRODUCED + " (one run)"),
    (None, NOT_COMPARABLE),
])
def test_each_outcome_of_the_criterion(here, expected):
    assert verdict(RATIO, here) == expected


def test_negative_claims_and_ranges():
    slope = Claim(-1.2, -0.8, null=0.0, text="R_f ~ P^-1")
    assert verdict(slope, Estimate(-2.1, -2.4, -1.8, 4)) == SAME_DIRECTION
    assert verdict(slope, Estimate(-0.9, -1.1, -0.7, 4)) == REPRODUCED
    assert verdict(slope, Estimate(0.3, -0.2, 0.8, 4)) == NOT_REPRODUCED
    undirected = Claim(0.37, 0.70)  # a range without a null: overlap or not
    assert verdict(undirected, Estimate(0.2, 0.1, 0.3, 3)) == NOT_REPRODUCED
    assert verdict(undirected, Estimate(0.35, 0.3, 0.4, 3)) == REPRODUCED


def test_claims_of_direction_alone():
    more = Claim.direction(0.0, above=True, text="the tractrix has more regions")
    assert verdict(more, Estimate(5.0, 1.0, 9.0, 10)) == REPRODUCED
    assert verdict(more, Estimate(2.0, -1.0, 5.0, 10)) == INCONCLUSIVE  # holds the null and the claimed side
    assert verdict(more, Estimate(0.0, 0.0, 1.0, 10)) == INCONCLUSIVE  # touching the null is not a direction
    assert verdict(more, Estimate(-0.5, -1.0, 0.0, 10)) == NOT_REPRODUCED  # up to the null, none of the claim
    assert verdict(more, Estimate(-20.0, -24.0, -16.0, 10)) == NOT_REPRODUCED
    fewer = Claim.direction(1.0, above=False, text="fewer")
    assert verdict(fewer, Estimate(0.5, 0.4, 0.6, 3)) == REPRODUCED
    assert verdict(fewer, Estimate(1.5)) == NOT_REPRODUCED + " (one run)"
    assert verdict(fewer, Estimate(1.0, 0.8, 1.2, 4)) == INCONCLUSIVE


def test_estimate_from_runs_is_the_mean_with_its_student_t_interval():
    x = np.random.default_rng(1).normal(3.0, 1.0, 400)
    e = Estimate.from_runs(x)
    se = x.std(ddof=1) / np.sqrt(len(x))  # many runs: about the normal interval
    assert e.value == pytest.approx(x.mean()) and e.runs == 400
    assert (e.low, e.high) == pytest.approx((x.mean() - 1.966 * se, x.mean() + 1.966 * se), rel=1e-3)
    two = Estimate.from_runs([1.0, 3.0])  # 2 runs: t_1 = 12.706, s = sqrt(2), not the range [1, 3]
    assert (two.low, two.high) == pytest.approx((2.0 - 12.7062, 2.0 + 12.7062), rel=1e-4)
    # coverage: 95% of 2,000 intervals from 3 normal runs hold the true mean
    draws = np.random.default_rng(2).normal(0.0, 1.0, (2000, 3))
    held = [Estimate.from_runs(d).low <= 0.0 <= Estimate.from_runs(d).high for d in draws]
    assert np.mean(held) == pytest.approx(0.95, abs=0.015)
    assert Estimate.from_runs([0.7]).single and Estimate.from_runs([0.7]).text(".2f") == "0.70 (one run)"
    assert Estimate(1.0, 0.5, 1.5, 3).text(".2f") == "1.00 [0.50, 1.50] (3 runs)"


@pytest.mark.parametrize("make, message", [
    (lambda: Estimate(float("nan")), "must be finite"),
    (lambda: Estimate(1.0, 2.0, 3.0, 3), "outside its interval"),
    (lambda: Estimate(1.0, 0.0, None), "both bounds"),
    (lambda: Estimate.from_runs([]), "non-empty"),
    (lambda: Estimate.from_runs([1.0, float("inf")]), "finite"),
    (lambda: Estimate.from_runs([1.0, 2.0], level=1.5), "level=1.5"),
    (lambda: Claim(2.0, 1.0), "low <= high"),
    (lambda: Claim(float("nan"), 1.0), "low <= high"),
    (lambda: Claim(-float("inf"), float("inf")), "one finite end"),
    (lambda: Claim.direction(float("nan"), True, "x"), "null must be finite"),
    (lambda: Claim(0.5, 2.0, null=1.0), "no direction"),
])
def test_bad_input_is_refused_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_rows_and_checked_statements(capsys):
    row = comparison_row("K_F medical / natural", RATIO, Estimate(10.9, 6.0, 15.0, 5), "Sec. 5.2")
    assert row == {"quantity": "K_F medical / natural", "paper": "~2.5", "here": "10.9 [6, 15] (5 runs)",
                   "verdict": SAME_DIRECTION, "note": "Sec. 5.2"}
    assert comparison_row("x", RATIO, None)["here"] == "not measured at this profile"
    assert check_statement("G_f increases with P", True, "slope 0.3 [0.1, 0.5]")
    assert not check_statement("G_f increases with P", False, "slope -0.2 [-0.4, 0.0]")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "✓ G_f increases with P (slope 0.3 [0.1, 0.5])"
    assert out[1].startswith("⚠ THIS RUN CONTRADICTS THE TEXT: “G_f increases with P” does not hold here")


# ------------------------------------------------------------------------------------- estimates
def test_slope_estimates_against_the_textbook_formula():
    from lib.pipeline.verdicts import loglog_slope, slope_estimate

    rng = np.random.default_rng(3)
    x = np.linspace(0, 10, 12)
    y = 2.0 * x + 1.0 + rng.normal(0, 0.5, len(x))
    e = slope_estimate(x, y)
    sxx = ((x - x.mean()) ** 2).sum()
    b = ((x - x.mean()) * (y - y.mean())).sum() / sxx
    resid = y - (y.mean() + b * (x - x.mean()))
    half = 2.2281388519649385 * np.sqrt((resid ** 2).sum() / (len(x) - 2) / sxx)  # t_0.975 with 10 dof
    assert (e.value, e.low, e.high, e.runs) == pytest.approx((b, b - half, b + half, 12))
    p = loglog_slope([250, 500, 1000, 2000], [3 * n ** -1.5 for n in (250, 500, 1000, 2000)])
    assert p.value == pytest.approx(-1.5) and p.high - p.low == pytest.approx(0, abs=1e-9)  # an exact power law
    assert slope_estimate([1, 2], [3, 4]) is None and slope_estimate([1, 1, 1], [1, 2, 3]) is None
    with pytest.raises(ValueError, match="positive"):
        loglog_slope([1, 2, 3], [1, 0, 2])


def test_bootstrap_estimates():
    from lib.pipeline.verdicts import (bootstrap_estimate, difference_estimate, geometric_estimate, pearson_estimate,
                                       ratio_estimate)

    a, b = np.array([2.0, 2.2, 1.8, 2.1, 1.9]), np.array([1.0, 1.1, 0.9, 1.05, 0.95])
    r = ratio_estimate(a, b)
    assert r.value == pytest.approx(2.0) and r.low < 2.0 < r.high and r.runs == 5
    d = difference_estimate(a, b)
    assert d.value == pytest.approx(1.0) and d.low < 1.0 < d.high
    x = np.arange(20.0)
    y = x + np.random.default_rng(0).normal(0, 3, 20)
    assert pearson_estimate(x, y).value == pytest.approx(np.corrcoef(x, y)[0, 1])
    g = geometric_estimate([1.0, 4.0, 16.0])
    assert g.value == pytest.approx(4.0) and g.low <= 4.0 <= g.high
    assert bootstrap_estimate(lambda i: float(a[i].mean()), (1,)).single  # one item: no interval
    with pytest.raises(ValueError, match="not finite on the full data"):
        bootstrap_estimate(lambda i: float("nan"), (5,))
    with pytest.raises(ValueError, match="at least one item"):
        bootstrap_estimate(lambda i: 0.0, (0,))
    with pytest.raises(ValueError, match="undefined on"):
        bootstrap_estimate(lambda i: 0.0 if len(set(i.tolist())) == 5 else float("nan"), (5,))
    with pytest.raises(ValueError, match="positive values"):
        geometric_estimate([1.0, -1.0])
