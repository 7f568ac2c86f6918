"""Representation-manifold characteristics (van der Merwe et al. 2022, Eqs. 1-4) against closed forms and the
authors' pandas pipeline."""

import math

import pytest
import torch
from torch import nn

from lib.measures.adversarial import pgd_path
from lib.measures.manifold_quality import (manifold_characteristics, measure_walks, noise_walk, path_distances,
                                           reference_metrics, walk_curves, walk_distances)


def quadratic_walks(n: int = 5, J: int = 20, dim: int = 8, s: float = 0.3) -> torch.Tensor:
    """phi_ij = phi_i0 + j^2 s u_i with unit u_i: d(0, j) = j^2 s, d(j-1, j) = (2j - 1) s."""
    g = torch.Generator().manual_seed(0)
    u = torch.nn.functional.normalize(torch.randn(n, 1, dim, generator=g, dtype=torch.float64), dim=-1)
    j = torch.arange(J + 1, dtype=torch.float64).view(1, -1, 1)
    return torch.randn(n, 1, dim, generator=g, dtype=torch.float64) + j ** 2 * s * u


def test_paper_equations_on_a_quadratic_walk():
    J, s = 20, 0.3
    d_orig, d_prev = walk_distances(quadratic_walks(J=J, s=s), normalize=False)
    torch.testing.assert_close(d_orig[0], torch.arange(J + 1, dtype=torch.float64) ** 2 * s)
    m = manifold_characteristics(d_orig, d_prev)
    D = s * sum(j * j for j in range(1, J + 1)) / J
    D_RC = sum((2 * j - 1) / j ** 2 for j in range(1, J + 1)) / J
    P_RC = sum(2 / (2 * j - 1) for j in range(2, J + 1)) / J  # Eq. 3 sums J - 1 terms and divides by J
    assert m["D"] == pytest.approx(D, rel=1e-12)
    assert m["D_RC"] == pytest.approx(D_RC, rel=1e-12)
    assert m["P_RC"] == pytest.approx(P_RC, rel=1e-12)
    assert m["RMQM"] == pytest.approx(math.log(1 + D + 1 / D_RC + 1 / P_RC), rel=1e-12)


def test_code_variant_on_a_quadratic_walk():
    J, s = 20, 0.3
    m = manifold_characteristics(*walk_distances(quadratic_walks(J=J, s=s), normalize=False), variant="code")
    spike = sum((j * j - (j - 1) ** 2) / (j - 1) ** 2 for j in range(2, J + 1)) / (J - 1)
    spike_prev = sum(2 / (2 * j - 3) for j in range(2, J + 1)) / (J - 1)
    D_prev = s * sum(2 * j - 1 for j in range(1, J + 1)) / J
    assert m["D_RC"] == pytest.approx(spike, rel=1e-12)
    assert m["P_RC"] == pytest.approx(spike_prev, rel=1e-12)
    assert m["D_prev"] == pytest.approx(D_prev, rel=1e-12)
    assert m["RMQM"] == pytest.approx(math.log(1 + m["D"] + D_prev + 1 / spike + 1 / spike_prev), rel=1e-12)


def test_code_variant_equals_the_authors_pandas_pipeline():
    g = torch.Generator().manual_seed(1)
    N, steps, E = 40, 12, 16
    walks = torch.randn(N, 1, E, generator=g, dtype=torch.float64) + torch.randn(N, steps, E, generator=g,
                                                                                  dtype=torch.float64).cumsum(1) * 0.2
    walks[3, 4] = walks[3, 3]  # a zero step: the authors drop this row (inf relative change)
    ours = manifold_characteristics(*walk_distances(walks), variant="code")
    ref = reference_metrics(walks.reshape(N * steps, E), steps)
    for mine, theirs in (("D", "D"), ("D_prev", "D_prev"), ("D_RC", "spike"), ("P_RC", "spike_prev")):
        assert ours[mine] == pytest.approx(ref[theirs], rel=1e-9)
    assert ours["dropped"] == 1


def test_linear_encoder_on_a_straight_noise_ray_moves_linearly():
    """f(x) = W x on x_j = x + eps_j z (no clipping): d(0, j) = eps_j ||W z||, so D_RC = H_J / J, P_RC = 0."""
    steps, eps_max = 11, 0.01
    enc = nn.Sequential(nn.Flatten(), nn.Linear(16, 5, bias=False)).double()
    x = torch.full((3, 1, 4, 4), 0.5, dtype=torch.float64)
    walk = lambda xb, gen: noise_walk(xb, gen, steps=steps, eps_max=eps_max, redraw=False)  # noqa: E731
    d_orig, d_prev = measure_walks(enc, x, walk, normalize=False)
    J = steps - 1
    eps = torch.linspace(0, eps_max, steps, dtype=torch.float64)
    torch.testing.assert_close(d_orig / d_orig[:, -1:], (eps / eps_max).expand(3, -1))
    m = manifold_characteristics(d_orig, d_prev)
    assert m["D_RC"] == pytest.approx(sum(1 / j for j in range(1, J + 1)) / J, rel=1e-9)
    assert m["P_RC"] < 1e-9


def test_metrics_are_invariant_to_the_order_of_images():
    walks = quadratic_walks(n=9) + 0.01 * torch.randn(9, 21, 8, generator=torch.Generator().manual_seed(3),
                                                       dtype=torch.float64)
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(4))
    for variant in ("paper", "code"):
        a = manifold_characteristics(*walk_distances(walks), variant=variant)
        b = manifold_characteristics(*walk_distances(walks[perm]), variant=variant)
        assert a == pytest.approx(b, rel=1e-12)


def test_noise_walk_starts_at_the_image_and_has_the_stated_variance():
    x = torch.full((200, 1, 8, 8), 0.5)
    walks = noise_walk(x, torch.Generator().manual_seed(0), steps=5, eps_max=0.1)
    assert walks.shape == (200, 5, 1, 8, 8)
    torch.testing.assert_close(walks[:, 0], x)
    std = (walks - x.unsqueeze(1)).flatten(2).transpose(0, 1).flatten(1).std(1)
    torch.testing.assert_close(std, torch.linspace(0, 0.1, 5), atol=2e-3, rtol=0.02)
    assert walks.min() >= 0 and noise_walk(x, torch.Generator().manual_seed(0), steps=3).max() <= 1


def test_same_seed_same_alterations_for_every_encoder():
    x = torch.rand(6, 1, 4, 4)
    enc = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    a = measure_walks(enc, x, noise_walk, seed=7, batch_size=4)
    b = measure_walks(enc, x, noise_walk, seed=7, batch_size=4)
    torch.testing.assert_close(a, b)


def test_pgd_path_costs_one_gradient_per_step_and_follows_the_gradient_sign():
    calls = []
    w = torch.tensor([1.0, -1.0, 2.0, -0.5])

    def loss(a):
        calls.append(1)
        return (a * w).sum()

    x = torch.full((2, 4), 0.5)
    path = pgd_path(x, loss, steps=30, step_size=2 / 255)
    assert len(calls) == 30 and path.shape == (2, 31, 4)
    expected = (x.unsqueeze(1) + torch.arange(31).view(1, -1, 1) * 2 / 255 * w.sign()).clamp(0, 1)
    torch.testing.assert_close(path, expected)
    clipped = pgd_path(x, loss, steps=30, step_size=0.05, radius=0.3)
    assert (clipped - x.unsqueeze(1)).abs().max() == pytest.approx(0.3)


def test_walk_curves_and_path_distances_agree():
    enc = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    path = torch.rand(4, 6, 1, 4, 4)
    d_orig, d_prev = path_distances(enc, path)
    curves = walk_curves(d_orig, d_prev)
    assert len(curves["distance"]) == 5
    assert curves["distance"][2] == pytest.approx(float(d_orig[:, 3].mean()))


def test_bad_input_is_reported():
    with pytest.raises(ValueError, match="J >= 2"):
        walk_distances(torch.zeros(3, 2, 4))
    with pytest.raises(ValueError, match="NaN"):
        walk_distances(torch.full((3, 4, 4), float("nan")))
    with pytest.raises(ValueError, match="does not move"):
        manifold_characteristics(*walk_distances(torch.ones(3, 4, 2)))
    with pytest.raises(ValueError, match="unknown variant"):
        manifold_characteristics(torch.ones(2, 4), torch.ones(2, 3), variant="mean")
