"""Marginal likelihood of rollouts with each query's threshold (and success chance) integrated out.

Thresholds are per-query nuisance parameters. Maximising over each one (a
profile likelihood) biases the shared ``beta``: with a handful of runs per
query, the best ``tau`` hugs the shortest correct answer, so lengths measured
from it look short. Instead thresholds get a population distribution,
``log tau ~ Normal(mu, sigma)``, and are integrated out per query by quadrature
on a grid; the posterior on that grid then gives each query's estimate and
interval (empirical Bayes). A never-solved query is no special case: its
posterior is the population's tail beyond the caps it failed at.

The chance ``p`` that the model knows an answer is either shared by all queries
(the paper's model-intrinsic ``alpha``), packed as
``theta = (log beta, logit p, mu, log sigma)``, or per query with a population
``p ~ Beta(m kappa, (1 - m) kappa)`` integrated out on a second grid, packed as
``theta = (log beta, logit m, mu, log sigma, log kappa)``. Under deterministic
decoding a query is either known or not (``p_i`` is 0 or 1, the Beta's limit
``kappa -> 0``): the same four entries as the shared model, with ``binary=True``.

Three kinds of run enter: a correct answer of known length (its density), a
correct answer cut at the cap (a rambling model went on after it: the answer fitted,
probability ``p F(c - tau)``), and any other run (``1 - p F(c - tau)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._length_model import gamma2_cdf, gamma2_survival, log_correct, log_not_correct
from .rollouts import Rollouts

_PRIOR_POINTS = 72  # log-spaced over mu +- 7 sigma: where the population puts thresholds
_EDGE_POINTS = 40  # packed just below a query's shortest correct answer, where its likelihood peaks
_SUCCESS_POINTS = 12  # nodes of the per-query success chance, in logit space
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class Parameters:
    """Unpacked parameters; ``p_nodes`` and ``log_p_weights`` describe the success chance's distribution."""

    beta: float
    mu: float
    sigma: float
    p_mean: float
    concentration: float
    p_nodes: NDArray[np.float64]
    log_p_weights: NDArray[np.float64]


def unpack(theta: NDArray[np.float64], *, binary: bool = False) -> Parameters:
    """Parameters from the packed vector (4 entries: shared ``p``, or known-or-not with ``binary``; 5: per-query ``p``)."""
    beta, mean, mu, sigma = math.exp(theta[0]), 1.0 / (1.0 + math.exp(-theta[1])), float(theta[2]), math.exp(theta[3])
    if binary:
        return Parameters(beta, mu, sigma, mean, 0.0, np.array([0.0, 1.0]), np.log(np.array([1.0 - mean, mean])))
    if theta.shape[0] == 4:
        return Parameters(beta, mu, sigma, mean, math.inf, np.array([mean]), np.zeros(1))
    kappa = math.exp(theta[4])
    a, b = mean * kappa, (1.0 - mean) * kappa
    # nodes spaced evenly in logit p around the mean, +-4 standard deviations of logit p (about sqrt(1/a + 1/b))
    half_width = min(math.sqrt(1.0 / a + 1.0 / b), 2.5)
    logits = np.clip(theta[1] + half_width * np.linspace(-4.0, 4.0, _SUCCESS_POINTS), -9.0, 9.0)
    nodes = 1.0 / (1.0 + np.exp(-logits))
    # Beta density times the Jacobian dp/dlogit = p (1 - p): p**a (1 - p)**b on an even logit grid
    log_weights = a * np.log(nodes) + b * np.log1p(-nodes)
    log_weights -= np.log(np.sum(np.exp(log_weights - log_weights.max()))) + log_weights.max()
    return Parameters(beta, mu, sigma, mean, kappa, nodes, log_weights)


class ThresholdLikelihood:
    """Rollouts arranged for fast evaluation of the marginal likelihood and the posteriors.

    Parameters
    ----------
    rollouts : Rollouts
        The runs; every query has at least one.
    binary : bool
        Each query is known or not (deterministic decoding), instead of a chance per run.
    """

    def __init__(self, rollouts: Rollouts, *, binary: bool = False) -> None:
        self.n_queries = rollouts.n_queries
        self.n_runs = rollouts.n_runs
        self.binary = binary
        exact = rollouts.exact
        order = np.argsort(rollouts.query[exact], kind="stable")
        self.query_correct = rollouts.query[exact][order]
        self.lengths = rollouts.tokens[exact][order]
        self.caps_correct = rollouts.cap[exact][order]
        # correct answers cut at the cap: the answer fitted, its length is unknown; one row per (query, cap)
        self.query_capped, self.caps_capped, self.count_capped = _grouped(rollouts, rollouts.correct & rollouts.cut)
        # runs that were not correct matter only through (query, cap): repeats become one row with a count
        self.query_other, self.caps_other, self.count_other = _grouped(rollouts, ~rollouts.correct)
        self.correct_count = np.bincount(self.query_correct, minlength=self.n_queries).astype(np.float64)
        self.correct_count += np.bincount(self.query_capped, weights=self.count_capped, minlength=self.n_queries)
        self.starts_correct, self.present_correct = _runs_of(self.query_correct)
        self.starts_capped, self.present_capped = _runs_of(self.query_capped)
        self.starts_other, self.present_other = _runs_of(self.query_other)
        # the threshold lies below every correct answer: below its length, or below the cap it fitted under
        shortest = np.full(self.n_queries, np.inf)
        np.minimum.at(shortest, self.query_correct, self.lengths)
        np.minimum.at(shortest, self.query_capped, self.caps_capped)
        self.shortest = shortest
        self.solved = np.isfinite(shortest)
        largest_cap = np.zeros(self.n_queries)
        np.maximum.at(largest_cap, rollouts.query, rollouts.cap)
        self.largest_cap = largest_cap

    @property
    def n_exact(self) -> int:
        """Correct runs of known length."""
        return int(self.lengths.shape[0])

    def unpack(self, theta: NDArray[np.float64]) -> Parameters:
        """The parameters of ``theta`` under this likelihood's success model."""
        return unpack(theta, binary=self.binary)

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

    def log_joint(self, theta: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], Parameters]:
        """Grid (n, G), ``log(width * prior * likelihood)`` on (success node, threshold), shape (n, K, G)."""
        params = self.unpack(theta)
        beta, nodes = params.beta, params.p_nodes
        points, log_widths = self.grid(params.mu, params.sigma)
        lengths_part = np.zeros_like(points)
        if self.lengths.shape[0]:
            correct = log_correct(self.lengths[:, None] - points[self.query_correct], beta, 0.0)
            lengths_part[self.present_correct] = np.add.reduceat(correct, self.starts_correct, axis=0)
        if self.caps_capped.shape[0]:
            with np.errstate(divide="ignore"):
                fitted = np.log(gamma2_cdf(self.caps_capped[:, None] - points[self.query_capped], beta))
            fitted *= self.count_capped[:, None]
            lengths_part[self.present_capped] += np.add.reduceat(fitted, self.starts_capped, axis=0)
        log_tau = np.log(points)
        z = (log_tau - params.mu) / params.sigma
        log_prior = -0.5 * z * z - math.log(params.sigma) - _LOG_SQRT_2PI - log_tau
        per_tau = (log_widths + log_prior + lengths_part)[:, None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            # a node p = 0 (known-or-not) rules out every solved query, and is neutral for the others
            successes = np.where(
                self.correct_count[:, None] > 0, self.correct_count[:, None] * np.log(nodes)[None, :], 0.0
            )
        per_node = (successes + params.log_p_weights[None, :])[:, :, None]
        joint = per_tau + per_node
        if self.caps_other.shape[0]:
            survival = gamma2_survival(self.caps_other[:, None] - points[self.query_other], beta)
            with np.errstate(divide="ignore"):
                for k, p in enumerate(nodes):
                    failures = log_not_correct(survival, float(p)) * self.count_other[:, None]
                    joint[self.present_other, k, :] += np.add.reduceat(failures, self.starts_other, axis=0)
        return points, joint, params

    def log_marginal(self, theta: NDArray[np.float64]) -> float:
        """Log-likelihood of all runs with thresholds (and per-query success chances) integrated out."""
        _, joint, _ = self.log_joint(theta)
        return float(_logsumexp_last(joint.reshape(self.n_queries, -1)).sum())

    # -- posteriors ------------------------------------------------------------------------------

    def posterior(
        self, theta: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Grid (n, G), posterior weights of each threshold (n, G), and a success-weighted copy.

        The third array is ``sum_k w[k, g] * p_k``: with it, a query's predicted accuracy at
        cap ``c`` is ``sum_g (...)[g] * F(c - tau_g)`` and its posterior mean ``p`` the row sum.
        """
        points, joint, params = self.log_joint(theta)
        flat = joint.reshape(self.n_queries, -1)
        weights = np.exp(flat - _logsumexp_last(flat)[:, None]).reshape(joint.shape)
        weights /= weights.sum(axis=(1, 2), keepdims=True)
        return points, weights.sum(axis=1), np.einsum("nkg,k->ng", weights, params.p_nodes)

    def correct_length_ranks(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """Leave-one-out predictive probability that a correct answer at its cap is no longer than observed.

        Each rank uses the threshold's posterior given the query's other runs (the run's own
        likelihood divided out), so under the model the ranks are close to uniform on (0, 1);
        the goodness-of-fit test checks that. The grid stops at the query's shortest answer, so
        for that answer the leave-one-out posterior is truncated there (a small bias towards 0).
        """
        points, joint, params = self.log_joint(theta)
        grid = points[self.query_correct]
        own_length = log_correct(self.lengths[:, None] - grid, params.beta, 0.0)  # (R, G)
        with np.errstate(invalid="ignore", divide="ignore"):
            loo = joint[self.query_correct] - np.log(params.p_nodes)[None, :, None] - own_length[:, None, :]
        usable = np.isfinite(own_length)[:, None, :] & (params.p_nodes > 0)[None, :, None]
        loo = np.where(usable, loo, -np.inf)
        loo = _logsumexp_axis1(loo)  # success chance integrated out: (R, G)
        weights = np.exp(loo - _logsumexp_last(loo)[:, None])
        below_cap = gamma2_cdf(self.caps_correct[:, None] - grid, params.beta)
        below_length = gamma2_cdf(self.lengths[:, None] - grid, params.beta)
        with np.errstate(invalid="ignore", divide="ignore"):
            conditional = np.where(below_cap > 0, below_length / below_cap, 0.0)
        return np.clip((weights * conditional).sum(axis=1), 0.0, 1.0)

    def success_probability_at(
        self, theta: NDArray[np.float64], query: NDArray[np.int64], cap: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Posterior-predictive chance that ``query`` answers correctly at ``cap`` (one value per pair)."""
        points, _, success_weighted = self.posterior(theta)
        beta = self.unpack(theta).beta
        return (success_weighted[query] * gamma2_cdf(cap[:, None] - points[query], beta)).sum(axis=1)


def _grouped(rollouts: Rollouts, mask: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """The runs under ``mask`` as distinct (query, cap) rows, sorted by query, with their counts."""
    pairs, counts = np.unique(
        np.column_stack([rollouts.query[mask].astype(np.float64), rollouts.cap[mask]]), axis=0, return_counts=True
    )
    return pairs[:, 0].astype(np.int64), pairs[:, 1].copy(), counts.astype(np.float64)


def _runs_of(sorted_query: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Where each query's block starts in a query-sorted array, and which query each block is."""
    if sorted_query.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, sorted_query[1:] != sorted_query[:-1]])
    return starts, sorted_query[starts]


def _logsumexp_last(values: NDArray[np.float64]) -> NDArray[np.float64]:
    top = values.max(axis=-1)
    safe_top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe_top + np.log(np.exp(values - safe_top[..., None]).sum(axis=-1))


def _logsumexp_axis1(values: NDArray[np.float64]) -> NDArray[np.float64]:
    return _logsumexp_last(np.moveaxis(values, 1, -1))


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
