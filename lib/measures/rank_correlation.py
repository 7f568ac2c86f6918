"""How well a complexity measure ranks networks by their generalization gap: Kendall's tau and the granulated tau
Psi of Jiang, Neyshabur, Mobahi, Krishnan & Bengio, "Fantastic generalization measures and where to find them"
(ICLR 2020, Eqs. 3-4), and the sign-error of Dziugaite et al., "In search of robust measures of generalization"
(NeurIPS 2020) over environments (coupled pairs of networks that differ in one hyperparameter) with its worst
case.

A *zoo* is a list of networks, each with its hyperparameters (a dict ``{axis: value}``), its measure value ``mu``
and its generalization gap ``g``; numbers are plain floats, and every function here is exact on small inputs
(O(n^2) pairs, n = a few hundred networks).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Callable, Sequence

import numpy as np


def _finite_pair(mu: Sequence[float], gap: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    m, g = np.asarray(mu, dtype=float), np.asarray(gap, dtype=float)
    if m.ndim != 1 or m.shape != g.shape:
        raise ValueError(f"mu and gap must be 1-D of the same length, got shapes {m.shape} and {g.shape}")
    if not (np.isfinite(m).all() and np.isfinite(g).all()):
        raise ValueError("mu and gap must be finite; drop the networks whose measure is undefined first")
    return m, g


def kendall_tau(mu: Sequence[float], gap: Sequence[float]) -> float:
    """Jiang et al.'s Eq. (3): the mean over ordered pairs i != j of sign(mu_i - mu_j) sign(g_i - g_j) (Kendall's
    tau-a; tied pairs count 0). In [-1, 1]; 1: the measure ranks the networks exactly as their gaps. Needs at least
    two networks (ValueError otherwise)."""
    m, g = _finite_pair(mu, gap)
    n = len(m)
    if n < 2:
        raise ValueError(f"Kendall's tau needs at least 2 networks, got {n}")
    s = np.sign(m[:, None] - m[None, :]) * np.sign(g[:, None] - g[None, :])
    return float(s.sum() / (n * (n - 1)))


def _groups(settings: Sequence[dict], axis: str) -> list[list[int]]:
    """Indices of networks that share every hyperparameter but ``axis`` (Jiang et al.'s theta_{-i})."""
    by_rest: dict[tuple, list[int]] = defaultdict(list)
    for i, s in enumerate(settings):
        if axis not in s:
            raise ValueError(f"network {i} has no hyperparameter {axis!r}; it has {sorted(s)}")
        by_rest[tuple(sorted((k, v) for k, v in s.items() if k != axis))].append(i)
    return [idx for idx in by_rest.values() if len({settings[i][axis] for i in idx}) >= 2]


def granulated_tau(settings: Sequence[dict], mu: Sequence[float], gap: Sequence[float],
                   axes: Sequence[str]) -> dict[str, float]:
    """Jiang et al.'s Eq. (4): for each axis i, psi_i = the mean over groups of networks that differ only in axis i
    (every other hyperparameter fixed, seeds included if they are an axis of ``settings``) of the Kendall tau within
    the group; Psi = the mean of psi_i over ``axes``. Returns ``{axis: psi_i, ..., "Psi": Psi}``. An axis with no
    such group is a ValueError naming it."""
    m, g = _finite_pair(mu, gap)
    if len(settings) != len(m):
        raise ValueError(f"{len(settings)} settings for {len(m)} measure values")
    out = {}
    for axis in axes:
        groups = _groups(settings, axis)
        if not groups:
            raise ValueError(f"no two networks differ in {axis!r} alone; psi is undefined for that axis")
        out[axis] = float(np.mean([kendall_tau(m[idx], g[idx]) for idx in groups]))
    out["Psi"] = float(np.mean([out[a] for a in axes]))
    return out


def sign_errors(settings: Sequence[dict], mu: Sequence[float], gap: Sequence[float], axes: Sequence[str], *,
                seed_key: str = "seed", min_gap_difference: float | Sequence[float] = 0.0) -> dict:
    """Dziugaite et al.'s sign-error per environment. An environment is a pair of hyperparameter settings that differ
    in one axis alone; its networks are coupled (the same seed), and its sign-error is the mean over seeds of
    1[sign(mu_a - mu_b) != sign(g_a - g_b)] (a tie of the measure counts as an error: it does not predict the order).
    Pairs whose gap difference is within noise, ``abs(g_a - g_b) <= min_gap_difference`` (a number, or one per pair of
    networks given as an (n,) array of per-network noise scales that are added in quadrature), are left out, as
    Dziugaite et al. drop environments whose gap difference Monte-Carlo noise could explain.

    Returns ``{"environments": [{"axis", "error", "pairs"}, ...], "max": the robust (worst-case) sign-error,
    "mean": the mean over environments, axis: the mean over that axis's environments, ...}``; 0 is a measure that
    never mispredicts the effect of an intervention, 0.5 a coin. ValueError when no environment is left."""
    m, g = _finite_pair(mu, gap)
    noise = np.broadcast_to(np.asarray(min_gap_difference, dtype=float), m.shape)
    envs: dict[tuple, list[int]] = defaultdict(list)
    for axis in axes:
        for idx in _groups(settings, axis):
            for a, b in itertools.combinations(idx, 2):
                if settings[a].get(seed_key) != settings[b].get(seed_key):
                    continue
                if abs(g[a] - g[b]) <= np.hypot(noise[a], noise[b]):
                    continue
                key = (axis, *sorted((_without(settings[a], seed_key), _without(settings[b], seed_key))))
                envs[key].append(int(np.sign(m[a] - m[b]) != np.sign(g[a] - g[b])))
    if not envs:
        raise ValueError("no pair of coupled networks differs in one axis alone by more than the gap's noise")
    rows = [{"axis": key[0], "error": float(np.mean(v)), "pairs": len(v)} for key, v in envs.items()]
    out: dict = {"environments": rows, "max": max(r["error"] for r in rows),
                 "mean": float(np.mean([r["error"] for r in rows]))}
    for axis in axes:
        errs = [r["error"] for r in rows if r["axis"] == axis]
        if errs:
            out[axis] = float(np.mean(errs))
    return out


def _without(setting: dict, key: str) -> tuple:
    return tuple(sorted((k, v) for k, v in setting.items() if k != key))


def bootstrap_interval(statistic: Callable[[np.ndarray], float], n: int, *, resamples: int = 1000,
                       level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(indices)`` over ``n`` networks resampled with replacement;
    resamples on which the statistic is undefined (a ValueError, e.g. a granulated group that vanished) are
    skipped, and fewer than half of them valid is a ValueError."""
    if not 0 < level < 1:
        raise ValueError(f"level={level} must be in (0, 1)")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        try:
            values.append(statistic(rng.integers(0, n, n)))
        except ValueError:
            continue
    if len(values) < resamples / 2:
        raise ValueError(f"the statistic was undefined on {resamples - len(values)} of {resamples} resamples")
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def granulated_interval(settings: Sequence[dict], mu: Sequence[float], gap: Sequence[float], axes: Sequence[str], *,
                        resamples: int = 1000, level: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of Psi that resamples, for every axis, its groups (the networks that differ in
    that axis alone) with replacement: the group is Psi's unit of observation, so every resample is defined."""
    if not 0 < level < 1:
        raise ValueError(f"level={level} must be in (0, 1)")
    m, g = _finite_pair(mu, gap)
    taus = []
    for axis in axes:
        groups = _groups(settings, axis)
        if not groups:
            raise ValueError(f"no two networks differ in {axis!r} alone; psi is undefined for that axis")
        taus.append(np.array([kendall_tau(m[idx], g[idx]) for idx in groups]))
    rng = np.random.default_rng(seed)
    values = [np.mean([t[rng.integers(0, len(t), len(t))].mean() for t in taus]) for _ in range(resamples)]
    lo, hi = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)

