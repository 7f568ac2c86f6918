"""Exact linear regions against analytic counts, dense sampling and known geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.measures.linear_regions import (circle, count_along_polylines, geodesic_boundary_distance, hyperplane_distance,
                                         output, patterns, polygon_area, relu_layers, slice_partition,
                                         tangent_gradient_norms, tractrix, tractrix_arclength, tractrix_at_arclength)
from lib.nets.classifiers import FCNet


def net(widths, n_in=2, seed=0):
    torch.manual_seed(seed)
    return relu_layers(FCNet(n_in, widths, 1))


def dense_count(layers, polyline: torch.Tensor, per_segment: int = 20000) -> int:
    ts = torch.linspace(0, 1, per_segment + 1, dtype=torch.float64)[:-1, None]
    pts = torch.cat([a + ts * (b - a) for a, b in zip(polyline[:-1], polyline[1:])] + [polyline[-1:]])
    pat = patterns(layers, pts)
    return int((pat[1:] != pat[:-1]).any(1).sum())


def test_one_hidden_layer_counts_the_hyperplanes_the_segment_crosses():
    layers = net((200,), n_in=5, seed=1)
    g = torch.Generator().manual_seed(0)
    p, q = torch.randn(5, generator=g, dtype=torch.float64), torch.randn(5, generator=g, dtype=torch.float64)
    W, b = layers[0]
    analytic = int(((p @ W.T + b > 0) != (q @ W.T + b > 0)).sum())
    res = count_along_polylines(layers, torch.stack([p, q])[None])
    assert res.crossings.item() == analytic and res.regions.item() == analytic + 1
    # Each crossing sits where its neuron's affine function vanishes.
    x = p + res.t[:, None] * (q - p)
    assert (x @ W.T + b).abs().min(dim=1).values.max() < 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counts_equal_dense_sampling_on_random_deep_nets(seed):
    layers = net((10, 16, 8), seed=seed)
    curve = circle(torch.linspace(-math.pi, math.pi, 61))
    assert count_along_polylines(layers, curve[None]).crossings.item() == dense_count(layers, curve, 5000)


def test_batched_curves_equal_one_at_a_time():
    layers = net((10, 16), seed=3)
    frames = [torch.linalg.qr(torch.randn(2, 2, generator=torch.Generator().manual_seed(s)))[0] for s in range(4)]
    curves = torch.stack([circle(torch.linspace(-3, 3, 200), f) for f in frames])
    batched = count_along_polylines(layers, curves)
    single = [count_along_polylines(layers, c[None]).crossings.item() for c in curves]
    assert batched.crossings.tolist() == single
    assert [len(s) for s in batched.s] == single


def test_count_converges_as_the_circle_polyline_is_refined():
    layers = net((10, 16), seed=4)
    counts = [count_along_polylines(layers, circle(torch.linspace(-math.pi, math.pi, m + 1))[None]).crossings.item()
              for m in (200, 400, 800, 1600)]
    assert len(set(counts[1:])) == 1


def test_random_nets_cut_the_circle_into_about_as_many_regions_as_neurons():
    # Hanin & Rolnick: the number of regions along a 1-D curve of length O(1) is of the order of the neurons.
    counts = [count_along_polylines(net((10, 16), seed=s), circle(torch.linspace(-math.pi, math.pi, 801))[None])
              .regions.item() for s in range(10)]
    assert 0.3 * 26 < np.mean(counts) < 3 * 26


def test_affine_pieces_never_exceed_activation_regions():
    layers = net((10, 16), seed=5)
    res = count_along_polylines(layers, circle(torch.linspace(-math.pi, math.pi, 400))[None])
    assert 1 <= res.pieces.item() <= res.regions.item()


def test_hyperplane_distance_is_exact_for_one_layer():
    layers = net((30,), n_in=3, seed=6)
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    W, b = layers[0]
    brute = ((x @ W.T + b).abs() / W.norm(dim=1)).min(dim=1).values
    assert torch.allclose(hyperplane_distance(layers, x), brute, rtol=1e-12)


def test_geodesic_distance_on_a_straight_path():
    s_cross = torch.tensor([1.0, 2.5, 4.0], dtype=torch.float64)
    s = torch.tensor([0.0, 1.2, 2.0, 3.5, 5.0], dtype=torch.float64)
    assert geodesic_boundary_distance(s, s_cross).tolist() == pytest.approx([1.0, 0.2, 0.5, 0.5, 1.0])
    assert torch.isinf(geodesic_boundary_distance(s, torch.zeros(0, dtype=torch.float64))).all()


def test_crossing_arc_lengths_match_their_positions_on_a_line():
    layers = net((40,), n_in=2, seed=7)
    line = torch.tensor([[-3.0, 0.2], [0.0, 0.2], [3.0, 0.2]], dtype=torch.float64)  # two segments, length 6
    res = count_along_polylines(layers, line[None])
    W, b = layers[0]
    u = -(b + 0.2 * W[:, 1]) / W[:, 0]  # where each neuron's line crosses y = 0.2
    expected = torch.sort(u[(u > -3) & (u < 3)] + 3).values
    assert torch.allclose(res.s[0], expected, atol=1e-10)


def test_tractrix_arc_length_and_cusp():
    t = torch.linspace(-3, 3, 200001, dtype=torch.float64)
    pts = tractrix(t)
    numeric = torch.cat([torch.zeros(1, dtype=torch.float64), (pts[1:] - pts[:-1]).norm(dim=1).cumsum(0)])
    exact = tractrix_arclength(t) - tractrix_arclength(t[:1])
    assert torch.allclose(numeric, exact, atol=1e-6)
    assert torch.allclose(tractrix_at_arclength(tractrix_arclength(t)), t, atol=1e-9)
    speed = (tractrix(torch.tensor([1e-4])) - tractrix(torch.tensor([0.0]))).norm() / 1e-4
    assert speed < 1e-3  # |psi'(t)| = |tanh t| vanishes at the cusp


def test_tangent_projection_for_a_curve():
    layers = net((10,), n_in=2, seed=8)
    x = circle(torch.tensor([0.3, 1.1], dtype=torch.float64))
    tangent = torch.stack([-torch.sin(torch.tensor([0.3, 1.1])), torch.cos(torch.tensor([0.3, 1.1]))], 1)
    proj, full = tangent_gradient_norms(layers, x, tangent)
    W = layers[0][0]
    assert torch.allclose(full, W.norm(dim=1).expand(2, -1))
    assert torch.allclose(proj, (tangent.double() @ W.T).abs())


def test_slice_partition_tiles_the_box_and_agrees_with_a_grid():
    layers = net((8, 6), seed=9)
    regions = slice_partition(layers, torch.zeros(2), torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), (-2, 2, -2, 2))
    assert sum(polygon_area(p) for p, _ in regions) == pytest.approx(16.0, rel=1e-12)
    # Every region's centroid has the pattern the region carries, and the grid finds no pattern the regions lack.
    cents = torch.tensor(np.array([p.mean(0) for p, _ in regions]))
    assert (patterns(layers, cents).numpy() == np.array([pat for _, pat in regions])).all()
    g = torch.stack(torch.meshgrid(torch.linspace(-2, 2, 300), torch.linspace(-2, 2, 300), indexing="ij"), -1)
    grid_patterns = {tuple(r) for r in patterns(layers, g.reshape(-1, 2)).numpy().tolist()}
    assert grid_patterns <= {tuple(p.tolist()) for _, p in regions}


def test_relu_layers_rejects_other_architectures():
    with pytest.raises(ValueError, match="Linear/ReLU chain"):
        relu_layers(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)))
    layers = net((5,), seed=0)
    x = torch.randn(4, 2, dtype=torch.float64)
    torch.manual_seed(0)
    model = FCNet(2, (5,), 1).double()
    assert torch.allclose(output(layers, x), model(x))
