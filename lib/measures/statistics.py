"""Statistics for scaling laws: confidence intervals, the likelihood ratio of Konz & Mazurowski App. C.1."""

from __future__ import annotations

import numpy as np
from scipy import stats


def mean_ci(values, level: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its Student-t confidence interval (0 for a single value)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        raise ValueError("mean_ci needs at least one value")
    if v.size == 1:
        return float(v[0]), 0.0
    half = stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return float(v.mean()), float(half)


def scaling_law_likelihood_ratio(log_loss, d_data, n_train, k_f) -> dict[str, float]:
    """Fit Konz & Mazurowski's scaling laws with and without label sharpness and compare them (App. C.1).

    Model A, Eq. (24): log L = -(1/d) log N + log K_F + a.   Model B, Eq. (25): log L = -(1/d) log N + b.
    Each has one free constant; least squares (what ``scipy.optimize.curve_fit`` returns for them) gives the mean
    residual. log R = -1/2 sum r_A^2 + 1/2 sum r_B^2 (Eq. 26, unit-variance Gaussian likelihoods): log R > 0 favours A.
    """
    log_loss, d, n, k = (np.asarray(v, dtype=float) for v in (log_loss, d_data, n_train, k_f))
    if not (log_loss.shape == d.shape == n.shape == k.shape) or log_loss.ndim != 1:
        raise ValueError("log_loss, d_data, n_train and k_f must be 1-D arrays of one length")
    base = log_loss + np.log(n) / d
    a = float(np.mean(base - np.log(k)))
    b = float(np.mean(base))
    rss_a = float(np.sum((base - np.log(k) - a) ** 2))
    rss_b = float(np.sum((base - b) ** 2))
    return {"a": a, "b": b, "rss_A": rss_a, "rss_B": rss_b, "log_R": 0.5 * (rss_b - rss_a)}


def pearson(x, y) -> tuple[float, float]:
    """Pearson correlation r and its two-sided p-value."""
    res = stats.pearsonr(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return float(res.statistic), float(res.pvalue)
