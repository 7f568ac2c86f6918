"""Architectures used across the book, adapted to small inputs (8..64 px) with 1 or 3 channels.

torchvision's ResNet, VGG, AlexNet and EfficientNet are built and then adapted the way the CIFAR literature does:

- ResNet: the 7x7 stride-2 stem becomes a 3x3 stride-1 convolution and the stem max-pool is removed.
- VGG: every max-pool uses ``ceil_mode=True`` (so 28 px survives five halvings: 28-14-7-4-2-1) and the adaptive
  pool before the classifier goes to 1x1, so the first classifier layer reads 512 features instead of 512*7*7.
- AlexNet: a 5x5 stride-1 first convolution and a 1x1 adaptive pool before the classifier.
- EfficientNet-B0: the stem convolution has stride 1.

A channel multiplier ``width`` (1 = torchvision) gives narrow versions of the same architectures, which is how the
CPU profiles afford a model zoo; each chapter states the width it used.

Inputs of more than 64 px keep torchvision's stems. The number of input channels is set on the first convolution.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import torch
from torch import nn
from torchvision import models as tvm
from torchvision.models.efficientnet import _efficientnet_conf

SMALL_INPUT = 64  # inputs up to this size get the small-input stems


def _first_conv(conv: nn.Conv2d, in_channels: int, kernel: int, stride: int, padding: int) -> nn.Conv2d:
    return nn.Conv2d(in_channels, conv.out_channels, kernel_size=kernel, stride=stride, padding=padding,
                     bias=conv.bias is not None)


def _channels(c: int, width: float) -> int:
    return max(1, round(c * width))


def _init_like_torchvision(net: nn.Module) -> None:
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def resnet(depth: int, num_classes: int, in_channels: int = 3, input_size: int = 32, width: float = 1.0) -> nn.Module:
    """torchvision ResNet-18/34/50 with a small-input stem; ``width`` scales every channel count (1 = 64 at the stem)."""
    builders = {18: tvm.resnet18, 34: tvm.resnet34, 50: tvm.resnet50}
    if depth not in builders:
        raise ValueError(f"ResNet depth must be one of {sorted(builders)}, not {depth}")
    net = builders[depth](weights=None, num_classes=num_classes)
    if width != 1.0:  # rebuild the stages with torchvision's own _make_layer at the new base width
        block, base = type(net.layer1[0]), _channels(64, width)
        depths = [len(getattr(net, f"layer{i}")) for i in range(1, 5)]
        net.inplanes = base
        net.conv1, net.bn1 = nn.Conv2d(3, base, 7, 2, 3, bias=False), nn.BatchNorm2d(base)
        for i, n in enumerate(depths):
            setattr(net, f"layer{i + 1}", net._make_layer(block, base * 2 ** i, n, stride=1 if i == 0 else 2))
        net.fc = nn.Linear(base * 8 * block.expansion, num_classes)
        _init_like_torchvision(net)
    if input_size <= SMALL_INPUT:
        net.conv1 = _first_conv(net.conv1, in_channels, 3, 1, 1)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = _first_conv(net.conv1, in_channels, 7, 2, 3)
    return net


VGG_CONFIGS = {11: "A", 13: "B", 16: "D", 19: "E"}


def vgg(depth: int, num_classes: int, in_channels: int = 3, input_size: int = 32, batch_norm: bool = False,
        width: float = 1.0) -> nn.Module:
    """torchvision VGG-11/13/16/19 (optionally with BatchNorm) adapted to small inputs; ``width`` scales the channels
    and the classifier's hidden width (4096 at width 1)."""
    if depth not in VGG_CONFIGS:
        raise ValueError(f"VGG depth must be one of {sorted(VGG_CONFIGS)}, not {depth}")
    cfg = [v if v == "M" else _channels(v, width) for v in tvm.vgg.cfgs[VGG_CONFIGS[depth]]]
    net = tvm.VGG(tvm.vgg.make_layers(cfg, batch_norm=batch_norm), num_classes=num_classes)
    first = net.features[0]
    net.features[0] = _first_conv(first, in_channels, 3, 1, 1)
    small = input_size <= SMALL_INPUT
    if small:
        for i, layer in enumerate(net.features):
            if isinstance(layer, nn.MaxPool2d):
                net.features[i] = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)
        net.avgpool = nn.AdaptiveAvgPool2d(1)
    hidden = _channels(4096, width)
    net.classifier = nn.Sequential(
        nn.Linear(cfg[-2] * (1 if small else 49), hidden), nn.ReLU(True), nn.Dropout(),
        nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(), nn.Linear(hidden, num_classes))
    for m in net.classifier:
        if isinstance(m, nn.Linear):  # torchvision's VGG initialisation
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)
    return net


def alexnet(num_classes: int, in_channels: int = 3, input_size: int = 32, width: float = 1.0) -> nn.Module:
    """torchvision AlexNet (five convolutions, three linear layers); small inputs get a 5x5 stride-1 stem and a 1x1
    adaptive pool, so the first linear layer reads 256 features; ``width`` scales every channel and hidden width."""
    net = tvm.alexnet(weights=None, num_classes=num_classes)
    if input_size > SMALL_INPUT and width == 1.0:
        net.features[0] = _first_conv(net.features[0], in_channels, 11, 4, 2)
        return net
    ch = [_channels(c, width) for c in (64, 192, 384, 256, 256)]
    hidden = _channels(4096, width)
    small = input_size <= SMALL_INPUT
    net.features = nn.Sequential(
        nn.Conv2d(in_channels, ch[0], 5 if small else 11, 1 if small else 4, 2), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2), nn.Conv2d(ch[0], ch[1], 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        nn.Conv2d(ch[1], ch[2], 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(ch[2], ch[3], 3, padding=1),
        nn.ReLU(inplace=True), nn.Conv2d(ch[3], ch[4], 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2))
    pooled = 1 if small else 6
    net.avgpool = nn.AdaptiveAvgPool2d(pooled)
    net.classifier = nn.Sequential(
        nn.Dropout(0.5), nn.Linear(ch[4] * pooled * pooled, hidden), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, num_classes))
    return net


def efficientnet_b0(num_classes: int, in_channels: int = 3, input_size: int = 32, width: float = 1.0) -> nn.Module:
    """torchvision EfficientNet-B0 with a stride-1 stem for small inputs; ``width`` is its width multiplier."""
    # torchvision's own B0 configuration builder, which exposes the width multiplier (efficientnet_b0 fixes it at 1)
    settings, last_channel = _efficientnet_conf("efficientnet_b0", width_mult=width, depth_mult=1.0)
    net = tvm.EfficientNet(settings, dropout=0.2, last_channel=last_channel, num_classes=num_classes)
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


class LeNetEncoder(nn.Module):
    """The MNIST encoder of van der Merwe et al. (their ``MnistCnnEncoder``): LeNet-5 convolutions with average
    pooling, conv6-pool-conv16-pool, then 256 -> 512 -> 512 -> ``embedding_dim`` (no ReLU on the embedding).

    Inputs are images in [0, 1]; the MNIST normalisation (mean 0.1307, std 0.3081, as the authors' transforms) is the
    first operation, so alterations and attacks act on [0, 1] pixels. With ``num_classes`` a classification head
    Linear(embedding_dim, num_classes) reads ReLU(embedding) (:meth:`embed_and_logits`), as in the authors' code.
    The authors' dropout (0.3) is left out.
    """

    MEAN, STD = 0.1307, 0.3081

    def __init__(self, embedding_dim: int = 128, num_classes: int | None = None, in_channels: int = 1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2),
            nn.Flatten(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
            nn.Linear(512, embedding_dim))
        self.head = nn.Linear(embedding_dim, num_classes) if num_classes else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The embedding of a batch of 28 x 28 images in [0, 1]."""
        if x.shape[-2:] != (28, 28):
            raise ValueError(f"LeNetEncoder takes 28 x 28 images, got {tuple(x.shape[-2:])}; resize first")
        return self.features((x - self.MEAN) / self.STD)

    def embed_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(embedding, class logits) of a batch; needs ``num_classes``."""
        if self.head is None:
            raise ValueError("this encoder has no classification head; build it with num_classes")
        emb = self(x)
        return emb, self.head(torch.relu(emb))


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
    "vgg11": lambda **kw: vgg(11, **kw),
    "vgg11_bn": lambda **kw: vgg(11, batch_norm=True, **kw),
    "vgg13": lambda **kw: vgg(13, **kw),
    "vgg16": lambda **kw: vgg(16, **kw),
    "vgg19": lambda **kw: vgg(19, **kw),
    "vgg16_bn": lambda **kw: vgg(16, batch_norm=True, **kw),
    "vgg19_bn": lambda **kw: vgg(19, batch_norm=True, **kw),
    "alexnet": alexnet,
    "efficientnet_b0": efficientnet_b0,
    "lenet": LeNet,
}


def build_model(name: str, num_classes: int, in_channels: int, input_size: int, seed: int | None = None,
                **kwargs) -> nn.Module:
    """Build a registered architecture; ``seed`` fixes the initialisation.

    ``fc`` takes ``widths=(...)``; the convolutional families (ResNet, VGG, AlexNet, EfficientNet) take a channel
    multiplier ``width`` (1 = torchvision's widths).
    """
    if seed is not None:
        torch.manual_seed(seed)
    if name == "fc":
        return FCNet(in_channels * input_size * input_size, tuple(kwargs.pop("widths", (64, 64, 64, 64))),
                     num_classes, **kwargs)
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join([*BUILDERS, 'fc'])}")
    return BUILDERS[name](num_classes=num_classes, in_channels=in_channels, input_size=input_size, **kwargs)


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's parameters (the CPU for a model without parameters)."""
    return next((p.device for p in model.parameters()), torch.device("cpu"))


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Run a block with ``model`` in eval mode (BatchNorm on running statistics, Dropout off) and restore each
    module's own ``training`` flag afterwards, also on error. Every measurement evaluates networks this way."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for m, mode in modes:
            m.training = mode


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
    device = model_device(model)
    captured: list[torch.Tensor] = []

    def hook(module, inputs, out):
        captured.append((out if output else inputs[0]).detach().flatten(1).float().cpu())

    handle = layer.register_forward_hook(hook)
    try:
        with eval_mode(model):
            for start in range(0, len(x), batch_size):
                model(x[start:start + batch_size].to(device))
    finally:
        handle.remove()
    return torch.cat(captured)
