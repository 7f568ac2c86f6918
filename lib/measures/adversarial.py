"""Adversarial attacks: FGSM and its test-loss penalty (Konz & Mazurowski Sec. 6; Goodfellow et al. 2015), PGD paths
(van der Merwe et al. 2022, App. A)."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from lib.nets.classifiers import eval_mode, model_device
from lib.pipeline.checks import as_labels, check_unit_interval

KONZ_EPSILONS = (1 / 255, 2 / 255, 4 / 255, 8 / 255)


def _check_fgsm_inputs(x: torch.Tensor, eps: Sequence[float]) -> None:
    """The checks of :func:`fgsm_loss_penalty`: at least one image, values in [0, 1], budgets >= 0."""
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a batch of images (N, ...) with N >= 1, got shape {tuple(x.shape)}")
    check_unit_interval(x, "x", "FGSM clips the attacked images to [0, 1], which would move inputs outside it "
                                "even at eps = 0")
    bad = [e for e in eps if not (math.isfinite(float(e)) and float(e) >= 0)]
    if bad or not len(eps):
        raise ValueError(f"eps must be a non-empty sequence of finite budgets >= 0, got {list(eps)}")


def fgsm_loss_penalty(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: Sequence[float] = KONZ_EPSILONS, *,
                      batch_size: int = 256) -> list[dict[str, float]]:
    """The mean test-loss penalty E[L(x~) - L(x)] of FGSM, x~ = clip(x + eps * sign(grad_x L(x)), 0, 1).

    The gradient depends on x only, so it is computed once per image and reused for every ``eps`` (one backward
    pass per batch whatever the number of budgets). L is the per-image cross-entropy; the model is evaluated in eval
    mode on its own device (its modes restored after). Returns, per eps: clean and attacked loss and accuracy, and
    their differences.

    ``x``: (N, C, H, W) images with values in [0, 1] (the clip range: normalisation belongs inside the model);
    ``y``: (N,) or (N, 1) integer labels; ``eps``: non-negative finite budgets. Raises ValueError otherwise.
    """
    _check_fgsm_inputs(x, eps)
    y = as_labels(y, len(x))
    device = model_device(model)
    eps = [float(e) for e in eps]
    clean_loss = clean_correct = 0.0
    adv_loss, adv_correct = torch.zeros(len(eps), dtype=torch.float64), torch.zeros(len(eps), dtype=torch.float64)
    with eval_mode(model):
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size].to(device).requires_grad_(True)
            yb = y[start:start + batch_size].to(device)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, reduction="sum")
            (grad,) = torch.autograd.grad(loss, xb)
            direction = grad.sign()
            clean_loss += float(loss.detach())
            clean_correct += float((logits.argmax(1) == yb).sum())
            with torch.no_grad():
                for i, e in enumerate(eps):
                    out = model((xb + e * direction).clamp_(0.0, 1.0))
                    adv_loss[i] += float(F.cross_entropy(out, yb, reduction="sum"))
                    adv_correct[i] += float((out.argmax(1) == yb).sum())
    n = len(x)
    return [{"eps": e, "clean_loss": clean_loss / n, "adv_loss": float(adv_loss[i]) / n,
             "loss_penalty": (float(adv_loss[i]) - clean_loss) / n, "clean_acc": clean_correct / n,
             "adv_acc": float(adv_correct[i]) / n, "acc_penalty": (clean_correct - float(adv_correct[i])) / n}
            for i, e in enumerate(eps)]


def pgd_path(x: torch.Tensor, loss_fn: Callable[[torch.Tensor], torch.Tensor], *, steps: int = 30,
             step_size: float = 2 / 255, radius: float = 0.3) -> torch.Tensor:
    """The iterates of one PGD attack (Madry et al. 2018; van der Merwe et al. Eq. 5), as a path (N, steps+1, ...).

    x_0 = x and x_j = clip(x + clamp(x_{j-1} + step_size * sign(grad L(x_{j-1})) - x, -radius, radius), 0, 1):
    the ascent step of Eq. 5 with the L-inf projection and [0, 1] clipping of the released code (radius 0.3 is never
    reached in 30 steps of 2/255). ``loss_fn`` maps a batch of inputs to a scalar loss; it is called exactly
    ``steps`` times. Every iterate is kept, so the path costs ``steps`` gradient evaluations in all, where the
    released code restarts the attack for every step count (0 + 1 + ... + 29 = 435 for 30 steps).

    ``x``: images with values in [0, 1] (the clip range). Raises ValueError for values outside it, ``steps`` < 0,
    or a negative ``step_size`` or ``radius``.
    """
    check_unit_interval(x, "x", "PGD clips every iterate to [0, 1]")
    if steps < 0 or step_size < 0 or radius < 0:
        raise ValueError(f"steps, step_size and radius must be >= 0, got {steps}, {step_size}, {radius}")
    path = [x.detach()]
    adv = x.detach()
    for _ in range(steps):
        adv = adv.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(loss_fn(adv), adv)
        adv = (x + (adv.detach() + step_size * grad.sign() - x).clamp_(-radius, radius)).clamp_(0.0, 1.0)
        path.append(adv)
    return torch.stack(path, 1)
