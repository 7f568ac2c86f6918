"""Chapter 5's paper-vs-here statistics (direction-only claims, slopes over seeds, ratios and differences of means,
paired per-curve differences) and the sampling variant of the toy problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from lib.experiments.linear_regions import (estimate_text, grouped_slope_estimate, paired_estimate, run_toy,
                                            uniform_in_parameter)
from lib.pipeline.verdicts import Estimate, difference_estimate, direction_row, ratio_estimate


def test_direction_row_needs_the_whole_interval_on_the_claimed_side():
    assert direction_row("q", "more", Estimate(2.0, 1.0, 3.0, 5), 0.0, above=True)["verdict"] == "reproduced"
    assert direction_row("q", "more", Estimate(2.0, -0.1, 3.0, 5), 0.0, above=True)["verdict"] == "inconclusive"  # holds 0 and the claimed side
    assert direction_row("q", "less", Estimate(-2.0, -3.0, -1.0, 5), 0.0, above=False)["verdict"] == "reproduced"
    assert direction_row("q", "more", Estimate(-2.0, -3.0, -1.0, 5), 0.0, above=True)["verdict"] == "not reproduced"
    assert direction_row("q", "more", Estimate(0.5), 0.0, above=True)["verdict"] == "reproduced (one run)"
    assert direction_row("q", "more", None, 0.0, above=True)["verdict"] == "not comparable"


def test_grouped_slope_estimate_recovers_a_known_slope_and_holds_zero_for_flat_data():
    rng = np.random.default_rng(0)
    xs = [2, 10, 20, 30, 40, 50]
    steep = grouped_slope_estimate({x: list(3.0 + 0.5 * x + rng.normal(0, 1, 8)) for x in xs})
    assert steep.value == pytest.approx(0.5, abs=0.05) and steep.low > 0.4 and steep.high < 0.6 and steep.runs == 8
    flat = grouped_slope_estimate({x: list(30 + rng.normal(0, 3, 8)) for x in xs})
    assert flat.low < 0 < flat.high
    one = grouped_slope_estimate({2: [1.0], 4: [2.0]})
    assert one.single and one.value == pytest.approx(0.5)
    with pytest.raises(ValueError, match="two values of x"):
        grouped_slope_estimate({2: [1.0, 2.0]})


def test_ratio_and_difference_of_means():
    a, b = [4.0, 6.0, 5.0, 5.0], [2.0, 3.0, 2.5, 2.5]
    r = ratio_estimate(a, b)
    assert r.value == pytest.approx(2.0) and r.low < 2.0 < r.high and r.runs == 4
    d = difference_estimate(a, b)
    assert d.value == pytest.approx(2.5) and 1.0 < d.low < 2.5 < d.high < 4.0
    assert ratio_estimate([3.0], [2.0]).single and difference_estimate([3.0], [2.0]).value == 1.0
    with pytest.raises(ValueError, match="positive denominators"):
        ratio_estimate([1.0], [0.0])


def test_paired_estimate_is_over_curves_for_one_network_and_over_networks_otherwise():
    one, over = paired_estimate([np.array([-0.1, -0.2, -0.3, -0.2])])
    assert over == "curves of one network" and one.runs == 4 and one.value == pytest.approx(-0.2)
    many, over = paired_estimate([np.array([-0.1, -0.3]), np.array([0.1, 0.3]), np.array([0.0, 0.0])])
    assert over == "networks" and many.runs == 3 and many.value == pytest.approx(0.0)
    assert estimate_text(one, over="curves of one network", fmt=".2f").endswith("(4 curves of one network)")
    assert estimate_text(Estimate(1.0), "networks") == "1 (one run)"


def test_uniform_in_parameter_and_the_sampling_variant_of_the_toy_run():
    g = torch.Generator().manual_seed(0)
    t = uniform_in_parameter("tractrix", 20000, g)
    assert t.min() >= -3 and t.max() <= 3 and stats.kstest((t.numpy() + 3) / 6, "uniform").pvalue > 0.01
    params = dict(manifold="tractrix", n_in=2, widths=[5, 8], n_train=200, a=1.0, nu=3.0, noise=0.1, epochs=1,
                  batch_size=50, lr=0.01, seed=0, n_vertices=200, n_probe=50)
    arc = run_toy(params)["history"][-1]
    par = run_toy({**params, "sampling": "parameter"})["history"][-1]
    assert arc["test_mse"] != par["test_mse"]  # different training and test points
    with pytest.raises(ValueError, match="sampling"):
        run_toy({**params, "sampling": "grid"})
