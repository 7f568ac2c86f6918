"""Exact linear regions of ReLU networks along curves and on 2-D slices (chapter 5; Hanin & Rolnick 2019).

A ReLU MLP F(x) = W_L relu(... relu(W_1 x + b_1) ...) + b_L is affine on each *activation region*, the set of inputs
sharing one on/off pattern of all hidden neurons; regions are convex polytopes. Along a segment x(t) = p + t (q - p)
we find every crossing exactly, layer by layer: between consecutive crossings found so far, the patterns of the
earlier layers are fixed, so each neuron of the next layer is an affine function of t there and its zero is found in
closed form. All segments of all curves are processed at once. What is counted is *activation regions* (patterns);
``pieces`` merges neighbouring regions on which F has the same slope along the path (the affine pieces of F).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

Layers = list[tuple[torch.Tensor, torch.Tensor]]


def relu_layers(model: nn.Module) -> Layers:
    """The (W, b) of every ``nn.Linear`` of a ReLU MLP, in float64 (hidden layers first, the output layer last).

    The model must be a chain Linear, ReLU, Linear, ..., ReLU, Linear (``nn.Flatten`` allowed), as ``lib.nets.classifiers.FCNet``.
    """
    mods = [m for m in model.modules() if not isinstance(m, (nn.Sequential, nn.Flatten)) and m is not model
            and not list(m.children())]
    kinds = [type(m) for m in mods]
    expected = [nn.Linear, nn.ReLU] * (len(mods) // 2) + [nn.Linear]
    if kinds != expected:
        raise ValueError(f"expected a Linear/ReLU chain ending in Linear, got {[k.__name__ for k in kinds]}")
    return [(m.weight.detach().double(), (m.bias.detach().double() if m.bias is not None
             else torch.zeros(m.out_features, dtype=torch.float64, device=m.weight.device)))
            for m in mods if isinstance(m, nn.Linear)]


def preactivations(layers: Layers, x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
    """Pre-activations of every hidden layer at ``x`` (N, n_in); with ``masks`` the ReLUs use those on/off patterns
    instead of their own (this evaluates the affine function of a given region anywhere)."""
    h, out = x.double(), []
    for i, (W, b) in enumerate(layers[:-1]):
        z = h @ W.T + b
        out.append(z)
        h = z * (masks[i] if masks is not None else (z > 0))
    return out


def output(layers: Layers, x: torch.Tensor, masks: list[torch.Tensor] | None = None) -> torch.Tensor:
    """F(x) (N, n_out), optionally with fixed ReLU patterns (see :func:`preactivations`)."""
    zs = preactivations(layers, x, masks)
    h = x.double() if not zs else zs[-1] * (masks[-1] if masks is not None else (zs[-1] > 0))
    W, b = layers[-1]
    return h @ W.T + b


def patterns(layers: Layers, x: torch.Tensor) -> torch.Tensor:
    """The activation pattern (N, total hidden neurons) as booleans."""
    return torch.cat([z > 0 for z in preactivations(layers, x)], dim=1)


@dataclass
class PathRegions:
    """Crossings of region boundaries along polylines.

    ``t``: crossing positions as (segment index, t in [0, 1]) pairs, sorted; ``segment_lengths`` (M,);
    ``crossings`` per polyline, ``regions`` per polyline (crossings + 1), and ``s``: the arc-length position of each
    crossing along its polyline, grouped per polyline.
    """

    segment: torch.Tensor
    t: torch.Tensor
    curve_of_segment: torch.Tensor
    segment_lengths: torch.Tensor
    crossings: torch.Tensor
    regions: torch.Tensor
    s: list[torch.Tensor]
    pieces: torch.Tensor


def _hidden_masks(layers: Layers, x: torch.Tensor, upto: int) -> list[torch.Tensor]:
    """The on/off patterns of hidden layers 0..upto-1 at ``x``."""
    h, masks = x, []
    for W, b in layers[:upto]:
        z = h @ W.T + b
        masks.append(z > 0)
        h = z * masks[-1]
    return masks


def _preact_fixed(layers: Layers, x: torch.Tensor, layer: int, masks: list[torch.Tensor]) -> torch.Tensor:
    """Pre-activation of hidden layer ``layer`` at ``x`` with the earlier layers' patterns fixed to ``masks``."""
    h = x
    for (W, b), m in zip(layers[:layer], masks):
        h = (h @ W.T + b) * m
    W, b = layers[layer]
    return h @ W.T + b


def count_along_polylines(layers: Layers, curves: torch.Tensor, tol: float = 1e-12) -> PathRegions:
    """Exact activation-region crossings along ``curves`` (C, P, n_in): C polylines of P vertices each.

    Crossings closer than ``tol`` (in t) to each other or to a vertex of the same polyline are counted once, and a
    vertex is not a crossing unless a neuron changes sign there.
    """
    curves = curves.double()
    C, P, D = curves.shape
    starts = curves[:, :-1].reshape(-1, D)
    ends = curves[:, 1:].reshape(-1, D)
    M = len(starts)
    seg_curve = torch.arange(C, device=curves.device).repeat_interleave(P - 1)
    # Interval list: (segment, lo, hi); start with one interval per segment.
    seg = torch.arange(M, device=curves.device)
    lo = torch.zeros(M, dtype=torch.float64, device=curves.device)
    hi = torch.ones_like(lo)
    roots_seg, roots_t = [], []
    for layer in range(len(layers) - 1):
        direction = ends[seg] - starts[seg]
        masks = _hidden_masks(layers, starts[seg] + (0.5 * (lo + hi))[:, None] * direction, layer)
        z_lo = _preact_fixed(layers, starts[seg] + lo[:, None] * direction, layer, masks)
        z_hi = _preact_fixed(layers, starts[seg] + hi[:, None] * direction, layer, masks)
        cross = (z_lo > 0) != (z_hi > 0)
        i, j = cross.nonzero(as_tuple=True)
        frac = z_lo[i, j] / (z_lo[i, j] - z_hi[i, j])
        t_new = lo[i] + frac * (hi[i] - lo[i])
        roots_seg.append(seg[i])
        roots_t.append(t_new)
        # Split intervals at the new roots.
        all_seg = torch.cat([seg, seg[i]])
        all_lo = torch.cat([lo, t_new])
        key = all_seg.double() * 4.0 + all_lo  # t in [0, 1] < 4: sorts by segment, then position
        order = torch.argsort(key)
        all_seg, all_lo = all_seg[order], all_lo[order]
        nxt_same = torch.cat([all_seg[1:] == all_seg[:-1], torch.tensor([False], device=curves.device)])
        all_hi = torch.where(nxt_same, torch.roll(all_lo, -1), torch.ones_like(all_lo))
        keep = all_hi - all_lo > 0
        seg, lo, hi = all_seg[keep], all_lo[keep], all_hi[keep]
    r_seg = torch.cat(roots_seg) if roots_seg else torch.zeros(0, dtype=torch.long)
    r_t = torch.cat(roots_t) if roots_t else torch.zeros(0, dtype=torch.float64)
    return _summarise(layers, curves, starts, ends, seg_curve, r_seg, r_t, seg, lo, hi, tol)


def _summarise(layers, curves, starts, ends, seg_curve, r_seg, r_t, seg, lo, hi, tol) -> PathRegions:
    C, P, _ = curves.shape
    seg_len = (ends - starts).norm(dim=1)
    cum = torch.cat([torch.zeros(1, dtype=torch.float64, device=curves.device), seg_len.cumsum(0)])
    # Arc length of each crossing along its own polyline.
    curve_start = cum[torch.arange(C, device=curves.device) * (P - 1)]
    s_all = cum[r_seg] + r_t * seg_len[r_seg] - curve_start[seg_curve[r_seg]]
    owner = seg_curve[r_seg]
    order = torch.argsort(owner.double() * (1 + float(cum[-1])) * 4 + s_all)
    owner, s_all, r_seg, r_t = owner[order], s_all[order], r_seg[order], r_t[order]
    # Merge coincident crossings (several neurons at one point) and drop crossings exactly at polyline ends.
    total = seg_len.reshape(C, P - 1).sum(1)
    scale = total[owner].clamp_min(1e-300)
    dup = torch.cat([torch.tensor([False], device=curves.device),
                     (owner[1:] == owner[:-1]) & ((s_all[1:] - s_all[:-1]) <= tol * scale[1:])])
    at_end = (s_all <= tol * scale) | (s_all >= total[owner] - tol * scale)
    keep = ~dup & ~at_end
    owner, s_all = owner[keep], s_all[keep]
    crossings = torch.bincount(owner, minlength=C)
    s_per_curve = list(torch.split(s_all, crossings.tolist()))
    return PathRegions(segment=r_seg[keep], t=r_t[keep], curve_of_segment=seg_curve, segment_lengths=seg_len,
                       crossings=crossings, regions=crossings + 1, s=s_per_curve,
                       pieces=_affine_pieces(layers, starts, ends, seg_curve, seg, lo, hi, C))


def _affine_pieces(layers, starts, ends, seg_curve, seg, lo, hi, C) -> torch.Tensor:
    """Affine pieces of F along each polyline: maximal runs of intervals with the same output gradient."""
    mid = 0.5 * (lo + hi)
    grads = output_gradient(layers, starts[seg] + mid[:, None] * (ends[seg] - starts[seg])).flatten(1)
    scale = grads.norm(dim=1).max().clamp_min(1e-300)
    change = (grads[1:] - grads[:-1]).norm(dim=1) > 1e-9 * scale
    same_curve = seg_curve[seg][1:] == seg_curve[seg][:-1]
    return 1 + torch.bincount(seg_curve[seg][1:][change & same_curve], minlength=C)


def output_gradient(layers: Layers, x: torch.Tensor) -> torch.Tensor:
    """The Jacobian of F inside the region of each point, W_L D_{L-1} W_{L-1} ... D_1 W_1: (N, n_out, n_in).

    Built right to left (as backpropagation does), so its cost is N * n_out * (sum of widths), whatever n_in.
    """
    masks = _hidden_masks(layers, x.double(), len(layers) - 1)
    J = layers[-1][0].expand(len(x), -1, -1)
    for (W, _), m in zip(reversed(layers[:-1]), reversed(masks)):
        J = (J * m.double()[:, None, :]) @ W
    return J


def hyperplane_distance(layers: Layers, x: torch.Tensor) -> torch.Tensor:
    """Hanin & Rolnick's distance to the nearest boundary, min over hidden neurons z of abs(z(x)) / ||grad z(x)||.

    z includes its bias, and grad z is taken with the ReLU pattern of x fixed (the gradient inside x's region), so
    the formula is exact for first-layer neurons and a first-order estimate for deeper ones. Neurons with a zero
    gradient (dead paths) are ignored. Returns (N,).
    """
    x = x.double()
    best = torch.full((len(x),), math.inf, dtype=torch.float64, device=x.device)
    J = torch.eye(x.shape[1], dtype=torch.float64, device=x.device).expand(len(x), -1, -1)  # d h / d x
    h = x
    for W, b in layers[:-1]:
        z = h @ W.T + b
        grad = torch.einsum("oi,nij->noj", W, J)  # (N, neurons, n_in)
        gnorm = grad.norm(dim=2)
        ratio = torch.where(gnorm > 0, z.abs() / gnorm.clamp_min(1e-300), torch.full_like(z, math.inf))
        best = torch.minimum(best, ratio.min(dim=1).values)
        on = (z > 0).double()
        h, J = z * on, grad * on[:, :, None]
    return best


def tangent_gradient_norms(layers: Layers, x: torch.Tensor, tangents: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """||P_T grad z(x)|| and ||grad z(x)|| for every hidden neuron (N, neurons): the gradient projected on the
    manifold's tangent space, spanned by the orthonormalised columns of ``tangents`` (N, n_in, m) (m = 1 for a
    curve: a (N, n_in) tangent vector is accepted). Their ratio is what the constant C_M of Theorem 2 bounds."""
    x = x.double()
    T = tangents.double()
    if T.ndim == 2:
        T = T[:, :, None]
    Q, _ = torch.linalg.qr(T)
    J = torch.eye(x.shape[1], dtype=torch.float64, device=x.device).expand(len(x), -1, -1)
    h, full, proj = x, [], []
    for W, b in layers[:-1]:
        z = h @ W.T + b
        grad = torch.einsum("oi,nij->noj", W, J)
        full.append(grad.norm(dim=2))
        proj.append(torch.einsum("noj,njm->nom", grad, Q).norm(dim=2))
        on = (z > 0).double()
        h, J = z * on, grad * on[:, :, None]
    return torch.cat(proj, dim=1), torch.cat(full, dim=1)


def geodesic_boundary_distance(s_points: torch.Tensor, s_crossings: torch.Tensor) -> torch.Tensor:
    """Distance along the curve (arc length) from each point to the nearest crossing (inf if there is none)."""
    if len(s_crossings) == 0:
        return torch.full_like(s_points, math.inf, dtype=torch.float64)
    s_cross = s_crossings.sort().values
    idx = torch.searchsorted(s_cross, s_points.double())
    left = s_cross[(idx - 1).clamp_min(0)]
    right = s_cross[idx.clamp_max(len(s_cross) - 1)]
    d_left = torch.where(idx > 0, (s_points - left).abs(), torch.full_like(left, math.inf))
    d_right = torch.where(idx < len(s_cross), (right - s_points).abs(), torch.full_like(right, math.inf))
    return torch.minimum(d_left, d_right)


# ------------------------------------------------------------------------------------------------ curves
def circle(theta: torch.Tensor, frame: torch.Tensor | None = None) -> torch.Tensor:
    """psi(theta) = (cos theta, sin theta), optionally embedded in R^n by an orthonormal (2, n) ``frame``."""
    pts = torch.stack([torch.cos(theta), torch.sin(theta)], dim=-1).double()
    return pts if frame is None else pts @ frame.double()


def tractrix(t: torch.Tensor) -> torch.Tensor:
    """psi(t) = (t - tanh t, sech t). Its speed ||psi'(t)|| = abs(tanh t) vanishes at t = 0 (a cusp)."""
    t = t.double()
    return torch.stack([t - torch.tanh(t), 1.0 / torch.cosh(t)], dim=-1)


def tractrix_arclength(t: torch.Tensor) -> torch.Tensor:
    """Signed arc length from t = 0: s(t) = sign(t) ln cosh t."""
    t = t.double()
    return torch.sign(t) * torch.log(torch.cosh(t))


def tractrix_at_arclength(s: torch.Tensor) -> torch.Tensor:
    """The parameter t of the point at signed arc length s: t = sign(s) arccosh(exp|s|)."""
    s = s.double()
    return torch.sign(s) * torch.acosh(torch.exp(s.abs()))


def slice_partition(layers: Layers, origin: torch.Tensor, e1: torch.Tensor, e2: torch.Tensor,
                    bounds: tuple[float, float, float, float]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Exact activation regions of the 2-D slice x = origin + u e1 + v e2, (u, v) in the box ``bounds``
    (u_min, u_max, v_min, v_max), by successive convex polygon clipping (as Hanin & Rolnick's counter).

    Returns (vertices (K, 2) in slice coordinates, pattern) per region. Regions are split neuron by neuron, layer by
    layer; within a region the earlier layers' pattern is fixed, so each neuron is affine in (u, v) there.
    """
    u0, u1, v0, v1 = bounds
    base = torch.stack([origin.double(), e1.double(), e2.double()])  # x = [1, u, v] @ base
    regions = [(np.array([[u0, v0], [u1, v0], [u1, v1], [u0, v1]], dtype=np.float64), [])]
    for li, (W, b) in enumerate(layers[:-1]):
        new_regions = []
        for poly, pat in regions:
            masks = [torch.as_tensor(m)[None, :] for m in pat]
            # The affine map (u, v) -> z of this layer inside the region: evaluate it at (0,0), (1,0), (0,1).
            probe = torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0]], dtype=torch.float64)
            z = _preact_fixed(layers, probe @ base, li, masks).numpy()
            c, gu, gv = z[0], z[1] - z[0], z[2] - z[0]
            pieces = [(poly, [])]
            for n in range(W.shape[0]):
                split = []
                for pp, signs in pieces:
                    vals = c[n] + pp[:, 0] * gu[n] + pp[:, 1] * gv[n]
                    for side in (True, False):
                        clipped = _clip(pp, vals if side else -vals)
                        if clipped is not None:
                            split.append((clipped, signs + [side]))
                pieces = split
            new_regions += [(pp, pat + [np.array(signs)]) for pp, signs in pieces]
        regions = new_regions
    return [(poly, np.concatenate(pat)) for poly, pat in regions]


def _clip(poly: np.ndarray, vals: np.ndarray, eps: float = 1e-12) -> np.ndarray | None:
    """The part of a convex polygon where an affine function (values ``vals`` at the vertices) is positive."""
    if (vals > eps).all():
        return poly
    if (vals <= eps).all():
        return None
    out = []
    n = len(poly)
    for k in range(n):
        a, b, va, vb = poly[k], poly[(k + 1) % n], vals[k], vals[(k + 1) % n]
        if va > eps:
            out.append(a)
        if (va > eps) != (vb > eps):
            out.append(a + (b - a) * (va / (va - vb)))
    out = np.array(out)
    return out if len(out) >= 3 and abs(_area(out)) > 1e-18 else None


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def polygon_area(poly: np.ndarray) -> float:
    """Area of a simple polygon (shoelace formula)."""
    return abs(_area(poly))
