"""Marginal likelihood of rollouts with each query's threshold integrated out.

Thresholds are per-query nuisance parameters. Maximising over each one (a
profile likelihood) biases the shared ``beta``: with a handful of runs per
query, the best ``tau`` hugs the shortest correct answer, so lengths measured
from it look short. Instead thresholds get a population distribution,
``log tau ~ Normal(mu, sigma)``, and are integrated out per query by quadrature
on a grid; the posterior on that grid then gives each query's estimate and
interval (empirical Bayes). A never-solved query is no special case: its
posterior is the population's tail beyond the caps it failed at.

Parameters are packed as ``theta = (log beta, logit p, mu, log sigma)``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ._length_model import gamma2_cdf, log_correct, log_not_correct
from .rollouts import Rollouts

_PRIOR_POINTS = 72  # log-spaced over mu +- 7 sigma: where the population puts thresholds
_EDGE_POINTS = 40  # packed just below a query's shortest correct answer, where its likelihood peaks
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def unpack(theta: NDArray[np.float64]) -> tuple[float, float, float, float]:
    """``(beta, p, mu, sigma)`` from the packed vector."""
    log_beta, logit_p, mu, log_sigma = (float(v) for v in theta)
    return math.exp(log_beta), 1.0 / (1.0 + math.exp(-logit_p)), mu, math.exp(log_sigma)


class ThresholdLikelihood:
    """Rollouts arranged for fast evaluation of the marginal likelihood and the posteriors.

    Parameters
    ----------
    rollouts : Rollouts
        The runs; every query has at least one.
    """

    def __init__(self, rollouts: Rollouts) -> None:
        self.n_queries = rollouts.n_queries
        self.n_runs = rollouts.n_runs
        correct = rollouts.correct
        order = np.argsort(rollouts.query[correct], kind="stable")
        self.query_correct = rollouts.query[correct][order]
        self.lengths = rollouts.tokens[correct][order]
        self.caps_correct = rollouts.cap[correct][order]
        # runs that were not correct matter only through (query, cap): repeats become one row with a count
        pairs, counts = np.unique(
            np.column_stack([rollouts.query[~correct].astype(np.float64), rollouts.cap[~correct]]),
            axis=0,
            return_counts=True,
        )
        self.query_other = pairs[:, 0].astype(np.int64)
        self.caps_other = pairs[:, 1].copy()
        self.count_other = counts.astype(np.float64)
        self.starts_correct, self.present_correct = _runs_of(self.query_correct)
        self.starts_other, self.present_other = _runs_of(self.query_other)
        # shortest correct answer per query: the threshold lies below it
        shortest = np.full(self.n_queries, np.inf)
        np.minimum.at(shortest, self.query_correct, self.lengths)
        self.shortest = shortest
        self.solved = np.isfinite(shortest)
        largest_cap = np.zeros(self.n_queries)
        np.maximum.at(largest_cap, rollouts.query, rollouts.cap)
        self.largest_cap = largest_cap

    # -- quadrature ------------------------------------------------------------------------------

    def grid(self, mu: float, sigma: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Per-query threshold grid, shape (n, G), and its log trapezoid widths."""
        prior = np.exp(np.linspace(mu - 7.0 * sigma, mu + 7.0 * sigma, _PRIOR_POINTS))
        # an unsolved query's likelihood turns at its largest cap; a solved one's peaks below its shortest answer
        anchor = np.where(self.solved, self.shortest, self.largest_cap)
        anchor = np.where(np.isfinite(anchor), anchor, math.exp(mu))
        edge = anchor[:, None] * (1.0 - np.geomspace(1e-5, 0.999, _EDGE_POINTS))[None, :]
        points = np.concatenate([np.broadcast_to(prior, (self.n_queries, _PRIOR_POINTS)), edge], axis=1)
        # a threshold at or above a correct answer's length is impossible: pile those points on the bound,
        # where they get zero width
        points = np.sort(np.minimum(points, self.shortest[:, None]), axis=1)
        widths = np.empty_like(points)
        widths[:, 1:-1] = 0.5 * (points[:, 2:] - points[:, :-2])
        widths[:, 0] = 0.5 * (points[:, 1] - points[:, 0])
        widths[:, -1] = 0.5 * (points[:, -1] - points[:, -2])
        with np.errstate(divide="ignore"):
            return points, np.log(widths)

    def log_joint(self, theta: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Grid and ``log(width * prior(tau) * likelihood(runs | tau))``, both shape (n, G)."""
        beta, p, mu, sigma = unpack(theta)
        points, log_widths = self.grid(mu, sigma)
        per_query = np.zeros_like(points)
        if self.lengths.shape[0]:
            correct = log_correct(self.lengths[:, None] - points[self.query_correct], beta, math.log(p))
            per_query[self.present_correct] += np.add.reduceat(correct, self.starts_correct, axis=0)
        if self.caps_other.shape[0]:
            other = log_not_correct(self.caps_other[:, None] - points[self.query_other], beta, p)
            per_query[self.present_other] += np.add.reduceat(other * self.count_other[:, None], self.starts_other, axis=0)
        log_tau = np.log(points)
        z = (log_tau - mu) / sigma
        log_prior = -0.5 * z * z - math.log(sigma) - _LOG_SQRT_2PI - log_tau
        return points, log_widths + log_prior + per_query

    def log_marginal(self, theta: NDArray[np.float64]) -> float:
        """Log-likelihood of all runs with thresholds integrated out."""
        _, joint = self.log_joint(theta)
        return float(_logsumexp_rows(joint).sum())

    # -- posteriors ------------------------------------------------------------------------------

    def posterior(self, theta: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Grid and normalised posterior weights of each query's threshold, shape (n, G)."""
        points, joint = self.log_joint(theta)
        weights = np.exp(joint - _logsumexp_rows(joint)[:, None])
        return points, weights / weights.sum(axis=1, keepdims=True)

    def correct_length_ranks(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Leave-one-out predictive probability that a correct answer at its cap is no longer than observed.

        Each rank uses the threshold's posterior given the query's other runs (the run's own
        likelihood divided out), so under the model the ranks are close to uniform on (0, 1);
        the goodness-of-fit test checks that. The grid stops at the query's shortest answer, so
        for that answer the leave-one-out posterior is truncated there (a small bias towards 0).
        """
        beta, p, _, _ = unpack(theta)
        points, joint = self.log_joint(theta)
        grid = points[self.query_correct]
        own = log_correct(self.lengths[:, None] - grid, beta, math.log(p))
        with np.errstate(invalid="ignore"):
            loo = np.where(np.isfinite(own), joint[self.query_correct] - own, -np.inf)
        weights = np.exp(loo - _logsumexp_rows(loo)[:, None])
        below_cap = gamma2_cdf(self.caps_correct[:, None] - grid, beta)
        below_length = gamma2_cdf(self.lengths[:, None] - grid, beta)
        with np.errstate(invalid="ignore", divide="ignore"):
            conditional = np.where(below_cap > 0, below_length / below_cap, 0.0)
        return np.clip((weights * conditional).sum(axis=1), 0.0, 1.0)

    def success_probability_at(self, theta: NDArray[np.float64], query: NDArray[np.int64], cap: NDArray[np.float64]) -> NDArray[np.float64]:
        """Posterior-predictive chance that ``query`` answers correctly at ``cap`` (one value per pair)."""
        beta, p, _, _ = unpack(theta)
        points, weights = self.posterior(theta)
        return p * (weights[query] * gamma2_cdf(cap[:, None] - points[query], beta)).sum(axis=1)


def _runs_of(sorted_query: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Where each query's block starts in a query-sorted array, and which query each block is."""
    if sorted_query.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_query[1:] != sorted_query[:-1]])
    return starts, sorted_query[starts]


def _logsumexp_rows(values: NDArray[np.float64]) -> NDArray[np.float64]:
    top = values.max(axis=1)
    safe_top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe_top + np.log(np.exp(values - safe_top[:, None]).sum(axis=1))


def weighted_quantiles(
    points: NDArray[np.float64], weights: NDArray[np.float64], q: float
) -> NDArray[np.float64]:
    """Row-wise ``q``-quantile of discrete distributions on sorted ``points``, interpolated linearly."""
    cumulative = np.cumsum(weights, axis=1)
    above = np.minimum((cumulative < q).sum(axis=1), points.shape[1] - 1)
    rows = np.arange(points.shape[0])
    below = np.maximum(above - 1, 0)
    c_lo, c_hi = cumulative[rows, below], cumulative[rows, above]
    span = np.where(c_hi > c_lo, c_hi - c_lo, 1.0)
    share = np.clip((q - c_lo) / span, 0.0, 1.0)
    share = np.where(above == 0, 1.0, share)
    return points[rows, below] + share * (points[rows, above] - points[rows, below])
