"""Architectures used across the book, adapted to small inputs (8..64 px) with 1 or 3 channels.

torchvision's ResNet, VGG and EfficientNet are built unchanged and then adapted the way the CIFAR literature does:

- ResNet: the 7x7 stride-2 stem becomes a 3x3 stride-1 convolution and the stem max-pool is removed.
- VGG: every max-pool uses ``ceil_mode=True`` (so 28 px survives five halvings: 28-14-7-4-2-1) and the adaptive
  pool before the classifier goes to 1x1, so the first classifier layer reads 512 features instead of 512*7*7.
- EfficientNet-B0: the stem convolution has stride 1.

Inputs of more than 64 px keep torchvision's stems. The number of input channels is set on the first convolution.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torchvision import models as tvm

SMALL_INPUT = 64  # inputs up to this size get the small-input stems


def _first_conv(conv: nn.Conv2d, in_channels: int, kernel: int, stride: int, padding: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, conv.out_channels, kernel_size=kernel, stride=stride, padding=padding,
                     bias=conv.bias is not None)


def resnet(depth: int, num_classes: int, in_channels: int = 3, input_size: int = 32) -> nn.Module:
    """torchvision ResNet-18/34/50 with a small-input stem."""
    builders = {18: tvm.resnet18, 34: tvm.resnet34, 50: tvm.resnet50}
    if depth not in builders:
        raise ValueError(f"ResNet depth must be one of {sorted(builders)}, not {depth}")
    net = builders[depth](weights=None, num_classes=num_classes)
    if input_size <= SMALL_INPUT:
        net.conv1 = _first_conv(net.conv1, in_channels, 3, 1, 1)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = _first_conv(net.conv1, in_channels, 7, 2, 3)
    return net


def vgg(depth: int, num_classes: int, in_channels: int = 3, input_size: int = 32, batch_norm: bool = False) -> nn.Module:
    """torchvision VGG-11/13/16/19 (optionally with BatchNorm) adapted to small inputs."""
    name = f"vgg{depth}{'_bn' if batch_norm else ''}"
    if depth not in (11, 13, 16, 19):
        raise ValueError(f"VGG depth must be 11, 13, 16 or 19, not {depth}")
    net = getattr(tvm, name)(weights=None, num_classes=num_classes)
    first = net.features[0]
    net.features[0] = _first_conv(first, in_channels, 3, 1, 1)
    if input_size <= SMALL_INPUT:
        for i, layer in enumerate(net.features):
            if isinstance(layer, nn.MaxPool2d):
                net.features[i] = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)
        net.avgpool = nn.AdaptiveAvgPool2d(1)
        old = net.classifier[0]
        net.classifier[0] = nn.Linear(512, old.out_features)
    return net


def efficientnet_b0(num_classes: int, in_channels: int = 3, input_size: int = 32) -> nn.Module:
    """torchvision EfficientNet-B0 with a stride-1 stem for small inputs."""
    net = tvm.efficientnet_b0(weights=None, num_classes=num_classes)
    stem = net.features[0][0]
    stride = 1 if input_size <= SMALL_INPUT else 2
    net.features[0][0] = _first_conv(stem, in_channels, 3, stride, 1)
    return net


class LeNet(nn.Module):
    """LeNet-5 (LeCun et al. 1998) with ReLU and max-pooling: conv6-pool-conv16-pool-fc120-fc84-fc.

    28 px inputs are padded by 2 in the first convolution so the feature map is 16x5x5 as with the 32 px original.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28):
        super().__init__()
        pad = 2 if input_size == 28 else 0
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=pad), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        with torch.no_grad():
            n_flat = self.features(torch.zeros(1, in_channels, input_size, input_size)).shape[1]
        self.classifier = nn.Sequential(nn.Linear(n_flat, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class FCNet(nn.Module):
    """A fully connected ReLU network on flattened inputs: ``in_dim -> widths[0] -> ... -> num_classes``."""

    def __init__(self, in_dim: int, widths: tuple[int, ...], num_classes: int, bias: bool = True):
        super().__init__()
        dims = (in_dim, *widths)
        layers: list[nn.Module] = [nn.Flatten()]
        for a, b in zip(dims[:-1], dims[1:]):
            layers += [nn.Linear(a, b, bias=bias), nn.ReLU()]
        layers.append(nn.Linear(dims[-1], num_classes, bias=bias))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "resnet18": lambda **kw: resnet(18, **kw),
    "resnet34": lambda **kw: resnet(34, **kw),
    "resnet50": lambda **kw: resnet(50, **kw),
    "vgg13": lambda **kw: vgg(13, **kw),
    "vgg16": lambda **kw: vgg(16, **kw),
    "vgg19": lambda **kw: vgg(19, **kw),
    "vgg16_bn": lambda **kw: vgg(16, batch_norm=True, **kw),
    "efficientnet_b0": efficientnet_b0,
    "lenet": LeNet,
}


def build_model(name: str, num_classes: int, in_channels: int, input_size: int, seed: int | None = None,
                **kwargs) -> nn.Module:
    """Build a registered architecture (``fc`` takes ``widths=(...)``); ``seed`` fixes the initialisation."""
    if seed is not None:
        torch.manual_seed(seed)
    if name == "fc":
        return FCNet(in_channels * input_size * input_size, tuple(kwargs.pop("widths", (64, 64, 64, 64))),
                     num_classes, **kwargs)
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join([*BUILDERS, 'fc'])}")
    return BUILDERS[name](num_classes=num_classes, in_channels=in_channels, input_size=input_size, **kwargs)


def last_linear(model: nn.Module) -> nn.Linear:
    """The final ``nn.Linear`` of a model (its classification head)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer")
    return linears[-1]


@torch.no_grad()
def extract_features(model: nn.Module, x: torch.Tensor, layer: nn.Module | None = None, *, output: bool = False,
                     batch_size: int = 512) -> torch.Tensor:
    """Activations of ``layer`` for every input, flattened to (N, features).

    By default the *input* of the final linear layer: the penultimate-layer representation. With ``output=True`` the
    layer's output is taken instead (e.g. a pre-ReLU linear layer). Runs in eval mode on the model's device, in
    batches; returns a CPU tensor.
    """
    layer = layer if layer is not None else last_linear(model)
    device = next(model.parameters()).device
    captured: list[torch.Tensor] = []

    def hook(module, inputs, out):
        captured.append((out if output else inputs[0]).detach().flatten(1).float().cpu())

    handle = layer.register_forward_hook(hook)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(x), batch_size):
            model(x[start:start + batch_size].to(device))
    finally:
        handle.remove()
        model.train(was_training)
    return torch.cat(captured)
