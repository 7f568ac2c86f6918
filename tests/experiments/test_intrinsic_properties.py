"""Chapter 1's task construction: pooled de-duplicated data, labellings, disjoint balanced splits, one full run."""

from __future__ import annotations

import pytest
import torch

from lib.data import image_pool
from lib.experiments.intrinsic_properties import (class_pairs, dataset_tasks, draw_task, max_balanced_size, run_task,
                                                  task_capacity, task_labels, task_properties)


def test_pool_merges_splits_and_removes_exact_duplicates(data_root):
    x, y = image_pool("pneumoniamnist", str(data_root))
    # 3882 + 524 + 624 images in the pack, of which 17 repeat within train and 3 within test (MANIFEST.md), and
    # possibly some across splits: the pool has no repeated image and at most 5030 - 20 images.
    assert len(x) <= 5030 - 20
    assert torch.unique(x.flatten(1), dim=0).shape[0] == len(x)
    assert task_capacity({"dataset": "pneumoniamnist", "labeling": "pair", "classes": [0, 1]}, str(data_root)) == \
        2 * int(torch.bincount(y).min())


def test_labelings():
    y = torch.arange(10)
    parity, all_ = task_labels(y, "parity", None)
    assert parity.tolist() == [0, 1] * 5 and all_.all()
    low_high, _ = task_labels(y, "low_high", None)
    assert low_high.tolist() == [0] * 5 + [1] * 5
    pair, mask = task_labels(y, "pair", (7, 2))
    assert mask.nonzero().flatten().tolist() == [2, 7] and pair[mask].tolist() == [1, 0]  # label 1: the second class, 2
    assert max_balanced_size(torch.tensor([0, 0, 0, 1, 1])) == 4


def test_draw_task_is_balanced_disjoint_and_seeded():
    x = torch.arange(200).float().view(200, 1, 1, 1)
    y = (torch.arange(200) % 2)
    a = draw_task(x, y, 40, 20, seed=3)
    b = draw_task(x, y, 40, 20, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    x_tr, y_tr, x_te, y_te = a
    assert torch.bincount(y_tr).tolist() == [20, 20] and torch.bincount(y_te).tolist() == [10, 10]
    assert not set(x_tr.flatten().tolist()) & set(x_te.flatten().tolist())


def test_class_pairs_are_distinct_and_binary_datasets_keep_their_label():
    pairs = class_pairs(10, 5, seed=0)
    assert len(set(pairs)) == 5 and all(a < b < 10 for a, b in pairs)
    assert dataset_tasks("breastmnist", 5, 0) == [{"dataset": "breastmnist", "labeling": "pair", "classes": [0, 1]}]


def test_one_task_end_to_end(data_root):
    params = {"dataset": "mnist", "labeling": "pair", "classes": [0, 1], "n_train": 60, "n_test": 40, "model": "fc",
              "max_epochs": 30, "lr": 1e-3, "batch_size": 16, "weight_decay": 1e-4, "seed": 0, "device": "cpu",
              "data_root": str(data_root)}
    out = run_task(params)
    assert out["fitted"] and out["train_acc"] == 1.0 and out["test_acc"] > 0.9  # 0 vs 1 is easy
    assert [f["eps"] for f in out["fgsm"]] == [1 / 255, 2 / 255, 4 / 255, 8 / 255]
    penalties = [f["loss_penalty"] for f in out["fgsm"]]
    assert penalties == sorted(penalties) and penalties[0] > 0  # larger budgets hurt more
    assert 1 < out["d_data_mle"] < 60 and out["d_repr_twonn"] > 0


def test_three_channels_divide_label_sharpness_by_sqrt3(data_root):
    task = {"dataset": "mnist", "labeling": "pair", "classes": [4, 9]}
    one = task_properties(task, 200, 200, str(data_root), seed=0)
    three = task_properties(task, 200, 200, str(data_root), seed=0, channels=3)
    assert three["K_F"] * 3 ** 0.5 == pytest.approx(one["K_F"], rel=1e-9)
    assert three["d_data"] == pytest.approx(one["d_data"], rel=1e-9)
