"""Chapter 3's MNIST parity experiment: the MnasNet-like CNN, its kernels, the data and the momentum flow."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, special

from lib.data.parity import normalise_images, parity_labels, parity_sets
from lib.measures.ntk import empirical_ntk, pca_summary
from lib.nets.mnasnet_like import MnasNetLike, NTKConv2d, swish
from lib.training.gradient_flow import train_kernel


def brute_force_ntk(model: torch.nn.Module, x: torch.Tensor, names=None) -> torch.Tensor:
    rows = []
    params = [p for n, p in model.named_parameters() if names is None or n in names]
    for xi in x:
        grads = torch.autograd.grad(model(xi[None]).sum(), params)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    J = torch.stack(rows)
    return J @ J.T


def test_swish_is_normalised_on_standard_gaussian_inputs():
    silu2 = lambda z: (z * special.expit(z)) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    second_moment, _ = integrate.quad(silu2, -40, 40)
    assert swish(torch.tensor(1.0)).item() == pytest.approx(1.6768 * special.expit(1.0))
    assert 1.6768 ** 2 * second_moment == pytest.approx(1.0, abs=5e-4)  # the authors' 5-digit constant


def test_mnasnet_like_has_sixteen_convolutions_and_the_expected_parameter_count():
    h = 10
    net = MnasNetLike(h, generator=torch.Generator().manual_seed(0))
    assert sum(isinstance(m, NTKConv2d) for m in net.modules()) == 16

    def inverted(c_in, c_out):  # 1x1 expansion x3, 5x5 depthwise, 1x1 projection
        return c_in * 3 * c_in + 25 * 3 * c_in + 3 * c_in * c_out

    expected = (25 * 4 * h + 25 * 4 * h + 4 * h * 2 * h + inverted(2 * h, h) + inverted(h, h) + inverted(h, 3 * h)
                + inverted(3 * h, 3 * h) + 3 * h * 20 * h + 20 * h + 1)
    assert sum(p.numel() for p in net.parameters()) == expected == 23251
    assert net(torch.randn(3, 1, 28, 28)).shape == (3,)
    with pytest.raises(ValueError, match="channel scale"):
        MnasNetLike(0)


def test_ntk_parametrisation_keeps_unit_preactivations():
    """Weights N(0,1) divided by sqrt(fan_in): a convolution of white unit-variance input has unit variance."""
    conv = NTKConv2d(16, 64, 5, generator=torch.Generator().manual_seed(1)).double()
    x = torch.randn(64, 16, 20, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    out = conv(x)[:, :, 2:-2, 2:-2]  # away from the zero padding
    assert float(out.detach().var()) == pytest.approx(1.0, rel=0.05)


def test_cnn_kernels_equal_brute_force_and_the_last_layer_kernel_is_features():
    g = torch.Generator().manual_seed(3)
    net = MnasNetLike(1, generator=g).double()
    x = torch.randn(5, 1, 28, 28, dtype=torch.float64, generator=g)
    torch.testing.assert_close(empirical_ntk(net, x, chunk=2), brute_force_ntk(net, x), rtol=1e-10, atol=1e-12)
    last = empirical_ntk(net, x, chunk=2, parameters=("readout", "bias"))
    with torch.no_grad():
        phi = net.features(x)
    torch.testing.assert_close(last, phi @ phi.T / phi.shape[1] + 1, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="no parameters"):
        empirical_ntk(net, x, parameters=("nope",))


def test_normalised_images_are_centred_with_norm_28():
    x = torch.rand(50, 1, 28, 28, generator=torch.Generator().manual_seed(4))
    z = normalise_images(x)
    torch.testing.assert_close(z.flatten(1).norm(dim=1), torch.full((50,), 28.0, dtype=torch.float64))
    # centring happens before the per-image rescaling: z_i is proportional to x_i - mean
    c = x.double() - x.double().mean(0)
    torch.testing.assert_close(z, c * 28 / c.flatten(1).norm(dim=1).view(-1, 1, 1, 1))
    assert parity_labels(torch.arange(10)).tolist() == [1, -1] * 5


def test_parity_sets_are_disjoint_balanced_and_seeded(data_root):
    sets = parity_sets((40, 40, 100), seed=0, root=str(data_root))
    assert [len(x) for x, _ in sets] == [40, 40, 100]
    flat = torch.cat([x.flatten(1) for x, _ in sets])
    assert len(torch.unique(flat, dim=0)) == 180
    y_all = torch.cat([y for _, y in sets])
    assert float(y_all.mean()) == pytest.approx(0.0, abs=0.02)  # 18 images of each digit: 90 even, 90 odd
    torch.testing.assert_close(sets[0][0], parity_sets((40, 40, 100), seed=0, root=str(data_root))[0][0])
    with pytest.raises(ValueError, match="pool"):
        parity_sets((10 ** 6,), seed=0, root=str(data_root))


def test_momentum_flow_follows_the_authors_update_rule():
    """Constant hinge gradient (no point reaches the margin): the flow's coefficients equal a plain loop of
    v <- e^{-dt/tau} v - (1 - e^{-dt/tau}) g, a <- a + dt v over the same growing steps, and approach the exact
    solution a(t) = -g (t - tau (1 - e^{-t/tau}))."""
    p, tau, c = 4, 2.0, 1e-3
    y = torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    K = c * torch.eye(p, dtype=torch.float64)
    a, flow = train_kernel(K, y, tau=tau, dt=1e-3, max_steps=60)
    g = -y / p  # y l'(yF) / p with l' = -1
    v, ref, dt = torch.zeros(p, dtype=torch.float64), torch.zeros(p, dtype=torch.float64), 1e-3
    for _ in range(flow.steps):
        decay = math.exp(-dt / tau)
        v = decay * v - (1 - decay) * g
        ref = ref + dt * v
        dt *= 1.1
    torch.testing.assert_close(a, ref, rtol=1e-12, atol=0)
    t = flow.t
    np.testing.assert_allclose(a.numpy(), (-g * (t - tau * (1 - math.exp(-t / tau)))).numpy(), rtol=0.1)
    with pytest.raises(ValueError, match="tau"):
        train_kernel(K, y, tau=-1.0)


def test_pca_summary_of_a_label_kernel():
    """K = y y^T + small noise: the top eigenvector is y / sqrt(p), carries all the projection and ~1 bit."""
    g = torch.Generator().manual_seed(5)
    y = torch.tensor([1.0, -1.0] * 100, dtype=torch.float64)
    noise = torch.randn(200, 3, generator=g, dtype=torch.float64)
    out = pca_summary(torch.outer(y, y) + 0.01 * noise @ noise.T, y, top=3)
    assert out["projections"][0] == pytest.approx(1 / 200, rel=1e-3)  # <y/sqrt(p), y>^2 / p^2
    assert out["mi"][0] > 0.95 and max(out["mi"][1:]) < 0.3
    assert np.array(out["top2"]).shape == (200, 2)


def test_run_parity_returns_the_network_and_four_kernels(data_root):
    params = {"p": 24, "h": 1, "alpha": 2e-3, "seed": 0, "n_test": 60, "dtype": "float64",
              "data_root": str(data_root), "loss": "softhinge", "softness": 3.0, "max_dgrad": 1e-2, "tau": 0.0,
              "until": 0.9, "max_steps": 400, "top": 4}
    from lib.experiments.compressing_invariants import KERNELS, run_parity

    out = run_parity(params)
    assert out["parameters"] == sum(p.numel() for p in MnasNetLike(1).parameters())
    assert len(out["labels"]) == 24 and set(out["labels"]) == {-1.0, 1.0}
    for key in ("network", *KERNELS):
        assert 0.0 <= out[key]["test_error"] <= 1.0
    for key in KERNELS:
        pca = out[key]["pca"]
        assert len(pca["mi"]) == len(pca["projections"]) == 4 and np.array(pca["top2"]).shape == (24, 2)
        assert pca["eigenvalues"] == sorted(pca["eigenvalues"], reverse=True)
        # the label projections over all eigenvectors sum to ||y||^2 / p^2 = 1 / p; the top ones cannot exceed it
        assert sum(pca["projections"]) <= 1 / 24 + 1e-12
    # training moved the kernel: its top eigenvalue changed
    assert out["final_ntk"]["pca"]["eigenvalues"][0] != pytest.approx(out["init_ntk"]["pca"]["eigenvalues"][0])
    with pytest.raises(ValueError, match="dtype"):
        run_parity({**params, "dtype": "float16"})
