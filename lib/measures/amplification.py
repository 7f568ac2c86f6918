"""Compression of invariant directions by the one-hidden-layer network (Paccolat et al. 2021, Sec. 2.4 and Eq. 9).

Its first layer carries the compression the paper measures: neuron vectors z_n = -sqrt(d) b_n omega_n /
||omega_n||^2 (the point of the ReLU hyperplane closest to the origin) and the global amplification factor Lambda.
"""

from __future__ import annotations

import math

import torch

from lib.nets.one_hidden_layer import OneHiddenLayer


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
