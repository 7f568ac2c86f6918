"""Training of the variational autoencoder of :mod:`lib.nets.vae` (Kingma & Welling 2014): Adam on the ELBO."""

from __future__ import annotations

import torch

from lib.nets.vae import VAE


def train_vae(x: torch.Tensor, *, latent: int = 8, hidden: int = 400, epochs: int = 20, batch_size: int = 128,
              lr: float = 1e-3, seed: int = 0) -> tuple[VAE, list[float]]:
    """Train a :class:`~lib.nets.vae.VAE` on images ``x`` in [0, 1] with Adam; return it (in eval mode) and the loss per epoch."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    vae = VAE(x[0].numel(), latent, hidden)
    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        total = 0.0
        for idx in torch.randperm(len(x), generator=g).split(batch_size):
            loss = vae.loss(x[idx], g)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(x))
    return vae.eval(), losses
