"""Linear-invariant classification tasks of Paccolat et al. (2021): Gaussian inputs whose label depends only on the
first ``d_par`` coordinates (the informative subspace); the other d_perp = d - d_par directions are invariants.

- single stripe (d_par = 1): y = -1 for x_min < x_1 < x_max, +1 elsewhere, with x_min = -0.3 and
  x_max = sqrt(2) erfinv(1 + erf(x_min / sqrt(2))) ~ 1.18549 so that both labels have probability 1/2;
- cylinder (d_par = 2): y = +1 if ||x_par|| > R, -1 otherwise, with R = sqrt(2 ln 2) ~ 1.1774 (equiprobable labels).
"""

from __future__ import annotations

import math

import torch

X_MIN = -0.3
X_MAX = 1.18549  # sqrt(2) * erfinv(1 + erf(X_MIN / sqrt(2))); see stripe_threshold
CYLINDER_RADIUS = math.sqrt(2 * math.log(2))


def stripe_threshold(x_min: float = X_MIN) -> float:
    """The x_max that makes the stripe's labels equiprobable, P(x_min < x_1 < x_max) = 1/2 for x_1 ~ N(0, 1):
    sqrt(2) erfinv(1 + erf(x_min / sqrt(2))). (The paper's footnote 2 omits the 1/sqrt(2) inside erf; its value
    1.18549 is the one with it.)"""
    arg = torch.tensor(1 + math.erf(x_min / math.sqrt(2)), dtype=torch.float64)
    return math.sqrt(2) * float(torch.special.erfinv(arg))


def stripe_labels(x: torch.Tensor, x_min: float = X_MIN, x_max: float = X_MAX) -> torch.Tensor:
    """Labels of the single-stripe model: -1 where x_min < x_1 < x_max, +1 elsewhere (same dtype as ``x``)."""
    inside = (x[:, 0] > x_min) & (x[:, 0] < x_max)
    return torch.where(inside, -1.0, 1.0).to(x.dtype)


def cylinder_labels(x: torch.Tensor, d_par: int = 2, radius: float = CYLINDER_RADIUS) -> torch.Tensor:
    """Labels of the cylinder model: +1 where the norm of the first ``d_par`` coordinates exceeds ``radius``."""
    return torch.where(x[:, :d_par].norm(dim=1) > radius, 1.0, -1.0).to(x.dtype)


def invariant_data(model: str, p: int, d: int, *, generator: torch.Generator | None = None
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """``p`` points x ~ N(0, I_d) in float64 and their labels under ``model`` (``"stripe"`` or ``"cylinder"``)."""
    if model not in ("stripe", "cylinder"):
        raise ValueError(f"unknown invariant model {model!r}; use 'stripe' or 'cylinder'")
    if d < informative_dims(model) + 1:
        raise ValueError(f"the {model} model needs d > {informative_dims(model)}, got d = {d}")
    x = torch.randn(p, d, generator=generator, dtype=torch.float64)
    return x, stripe_labels(x) if model == "stripe" else cylinder_labels(x)


def informative_dims(model: str) -> int:
    """d_par of a model: 1 for the stripe, 2 for the cylinder."""
    return {"stripe": 1, "cylinder": 2}[model]


def compress(x: torch.Tensor, factor: float, d_par: int = 1) -> torch.Tensor:
    """x_perp -> x_perp / factor: the invariant directions compressed by ``factor`` (the data of Fig. 2, dashed)."""
    out = x.clone()
    out[:, d_par:] /= factor
    return out
