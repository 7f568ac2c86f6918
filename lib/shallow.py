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
def ntk_gram(model: OneHiddenLayer, x1: torch.Tensor, x2: torch.Tensor | None = None) -> torch.Tensor:
    """The NTK Gram matrix Theta(x1_i, x2_j) = grad_W f(x1_i) . grad_W f(x2_j) of Eq. (1), in closed form:

    Theta = [sigma(Z1) sigma(Z2)^T + (sigma'(Z1) beta)(sigma'(Z2) beta)^T * (x1 x2^T / d + 1)] / h^2,

    the three terms being the gradients w.r.t. beta, omega and b (``*`` elementwise, beta multiplying columns).
    """
    x2 = x1 if x2 is None else x2
    z1, z2 = model.preactivation(x1), model.preactivation(x2)
    s1, s2 = SQRT2 * torch.relu(z1), SQRT2 * torch.relu(z2)
    g1, g2 = SQRT2 * (z1 > 0).to(z1.dtype) * model.beta, SQRT2 * (z2 > 0).to(z2.dtype) * model.beta
    return (s1 @ s2.T + (g1 @ g2.T) * (x1 @ x2.T / model.d + 1)) / model.h ** 2


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
