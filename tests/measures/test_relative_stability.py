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


def test_many_draws_pool_every_probe_draw_pair_against_brute_force():
    # S draws per point: the numerators' medians and means run over all S * P (draw, point) pairs, the normaliser
    # over the P clean points only
    rng = np.random.default_rng(8)
    f0 = rng.normal(size=(7, 3))
    fd, fn = f0 + 0.2 * rng.normal(size=(5, 7, 3)), f0 + 0.4 * rng.normal(size=(5, 7, 3))
    pairs = np.array([((a - b) ** 2).sum() for a in f0 for b in f0])
    off = np.array([((f0[i] - f0[j]) ** 2).sum() for i in range(7) for j in range(i + 1, 7)])
    dd, dn = ((fd - f0) ** 2).reshape(35, 3), ((fn - f0) ** 2).reshape(35, 3)
    lower = lambda v: np.sort(v, 0)[(len(v) - 1) // 2]  # noqa: E731 - torch's lower median
    expected = {"median_per_logit": (lower(dd).sum() / np.median(pairs), lower(dn).sum() / np.median(pairs)),
                "median": (np.median(dd.sum(1)) / np.median(off), np.median(dn.sum(1)) / np.median(off)),
                "mean": (dd.sum(1).mean() / off.mean(), dn.sum(1).mean() / off.mean())}
    for reduction, (d, g) in expected.items():
        got = relative_stability.stability_statistics(*(torch.tensor(a) for a in (f0, fd, fn)), reduction=reduction)
        assert got["D"] == pytest.approx(d, rel=1e-12) and got["G"] == pytest.approx(g, rel=1e-12)
    with pytest.raises(ValueError, match=r"\(S, P, K\)"):
        relative_stability.stability_statistics(torch.tensor(f0), torch.tensor(fd[:, :6]), torch.tensor(fn[:, :6]))


def _conv_net() -> nn.Module:
    torch.manual_seed(9)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 14 * 14, 5))


def test_n_diffeos_draws_rounds_whose_first_is_the_one_draw_measurement():
    x = torch.rand(24, 1, 16, 16, generator=torch.Generator().manual_seed(10))
    model = _conv_net()
    one = relative_stability.relative_stability(model, x, 5e-3, 3, seed=4)
    many = relative_stability.relative_stability(model, x, 5e-3, 3, seed=4, n_diffeos=6, per_draw=True)
    assert many["per_draw"]["R"][0] == one["R"] and len(many["per_draw"]["D"]) == 6  # round 1 = the paper's draw
    assert len(set(many["per_draw"]["R"])) == 6  # independent draws
    # brute force: the same six rounds drawn by hand with the same generator
    gen = torch.Generator().manual_seed(4)
    rounds = [relative_stability.perturb(x, 5e-3, 3, generator=gen) for _ in range(6)]
    with torch.no_grad():
        f0 = model(x)
        fd, fn = (torch.stack([model(b[k]) for b in rounds]) for k in ("diffeo", "noisy"))
    expected = relative_stability.stability_statistics(f0, fd, fn)
    assert many["R"] == pytest.approx(expected["R"], rel=1e-5) and many["D"] == pytest.approx(expected["D"], rel=1e-5)
    assert many["displacement_norm"] == pytest.approx(float(torch.cat([b["r"] for b in rounds]).mean()))


def test_bfloat16_autocast_changes_r_f_by_about_its_rounding():
    x = torch.rand(32, 1, 16, 16, generator=torch.Generator().manual_seed(11))
    model = _conv_net()
    f32 = relative_stability.relative_stability(model, x, 5e-3, 3, seed=1, n_diffeos=3)
    bf16 = relative_stability.relative_stability(model, x, 5e-3, 3, seed=1, n_diffeos=3, amp=True)
    assert bf16["R"] != f32["R"] and bf16["R"] == pytest.approx(f32["R"], rel=0.1)


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "3"])
def test_n_diffeos_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match=f"n_diffeos must be an integer >= 1, got {bad!r}"):
        relative_stability.relative_stability(_conv_net(), torch.rand(4, 1, 16, 16), 5e-3, 3, n_diffeos=bad)


def test_layers_need_one_draw():
    model = _conv_net()
    with pytest.raises(ValueError, match="one diffeomorphism per point; got n_diffeos = 2"):
        relative_stability.relative_stability(model, torch.rand(4, 1, 16, 16), 5e-3, 3, n_diffeos=2,
                                              layers={"relu": model[1]})
