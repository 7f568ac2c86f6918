"""Chapter 2's experiment plumbing: splits, probed layers, seed averaging, recipes and one tiny real run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.experiments.relative_stability import (combine_seeds, probe_layers, recipe, run_many_diffeos, run_model,
                                                split_pool, stability_rows)
from lib.nets.classifiers import build_model


def test_split_pool_fixed_probes_disjoint_sets_and_seeded_training():
    x = torch.arange(100.0).reshape(100, 1, 1, 1)
    y = torch.arange(100) % 10
    a, b = split_pool(x, y, 30, 10, 20, seed=0), split_pool(x, y, 30, 10, 20, seed=1)
    assert torch.equal(a["x_probe"], b["x_probe"]) and torch.equal(a["x_test"], b["x_test"])
    assert not torch.equal(a["x_train"], b["x_train"])
    ids = [set(a[k].flatten().tolist()) for k in ("x_train", "x_probe", "x_test")]
    assert sum(map(len, ids)) == 60 and len(set.union(*ids)) == 60
    with pytest.raises(ValueError, match="need 131"):
        split_pool(x, y, 101, 10, 20, seed=0)


def test_probe_layers_follow_the_architecture():
    assert list(probe_layers(build_model("resnet18", 10, 1, 28, width=0.125))) == [
        "stage1", "stage2", "stage3", "stage4", "output"]
    fc = probe_layers(build_model("fc", 10, 1, 28))
    assert list(fc) == ["relu1", "relu2", "relu3", "relu4", "output"]
    eff = probe_layers(build_model("efficientnet_b0", 10, 1, 28, width=0.25))
    assert len(eff) == 10 and list(eff)[-1] == "output"


def test_recipes_and_geometric_mean_over_seeds():
    assert recipe("resnet18")["optimizer"] == "sgd" and recipe("vgg11_bn")["lr_schedule"] == "cosine"
    assert recipe("lenet")["optimizer"] == "adam" and recipe("vgg11")["optimizer"] == "adam"
    assert recipe("vgg11", short=False)["optimizer"] == "sgd" and recipe("fc", short=False)["optimizer"] == "adam"
    rows = [{"model": "m", "R": r, "D": 1.0, "G": 1.0 / r, "test_error": e} for r, e in ((0.1, 0.2), (0.4, 0.05))]
    (out,) = combine_seeds(rows, ("model",))
    assert out["R"] == pytest.approx(0.2) and out["G"] == pytest.approx(5.0) and out["test_error"] == pytest.approx(0.1)
    assert out["seeds"] == 2


def test_one_small_run_measures_before_and_after_training(data_root):
    params = {"dataset": "mnist", "model": "resnet18", "width": 0.0625, "n_train": 64, "n_probe": 32, "n_test": 64,
              "seed": 0, "epochs": 1, "batch_size": 32, "delta": 1.0, "cuts": [3, 5], "curve_deltas": [0.5],
              "layerwise": True, "variants": True, "data_root": str(data_root), "device": "cpu", **recipe("resnet18")}
    out = run_model(params)
    assert len(out["init"]) == len(out["trained"]) == 2
    assert len(out["curve_init"]) == 4  # 1 delta x 2 cuts x 2 interpolations
    assert len(out["variants"]) == 6
    for m in out["init"] + out["trained"] + out["curve_trained"]:
        assert math.isfinite(m["R"]) and m["R"] > 0 and m["R"] == pytest.approx(m["D"] / m["G"])
    assert [m["layer"] for m in out["trained"][0]["layers"]] == ["stage1", "stage2", "stage3", "stage4", "output"]
    assert out["trained"][0]["layers"][-1]["R"] == pytest.approx(out["trained"][0]["R"], rel=1e-6)
    assert out["init"][0]["delta_exact"] == pytest.approx(1.274, abs=1e-3)  # c = 3 at "delta = 1", any n
    rows = stability_rows([{"params": params, "result": out}], "trained")
    assert {r["c"] for r in rows} == {3, 5} and all(r["P"] == 64 for r in rows)


def test_the_extended_run_pools_many_draws_and_compares_layouts_and_precisions(data_root):
    params = {"dataset": "mnist", "model": "resnet18", "width": 0.0625, "n_train": 64, "n_probe": 32, "n_test": 64,
              "seed": 0, "epochs": 1, "batch_size": 32, "delta": 1.0, "cuts": [3], "data_root": str(data_root),
              "device": "cpu", "n_diffeos": 4, "check_diffeos": 2, **recipe("resnet18")}
    out = run_many_diffeos(params)
    assert len(out["one_draw"]["R"]) == 4 and out["n_probes"] == 32 and out["c"] == 3
    assert min(out["one_draw"]["R"]) <= out["many"]["R"] * 1.5 and out["many"]["R"] > 0
    f32, cl, bf16 = out["precision"]
    assert [r["setting"] for r in out["precision"]] == ["float32", "float32 channels-last",
                                                        "bfloat16 autocast channels-last"]
    assert cl["R"] == pytest.approx(f32["R"], rel=1e-4)  # a memory layout, the same numbers
    assert bf16["R"] == pytest.approx(f32["R"], rel=0.2) and all(r["images_per_s"] > 0 for r in out["precision"])
    # the same draws: the many-draw run's first two rounds are the check's
    assert out["one_draw"]["R"][0] == pytest.approx(run_many_diffeos({**params, "n_diffeos": 1})["one_draw"]["R"][0],
                                                    rel=1e-4)


def test_zoo_fit_recovers_a_square_root_law_and_steepest_drop():
    from lib.experiments.relative_stability import steepest_drop, zoo_fit

    R = np.array([0.01, 0.03, 0.1, 0.3, 1.0, 3.0])
    fit = zoo_fit(R, 0.24 * np.sqrt(R))
    assert fit["n"] == 6 and fit["a"].value == pytest.approx(0.24)
    assert fit["corr"].value == pytest.approx(1.0) and fit["exponent"].value == pytest.approx(0.5)
    noisy = zoo_fit(R, 0.24 * np.sqrt(R) * np.array([1.5, 0.7, 1.2, 0.8, 1.4, 0.6]))
    assert noisy["corr"].low < noisy["corr"].value <= noisy["corr"].high <= 1.0
    assert zoo_fit(R[:2], R[:2])["corr"] is None
    assert steepest_drop([1.0, 0.9, 0.3, 0.25]) == (1, pytest.approx(1 / 3))
