"""Verdicts of the paper-vs-here tables: a claim of a paper against this run's estimate, by one stated criterion.

An :class:`Estimate` is this run's value with a 95% interval over independent runs (seeds, networks, datasets or
bootstrap resamples), or a single run's value (no interval; its verdict says "one run"). A :class:`Claim` is the
paper's value as a range ``[low, high]`` (a point when low == high) and, where the claim has a direction, the
``null`` value that means "no effect" (0 for a correlation, a slope or an exponent; 1 for a ratio).

The criterion (``CRITERION``, quoted by every chapter):

- **reproduced**: the paper's range meets our interval (our value, for one run);
- **same direction, different size**: our interval lies entirely on the paper's side of the null, but misses the
  paper's range;
- **not reproduced**: our interval contains the null or lies on the other side of it (or misses the paper's range,
  for a claim without a direction);
- **inconclusive**: our interval contains both the paper's range and the null (too few runs to tell);
- **not comparable**: no estimate at this profile.

A claim of direction alone (:meth:`Claim.direction`, "the tractrix has more regions") is *reproduced* when our
interval lies entirely on its side of the null, *inconclusive* when it holds the null and reaches into that side,
else *not reproduced*.

:func:`bootstrap_estimate` and the estimates built on it (:func:`ratio_estimate`, :func:`difference_estimate`,
:func:`pearson_estimate`), :func:`slope_estimate`, :func:`loglog_slope` and :func:`geometric_estimate` give the
estimates of the chapters' tables. :func:`comparison_row` turns a claim and an estimate into a row of :func:`lib.pipeline.report.paper_vs_here`;
:func:`check_statement` prints a sentence of a chapter's text with the outcome of the check that backs it, so that
a rerun that contradicts the text says so on the page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
from scipy import stats

REPRODUCED = "reproduced"
SAME_DIRECTION = "same direction, different size"
NOT_REPRODUCED = "not reproduced"
NOT_COMPARABLE = "not comparable"
INCONCLUSIVE = "inconclusive"
CRITERION = ("Verdicts: *reproduced* when the paper's value (or range) meets our 95% interval; *same direction, "
             "different size* when our interval lies on the paper's side of the no-effect value (0 for a correlation "
             "or an exponent, 1 for a ratio) but misses the paper's value; *not reproduced* when our interval holds "
             "the no-effect value or lies beyond it; *inconclusive* when it holds both the paper's value and the "
             "no-effect value. A claim of direction alone (\"more than\") is *reproduced* when our interval lies "
             "entirely on its side, *inconclusive* when it holds the no-effect value and reaches into that side. *Not comparable* when this profile does not measure it. A value from a single "
             "run has no interval: its verdict is marked *(one run)*.")


@dataclass(frozen=True)
class Estimate:
    """This run's value of a quantity, with a 95% interval ``[low, high]`` over ``runs`` independent runs (both None
    for a single run). Raises ValueError for a non-finite value or bound, or ``low > value`` / ``value > high``."""

    value: float
    low: float | None = None
    high: float | None = None
    runs: int = 1

    def __post_init__(self) -> None:
        bounds = [b for b in (self.low, self.high) if b is not None]
        if (self.low is None) != (self.high is None):
            raise ValueError(f"an interval needs both bounds, got low={self.low}, high={self.high}")
        if not all(math.isfinite(v) for v in (self.value, *bounds)):
            raise ValueError(f"estimate must be finite, got value={self.value}, interval={bounds}")
        if bounds and not self.low <= self.value <= self.high:
            raise ValueError(f"value {self.value} lies outside its interval [{self.low}, {self.high}]")
        if self.runs < 1:
            raise ValueError(f"runs must be >= 1, got {self.runs}")

    @classmethod
    def from_runs(cls, values: Sequence[float], *, level: float = 0.95) -> "Estimate":
        """The mean of independent runs' ``values`` with its Student-t interval, mean +- t_{n-1} s / sqrt(n) (one
        value: no interval). Not a percentile bootstrap: with the few runs of a chapter (2 to 10) that interval is
        too narrow (with 2 runs it is their range, a 50% interval), while the t-interval keeps its level for normal
        runs at any n and equals the bootstrap's for many runs.

        Raises ValueError for no values, non-finite ones, or ``level`` outside (0, 1)."""
        x = np.asarray(values, dtype=float)
        if x.ndim != 1 or len(x) == 0:
            raise ValueError(f"values must be a non-empty 1-d sequence, got shape {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(f"values must be finite, got {x.tolist()}")
        if not 0 < level < 1:
            raise ValueError(f"level={level} must be in (0, 1)")
        if len(x) == 1:
            return cls(float(x[0]))
        mean = float(x.mean())
        half = float(stats.t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
        return cls(mean, mean - half, mean + half, len(x))

    @classmethod
    def from_interval(cls, value: float, interval: tuple[float, float] | None, runs: int) -> "Estimate":
        """A value with an interval computed elsewhere (a bootstrap over networks, a regression's CI)."""
        return cls(value) if interval is None else cls(value, interval[0], interval[1], runs)

    @property
    def single(self) -> bool:
        return self.low is None

    def text(self, fmt: str = ".3g") -> str:
        """``"0.42 [0.31, 0.55] (5 runs)"``, or ``"0.42 (one run)"``."""
        if self.single:
            return f"{self.value:{fmt}} (one run)"
        return f"{self.value:{fmt}} [{self.low:{fmt}}, {self.high:{fmt}}] ({self.runs} runs)"


@dataclass(frozen=True)
class Claim:
    """A paper's value as a range ``[low, high]`` (low == high for a point; one end may be infinite), the ``null``
    value meaning no effect (None when the claim has no direction) and ``text``, how the paper states it (shown in
    the table). Raises ValueError for low > high, NaN, two infinite ends or a null inside the range."""

    low: float
    high: float
    null: float | None = None
    text: str = ""

    def __post_init__(self) -> None:
        if math.isinf(self.low) and math.isinf(self.high):
            raise ValueError("a claim needs at least one finite end")
        if math.isnan(self.low) or math.isnan(self.high) or self.low > self.high:
            raise ValueError(f"a claim needs low <= high, got [{self.low}, {self.high}]")
        if self.null is not None and self.low <= self.null <= self.high:
            raise ValueError(f"the null {self.null} lies inside the claim [{self.low}, {self.high}]: no direction")

    @classmethod
    def point(cls, value: float, null: float | None = None, text: str = "") -> "Claim":
        return cls(value, value, null, text or f"{value:g}")

    @classmethod
    def direction(cls, null: float, above: bool, text: str) -> "Claim":
        """A claim of direction alone ("the tractrix has more regions"): any value above (or below) ``null``.
        Its verdict is *reproduced* when our interval lies entirely on that side, *inconclusive* when it holds
        ``null`` and reaches into that side, else *not reproduced*."""
        if not math.isfinite(null):
            raise ValueError(f"null must be finite, got {null}")
        side = math.nextafter(null, math.inf if above else -math.inf)
        return cls(side, math.inf, None, text) if above else cls(-math.inf, side, None, text)


def verdict(claim: Claim, here: Estimate | None) -> str:
    """The outcome of ``CRITERION`` for ``claim`` against ``here`` (None: not measured)."""
    if here is None:
        return NOT_COMPARABLE
    low, high = (here.value, here.value) if here.single else (here.low, here.high)
    suffix = " (one run)" if here.single else ""
    if math.isinf(claim.low) or math.isinf(claim.high):  # a direction alone: our interval must lie on its side
        if claim.low <= low and high <= claim.high:
            return REPRODUCED + suffix
        reaches = high >= claim.low if math.isinf(claim.high) else low <= claim.high  # into the claimed side
        return (INCONCLUSIVE if reaches else NOT_REPRODUCED) + suffix
    overlap = low <= claim.high and high >= claim.low
    if claim.null is not None and low <= claim.null <= high:  # no effect is as compatible with our runs
        return (INCONCLUSIVE if overlap else NOT_REPRODUCED) + suffix
    if overlap:
        return REPRODUCED + suffix
    if claim.null is not None:
        above = claim.low > claim.null
        if (above and low > claim.null) or (not above and high < claim.null):
            return SAME_DIRECTION + suffix
    return NOT_REPRODUCED + suffix


def comparison_row(quantity: str, claim: Claim, here: Estimate | None, note: str = "", fmt: str = ".3g") -> dict:
    """A row of :func:`lib.pipeline.report.paper_vs_here`: quantity, the paper's text, our estimate, the verdict."""
    return {"quantity": quantity, "paper": claim.text or f"{claim.low:g} to {claim.high:g}",
            "here": here.text(fmt) if here is not None else "not measured at this profile",
            "verdict": verdict(claim, here), "note": note}


def direction_row(quantity: str, text: str, here: Estimate | None, null: float, above: bool = True, note: str = "",
                  fmt: str = ".3g") -> dict:
    """:func:`comparison_row` of a claim of direction alone (:meth:`Claim.direction`): ``text`` is how the paper
    states it ("> 1, no number"), ``above`` whether it claims values above ``null``."""
    return comparison_row(quantity, Claim.direction(null, above, text), here, note, fmt)


def holds_direction(here: Estimate | None, null: float, above: bool = True) -> bool:
    """Whether ``here`` lies entirely above (``above``) or below ``null``: the test of :meth:`Claim.direction`."""
    return verdict(Claim.direction(null, above, "direction"), here).startswith(REPRODUCED)


def check_statement(statement: str, holds: bool, evidence: str) -> bool:
    """Print a sentence of the chapter's text that a rerun could falsify, with the check that backs it:
    ``"✓ statement (evidence)"`` when ``holds``, else a visible warning that this run contradicts it. Returns
    ``holds`` so a chapter can branch on it."""
    if holds:
        print(f"✓ {statement} ({evidence})")
    else:
        print(f"⚠ THIS RUN CONTRADICTS THE TEXT: “{statement}” does not hold here ({evidence}); read the numbers "
              "above, not the sentence")
    return holds


# --- Estimates of the chapters' tables ---------------------------------------------------------------------------


def bootstrap_estimate(stat: Callable[..., float], sizes: Sequence[int], *, resamples: int = 1000, seed: int = 0,
                       level: float = 0.95) -> Estimate:
    """``stat(*index_arrays)`` on the full data with a percentile-bootstrap interval: each independent group
    (``sizes[g]`` items: runs, networks, datasets) is resampled with replacement; resamples where ``stat`` is not
    finite are dropped. ``runs`` is the size of the smallest group; a statistic of single items has no interval.
    Raises ValueError for an empty group, a statistic not finite on the full data, or fewer than half the resamples
    finite."""
    if not sizes or min(sizes) < 1:
        raise ValueError(f"every group needs at least one item, got sizes {list(sizes)}")
    value = float(stat(*[np.arange(n) for n in sizes]))
    if not math.isfinite(value):
        raise ValueError(f"the statistic is not finite on the full data ({value})")
    if max(sizes) == 1:
        return Estimate(value)
    rng = np.random.default_rng(seed)
    draws = np.array([stat(*[rng.integers(0, n, n) for n in sizes]) for _ in range(resamples)], dtype=float)
    draws = draws[np.isfinite(draws)]
    if len(draws) < resamples / 2:
        raise ValueError(f"the statistic is undefined on {resamples - len(draws)} of {resamples} resamples")
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return Estimate(value, min(float(low), value), max(float(high), value), int(min(sizes)))


def ratio_estimate(numerator: Sequence[float], denominator: Sequence[float], **kw) -> Estimate:
    """mean(numerator) / mean(denominator) of two independent sets of runs, each resampled (a ratio of K_F, of
    region counts); keywords as :func:`bootstrap_estimate`. Raises ValueError when a denominator is not positive."""
    a, b = np.asarray(numerator, float), np.asarray(denominator, float)
    if not (b > 0).all():
        raise ValueError(f"ratio_estimate needs positive denominators, got {b.tolist()}")
    return bootstrap_estimate(lambda i, j: a[i].mean() / b[j].mean(), (len(a), len(b)), **kw)


def difference_estimate(a: Sequence[float], b: Sequence[float], **kw) -> Estimate:
    """mean(a) - mean(b) of two independent sets of runs, each resampled; keywords as :func:`bootstrap_estimate`."""
    x, y = np.asarray(a, float), np.asarray(b, float)
    return bootstrap_estimate(lambda i, j: x[i].mean() - y[j].mean(), (len(x), len(y)), **kw)


def pearson_estimate(x: Sequence[float], y: Sequence[float], **kw) -> Estimate:
    """Pearson's r of paired values, the pairs resampled (a resample with constant x or y is dropped)."""
    x, y = np.asarray(x, float), np.asarray(y, float)

    def r(i: np.ndarray) -> float:
        if np.ptp(x[i]) == 0 or np.ptp(y[i]) == 0:
            return math.nan
        return float(np.corrcoef(x[i], y[i])[0, 1])
    return bootstrap_estimate(r, (len(x),), **kw)


def slope_estimate(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Estimate | None:
    """Least-squares slope of ``y`` on ``x`` with its Student-t interval (``runs``: the number of points); None for
    fewer than three points or a single distinct ``x`` (no interval can be computed)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 3 or len(np.unique(x)) < 2:
        return None
    fit = stats.linregress(x, y)
    half = float(stats.t.ppf(0.5 + level / 2, len(x) - 2) * fit.stderr)
    return Estimate(float(fit.slope), float(fit.slope) - half, float(fit.slope) + half, len(x))


def loglog_slope(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> Estimate | None:
    """The exponent of a power law ``y ~ x^b``: :func:`slope_estimate` of log y on log x. Raises ValueError for
    values that are not positive."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("a power law needs positive x and y")
    return slope_estimate(np.log(x), np.log(y), level)


def geometric_estimate(values: Sequence[float], **kw) -> Estimate:
    """The geometric mean of positive ``values`` (independent runs) with the Student-t interval of their mean log,
    mapped back: how a ratio such as R_f is averaged over runs. Raises ValueError for values that are not
    positive."""
    logs = np.log(np.asarray(values, dtype=float)) if min(values) > 0 else None
    if logs is None:
        raise ValueError(f"a geometric mean needs positive values, got {list(values)}")
    e = Estimate.from_runs(logs, **kw)
    return Estimate(math.exp(e.value)) if e.single else Estimate(math.exp(e.value), math.exp(e.low), math.exp(e.high),
                                                                 e.runs)
