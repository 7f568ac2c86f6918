"""Jiang et al.'s baseline measures against hand computations on tiny networks."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import norm

from lib.measures.complexity import (inverse_margin, margins, pac_bayes_flatness, pac_bayes_sigma, path_norm,
                                     spectral_norms)
from lib.nets.classifiers import FCNet


def tiny_net() -> FCNet:
    net = FCNet(2, (2,), 2).double()
    with torch.no_grad():
        net.net[1].weight.copy_(torch.tensor([[1.0, -2.0], [0.5, 3.0]]))
        net.net[1].bias.copy_(torch.tensor([1.0, 0.0]))
        net.net[3].weight.copy_(torch.tensor([[2.0, -1.0], [0.0, 1.0]]))
        net.net[3].bias.copy_(torch.tensor([0.5, -1.0]))
    return net


def test_path_norm_by_enumerating_paths():
    net = tiny_net()
    W1, b1 = net.net[1].weight.detach(), net.net[1].bias.detach()
    W2, b2 = net.net[3].weight.detach(), net.net[3].bias.detach()
    paths = sum(float(W2[k, j] ** 2 * W1[j, i] ** 2) for k in range(2) for j in range(2) for i in range(2))
    bias_paths = sum(float(W2[k, j] ** 2 * b1[j] ** 2) for k in range(2) for j in range(2)) + float((b2 ** 2).sum())
    assert path_norm(net) == pytest.approx(paths + bias_paths)  # = 4*5 + 1*(0.25+9) + 1*(0.25+9) ... by hand


def test_spectral_and_frobenius_norms():
    net = tiny_net()
    W1, W2 = net.net[1].weight.detach(), net.net[3].weight.detach()
    s1, s2 = torch.linalg.svdvals(W1)[0].item(), torch.linalg.svdvals(W2)[0].item()
    out = spectral_norms(net)
    assert out["log_prod_spec"] == pytest.approx(math.log(s1 ** 2 * s2 ** 2))
    assert out["log_sum_spec"] == pytest.approx(math.log(2 * math.sqrt(s1 ** 2 * s2 ** 2)))
    assert out["log_prod_fro"] == pytest.approx(math.log(float((W1 ** 2).sum()) * float((W2 ** 2).sum())))


def test_margins_and_the_inverse_margin():
    net = tiny_net()
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0]], dtype=torch.float64)
    # by hand: hidden relu([2, 0.5]), relu([-1, 3]), relu([1, 4]); logits [4, -0.5], [-2.5, 2], [-1.5, 3]
    y = torch.tensor([0, 1, 0])
    assert margins(net, x, y).tolist() == pytest.approx([4.5, 4.5, -4.5])
    assert inverse_margin(net, x, y, percentile=50) == pytest.approx(1 / 4.5 ** 2)
    with pytest.raises(ValueError, match="misclassified"):
        inverse_margin(net, x, y, percentile=10)
    with pytest.raises(ValueError, match="y must have shape"):
        margins(net, x, y[:2])


def test_pac_bayes_sigma_of_a_linear_classifier_matches_the_gaussian_tail():
    """f(x) = w x on 1-D points of one sign: under u ~ N(0, sigma^2 w^2) the sign flips iff 1 + sigma z < 0, so the
    accuracy drops by Phi(-1/sigma) at every point; the search must find Phi(-1/sigma) = 0.1."""
    net = torch.nn.Sequential(torch.nn.Linear(1, 2, bias=False)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [-1.0]]))  # logit margin 2x: class 0 for x > 0
    x = torch.linspace(0.1, 1, 50, dtype=torch.float64)[:, None]
    y = torch.zeros(50, dtype=torch.long)
    # both rows share the draw's sign only through their own noise: the flip happens when w0(1+s z0) < w1(1+s z1)
    sigma = pac_bayes_sigma(net, x, y, deviation=0.1, eps=0.0, samples=4000, steps=20)
    # P[(1 + s z0) + (1 - s z1) < 0] = P[s (z0 - z1) < -2] = Phi(-2 / (s sqrt 2)) = 0.1
    expected = -2 / (math.sqrt(2) * norm.ppf(0.1))
    assert sigma == pytest.approx(expected, rel=0.05)
    assert pac_bayes_flatness(net, x, y, eps=0.0, samples=4000, steps=20) == pytest.approx(1 / expected ** 2, rel=0.1)
    with pytest.raises(ValueError, match="deviation"):
        pac_bayes_sigma(net, x, y, deviation=1.5)
