"""Chapter 1's analysis helpers: the released code's normalisation, resizing ladders, the closest cross-label pairs,
and the bootstrap estimates behind the paper-vs-here verdicts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lib.experiments.intrinsic_properties import (closest_cross_pairs, log_r_estimate, mean_over_pairs,
                                                  pearson_change_estimate, per_image_max, resampled, task_sharpness)
from lib.measures.intrinsic_dimension import mle_dimension
from lib.pipeline.verdicts import pearson_estimate, ratio_estimate


def test_per_image_max_scales_each_image_to_one_and_keeps_black_images():
    x = torch.rand(5, 1, 4, 4) * torch.tensor([1.0, 0.5, 0.25, 0.8, 0.0]).view(5, 1, 1, 1)
    out = per_image_max(x)
    assert out[:4].flatten(1).amax(1).tolist() == pytest.approx([1.0] * 4)
    assert torch.equal(out[4], torch.zeros(1, 4, 4))
    assert torch.allclose(out[1] * x[1].max(), x[1])


def test_task_sharpness_rejects_an_unknown_normalisation():
    with pytest.raises(ValueError, match="normalise"):
        task_sharpness({"dataset": "mnist", "labeling": "pair", "classes": [0, 1], "M": 10, "repeats": 1, "seed": 0,
                        "normalise": "z-score"})


def test_nearest_upsampling_keeps_the_mle_and_bilinear_at_the_same_size_is_the_identity():
    x = torch.rand(300, 1, 7, 7, generator=torch.Generator().manual_seed(0))
    assert mle_dimension(resampled(x, 28, "nearest")) == pytest.approx(mle_dimension(x), rel=1e-9)
    assert torch.equal(resampled(x, 7, "bilinear"), x)
    with pytest.raises(ValueError, match="mode"):
        resampled(x, 14, "bicubic")


def test_closest_cross_pairs_finds_the_planted_pair():
    x = torch.tensor([[0.0], [10.0], [20.0], [20.1], [30.0]], dtype=torch.float64).view(5, 1, 1, 1)
    y = torch.tensor([0, 0, 0, 1, 1])
    out = closest_cross_pairs(x, y, k=2)
    assert out["pairs"][0] == (2, 3) and out["distances"][0] == pytest.approx(0.1)
    assert out["pairs"][1] == (2, 4) and out["distances"][1] == pytest.approx(10.0)
    assert out["nn_median"] == pytest.approx(9.9)  # nearest-neighbour distances 10, 10, 0.1, 0.1, 9.9


def test_ratio_estimate_is_the_ratio_of_means_with_an_interval_around_it():
    exact = ratio_estimate([2.0, 2.0, 2.0], [1.0, 1.0])
    assert (exact.value, exact.low, exact.high) == (2.0, 2.0, 2.0)
    rng = np.random.default_rng(0)
    noisy = ratio_estimate(rng.normal(3, 0.3, 40), rng.normal(1, 0.1, 40))
    assert noisy.low < noisy.value < noisy.high and noisy.low > 2.5 and noisy.high < 3.5 and noisy.runs == 40


def test_pearson_estimates():
    x = np.arange(20.0)
    assert pearson_estimate(x, 2 * x + 1).value == pytest.approx(1.0)
    same = pearson_change_estimate(x, x ** 2, x ** 2)
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    rng = np.random.default_rng(1)
    noise = pearson_change_estimate(x, x + rng.normal(0, 20, 20), x + rng.normal(0, 1, 20))
    assert noise.value > 0  # the second is the tighter correlation


def test_log_r_of_data_made_by_model_a():
    rng = np.random.default_rng(0)
    rows = []
    for ds, k_f in [("a", 0.1), ("b", 1.0)]:
        for n in (100, 200, 400):
            d = rng.uniform(5, 15)
            rows.append({"dataset": ds, "N": n, "d_data_mle": d, "log_loss": -np.log(n) / d + np.log(k_f) + 0.3})
    k_f = {"a": 0.1, "b": 1.0}
    total = log_r_estimate(rows, k_f)
    # model A fits exactly, model B leaves the spread of log K_F: log R = RSS_B / 2 = 6 * (ln 10 / 2)^2 / 2
    assert total.value == pytest.approx(6 * (np.log(10) / 2) ** 2 / 2, rel=1e-9)
    assert log_r_estimate(rows, k_f, per_point=True).value == pytest.approx(total.value / 6, rel=1e-9)


def test_mean_over_pairs_makes_one_point_per_dataset_and_size():
    rows = [{"model": "m", "dataset": "a", "N": 10, "log_loss": v, "d_data_mle": 2 * v} for v in (1.0, 3.0)] + \
           [{"model": "m", "dataset": "b", "N": 10, "log_loss": 5.0, "d_data_mle": 1.0}]
    out = {p["dataset"]: p for p in mean_over_pairs(rows)}
    assert out["a"]["log_loss"] == 2.0 and out["a"]["d_data_mle"] == 4.0 and out["a"]["pairs"] == 2
    assert out["b"]["pairs"] == 1
