"""The one-hidden-layer ReLU network of Paccolat et al. (2021), Eq. (1), and a seeded draw of it with its data.

f(x) = (1/h) sum_n beta_n sigma(omega_n . x / sqrt(d) + b_n), sigma(u) = sqrt(2) max(0, u), every weight ~ N(0, 1),
in float64. Its NTK in closed form is :func:`lib.measures.ntk.ntk_gram`; the amplification factor Lambda measured
on its first layer is :func:`lib.measures.amplification.amplification`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lib.data.invariant import invariant_data
from lib.pipeline.device import pick_device

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


def draw_problem(params: dict, sizes: tuple[int, ...]) -> tuple[list[tuple[torch.Tensor, torch.Tensor]],
                                                                OneHiddenLayer, OneHiddenLayer, torch.Generator]:
    """From ``params["seed"]``, in this order: data sets of the given sizes, then the network; a frozen copy of it
    at initialisation; all moved to ``params["device"]`` (default CPU). Returns the generator for later draws."""
    g = torch.Generator().manual_seed(params["seed"])
    sets = [invariant_data(params["model"], n, params["d"], generator=g) for n in sizes]
    net = OneHiddenLayer(params["d"], params["h"], generator=g)
    init = OneHiddenLayer(params["d"], params["h"])
    init.load_state_dict(net.state_dict())
    device = pick_device(params.get("device", "cpu"))
    return [(x.to(device), y.to(device)) for x, y in sets], net.to(device), init.to(device), g
