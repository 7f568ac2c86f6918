"""Representation learning objectives compared by van der Merwe et al. (2022), and a trainer for encoders.

Five methods (Sec. 3): cross-entropy (the representation is the layer before the classifier), SimCLR's NT-Xent
(Chen et al. 2020), triplet loss with labels as positives (Triplet-Supervised), triplet loss with augmented views as
positives (Triplet-SS) and triplet + cross-entropy (Triplet-Entropy). The losses follow the authors' code, which uses
pytorch-metric-learning: embeddings L2-normalised, NT-Xent temperature 0.07, triplet margin 0.5 on Euclidean
distances with a semi-hard miner (0 < d_an - d_ap <= margin) and the mean over the non-zero triplet losses.

Views are random rotations (+-15 degrees) followed by a random perspective (distortion 0.5, probability 0.8), the
authors' MNIST augmentations, made for a whole batch by one ``grid_sample`` with one homography per image.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lib.pipeline.checks import as_labels
from lib.pipeline.device import pick_device
from lib.pipeline.widgets import progress_bar
from lib.training.supervised import make_optimizer

METHODS = ("cross_entropy", "nt_xent", "triplet_supervised", "triplet_ss", "triplet_entropy")
TITLES = {"cross_entropy": "Cross-Entropy", "nt_xent": "NT-Xent", "triplet_supervised": "Triplet-Supervised",
          "triplet_ss": "Triplet-SS", "triplet_entropy": "Triplet-Entropy"}
SELF_SUPERVISED = ("nt_xent", "triplet_ss")
WITH_HEAD = ("cross_entropy", "triplet_entropy")


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {METHODS}")


# ------------------------------------------------------------------------------------------------------ losses
def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.07) -> torch.Tensor:
    """SimCLR's NT-Xent: for each of the 2B embeddings, cross-entropy of its partner view against all 2B - 1 others,
    with cosine similarities divided by ``temperature``; the mean over the 2B anchors."""
    if z1.shape != z2.shape:
        raise ValueError(f"the two views must have equal shapes, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim = sim.masked_fill(torch.eye(len(z), dtype=torch.bool, device=z.device), float("-inf"))
    b = len(z1)
    partner = torch.cat([torch.arange(b, 2 * b), torch.arange(b)]).to(z.device)
    return F.cross_entropy(sim, partner)


def triplet_semihard(emb: torch.Tensor, labels: torch.Tensor, margin: float = 0.5) -> torch.Tensor:
    """Triplet margin loss over every semi-hard triplet of a batch (Schroff et al. 2015; pytorch-metric-learning's
    ``TripletMarginMiner(type_of_triplets="semihard")`` + ``TripletMarginLoss``).

    On L2-normalised embeddings with Euclidean distances, triplets (a, p, n) with y_a = y_p, a != p, y_n != y_a and
    0 < d_an - d_ap <= margin contribute relu(d_ap - d_an + margin); the loss is the mean of the non-zero terms
    (0 when there are none).

    ``emb``: (B, E) float embeddings; ``labels``: (B,) or (B, 1) integer labels. Raises ValueError for other
    shapes or a length mismatch.
    """
    if emb.ndim != 2:
        raise ValueError(f"emb must be embeddings of shape (B, E), got {tuple(emb.shape)}")
    labels = as_labels(labels, len(emb), name="labels").to(emb.device)
    z = F.normalize(emb, dim=1)
    d = torch.cdist(z, z)
    same = labels[:, None] == labels[None, :]
    a, p = (same & ~torch.eye(len(z), dtype=torch.bool, device=z.device)).nonzero(as_tuple=True)
    gap = d[a] - d[a, p][:, None]  # gap[k, n] = d(a_k, n) - d(a_k, p_k), one row per positive pair
    mask = ~same[a] & (gap > 0) & (gap <= margin)
    losses = (margin - gap)[mask]
    losses = losses[losses > 0]
    return losses.mean() if len(losses) else emb.sum() * 0.0


def method_loss(method: str, encoder: nn.Module, x: torch.Tensor, y: torch.Tensor | None,
                view: torch.Tensor | None = None) -> torch.Tensor:
    """The training loss of ``method`` on a batch ``x`` (labels ``y``; a second view ``view`` of the same images
    for the self-supervised methods). The same function is the PGD loss (App. A): the gradient is taken w.r.t.
    ``x``, the anchor, with the view held fixed."""
    _check_method(method)
    if method in SELF_SUPERVISED:
        if view is None:
            raise ValueError(f"{method} needs a second view of the batch")
        za, zb = encoder(x), encoder(view)
        if method == "nt_xent":
            return nt_xent(zb, za)
        ids = torch.arange(len(x), device=x.device)
        return triplet_semihard(torch.cat([zb, za]), torch.cat([ids, ids]))
    if y is None:
        raise ValueError(f"{method} needs labels")
    if method == "triplet_supervised":
        return triplet_semihard(encoder(x), y)
    emb, logits = encoder.embed_and_logits(x)
    loss = F.cross_entropy(logits, y)
    return loss + triplet_semihard(emb, y) if method == "triplet_entropy" else loss


# ------------------------------------------------------------------------------------------------------- views
def _homographies(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """3 x 3 matrices H (batched) with H [dst_k, 1] ~ [src_k, 1] for the four point pairs of each row."""
    u, v = dst[..., 0], dst[..., 1]
    sx, sy = src[..., 0], src[..., 1]
    one, zero = torch.ones_like(u), torch.zeros_like(u)
    rows_x = torch.stack([u, v, one, zero, zero, zero, -u * sx, -v * sx], -1)
    rows_y = torch.stack([zero, zero, zero, u, v, one, -u * sy, -v * sy], -1)
    A = torch.cat([rows_x, rows_y], 1)
    h = torch.linalg.solve(A, torch.cat([sx, sy], 1))
    return torch.cat([h, torch.ones_like(h[:, :1])], 1).view(-1, 3, 3)


def random_views(x: torch.Tensor, generator: torch.Generator, *, degrees: float = 15.0, distortion: float = 0.5,
                 p: float = 0.8) -> torch.Tensor:
    """Randomly rotated (uniform in +-``degrees``) then, with probability ``p``, perspective-distorted images: each
    corner moves inwards by up to ``distortion`` x half the side (torchvision's ``RandomPerspective``). One sampling
    grid per image, all images in one ``grid_sample`` (bilinear, zeros outside)."""
    n, dev = len(x), x.device
    g = lambda *shape: torch.rand(*shape, generator=generator, device=generator.device).to(dev)  # noqa: E731
    corners = torch.tensor([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]], device=dev)
    inward = -corners.sign() * distortion * g(n, 4, 2) * (g(n, 1, 1) < p)
    persp = _homographies(corners.expand(n, 4, 2), corners + inward)  # output -> rotated image
    angle = (2 * g(n) - 1) * math.radians(degrees)
    c, s, zero, one = angle.cos(), angle.sin(), torch.zeros(n, device=dev), torch.ones(n, device=dev)
    rot = torch.stack([c, -s, zero, s, c, zero, zero, zero, one], 1).view(n, 3, 3)  # rotated image -> input
    h, w = x.shape[-2:]
    ys, xs = torch.meshgrid(torch.linspace(-1 + 1 / h, 1 - 1 / h, h, device=dev),
                            torch.linspace(-1 + 1 / w, 1 - 1 / w, w, device=dev), indexing="ij")
    grid = torch.stack([xs, ys, torch.ones_like(xs)], -1).view(1, -1, 3)
    src = grid @ (rot @ persp).transpose(1, 2)
    src = (src[..., :2] / src[..., 2:]).view(n, h, w, 2)
    return F.grid_sample(x, src.to(x.dtype), mode="bilinear", padding_mode="zeros", align_corners=False)


# ----------------------------------------------------------------------------------------------------- trainer
def train_encoder(encoder: nn.Module, method: str, x: torch.Tensor, y: torch.Tensor, *, epochs: int,
                  optimizer: str = "adam", lr: float = 1e-3, batch_size: int = 64, accumulate: int = 1,
                  device: str | torch.device = "auto", seed: int = 0, progress: bool = True) -> list[float]:
    """Train ``encoder`` in place with ``method``; returns the mean training loss of each epoch.

    Every batch is augmented (:func:`random_views`): one view for the supervised methods, two independent views for
    the self-supervised ones. ``optimizer``: ``"adam"`` or ``"sgd"`` (SGD uses Nesterov momentum 0.9, as the
    authors); gradients are accumulated over ``accumulate`` batches (the authors: batch 64, 8 batches).
    """
    _check_method(method)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
    device = pick_device(device)
    encoder.to(device).train()
    x, y = x.to(device), y.to(device)
    opt = make_optimizer(optimizer, encoder.parameters(), lr, momentum=0.9, nesterov=optimizer == "sgd")
    gen = torch.Generator().manual_seed(seed)
    aug = torch.Generator(device).manual_seed(seed + 1)
    losses = []
    for _ in progress_bar(range(epochs), desc=f"train {method}", disable=not progress, leave=False):
        total, batches = 0.0, torch.randperm(len(x), generator=gen).split(batch_size)
        opt.zero_grad(set_to_none=True)
        for i, idx in enumerate(batches):
            idx = idx.to(device)
            xb = random_views(x[idx], aug)
            view = random_views(x[idx], aug) if method in SELF_SUPERVISED else None
            loss = method_loss(method, encoder, xb, y[idx], view)
            (loss / accumulate).backward()
            if (i + 1) % accumulate == 0 or i + 1 == len(batches):
                opt.step()
                opt.zero_grad(set_to_none=True)
            total += float(loss.detach())
        losses.append(total / len(batches))
    encoder.eval()
    return losses
