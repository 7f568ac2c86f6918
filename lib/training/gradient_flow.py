"""Full-batch gradient flow of Paccolat et al. (2021), Eqs. (2)-(3), for a network or for a frozen kernel.

The predictor is F = alpha (f - f_0) (the alpha-trick: small alpha is the feature regime, large alpha the lazy one)
and the loss is (1/p) sum_mu l(y_mu F(x_mu)) / alpha, whose gradient flow is Eq. (2) whatever alpha. l is the hinge
l(z) = max(0, 1 - z) (the paper) or the released code's default softhinge l(z) = softplus(beta_s (1 - z)) / beta_s.

The flow is integrated with the authors' adaptive step (``feature_lazy/dynamics.py``): a trial step of length dt is
accepted when the gradient barely turns, ||g - g'||^2 / (||g|| ||g'||) < ``max_dgrad``, and the outputs barely move,
max abs(F' - F) < ``max_dout``; dt then grows by 10% if both are under half their limits. A failed step is undone and dt
divided by 10. The flow stops when every training point has y F >= 1 (the hinge loss is then zero).

One optional deviation, ``min_step``: with few points and a narrow net, a neuron's hyperplane can sit on a training
point, where the gradient of ReLU jumps; the gradient then chatters by a fixed amount however small the step, the
turn test fails for every step and dt collapses (we measured dgrad ~ 5e-5 at dt = 1e-7 for p = 200, h = 1000, and
dt -> 1e-15 at p = 64). The jump shrinks as 1/(p^2 h), so the authors' h = 10^4 and large p rarely meet it. With
``min_step > 0`` a step no longer than ``min_step`` times the elapsed time (``min_step`` times the first step at the
start) is accepted when it fails only the turn test, dt is never cut below that floor by the turn test, and it
keeps growing by 10% while the output test is under half its limit; the output test is never waived.
``FlowResult.forced`` counts steps accepted that way (0: the authors' rule held throughout).

Measured cost on 2 CPU cores (stripe, d = 5, alpha = 1e-6): the flow to t* is cheap (~550 steps), but after t*
it is stiff: fitted points sit on the margin while the weights grow, so the output test (abs(dF) < 0.1 a step) keeps
dt near 1e-4 t. With h = 1000, p = 256 and the hinge loss, 95% of the points are fitted after 25,500 steps (190 s)
and 60,000 steps do not reach 98%; the smooth softhinge needs 5,100 steps for 95% and gives the same test error
(0.0136 vs 0.0138). With h = 250 and softhinge, one feature run plus three frozen-kernel runs (``until = 0.95``)
takes 10-36 s for p = 128-1024.

A frozen kernel (the lazy limit, Eq. 3 with Theta fixed) is the same flow on coefficients a with F = K a:
da/dt = -(1/p) y l'(y F), the exact dynamics of the linearised network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

LOSSES = ("hinge", "softhinge")


def loss_value(margins: torch.Tensor, loss: str = "hinge", softness: float = 20.0) -> torch.Tensor:
    """Per-point loss l(y F) for margins y F."""
    if loss == "hinge":
        return torch.relu(1 - margins)
    if loss == "softhinge":
        return F.softplus(softness * (1 - margins)) / softness
    raise ValueError(f"unknown loss {loss!r}; use one of {LOSSES}")


def loss_derivative(margins: torch.Tensor, loss: str = "hinge", softness: float = 20.0) -> torch.Tensor:
    """l'(y F) per point: -Theta(1 - yF) for the hinge (the paper's l'), -sigmoid(beta_s (1 - yF)) for softhinge."""
    if loss == "hinge":
        return -(margins < 1).to(margins.dtype)
    if loss == "softhinge":
        return -torch.sigmoid(softness * (1 - margins))
    raise ValueError(f"unknown loss {loss!r}; use one of {LOSSES}")


@dataclass
class FlowResult:
    """Outcome of a flow: final time, t* (first time 10% of the training set has y F > 1; None if never),
    accepted/rejected/forced step counts, whether every point was fitted, and one history record per accepted step
    (``t``, ``loss``, ``fitted`` fraction, plus what the observer returned)."""

    t: float = 0.0
    t_star: float | None = None
    steps: int = 0
    rejected: int = 0
    forced: int = 0
    converged: bool = False
    history: list[dict] = field(default_factory=list)

    def column(self, key: str) -> list:
        return [h[key] for h in self.history if key in h]


def integrate(params: list[torch.Tensor], evaluate: Callable[[], tuple[torch.Tensor, torch.Tensor]],
              y: torch.Tensor, *, loss: str = "hinge", softness: float = 20.0, max_steps: int = 100_000,
              max_time: float = float("inf"), max_dgrad: float = 1e-4, max_dout: float = 0.1, dt: float = 1.0,
              min_step: float = 0.0, until: float = 1.0, tau: float = 0.0,
              observe: Callable[[float, torch.Tensor], dict | None] | None = None) -> FlowResult:
    """Integrate dW/dt = -g(W) for the tensors ``params`` (updated in place), where ``evaluate()`` returns the
    predictor F on the training points and the flat gradient g, until the fraction ``until`` of the training points
    has y F >= 1 (1: every point, the hinge loss is zero; below 1: more than that fraction, so 0.1 stops at t*),
    or ``max_steps`` or ``max_time``.
    ``tau > 0`` integrates the authors' continuous momentum instead (``ContinuousMomentum``, used for MNIST in
    Sec. 5.2): dv/dt = -(v + g)/tau, dW/dt = v, each step v <- e^{-dt/tau} v - (1 - e^{-dt/tau}) g, W <- W + dt v.
    ``observe(t, F)`` may add entries to each history record (called at t = 0 and after every accepted step)."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; use one of {LOSSES}")
    flow = FlowResult()
    first_dt = dt
    floor = lambda: min_step * max(flow.t, first_dt)  # noqa: E731 - the shortest step, with min_step > 0
    out, grad = evaluate()

    def record() -> bool:
        margins = y * out
        fitted = float((margins >= 1).double().mean())
        rec = {"t": flow.t, "loss": float(loss_value(margins, loss, softness).mean()), "fitted": fitted}
        if observe is not None:
            rec.update(observe(flow.t, out) or {})
        flow.history.append(rec)
        if flow.t_star is None and fitted > 0.1:
            flow.t_star = flow.t
        flow.converged = bool((margins >= 1).all())
        return flow.converged or (until < 1 and fitted > until)

    if not torch.isfinite(grad).all():
        raise FloatingPointError("the initial gradient is not finite")
    if tau < 0:
        raise ValueError(f"the momentum time tau must be >= 0 (0: gradient flow), got {tau}")
    velocity = torch.zeros_like(grad)
    done = record()
    while not done and flow.steps < max_steps and flow.t < max_time:
        saved = [p.detach().clone() for p in params]
        decay = math.exp(-dt / tau) if tau > 0 else 0.0
        trial_velocity = decay * velocity - (1 - decay) * grad
        with torch.no_grad():
            offset = 0
            for p in params:
                p += dt * trial_velocity[offset:offset + p.numel()].view_as(p)
                offset += p.numel()
        new_out, new_grad = evaluate()
        norm = float(grad.norm() * new_grad.norm())
        dgrad = float((grad - new_grad).pow(2).sum()) / norm if norm > 0 else 0.0
        dout = float((new_out - out).abs().max())
        ok = dgrad < max_dgrad and dout < max_dout
        if ok or (dt <= floor() and dout < max_dout):
            flow.t += dt
            flow.steps += 1
            flow.forced += not ok
            out, grad, velocity = new_out, new_grad, trial_velocity
            done = record()
            if dout < max_dout / 2 and (dgrad < max_dgrad / 2 or dt <= floor()):
                dt *= 1.1
        else:
            with torch.no_grad():
                for p, s in zip(params, saved):
                    p.copy_(s)
            flow.rejected += 1
            dt = dt / 10 if dout >= max_dout else max(dt / 10, floor())  # the output test is never waived
    return flow


def train_network(model: nn.Module, x: torch.Tensor, y: torch.Tensor, alpha: float, *, loss: str = "hinge",
                  softness: float = 20.0, observe: Callable[[float, torch.Tensor], dict | None] | None = None,
                  **kwargs) -> FlowResult:
    """Eq. (2): gradient flow of every weight of ``model`` (in place) on (x, y) for F = alpha (f - f_0)."""
    params = list(model.parameters())
    with torch.no_grad():
        f0 = model(x)

    def evaluate() -> tuple[torch.Tensor, torch.Tensor]:
        out = alpha * (model(x) - f0)
        value = loss_value(y * out, loss, softness).mean() / alpha
        grads = torch.autograd.grad(value, params)
        return out.detach(), torch.cat([g.reshape(-1) for g in grads])

    return integrate(params, evaluate, y, loss=loss, softness=softness, observe=observe, **kwargs)


def train_kernel(K: torch.Tensor, y: torch.Tensor, *, loss: str = "hinge", softness: float = 20.0,
                 **kwargs) -> tuple[torch.Tensor, FlowResult]:
    """The frozen-kernel flow F = K a, da/dt = -(1/p) y l'(y F), from a = 0; returns the coefficients and the flow.
    The prediction at test points is ``K_test_train @ a``."""
    if K.shape != (len(y), len(y)):
        raise ValueError(f"K must be ({len(y)}, {len(y)}) for {len(y)} labels, got {tuple(K.shape)}")
    a = torch.zeros(len(y), dtype=K.dtype, device=K.device)

    def evaluate() -> tuple[torch.Tensor, torch.Tensor]:
        out = K @ a
        return out, y * loss_derivative(y * out, loss, softness) / len(y)

    flow = integrate([a], evaluate, y, loss=loss, softness=softness, **kwargs)
    return a, flow


def sign_error(prediction: torch.Tensor, y: torch.Tensor) -> float:
    """The fraction of points whose predicted sign differs from the label y = +-1."""
    return float((torch.sign(prediction) != y).double().mean())


def flow_options(params: dict) -> dict:
    """The flow settings (loss, min_step, max_steps, until) of a sweep configuration."""
    return {k: params[k] for k in ("loss", "min_step", "max_steps", "until")}
