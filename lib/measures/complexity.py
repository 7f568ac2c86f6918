"""Complexity measures of Jiang et al., "Fantastic generalization measures and where to find them" (ICLR 2020),
used as the anchors against which the book's geometric measures are ranked (chapter 6): the path norm, norms of the
weight matrices' spectra, the output margin, and the magnitude-aware PAC-Bayes flatness.

Every function takes a trained ReLU MLP (``lib.nets.classifiers.FCNet``: Linear, ReLU, ..., Linear) or, for the
margin and the flatness, any classifier with logits (N, C); data are (N, ...) tensors on the model's device.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from lib.measures.linear_regions import relu_layers
from lib.nets.classifiers import model_device


def path_norm(model: nn.Module) -> float:
    """Jiang et al.'s ``path.norm`` (Neyshabur et al. 2015): sum_i f_{w^2}(1)_i, the network with every weight
    and bias squared evaluated on the all-ones input; biases count as weights from a constant unit. For a ReLU MLP it
    equals the sum over all input-output paths of the product of the squared weights along the path (everything is
    non-negative, so every ReLU passes)."""
    h = None
    for W, b in relu_layers(model):
        h = torch.ones(W.shape[1], dtype=W.dtype) if h is None else h
        h = W.pow(2) @ h + b.pow(2)
    return float(h.sum())


def spectral_norms(model: nn.Module) -> dict[str, float]:
    """Jiang et al.'s norm measures of a ReLU MLP with d weight matrices W_l: ``log_prod_spec`` (log.prod.of.spec) =
    log prod_l ||W_l||_2^2, ``log_sum_spec`` (log.sum.of.spec) = log(d (prod_l ||W_l||_2^2)^(1/d)), the sum of the
    squared spectral norms at its minimum over the ReLU rescalings that leave the function unchanged, and
    ``log_prod_fro`` (log.prod.of.fro) = log prod_l ||W_l||_F^2. Biases are not included, as in their definitions."""
    layers = relu_layers(model)
    spec = [float(torch.linalg.matrix_norm(W, ord=2)) ** 2 for W, _ in layers]
    fro = [float(torch.linalg.matrix_norm(W)) ** 2 for W, _ in layers]
    d = len(layers)
    log_prod = sum(math.log(s) for s in spec)
    return {"log_prod_spec": log_prod, "log_sum_spec": math.log(d) + log_prod / d,
            "log_prod_fro": sum(math.log(f) for f in fro)}


@torch.no_grad()
def margins(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
    """f(x)_y - max_{j != y} f(x)_j for every point (N,), in eval mode; negative where the point is misclassified."""
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must have shape ({len(x)},), got {tuple(y.shape)}")
    was_training = model.training
    model.eval()
    device = model_device(model)
    out = []
    for start in range(0, len(x), batch_size):
        logits = model(x[start:start + batch_size].to(device)).double()
        yy = y[start:start + batch_size].to(device)
        true = logits.gather(1, yy[:, None]).squeeze(1)
        other = logits.scatter(1, yy[:, None], -math.inf).amax(1)
        out.append((true - other).cpu())
    model.train(was_training)
    return torch.cat(out)


def inverse_margin(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, percentile: float = 10.0) -> float:
    """Jiang et al.'s output-margin measure ``1/margin`` = 1 / gamma^2, gamma the ``percentile``-th percentile of the
    training margins. ValueError when gamma <= 0 (more than ``percentile`` % of the points misclassified: the measure
    is undefined)."""
    gamma = float(torch.quantile(margins(model, x, y), percentile / 100))
    if gamma <= 0:
        raise ValueError(f"the {percentile}th percentile of the margins is {gamma:.3g} <= 0: more than {percentile}% "
                         "of the points are misclassified, so 1/gamma^2 is undefined")
    return 1.0 / gamma ** 2


@torch.no_grad()
def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    return float((model(x).argmax(1) == y).double().mean())


@torch.no_grad()
def pac_bayes_sigma(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, deviation: float = 0.1,
                    magnitude: bool = True, eps: float = 1e-3, samples: int = 10, steps: int = 16,
                    bounds: tuple[float, float] = (1e-4, 10.0), seed: int = 0) -> float:
    """The largest sigma (by bisection in log sigma between ``bounds``) at which Gaussian weight perturbations lower
    the training accuracy by at most ``deviation`` on average over ``samples`` draws (Jiang et al.'s search for the
    PAC-Bayes measures): u_i ~ N(0, sigma^2) or, with ``magnitude``, N(0, sigma^2 w_i^2 + eps^2) (the magnitude-aware
    variant). The same draws (common random numbers, one seed) are used at every sigma, so the accuracy drop is
    monotone in sigma draw by draw. ``x``, ``y``: the training points (N, ...), (N,)."""
    if not 0 < deviation < 1:
        raise ValueError(f"deviation={deviation} must be in (0, 1)")
    was_training = model.training
    model.eval()
    device = model_device(model)
    x, y = x.to(device), y.to(device)
    base = _accuracy(model, x, y)
    names = [n for n, _ in model.named_parameters()]
    w0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    gen = torch.Generator(device="cpu").manual_seed(seed)
    noise = [{n: torch.randn(w0[n].shape, generator=gen, dtype=w0[n].dtype).to(device) for n in names}
             for _ in range(samples)]
    probe = copy.deepcopy(model)
    params = dict(probe.named_parameters())

    def drop(sigma: float) -> float:
        total = 0.0
        for z in noise:
            for n in names:
                scale = (sigma ** 2 * w0[n] ** 2 + eps ** 2).sqrt() if magnitude else sigma
                params[n].copy_(w0[n] + scale * z[n])
            total += base - _accuracy(probe, x, y)
        return total / samples

    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    if drop(math.exp(lo)) > deviation:
        model.train(was_training)
        raise ValueError(f"even sigma={bounds[0]} lowers the training accuracy by more than {deviation}; "
                         "lower bounds[0]")
    if drop(math.exp(hi)) <= deviation:
        model.train(was_training)
        return math.exp(hi)
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if drop(math.exp(mid)) <= deviation else (lo, mid)
    model.train(was_training)
    return math.exp((lo + hi) / 2)


def pac_bayes_flatness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, **kwargs) -> float:
    """Jiang et al.'s ``pacbayes.mag.flatness``: 1 / sigma'^2 with sigma' from :func:`pac_bayes_sigma`
    (magnitude-aware by default); large for sharp minima."""
    return 1.0 / pac_bayes_sigma(model, x, y, **kwargs) ** 2
