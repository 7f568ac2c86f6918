"""Chapter 4's experiment plumbing: one tiny real run, the summary tables and the transfer correlation."""

from __future__ import annotations

import pytest

from lib.experiments.manifold_quality import (run_encoder, summary_rows, training_images, transfer_correlation,
                                              transfer_points)


def test_training_images_are_the_mnist_training_digits():
    x, y = training_images("mnist5k", None)
    assert x.shape == (5000, 1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1 and len(set(y.tolist())) == 10
    with pytest.raises(ValueError, match="unknown training set"):
        training_images("cifar", None)


def test_one_tiny_run_measures_both_alterations_and_both_tasks(data_root):
    params = dict(method="nt_xent", embedding_dim=8, optimizer="adam", lr=1e-3, epochs=1, batch_size=64,
                  accumulate=1, train_set="mnist5k", n_walk=16, noise_steps=6, n_pgd=8, pgd_steps=3,
                  pgd_step_size=2 / 255, tasks=("kmnist", "omniglot_oneshot"), seed=0, data_root=str(data_root),
                  device="cpu")
    r = run_encoder(params)
    for alteration, J in (("noise", 5), ("pgd", 3)):
        assert set(r[alteration]) == {"paper", "code", "curves"}
        assert len(r[alteration]["curves"]["distance"]) == J
        assert r[alteration]["paper"]["D"] == pytest.approx(r[alteration]["code"]["D"])
        assert 0 < r[alteration]["paper"]["D"] <= 2  # unit embeddings
    assert 0.05 < r["knn"]["omniglot_oneshot"] <= 1 and 0.1 < r["knn"]["kmnist"] <= 1  # chance: 0.05 and 0.1
    assert len(r["train_loss"]) == 1 and r["n_train"] == 5000


def fake(method, dim, rmqm, acc):
    m = {"D": rmqm / 2, "D_RC": 0.1, "P_RC": 0.2, "RMQM": rmqm}
    return {"method": method, "embedding_dim": dim, "optimizer": "adam", "noise": {"paper": m, "code": m},
            "knn": {"a": acc, "b": acc / 2}}


def test_summary_rows_and_transfer_correlation():
    records = [fake("nt_xent", 16, 2.5, 0.8), fake("nt_xent", 64, 2.7, 0.9), fake("cross_entropy", 16, 1.8, 0.4)]
    rows = summary_rows(records, "noise", "paper", "RMQM")
    assert rows[0] == {"method": "NT-Xent", "mean": pytest.approx(2.6), "std": pytest.approx(0.1), "runs": 2}
    pts = transfer_points(records)
    assert len(pts) == 6 and max(p["scaled_accuracy"] for p in pts if p["task"] == "b") == 1.0
    r, _ = transfer_correlation(pts)
    assert r > 0.7
