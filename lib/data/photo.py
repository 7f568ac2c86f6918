"""A real photograph for demonstrations: the portrait of Grace Hopper that ships with matplotlib's sample data."""

from __future__ import annotations

import matplotlib.cbook as cbook
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F


def demo_photo(size: int = 160) -> torch.Tensor:
    """A (3, size, size) float image in [0, 1]: the centre square of ``grace_hopper.jpg``, resized (antialiased)."""
    image = torch.from_numpy(np.array(plt.imread(cbook.get_sample_data("grace_hopper.jpg")))).float().div(255)
    h, w, _ = image.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = image[top:top + side, left:left + side].permute(2, 0, 1)[None]
    return F.interpolate(square, size=(size, size), mode="bilinear", antialias=True, align_corners=False)[0].clamp(0, 1)
