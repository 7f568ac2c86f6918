"""R_f, D_f, G_f (Eqs. 4-5) against brute force, an identity network and a linear network."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lib.measures import relative_stability


def test_statistics_equal_brute_force_for_every_reduction():
    rng = np.random.default_rng(0)
    f0, fd, fn = (rng.normal(size=(9, 4)) for _ in range(3))
    fd = f0 + 0.1 * fd
    fn = f0 + 0.3 * fn
    pairs = np.array([((a - b) ** 2).sum() for a in f0 for b in f0])  # full P x P, diagonal included
    off = np.array([((f0[i] - f0[j]) ** 2).sum() for i in range(9) for j in range(i + 1, 9)])
    expected = {
        "median_per_logit": (np.median((fd - f0) ** 2, 0).sum() / np.median(pairs),
                             np.median((fn - f0) ** 2, 0).sum() / np.median(pairs)),
        "median": (np.median(((fd - f0) ** 2).sum(1)) / np.median(off),
                   np.median(((fn - f0) ** 2).sum(1)) / np.median(off)),
        "mean": (((fd - f0) ** 2).sum(1).mean() / off.mean(), ((fn - f0) ** 2).sum(1).mean() / off.mean()),
    }
    for reduction, (d, g) in expected.items():
        got = relative_stability.stability_statistics(*(torch.tensor(a) for a in (f0, fd, fn)), reduction=reduction)
        assert got["D"] == pytest.approx(d, rel=1e-12) and got["G"] == pytest.approx(g, rel=1e-12)
        assert got["R"] == pytest.approx(d / g, rel=1e-12)


def test_identity_network_has_R_exactly_one_with_per_image_matching():
    # f = the pixels: ||f(tau x) - f(x)|| = ||tau x - x|| = ||eta|| image by image
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    model = nn.Flatten()
    for reduction in ("median", "mean"):
        out = relative_stability.relative_stability(model, x, 2e-3, 3, reduction=reduction, seed=2)
        assert out["R"] == pytest.approx(1.0, abs=1e-6)  # outputs come back in float32
    gauss = relative_stability.relative_stability(model, x, 2e-3, 3, "gaussian", reduction="mean", seed=2)
    assert gauss["R"] == pytest.approx(1.0, abs=1e-6)


def test_linear_network_noise_sensitivity_matches_isotropic_formula():
    # eta uniform on the sphere of radius r in d dims: E ||W eta||^2 = r^2 ||W||_F^2 / d
    torch.manual_seed(3)
    d, k, p = 64, 5, 4000
    w = torch.randn(k, d, dtype=torch.float64)
    r = torch.full((p,), 0.7, dtype=torch.float64)
    eta = relative_stability.sphere_noise((p, d), r, generator=torch.Generator().manual_seed(4))
    assert torch.allclose(eta.norm(dim=1), r)
    assert float((eta @ w.T).pow(2).sum(1).mean()) == pytest.approx(0.49 * float(w.pow(2).sum()) / d, rel=0.05)


def test_mean_noise_matching_uses_one_radius_and_layers_are_measured():
    x = torch.rand(32, 1, 16, 16, generator=torch.Generator().manual_seed(5))
    batch = relative_stability.perturb(x, 5e-3, 3, noise="mean", generator=torch.Generator().manual_seed(6))
    radii = (batch["noisy"] - batch["clean"]).flatten(1).norm(dim=1)
    assert torch.allclose(radii, batch["r"].mean().float().expand(32), rtol=1e-4)
    torch.manual_seed(7)
    model = nn.Sequential(nn.Flatten(), nn.Linear(256, 20), nn.ReLU(), nn.Linear(20, 3))
    out = relative_stability.relative_stability(model, x, 5e-3, 3, layers={"hidden": model[2], "out": model[3]})
    hidden, last = out["layers"]
    assert last["layer"] == "out" and last["R"] == pytest.approx(out["R"], rel=1e-6)
    assert hidden["layer"] == "hidden" and set(hidden) == {"layer", "D", "G", "R"}


def test_log_mean_and_errors():
    assert relative_stability.log_mean([0.1, 10.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="positive"):
        relative_stability.log_mean([1.0, 0.0])
    f = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="NaN"):
        relative_stability.stability_statistics(f, f + float("nan"), f)
    with pytest.raises(ValueError, match="reduction"):
        relative_stability.stability_statistics(f, f, f, reduction="max")
    with pytest.raises(ValueError, match="does not vary"):
        relative_stability.stability_statistics(f, f, f)


def test_batchnorm_batch_statistics_is_temporary_and_uses_the_batch():
    torch.manual_seed(8)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Flatten()).eval()
    x = 3 + 2 * torch.randn(16, 1, 6, 6)
    with relative_stability.batchnorm_batch_statistics(model), torch.no_grad():
        y = model(x).reshape(16, 4, -1)
    assert y.mean((0, 2)).abs().max() < 1e-5 and (y.var((0, 2), unbiased=False) - 1).abs().max() < 1e-3
    bn = model[1]
    assert torch.equal(bn.running_mean, torch.zeros(4)) and torch.equal(bn.running_var, torch.ones(4))
