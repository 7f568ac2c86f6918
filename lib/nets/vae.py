"""A small variational autoencoder: a learned map from a low-dimensional latent space onto an image manifold.

Chapter 5 uses its decoder the way Tiwari et al. use StyleGAN: straight lines in the latent space decode to curves
on the image manifold (Kingma & Welling 2014).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class VAE(nn.Module):
    """MLP encoder D -> hidden -> (mu, log var) in R^latent, MLP decoder latent -> hidden -> D with a sigmoid."""

    def __init__(self, dim: int, latent: int = 8, hidden: int = 400):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
        self.dec = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, dim), nn.Sigmoid())
        self.latent = latent

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.enc(x.flatten(1)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(z)

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The negative ELBO per image: Bernoulli reconstruction + KL(q(z|x) || N(0, I))."""
        x = x.flatten(1)
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        recon = self.decode(mu + eps * torch.exp(0.5 * logvar))
        bce = F.binary_cross_entropy(recon, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kl) / len(x)


@torch.no_grad()
def latent_curves(vae: VAE, x_start: torch.Tensor, x_end: torch.Tensor, n_points: int = 100) -> torch.Tensor:
    """Decoded straight latent lines between the encodings (means) of image pairs: (pairs, n_points, D), as the
    paper's x_i = g(((100 - i) z_1 + i z_2) / 100)."""
    z0, _ = vae.encode(x_start)
    z1, _ = vae.encode(x_end)
    w = torch.linspace(0, 1, n_points)[None, :, None]
    z = (1 - w) * z0[:, None] + w * z1[:, None]
    return vae.decode(z.reshape(-1, vae.latent)).reshape(len(z0), n_points, -1)
