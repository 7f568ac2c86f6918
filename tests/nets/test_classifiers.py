"""Architectures build for small 1- and 3-channel inputs; features are the penultimate activations."""

from __future__ import annotations

import pytest
import torch

from lib.nets.classifiers import FCNet, LeNet, build_model, extract_features, last_linear


@pytest.mark.parametrize("name", ["resnet18", "resnet34", "resnet50", "vgg11", "vgg11_bn", "vgg13", "vgg16", "vgg19",
                                  "vgg16_bn", "alexnet", "efficientnet_b0", "lenet", "fc"])
@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32)])
def test_models_build_and_run_on_small_inputs(name, channels, size):
    model = build_model(name, num_classes=7, in_channels=channels, input_size=size, seed=0).eval()
    with torch.no_grad():
        out = model(torch.rand(2, channels, size, size))
    assert out.shape == (2, 7) and torch.isfinite(out).all()


def test_small_input_stems():
    r = build_model("resnet18", 10, 1, 28)
    assert r.conv1.kernel_size == (3, 3) and r.conv1.stride == (1, 1) and r.conv1.in_channels == 1
    assert isinstance(r.maxpool, torch.nn.Identity)
    big = build_model("resnet18", 10, 3, 224)
    assert big.conv1.kernel_size == (7, 7) and big.conv1.stride == (2, 2)
    v = build_model("vgg16", 10, 3, 28)
    assert v.classifier[0].in_features == 512  # 28 px: 28-14-7-4-2-1 with ceil-mode pooling


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "vgg11_bn", "alexnet", "efficientnet_b0"])
@pytest.mark.parametrize("size", [28, 96])
def test_width_multiplier_scales_parameters(name, size):
    full = build_model(name, 10, 1, size, seed=0)
    quarter = build_model(name, 10, 1, size, seed=0, width=0.25)
    n_full, n_quarter = (sum(p.numel() for p in m.parameters()) for m in (full, quarter))
    assert n_quarter < 0.2 * n_full  # conv weights scale as width^2
    with torch.no_grad():
        assert quarter.eval()(torch.rand(2, 1, size, size)).shape == (2, 10)
    if name == "resnet18":
        assert quarter.layer1[0].conv1.out_channels == 16 and quarter.fc.in_features == 128


def test_seed_fixes_the_initialisation():
    a, b = build_model("lenet", 10, 1, 28, seed=4), build_model("lenet", 10, 1, 28, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_penultimate_features_equal_a_manual_forward():
    torch.manual_seed(0)
    net = FCNet(12, (9, 5), 3)
    x = torch.randn(40, 12)
    manual = x
    for layer in list(net.net)[1:-1]:  # skip Flatten, stop before the last Linear
        manual = layer(manual)
    feats = extract_features(net, x, batch_size=7)
    assert feats.shape == (40, 5) and torch.allclose(feats, manual, atol=1e-6)
    pre = extract_features(net, x, layer=net.net[3], output=True)  # the second Linear, before its ReLU
    assert torch.allclose(torch.relu(pre), manual, atol=1e-6)


def test_lenet_penultimate_is_84_wide_and_last_linear_is_the_head():
    net = LeNet(10, 1, 28)
    assert last_linear(net) is net.classifier[-1]
    assert extract_features(net, torch.rand(3, 1, 28, 28)).shape == (3, 84)


def test_unknown_model_lists_known_ones():
    with pytest.raises(ValueError, match="known: .*resnet18"):
        build_model("alexnet5", 10, 1, 28)
