"""MNIST parity, the real-data task of Paccolat et al. (2021), Sec. 5.2: label +1 for an even digit, -1 for an odd one.

As in the released code (``feature_lazy``, ``get_normalized_dataset``): every image on disk is pooled (train and test
merged; :func:`lib.data.registry.image_pool`), centred by the pool's mean image and rescaled so that each image has norm
sqrt(H W) = 28. The training, kernel-training and test sets are disjoint and balanced over the ten digits.
"""

from __future__ import annotations

import math

import torch

from lib.data.registry import balanced_indices, image_pool


def parity_labels(digits: torch.Tensor) -> torch.Tensor:
    """+1 for even digits, -1 for odd ones (float64)."""
    return 1.0 - 2.0 * (digits % 2).to(torch.float64)


def normalise_images(x: torch.Tensor) -> torch.Tensor:
    """Centre by the mean image, then rescale each image to norm sqrt(number of pixels), in float64."""
    x = x.to(torch.float64)
    x = x - x.mean(0)
    pixels = x[0].numel()
    return x * (math.sqrt(pixels) / x.flatten(1).norm(dim=1)).view(-1, *[1] * (x.ndim - 1))


def parity_sets(sizes: tuple[int, ...], *, seed: int, root: str | None = None, dataset: str = "mnist",
                ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Disjoint (images, parity labels) sets of the given sizes, drawn balanced over digits with ``seed`` from the
    whole normalised pool of ``dataset`` (images (n, 1, 28, 28) float64, labels (n,) in {-1, +1})."""
    x, digits = image_pool(dataset, root)
    total = sum(sizes)
    if total > len(x):
        raise ValueError(f"{total} images asked ({' + '.join(map(str, sizes))}) but the {dataset} pool under the "
                         f"data root holds {len(x)}; lower p / n_test or add the training split to the data root")
    x = normalise_images(x)
    order = torch.from_numpy(balanced_indices(digits.numpy(), n=total, seed=seed))
    y = parity_labels(digits)
    bounds = [0, *torch.tensor(sizes).cumsum(0).tolist()]
    return [(x[order[a:b]], y[order[a:b]]) for a, b in zip(bounds[:-1], bounds[1:])]
