"""Argument checks shared by every public measurement and loss: one place that turns bad input into a clear error.

Each check raises ``ValueError`` (``TypeError`` for a wrong dtype) naming the argument, the value or shape received
and what is valid, and returns the argument in the one form the callers work with. None of them clamps, casts away
information or fills in a value.
"""

from __future__ import annotations

import torch


def as_points(X: torch.Tensor, name: str = "X") -> torch.Tensor:
    """``X`` (N, ...) of a real dtype, finite, as (N, D); ``X`` itself (flattened) is returned, on its device.

    Raises ValueError for fewer than two axes, an empty axis or NaN/inf entries, TypeError for a bool or complex
    dtype."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (N, ...), got {type(X).__name__}")
    if X.dtype == torch.bool or X.is_complex():
        raise TypeError(f"{name} must have a real dtype (float or integer), got {X.dtype}")
    if X.ndim < 2 or 0 in X.shape:
        raise ValueError(f"{name} must be points of shape (N, ...) with N >= 1 and D >= 1, got {tuple(X.shape)}")
    X = X.flatten(1)
    if X.is_floating_point() and not torch.isfinite(X.sum()):  # NaN/inf make the sum non-finite; one reduction
        bad = ~torch.isfinite(X)  # (30x the sum's time): only when the sum is not finite, which large finite
        if bad.any():  # values can also make it
            rows = bad.any(1).nonzero().flatten()
            raise ValueError(f"{name} contains NaN or infinite values (in {len(rows)} of {len(X)} points, first at "
                             f"row {int(rows[0])}); remove or impute them first")
    return X


def as_labels(y: torch.Tensor, n: int | None = None, name: str = "y") -> torch.Tensor:
    """Class labels of shape (N,) or (N, 1) (MedMNIST's layout) as an int64 tensor (N,) on ``y``'s device.

    Integer and bool dtypes are accepted, and floating ones holding whole numbers. Raises ValueError for another
    shape, a length other than ``n`` (when given), NaN or non-integral values, TypeError for a complex dtype."""
    y = torch.as_tensor(y)
    if y.is_complex():
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if not (y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1)):
        raise ValueError(f"{name} must be class labels of shape (N,) or (N, 1), got {tuple(y.shape)}")
    y = y.reshape(-1)
    if n is not None and len(y) != n:
        raise ValueError(f"{name} has {len(y)} labels but there are {n} points")
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise ValueError(f"{name} must hold whole-number class labels, got non-integral or NaN values "
                         f"(e.g. {float(y[y != y.round()][0])})")
    return y.long()


def check_unit_interval(x: torch.Tensor, name: str = "x", why: str = "") -> None:
    """Raise ValueError unless every entry of ``x`` is finite and in [0, 1] (image-valued inputs of functions that
    clip to [0, 1]); ``why`` says what the range is for."""
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values; it must be images with values in [0, 1]")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 1:
        raise ValueError(f"{name} has values in [{lo:.4g}, {hi:.4g}], outside [0, 1]{': ' + why if why else ''}. "
                         "Pass unnormalised images in [0, 1] and put any normalisation inside the model")
