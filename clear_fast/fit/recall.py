"""Thresholds from a recall table: the share of a benchmark solved at several caps.

A benchmark's recall at cap ``c`` is the share of its problems whose threshold
is below ``c`` (among those the model can solve at all), so a recall table is
an empirical CDF of ``tau`` read at a few points, times a ceiling (the share
ever solved).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import as_float_array, as_integer_at_least, first_bad_index, require_choice
from ._normal import normal_cdf, normal_quantile

METHODS = ("interpolate", "lognormal")


@dataclass(frozen=True, eq=False)
class ThresholdDistribution:
    """A distribution of emergence thresholds ``tau`` (tokens), with a ceiling.

    Attributes
    ----------
    method : {"interpolate", "lognormal"}
        ``"interpolate"``: the CDF is linear in log tokens between the table's points
        (a monotone interpolation). ``"lognormal"``: ``log tau ~ Normal(log_mean, log_std)``.
    ceiling : float
        Share of queries ever solved, in (0, 1]; recall at cap ``c`` is ``ceiling * cdf(c)``.
    log_mean, log_std : float
        Mean and standard deviation of ``log tau`` (exact for ``"lognormal"``, computed
        from the piecewise distribution for ``"interpolate"``).
    knots_tokens, knots_cdf : ndarray
        The interpolation's knots (empty for ``"lognormal"``).
    """

    method: str
    ceiling: float
    log_mean: float
    log_std: float
    knots_tokens: NDArray[np.float64]
    knots_cdf: NDArray[np.float64]

    def cdf(self, tokens: ArrayLike) -> NDArray[np.float64]:
        """``P(tau <= tokens)`` among solvable queries."""
        t = as_float_array("tokens", tokens, minimum=0.0, allow_inf=True)
        with np.errstate(divide="ignore"):
            log_t = np.log(t)
        if self.method == "lognormal":
            return normal_cdf((log_t - self.log_mean) / self.log_std)
        return np.interp(log_t, np.log(self.knots_tokens), self.knots_cdf, left=0.0, right=1.0)

    def recall(self, tokens: ArrayLike) -> NDArray[np.float64]:
        """Predicted share solved at each cap: ``ceiling * cdf(tokens)``."""
        return self.ceiling * self.cdf(tokens)

    def quantile(self, q: ArrayLike) -> NDArray[np.float64]:
        """Threshold at probability ``q`` in [0, 1] (the inverse of :meth:`cdf`)."""
        probabilities = as_float_array("q", q, minimum=0.0)
        if np.any(probabilities > 1):
            i = first_bad_index(probabilities > 1)
            raise ValueError(f"`q` must be <= 1, got {probabilities[i]} at index {i}")
        if self.method == "lognormal":
            return np.exp(self.log_mean + self.log_std * normal_quantile(probabilities))
        # knots_cdf is strictly increasing (flat stretches were dropped), so it inverts directly
        return np.exp(np.interp(probabilities, self.knots_cdf, np.log(self.knots_tokens)))

    def sample(self, size: int, *, seed: int | np.random.Generator | None = None) -> NDArray[np.float64]:
        """``size`` thresholds drawn from the distribution (inverse-CDF sampling)."""
        count = as_integer_at_least("size", size, 0)
        rng = np.random.default_rng(seed)
        return self.quantile(rng.random(count))

    @property
    def median(self) -> float:
        """The median threshold (tokens)."""
        return float(self.quantile(0.5)[0])


def fit_recall(
    tokens: ArrayLike, recall: ArrayLike, *, method: str = "interpolate", ceiling: float | None = None
) -> ThresholdDistribution:
    """The distribution of thresholds behind a table of recall against cap.

    Parameters
    ----------
    tokens : array_like, shape (k,)
        Caps, strictly increasing, > 0.
    recall : array_like, shape (k,)
        Share solved at each cap, as a fraction in [0, 1] or a percentage in [0, 100]
        (read as a percentage when any value exceeds 1).
    method : {"interpolate", "lognormal"}
        Monotone interpolation in log tokens, or a lognormal fitted by least squares
        in probit space (closed form).
    ceiling : float, optional
        Share of queries ever solved (default: the largest recall in the table).

    Returns
    -------
    ThresholdDistribution

    Raises
    ------
    ValueError
        On unsorted or non-positive caps, recall outside [0, 1] (or [0, 100]), an
        all-zero table, or, for ``"lognormal"``, fewer than two points strictly
        between 0 and the ceiling.

    Notes
    -----
    Recall that dips with a larger cap (reading error) is made monotone by a running
    maximum. For ``"interpolate"``, below the first positive point the CDF is continued
    to zero with the slope of the first rising segment (in log tokens), or starts at
    the last cap with zero recall.
    """
    require_choice("method", method, METHODS)
    caps = as_float_array("tokens", tokens, strictly_positive=True)
    shares = as_float_array("recall", recall, caps.shape[0], minimum=0.0)
    if caps.shape[0] < 2:
        raise ValueError(f"`tokens` needs at least 2 caps, got {caps.shape[0]}")
    if np.any(np.diff(caps) <= 0):
        raise ValueError(f"`tokens` must be strictly increasing, got {caps.tolist()}")
    if shares.max() > 1:
        if shares.max() > 100:
            raise ValueError(f"`recall` must be fractions in [0, 1] or percentages in [0, 100], got max {shares.max():g}")
        shares = shares / 100.0
    shares = np.maximum.accumulate(shares)
    top = float(shares[-1]) if ceiling is None else float(ceiling)
    if not 0 < top <= 1:
        raise ValueError(f"`ceiling` must be in (0, 1] and the table must have some recall > 0, got {top:g}")
    cdf = np.minimum(shares / top, 1.0)
    if method == "lognormal":
        return _lognormal(caps, cdf, top)
    return _interpolated(caps, cdf, top)


def _lognormal(caps: NDArray[np.float64], cdf: NDArray[np.float64], ceiling: float) -> ThresholdDistribution:
    inside = (cdf > 0) & (cdf < 1)
    if inside.sum() < 2:
        raise ValueError(
            f"a lognormal fit needs at least 2 recall values strictly between 0 and the ceiling, got {int(inside.sum())}"
        )
    # probit(recall / ceiling) = (log c - mu) / sigma: a straight line in log c
    slope, intercept = np.polyfit(np.log(caps[inside]), normal_quantile(cdf[inside]), 1)
    if slope <= 0:
        raise ValueError("`recall` does not rise with `tokens`: no lognormal fits it")
    empty = np.empty(0)
    return ThresholdDistribution("lognormal", ceiling, -intercept / slope, 1.0 / slope, empty, empty)


def _interpolated(caps: NDArray[np.float64], cdf: NDArray[np.float64], ceiling: float) -> ThresholdDistribution:
    log_caps = np.log(caps)
    first = int(np.argmax(cdf > 0))
    if first > 0:
        start_log, start_cdf = log_caps[first - 1 :], cdf[first - 1 :]
    else:
        # continue the first rising segment down to zero
        rising = int(np.argmax(cdf > cdf[0])) if np.any(cdf > cdf[0]) else 0
        slope = (cdf[rising] - cdf[0]) / (log_caps[rising] - log_caps[0]) if rising else cdf[0] / math.log(2.0)
        start_log = np.r_[log_caps[0] - cdf[0] / slope, log_caps]
        start_cdf = np.r_[0.0, cdf]
    if start_cdf[-1] < 1:
        # recall still rising at the last cap: the rest of the mass sits one doubling beyond it
        start_log, start_cdf = np.r_[start_log, start_log[-1] + math.log(2.0)], np.r_[start_cdf, 1.0]
    keep = np.r_[True, np.diff(start_cdf) > 0]  # drop flat stretches so the CDF inverts
    knots_log, knots_cdf = start_log[keep], start_cdf[keep]
    end = int(np.argmax(knots_cdf >= 1.0))
    knots_log, knots_cdf = knots_log[: end + 1], knots_cdf[: end + 1]
    # log tau is uniform on each segment: mean and variance in closed form
    mass = np.diff(knots_cdf)
    a, b = knots_log[:-1], knots_log[1:]
    mean = float(np.sum(mass * (a + b) / 2))
    second = float(np.sum(mass * (a * a + a * b + b * b) / 3))
    tokens, values = np.exp(knots_log), knots_cdf.copy()
    tokens.flags.writeable = False
    values.flags.writeable = False
    return ThresholdDistribution("interpolate", ceiling, mean, math.sqrt(max(second - mean * mean, 0.0)), tokens, values)
