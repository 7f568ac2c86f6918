"""The MnasNet-like CNN of Paccolat et al. (2021), Sec. 5.2 and Figs. 8-10: MnasNet (Tan et al. 2019) without
BatchNorm, in the NTK parametrisation, with one scalar output.

As the released ``feature_lazy/arch/mnas.py`` (``MnasNetLike(d, h)``, two stages of two blocks), for a channel scale
``h``:

- stem: 5x5 convolution, stride 2, to 4h channels, swish;
- a depthwise-separable block: 5x5 depthwise convolution, swish, 1x1 to 2h channels, swish;
- two stages of two inverted-residual blocks (1x1 expansion x3, swish, 5x5 depthwise, swish, 1x1 linear
  projection), the first of each stage with stride 2, to h then 3h channels; a block that keeps its shape adds its
  input as (x + r) / sqrt(2);
- 1x1 head to 20h channels, swish, global average pooling, a linear readout with a bias.

That is 16 convolutions. Every weight is N(0, 1) and divided by sqrt(fan_in) in the forward pass (the NTK
parametrisation), convolutions have no bias, the readout's bias starts at 0, and the activation is swish scaled by
1.6768 so that E[act(z)^2] = 1 for z ~ N(0, 1).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SWISH_SCALE = 1.6768  # 1 / sqrt(E[silu(z)^2]) for z ~ N(0, 1)


def swish(x: torch.Tensor) -> torch.Tensor:
    """x sigmoid(x), normalised to unit second moment on standard Gaussian inputs."""
    return SWISH_SCALE * F.silu(x)


class NTKConv2d(nn.Module):
    """A bias-free 2-D convolution whose N(0, 1) weight is divided by sqrt(fan_in) when applied."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int = 1, groups: int = 1, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels // groups, kernel, kernel,
                                               generator=generator))
        self.stride, self.padding, self.groups = stride, kernel // 2, groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fan_in = self.weight[0].numel()
        return F.conv2d(x, self.weight / math.sqrt(fan_in), None, self.stride, self.padding, 1, self.groups)


class InvertedResidual(nn.Module):
    """1x1 expansion, depthwise k x k (with the stride), 1x1 linear projection; (x + r)/sqrt(2) when shapes match."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: float = 3.0, kernel: int = 5, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        mid = round(in_channels * expansion)
        self.expand = NTKConv2d(in_channels, mid, 1, generator=generator)
        self.depthwise = NTKConv2d(mid, mid, kernel, stride, groups=mid, generator=generator)
        self.project = NTKConv2d(mid, out_channels, 1, generator=generator)
        self.residual = in_channels == out_channels and stride == 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.project(swish(self.depthwise(swish(self.expand(x)))))
        return (x + r) / math.sqrt(2.0) if self.residual else r


class MnasNetLike(nn.Module):
    """f(x) for images (N, in_channels, H, W): one real output per image (shape (N,))."""

    def __init__(self, h: int = 10, in_channels: int = 1, stages: int = 2, blocks: int = 2, *,
                 generator: torch.Generator | None = None):
        super().__init__()
        if h < 1:
            raise ValueError(f"the channel scale h must be >= 1, got {h}")
        g = {"generator": generator}
        self.stem = NTKConv2d(in_channels, 4 * h, 5, stride=2, **g)
        self.separable = nn.ModuleList([NTKConv2d(4 * h, 4 * h, 5, groups=4 * h, **g), NTKConv2d(4 * h, 2 * h, 1, **g)])
        layers, channels = [], 2 * h
        for stage in range(stages):
            out = (2 * stage + 1) * h
            layers += [InvertedResidual(channels, out, stride=2, **g)]
            layers += [InvertedResidual(out, out, stride=1, **g) for _ in range(blocks - 1)]
            channels = out
        self.blocks = nn.Sequential(*layers)
        self.head = NTKConv2d(channels, 20 * h, 1, **g)
        self.readout = nn.Parameter(torch.randn(20 * h, generator=generator))
        self.bias = nn.Parameter(torch.zeros(()))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer: pooled post-activations of the head, (N, 20h)."""
        x = swish(self.stem(x))
        for conv in self.separable:
            x = swish(conv(x))
        return swish(self.head(self.blocks(x))).mean((2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x) @ self.readout / math.sqrt(self.readout.numel()) + self.bias
