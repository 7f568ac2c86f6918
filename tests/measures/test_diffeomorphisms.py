"""Max-entropy diffeomorphisms against closed forms, the authors' per-image algorithm and a dense Gaussian kernel."""

from __future__ import annotations

import math

import pytest
import torch

from lib.measures import diffeomorphisms


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_cutoff_rule_is_the_reference_disk():
    # sqrt(i^2 + j^2) < c + 1/2 keeps (1,3) and (3,1) at c = 3; the paper's i^2 + j^2 <= 9 would keep only 4 modes
    assert diffeomorphisms.mode_count(3) == 6
    assert diffeomorphisms.mode_count(1) == 1
    assert diffeomorphisms.centre_mode_sum(3) == pytest.approx(0.5 + 2 / 10)
    w = diffeomorphisms.mode_weights(3)
    assert w[0, 2] == pytest.approx(1 / math.sqrt(10)) and w[2, 2] == 0


def test_temperature_for_delta_matches_the_authors_constant():
    # diffeo-sota hard-codes T = 1.1318e-3 for delta = 1 at n = 32, c = 3 (the asymptotic Eq. 3)
    T = diffeomorphisms.temperature_for_delta(1.0, 3, 32)
    assert T == pytest.approx(1.1318e-3, rel=1e-4)
    assert math.sqrt(diffeomorphisms.displacement_sq(T, 3, 32)) == pytest.approx(1.274, abs=1e-3)  # the true rms at c = 3
    assert diffeomorphisms.displacement_sq(diffeomorphisms.temperature_for_delta(1.0, 5, 28, exact=True), 5, 28) == pytest.approx(1.0)


def test_empirical_centre_displacement_matches_exact_variance():
    n, T, c = 33, 2e-3, 5  # odd n: the centre pixel sits exactly at u = v = 1/2
    field = diffeomorphisms.sample_displacement(20000, n, T, c, generator=gen())
    centre = field[:, :, n // 2, n // 2]
    assert centre.pow(2).sum(1).mean() == pytest.approx(diffeomorphisms.displacement_sq(T, c, n), rel=0.03)
    assert centre.mean(0).abs().max() < 0.05


def test_gradient_norm_exact_and_asymptotic():
    T, c, n = 1e-3, 6, 401
    coef = diffeomorphisms.sample_coefficients(400, T, c, generator=gen(1))
    tau = diffeomorphisms.displacement(coef, n) / n  # back to [0, 1] units
    h = 1 / (n - 1)
    gx = (tau[..., :, 1:] - tau[..., :, :-1]) / h
    gy = (tau[..., 1:, :] - tau[..., :-1, :]) / h
    norm = (gx.pow(2).sum((1, 2, 3)) + gy.pow(2).sum((1, 2, 3))) * h * h
    assert norm.mean() == pytest.approx(diffeomorphisms.gradient_norm_sq(T, c), rel=0.05)
    big = 60  # the number of modes approaches the quarter disk pi c^2 / 4
    assert diffeomorphisms.gradient_norm_sq(T, big) / diffeomorphisms.gradient_norm_sq(T, big, exact=False) == pytest.approx(1, abs=0.03)


def test_batched_bilinear_equals_reference_loop():
    images = torch.rand(16, 3, 32, 32, generator=gen(2))
    field = diffeomorphisms.sample_displacement(16, 32, 0.02, 5, generator=gen(3))  # several-pixel moves, exercises clamping
    assert field.abs().max() > 3
    batched = diffeomorphisms.remap(images, field)
    looped = torch.stack([diffeomorphisms.remap_reference(im, f[0], f[1]) for im, f in zip(images, field)])
    assert (batched - looped).abs().max() < 1e-5


def test_zero_field_is_identity_and_fields_are_independent_and_seeded():
    images = torch.rand(4, 1, 28, 28, generator=gen(4))
    assert torch.allclose(diffeomorphisms.remap(images, torch.zeros(4, 2, 28, 28)), images, atol=1e-5)  # float32 grid
    a = diffeomorphisms.sample_displacement(2, 28, 1e-3, 3, generator=gen(5))
    b = diffeomorphisms.sample_displacement(2, 28, 1e-3, 3, generator=gen(5))
    assert torch.equal(a, b)
    assert not torch.allclose(a[0], a[1])
    per_image_T = diffeomorphisms.sample_coefficients(3, torch.tensor([0.0, 1e-3, 4e-3]), 3, generator=gen(6))
    assert per_image_T[0].abs().max() == 0


def dense_gaussian_remap(images: torch.Tensor, field: torch.Tensor, sigma: float) -> torch.Tensor:
    """The library's O(n^4) Gaussian interpolation: every source pixel weighted, then normalised."""
    n = images.shape[-1]
    grid = torch.arange(n, dtype=torch.float64)
    xs = (grid[None, None, :] - field[:, 0]).clamp(0, n - 1)
    ys = (grid[None, :, None] - field[:, 1]).clamp(0, n - 1)
    w = torch.exp(-((xs[..., None, None] - grid[None, None, None, None, :]) ** 2
                    + (ys[..., None, None] - grid[None, None, None, :, None]) ** 2) / (2 * sigma ** 2))
    w = w / w.sum((-1, -2), keepdim=True)
    return torch.einsum("zyxab,zcab->zcyx", w, images.double())


def test_windowed_gaussian_equals_dense_kernel():
    images = torch.rand(3, 2, 28, 28, generator=gen(7), dtype=torch.float64)
    field = diffeomorphisms.sample_displacement(3, 28, 0.01, 5, generator=gen(8))
    ours = diffeomorphisms.remap(images, field, "gaussian")
    assert (ours - dense_gaussian_remap(images, field, diffeomorphisms.GAUSSIAN_SIGMA)).abs().max() < 1e-6


def test_jacobian_determinant_and_bijectivity():
    coef = diffeomorphisms.sample_coefficients(3, 5e-3, 4, generator=gen(9), dtype=torch.float64)
    n = 201
    det = diffeomorphisms.jacobian_determinant(coef, n)
    tau = diffeomorphisms.displacement(coef, n) / n
    h = 1 / (n - 1)
    # central differences of the map s - tau(s) at interior points
    dxu = 1 - (tau[:, 0, 1:-1, 2:] - tau[:, 0, 1:-1, :-2]) / (2 * h)
    dxv = -(tau[:, 0, 2:, 1:-1] - tau[:, 0, :-2, 1:-1]) / (2 * h)
    dyu = -(tau[:, 1, 1:-1, 2:] - tau[:, 1, 1:-1, :-2]) / (2 * h)
    dyv = 1 - (tau[:, 1, 2:, 1:-1] - tau[:, 1, :-2, 1:-1]) / (2 * h)
    assert torch.allclose(det[:, 1:-1, 1:-1], dxu * dyv - dxv * dyu, atol=1e-3)
    assert diffeomorphisms.bijective_fraction(1e-5, 3, 100, generator=gen(10)) == 1.0
    assert diffeomorphisms.bijective_fraction(1.0, 10, 100, generator=gen(11)) == 0.0


def test_bad_input_is_refused_with_reasons():
    with pytest.raises(ValueError, match="square"):
        diffeomorphisms.remap(torch.rand(2, 1, 28, 30), torch.zeros(2, 2, 28, 30))
    with pytest.raises(ValueError, match="c must be >= 1"):
        diffeomorphisms.mode_weights(0.5)
    with pytest.raises(ValueError, match="interpolation"):
        diffeomorphisms.remap(torch.rand(1, 1, 8, 8), torch.zeros(1, 2, 8, 8), "nearest")
    with pytest.raises(ValueError, match="ln 1 = 0"):
        diffeomorphisms.temperature_for_delta(1.0, 1, 28)
    with pytest.raises(ValueError, match="non-negative"):
        diffeomorphisms.sample_coefficients(1, -1.0, 3)


def test_phase_diagram_probability_falls_with_temperature():
    prob = diffeomorphisms.phase_diagram([1e-6, 1e-3, 1e-1, 10.0], [3, 10], samples=40, grid=32)
    assert prob.shape == (2, 4)
    assert (prob[:, 0] == 1).all() and (prob[:, -1] == 0).all()
    assert (prob[:, :-1] >= prob[:, 1:]).all()
    assert prob[1, 2] <= prob[0, 2]  # a higher cutoff breaks bijectivity at a lower temperature
