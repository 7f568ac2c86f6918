"""Chapter 4's experiment plumbing: one tiny real run, the summary tables and the transfer correlation."""

from __future__ import annotations

import pytest
import torch

from lib.experiments.manifold_quality import (run_encoder, summary_rows, training_images, transfer_correlation,
                                              transfer_points)


def test_training_images_are_the_mnist_training_digits():
    x, y = training_images("mnist5k", None)
    assert x.shape == (5000, 1, 28, 28) and 0 <= float(x.min()) and float(x.max()) <= 1 and len(set(y.tolist())) == 10
    with pytest.raises(ValueError, match="unknown training set"):
        training_images("cifar", None)


def test_a_data_ladder_rung_is_a_fixed_subset_and_bad_sizes_are_refused():
    x, y = training_images("mnist5k", None)
    x1, y1 = training_images("mnist5k", None, 1250)
    x2, _ = training_images("mnist5k", None, 1250)
    assert x1.shape == (1250, 1, 28, 28) and torch.equal(x1, x2)  # the same rung for every encoder and seed
    rows = {tuple(v.flatten().tolist()): int(t) for v, t in zip(x, y)}
    assert all(rows[tuple(v.flatten().tolist())] == int(t) for v, t in zip(x1[:50], y1[:50]))  # images keep labels
    assert len(set(y1.tolist())) == 10
    assert torch.equal(training_images("mnist5k", None, 5000)[1].sort().values, y.sort().values)
    for bad in (0, -1, 5001, 2.5, True, "100"):
        with pytest.raises(ValueError, match=r"n = .* an int from 1 to 5000"):
            training_images("mnist5k", None, bad)


def test_one_tiny_run_measures_both_alterations_and_both_tasks(data_root):
    params = dict(method="nt_xent", embedding_dim=8, optimizer="adam", lr=1e-3, epochs=1, batch_size=64,
                  accumulate=1, train_set="mnist5k", n_walk=16, noise_steps=6, n_pgd=8, pgd_steps=3,
                  pgd_step_size=2 / 255, n_pgd_released=4, tasks=("kmnist", "omniglot_oneshot"), seed=0,
                  data_root=str(data_root), device="cpu")
    r = run_encoder(params)
    for alteration, J in (("noise", 5), ("pgd", 3), ("pgd_released", 2)):  # the authors' walk: iterations 0..2
        assert set(r[alteration]) == {"paper", "code", "curves", "D_se"} and r[alteration]["D_se"] >= 0
        assert len(r[alteration]["curves"]["distance"]) == J
        assert r[alteration]["paper"]["D"] == pytest.approx(r[alteration]["code"]["D"])
        assert 0 < r[alteration]["paper"]["D"] <= 2  # unit embeddings
    assert 0.05 < r["knn"]["omniglot_oneshot"] <= 1 and 0.1 < r["knn"]["kmnist"] <= 1  # chance: 0.05 and 0.1
    assert len(r["train_loss"]) == 1 and r["n_train"] == 5000 and r["seed"] == 0
    small = run_encoder({**params, "n_train": 300, "tasks": ()})
    assert small["n_train"] == 300


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


# ------------------------------------------------------------------------- the authors' PGD and the verdict helpers
import math  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lib.experiments.manifold_quality import (clearly_above, correlation_estimate, curve_endpoints,  # noqa: E402
                                              group_contrast, method_estimates, paper_claim,
                                              paper_group_ratio, released_pgd_walk, subsample_spread,
                                              trained_encoder, within_cloud_correlation)
from lib.nets.classifiers import LeNetEncoder  # noqa: E402


def test_trained_encoder_gives_the_same_weights_for_the_same_configuration():
    params = dict(method="triplet_supervised", embedding_dim=4, optimizer="adam", lr=1e-3, epochs=1, batch_size=256,
                  accumulate=1, train_set="mnist5k", seed=3, device="cpu")
    a, losses, n, _ = trained_encoder(params)
    torch.manual_seed(123)  # whatever the global state was before, the encoder is the same
    b, _, _, _ = trained_encoder(params)
    c, _, _, _ = trained_encoder({**params, "seed": 4})
    assert n == 5000 and len(losses) == 1
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))


@pytest.mark.parametrize("method", ["nt_xent", "cross_entropy", "triplet_supervised"])
def test_released_pgd_walk_restarts_and_rotates_like_the_authors(method):
    torch.manual_seed(0)
    enc = LeNetEncoder(8, 10 if method == "cross_entropy" else None)
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 0.5
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    steps, eps = 4, 2 / 255
    # seed 3: the first angle drawn (iteration 0's rotation) is -14.9 degrees (seed 0 draws -0.1: no pixel moves)
    walk = released_pgd_walk(enc, method, x, y, steps, eps, torch.Generator().manual_seed(3))
    again = released_pgd_walk(enc, method, x, y, steps, eps, torch.Generator().manual_seed(3))
    assert walk.shape == (6, steps, 1, 28, 28) and torch.equal(walk, again)  # seeded: the same walk
    assert 0 <= float(walk.min()) and float(walk.max()) <= 1
    if method == "nt_xent":  # not rotated: iteration j stays within j * eps of the image (L-inf)
        assert torch.equal(walk[:, 0], x)
        for j in range(steps):
            assert float((walk[:, j] - x).abs().max()) <= j * eps + 1e-6
    else:  # the supervised outputs are rotated: even iteration 0 differs from the image
        assert not torch.equal(walk[:, 0], x)


def test_paper_claim_is_the_interval_of_the_papers_mean():
    c = paper_claim("0.21±0.08")
    half = 1.96 * 0.08 / math.sqrt(12)
    assert (c.low, c.high, c.text) == (pytest.approx(0.21 - half), pytest.approx(0.21 + half), "0.21±0.08")
    table = {"Cross-Entropy": ("0.33±0.15", "0.21±0.08"), "Triplet-Entropy": ("0.73±0.11", "0.33±0.08"),
             "Triplet-Supervised": ("0.77±0.06", "0.38±0.10"), "Triplet-SS": ("0.93±0.13", "0.66±0.17"),
             "NT-Xent": ("1.01±0.04", "0.68±0.10")}
    assert paper_group_ratio(table, 1) == pytest.approx(((0.68 + 0.66) / 2) / ((0.21 + 0.33 + 0.38) / 3))


def walker(method, dim, D, d_rc, opt="adam"):
    m = {"D": D, "D_RC": d_rc, "P_RC": 0.1, "RMQM": 2.0}
    curves = {"distance": [D / 2, D], "distance_se": [0.01, 0.01]}
    return {"method": method, "embedding_dim": dim, "optimizer": opt, "epochs": 8,
            "pgd": {"paper": m, "code": m, "curves": curves}}


def test_group_contrast_pairs_encoders_of_one_size():
    methods = ("nt_xent", "triplet_ss", "cross_entropy", "triplet_entropy", "triplet_supervised")
    records = [walker(m, dim, D * k, 0.1) for dim, k in ((16, 1.0), (64, 2.0))
               for m, D in zip(methods, (0.6, 0.6, 0.2, 0.3, 0.4))]
    ratio = group_contrast(records, "pgd", "paper", "D")
    assert ratio.value == pytest.approx(2.0) and ratio.runs == 2  # 0.6 / 0.3 at both sizes
    diff = group_contrast(records, "pgd", "paper", "D", ("nt_xent",), ("cross_entropy",), kind="difference")
    assert diff.value == pytest.approx((0.4 + 0.8) / 2) and diff.low == pytest.approx(0.6 - 12.7062 * 0.2, rel=1e-4)
    assert group_contrast(records[:4], "pgd", "paper", "D") is None  # a method missing: no complete group
    assert group_contrast(records, "noise", "paper", "D") is None
    with pytest.raises(ValueError, match="kind"):
        group_contrast(records, "pgd", "paper", "D", kind="log")
    est = method_estimates(records, "pgd", "paper", "D")
    assert est["Cross-Entropy"].value == pytest.approx(0.3) and est["Cross-Entropy"].runs == 2
    ends = curve_endpoints(records, "pgd", 64)
    assert ends["NT-Xent"] == (pytest.approx(1.2), pytest.approx(0.01))
    assert clearly_above(ends["NT-Xent"], ends["Cross-Entropy"]) and not clearly_above((0.5, 0.1), (0.4, 0.1))


def test_group_contrast_pairs_encoders_of_one_size_and_seed():
    """With several seeds per size (the extended run) every (size, seed) is its own group: a seed's encoders are
    compared with each other, never with another seed's."""
    methods = ("nt_xent", "triplet_ss", "cross_entropy", "triplet_entropy", "triplet_supervised")
    records = [{**walker(m, 16, D * k, 0.1), "seed": seed} for seed, k in ((0, 1.0), (1, 3.0), (2, 5.0))
               for m, D in zip(methods, (0.6, 0.6, 0.2, 0.3, 0.4))]
    ratio = group_contrast(records, "pgd", "paper", "D")
    assert ratio.value == pytest.approx(2.0) and ratio.runs == 3 and ratio.low == pytest.approx(2.0)
    diff = group_contrast(records, "pgd", "paper", "D", ("nt_xent",), ("cross_entropy",), kind="difference")
    assert diff.value == pytest.approx(0.4 * 3) and diff.runs == 3  # 0.4, 1.2, 2.0
    pts = [{"task": t, "method": r["method"], "embedding_dim": 16, "optimizer": "adam", "seed": r["seed"],
            "rmqm": float(i), "scaled_accuracy": float(i) + (t == "b")} for i, r in enumerate(records) for t in "ab"]
    assert correlation_estimate(pts, resamples=200).runs == 15  # 5 methods x 3 seeds: 15 encoders, not 5


def test_correlation_estimate_and_within_cloud_correlation():
    rng = np.random.default_rng(0)
    pts = []
    for i, m in enumerate(["nt_xent", "triplet_ss", "cross_entropy", "triplet_entropy", "triplet_supervised"] * 3):
        ss = m in ("nt_xent", "triplet_ss")
        for task in ("a", "b"):  # the clouds differ; inside a cloud, accuracy is unrelated to RMQM
            pts.append({"task": task, "method": m, "embedding_dim": i, "optimizer": "adam",
                        "rmqm": (3.0 if ss else 2.0) + rng.normal(0, 0.05),
                        "scaled_accuracy": (0.9 if ss else 0.5) + rng.normal(0, 0.05)})
    est = correlation_estimate(pts, resamples=300)
    assert est.value > 0.8 and est.runs == 15 and est.low <= est.value <= est.high
    assert abs(within_cloud_correlation(pts)) < 0.5


def test_subsample_spread_brackets_the_full_value():
    g = torch.Generator().manual_seed(0)
    d_orig = torch.cat([torch.zeros(200, 1), torch.rand(200, 10, generator=g).cumsum(1) + 0.1], 1).double()
    d_prev = torch.rand(200, 10, generator=g).double() + 0.1
    s = subsample_spread(d_orig, d_prev, 50, resamples=100)
    assert s.low <= s.value <= s.high and s.high - s.low > 0
    same = subsample_spread(d_orig[:1].repeat(20, 1), d_prev[:1].repeat(20, 1), 5, resamples=20)
    assert same.low == pytest.approx(same.value) == pytest.approx(same.high)
    with pytest.raises(ValueError, match="must be in"):
        subsample_spread(d_orig, d_prev, 0)
