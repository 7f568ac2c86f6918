"""Synthetic point clouds with a known intrinsic dimension, isometrically embedded in R^D.

Every sampler returns a float64 tensor of shape (n, ambient_dim). The embedding into R^D is a random orthonormal map
(seeded), so distances on the manifold are preserved exactly and only the intrinsic dimension matters to the
estimators of chapter 1.
"""

from __future__ import annotations

import math

import torch


def random_orthonormal(rows: int, cols: int, generator: torch.Generator) -> torch.Tensor:
    """A (rows, cols) matrix with orthonormal rows (rows <= cols), Haar-distributed through a QR decomposition."""
    if rows > cols:
        raise ValueError(f"cannot embed dimension {rows} isometrically in dimension {cols}")
    g = torch.randn(cols, rows, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(g)
    return (q * torch.sign(torch.diagonal(r))).T.contiguous()


def _embed(points: torch.Tensor, ambient_dim: int, generator: torch.Generator) -> torch.Tensor:
    return points @ random_orthonormal(points.shape[1], ambient_dim, generator)


def gaussian_subspace(n: int, intrinsic_dim: int, ambient_dim: int, generator: torch.Generator) -> torch.Tensor:
    """Standard Gaussian in a random ``intrinsic_dim``-dimensional linear subspace of R^ambient_dim."""
    z = torch.randn(n, intrinsic_dim, generator=generator, dtype=torch.float64)
    return _embed(z, ambient_dim, generator)


def hypercube(n: int, intrinsic_dim: int, ambient_dim: int, generator: torch.Generator) -> torch.Tensor:
    """Uniform samples of the unit cube [0, 1]^d, rotated into R^ambient_dim."""
    z = torch.rand(n, intrinsic_dim, generator=generator, dtype=torch.float64)
    return _embed(z, ambient_dim, generator)


def sphere(n: int, intrinsic_dim: int, ambient_dim: int, generator: torch.Generator) -> torch.Tensor:
    """Uniform samples of the unit sphere S^d (a d-manifold in R^(d+1)), rotated into R^ambient_dim."""
    z = torch.randn(n, intrinsic_dim + 1, generator=generator, dtype=torch.float64)
    return _embed(z / z.norm(dim=1, keepdim=True), ambient_dim, generator)


def swiss_roll(n: int, intrinsic_dim: int, ambient_dim: int, generator: torch.Generator) -> torch.Tensor:
    """The swiss roll (a 2-manifold in R^3, as in scikit-learn's ``make_swiss_roll``), rotated into R^ambient_dim."""
    if intrinsic_dim != 2:
        raise ValueError(f"the swiss roll is 2-dimensional; got intrinsic_dim={intrinsic_dim}")
    t = 1.5 * math.pi * (1 + 2 * torch.rand(n, generator=generator, dtype=torch.float64))
    h = 21 * torch.rand(n, generator=generator, dtype=torch.float64)
    return _embed(torch.stack([t * torch.cos(t), h, t * torch.sin(t)], dim=1), ambient_dim, generator)


MANIFOLDS = {"gaussian": gaussian_subspace, "hypercube": hypercube, "sphere": sphere, "swiss_roll": swiss_roll}
