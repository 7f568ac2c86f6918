"""The one-hidden-layer ReLU network of Paccolat et al. (2021), Eq. (1), and what is measured on its neurons.

f(x) = (1/h) sum_n beta_n sigma(omega_n . x / sqrt(d) + b_n), sigma(u) = sqrt(2) max(0, u), every weight ~ N(0, 1),
in float64. Its neural tangent kernel has a closed form (two p x h matrix products, :func:`ntk_gram`), and its first
layer carries the compression the paper measures: neuron vectors z_n = -sqrt(d) b_n omega_n / ||omega_n||^2 (the
point of the ReLU hyperplane closest to the origin) and the global amplification factor Lambda, Eq. (9).
"""

from __future__ import annotations

import math

import torch
from torch import nn

SQRT2 = math.sqrt(2.0)


class OneHiddenLayer(nn.Module):
    """Eq. (1) with ``h`` hidden neurons on inputs of dimension ``d``; weights N(0, 1), float64."""

    def __init__(self, d: int, h: int, *, generator: torch.Generator | None = None):
        super().__init__()
        self.d, self.h = d, h
        self.omega = nn.Parameter(torch.randn(h, d, generator=generator, dtype=torch.float64))
        self.b = nn.Parameter(torch.randn(h, generator=generator, dtype=torch.float64))
        self.beta = nn.Parameter(torch.randn(h, generator=generator, dtype=torch.float64))

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """omega_n . x / sqrt(d) + b_n for every input and neuron: (p, h)."""
        if x.ndim != 2 or x.shape[1] != self.d:
            raise ValueError(f"inputs must have shape (p, {self.d}), got {tuple(x.shape)}")
        return x @ self.omega.T / math.sqrt(self.d) + self.b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return SQRT2 * torch.relu(self.preactivation(x)) @ self.beta / self.h

    def conserved(self) -> torch.Tensor:
        """beta_n^2 - ||omega_n||^2 - b_n^2 per neuron, constant under gradient flow (ReLU is homogeneous, Sec. 3.2)."""
        return (self.beta ** 2 - self.omega.pow(2).sum(1) - self.b ** 2).detach()


@torch.no_grad()
def ntk_gram(model: OneHiddenLayer, x1: torch.Tensor, x2: torch.Tensor | None = None, *,
             neuron_chunk: int = 2048, row_blocks: int = 8) -> torch.Tensor:
    """The NTK Gram matrix Theta(x1_i, x2_j) = grad_W f(x1_i) . grad_W f(x2_j) of Eq. (1), in closed form:

    Theta = [sigma(Z1) sigma(Z2)^T + (sigma'(Z1) beta)(sigma'(Z2) beta)^T * (x1 x2^T / d + 1)] / h^2,

    the three terms being the gradients w.r.t. beta, omega and b (``*`` elementwise, beta multiplying columns).
    Neurons are summed ``neuron_chunk`` at a time (memory O(p x neuron_chunk + p^2), so p = 10^4 fits); with
    ``x2=None`` the matrix is symmetric and only the blocks on and below the diagonal of a ``row_blocks`` x
    ``row_blocks`` partition are multiplied, (1 + 1/row_blocks)/2 of the work."""
    symmetric = x2 is None
    x2 = x1 if symmetric else x2
    p1, p2 = len(x1), len(x2)
    act = x1.new_zeros(p1, p2)  # sigma(Z1) sigma(Z2)^T
    slope = x1.new_zeros(p1, p2)  # (sigma'(Z1) beta)(sigma'(Z2) beta)^T
    edges = [round(p1 * k / row_blocks) for k in range(row_blocks + 1)] if symmetric else [0, p1]
    for n0 in range(0, model.h, neuron_chunk):
        s1, g1 = _neuron_features(model, x1, slice(n0, n0 + neuron_chunk))
        s2, g2 = (s1, g1) if symmetric else _neuron_features(model, x2, slice(n0, n0 + neuron_chunk))
        for i0, i1 in zip(edges[:-1], edges[1:]):
            cols = slice(0, i1) if symmetric else slice(0, p2)
            act[i0:i1, cols] += s1[i0:i1] @ s2[cols].T
            slope[i0:i1, cols] += g1[i0:i1] @ g2[cols].T
    act += slope.mul_(x1 @ x2.T / model.d + 1)
    act /= model.h ** 2
    return _mirror_lower_(act) if symmetric else act


def _neuron_features(model: OneHiddenLayer, x: torch.Tensor, neurons: slice) -> tuple[torch.Tensor, torch.Tensor]:
    """sigma(z) and sigma'(z) beta for the given neurons: the beta- and (omega, b)-gradients up to the input factor."""
    if x.ndim != 2 or x.shape[1] != model.d:
        raise ValueError(f"inputs must have shape (p, {model.d}), got {tuple(x.shape)}")
    z = x @ model.omega[neurons].T / math.sqrt(model.d) + model.b[neurons]
    return SQRT2 * torch.relu(z), SQRT2 * (z > 0).to(z.dtype) * model.beta[neurons]


def _mirror_lower_(m: torch.Tensor) -> torch.Tensor:
    """Overwrite the strict upper triangle of ``m`` with its lower triangle (in place; one temporary copy)."""
    m.tril_()
    m += m.tril(-1).T
    return m


def neuron_vectors(model: OneHiddenLayer) -> torch.Tensor:
    """z_n = -sqrt(d) b_n omega_n / ||omega_n||^2 (Sec. 2.4): where each neuron's hyperplane is closest to 0."""
    w = model.omega.detach()
    return -math.sqrt(model.d) * model.b.detach()[:, None] * w / w.pow(2).sum(1, keepdim=True)


def amplification(model: OneHiddenLayer, d_par: int = 1) -> float:
    """The global amplification factor, Eq. (9) generalised to d_par informative directions:
    Lambda^2 = (d_perp / d_par) sum_n ||omega_n,par||^2 / sum_n ||omega_n,perp||^2, so that Lambda = 1 on average at
    initialisation (Eq. 9 is d_par = 1)."""
    w = model.omega.detach()
    d_perp = model.d - d_par
    return math.sqrt(d_perp / d_par * float(w[:, :d_par].pow(2).sum()) / float(w[:, d_par:].pow(2).sum()))
