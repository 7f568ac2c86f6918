"""Chapter 5's sampling on curves, the toy training run, and the VAE's latent curves."""

from __future__ import annotations

import math

import torch
from scipy import stats

from lib.experiments.linear_regions import (arclength, curve_points, param_at_arclength, run_toy, tangents,
                                            uniform_on_curve)
from lib.nets.vae import latent_curves
from lib.training.vae import train_vae


def test_uniform_on_the_tractrix_is_uniform_in_arc_length_not_in_t():
    g = torch.Generator().manual_seed(0)
    t = uniform_on_curve("tractrix", 20000, g)
    s = arclength("tractrix", t)
    total = float(arclength("tractrix", torch.tensor(3.0)))
    assert stats.kstest(s.numpy() / total, "uniform").pvalue > 0.01
    assert stats.kstest((t.numpy() + 3) / 6, "uniform").pvalue < 1e-6  # clustered away from the cusp
    assert torch.allclose(param_at_arclength("tractrix", arclength("tractrix", t)), t, atol=1e-9)


def test_circle_arc_length_and_tangents():
    theta = torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64)
    assert torch.allclose(arclength("circle", theta), theta + math.pi)
    frame = torch.eye(2, dtype=torch.float64)
    h = 1e-6
    numeric = (curve_points("circle", theta + h, frame) - curve_points("circle", theta - h, frame)) / (2 * h)
    assert torch.allclose(tangents("circle", theta, frame), numeric, atol=1e-8)
    numeric_tr = (curve_points("tractrix", theta + h, frame) - curve_points("tractrix", theta - h, frame)) / (2 * h)
    assert torch.allclose(tangents("tractrix", theta, frame), numeric_tr, atol=1e-8)
    assert tangents("tractrix", torch.zeros(1), frame).abs().max() == 0  # the cusp


def test_toy_run_learns_and_keeps_regions_of_the_order_of_neurons():
    params = dict(manifold="circle", n_in=5, widths=[10, 16], n_train=400, a=1.0, nu=2.0, noise=0.05, epochs=15,
                  batch_size=40, lr=0.01, seed=0, n_vertices=300, n_probe=200)
    hist = run_toy(params)["history"]
    assert len(hist) == 16 and hist[-1]["test_mse"] < 0.25 * hist[0]["test_mse"]
    assert all(3 <= h["regions"] <= 5 * 26 for h in hist)
    assert all(0 < h["tangent_ratio"] <= 1 for h in hist)
    assert all(h["dist_geodesic"] > 0 and h["dist_param"] > 0 for h in hist)


def test_vae_learns_and_latent_curves_join_the_decoded_endpoints():
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(300, 1, 6, 6, generator=g) > 0.5).float()
    vae, losses = train_vae(x, latent=2, hidden=32, epochs=8, batch_size=50, seed=0)
    assert losses[-1] < losses[0]
    curves = latent_curves(vae, x[:3], x[3:6], n_points=11)
    assert curves.shape == (3, 11, 36)
    mu, _ = vae.encode(x[:3])
    assert torch.allclose(curves[:, 0], vae.decode(mu), atol=1e-6)
