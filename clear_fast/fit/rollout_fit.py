"""Maximum-likelihood fit of a model's curve from rollout logs, censoring included."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import as_positive_integer, require_choice
from ._nelder_mead import nelder_mead
from ._thresholds import ThresholdLikelihood, unpack, weighted_quantiles
from .goodness import calibration_table, ks_uniform
from .result import FitResult
from .rollouts import Rollouts

_LOGIT_LIMIT = 15.0
_LOG_SIGMA_RANGE = (math.log(0.02), math.log(5.0))
_LOG_KAPPA_RANGE = (math.log(0.05), math.log(1e5))  # Beta concentration: from U-shaped to nearly shared


SUCCESS_MODELS = ("shared", "per_query")


def fit_rollouts(
    rollouts: Rollouts | Iterable[Mapping[str, Any]], *, success: str = "shared", max_evaluations: int = 800
) -> FitResult:
    """Fit ``alpha``, ``beta`` and every query's threshold from runs at caps.

    Parameters
    ----------
    rollouts : Rollouts or iterable of mapping
        The runs (records are read with :meth:`Rollouts.from_records`).
    success : {"shared", "per_query"}
        ``"shared"``: one chance ``p`` that the model knows an answer, for every query
        (the paper's model-intrinsic ``alpha = p beta**2``). ``"per_query"``: each query
        has its own ``p_i``, drawn from a fitted Beta population and integrated out
        (some questions a model nearly always knows, others hardly ever); slower, by
        about the number of success nodes (12).
    max_evaluations : int
        Budget of likelihood evaluations for the optimiser.

    Returns
    -------
    FitResult
        ``beta``, ``success_probability`` (so ``alpha = p * beta**2``) with standard
        errors, each query's threshold with a 95% interval, and goodness of fit.

    Raises
    ------
    ValueError
        When no run is correct (nothing then identifies the length distribution),
        ``success`` is unknown, or ``max_evaluations`` is not a positive integer.

    Notes
    -----
    The model (see :mod:`clear_fast.fit._length_model`): query ``i`` is known with
    probability ``p``; a known answer runs ``tau_i + Gamma(2, 1/beta)`` tokens; a run
    at cap ``c`` is correct iff known and the answer fits. A correct run contributes
    the density of its length; every other run contributes ``1 - p F(c - tau_i)``.
    A run cut at the cap is therefore censored, not a failure of known length, and
    a never-solved query only pushes its threshold beyond its caps.

    Thresholds follow ``log tau ~ Normal(mu, sigma)`` across queries and are
    integrated out by quadrature (thresholds hug the shortest correct answer, so
    maximising over each would bias ``beta`` upward when queries have few runs).
    The marginal likelihood is maximised over ``(log beta, logit p, mu, log sigma)``
    (plus ``log kappa``, the Beta population's concentration, for per-query ``p``) by Nelder-Mead; standard errors come from a finite-difference Hessian. Each
    query's estimate is its posterior median. Cost per evaluation: O(m x 112), m = correct runs
    plus distinct (query, cap) pairs among the other runs;
    a few hundred evaluations.
    """
    as_positive_integer("max_evaluations", max_evaluations)
    require_choice("success", success, SUCCESS_MODELS)
    if not isinstance(rollouts, Rollouts):
        rollouts = Rollouts.from_records(rollouts)
    if not rollouts.correct.any():
        raise ValueError(
            "no run in `rollouts` is correct: the length of correct answers, and so beta, cannot be estimated"
        )
    model = ThresholdLikelihood(rollouts)
    scale = float(model.n_runs)

    def objective(theta: NDArray[np.float64]) -> float:
        if abs(theta[1]) > _LOGIT_LIMIT or not _LOG_SIGMA_RANGE[0] <= theta[3] <= _LOG_SIGMA_RANGE[1]:
            return math.inf
        if theta.shape[0] == 5 and not _LOG_KAPPA_RANGE[0] <= theta[4] <= _LOG_KAPPA_RANGE[1]:
            return math.inf
        with np.errstate(all="ignore"):
            value = -model.log_marginal(theta) / scale
        return value if math.isfinite(value) else math.inf

    start = _starting_point(rollouts, model)
    steps = np.array([0.3, 0.6, 0.3, 0.3])
    if success == "per_query":
        # start from the shared fit: a concentrated Beta around its p
        shared, _, _ = nelder_mead(objective, start, steps, max_evaluations=max_evaluations)
        start, steps = np.r_[shared, math.log(30.0)], np.r_[steps, 1.0]
    theta, _, _ = nelder_mead(objective, start, steps, max_evaluations=max_evaluations)
    # a restart from the optimum shakes off a simplex that collapsed early
    theta, _, _ = nelder_mead(objective, theta, steps / 3, max_evaluations=max_evaluations)
    return _summarise(model, rollouts, theta)


def _starting_point(rollouts: Rollouts, model: ThresholdLikelihood) -> NDArray[np.float64]:
    """Moment estimates: Gamma(2, 1/beta) has variance 2/beta**2 within a query."""
    lengths, query = model.lengths, model.query_correct
    count = np.bincount(query, minlength=model.n_queries).astype(float)
    total = np.bincount(query, weights=lengths, minlength=model.n_queries)
    squares = np.bincount(query, weights=lengths * lengths, minlength=model.n_queries)
    repeated = count >= 2
    if repeated.any():
        within = np.sum(squares[repeated] - total[repeated] ** 2 / count[repeated]) / np.sum(count[repeated] - 1)
        beta = math.sqrt(2.0 / within) if within > 0 else 2.0 / float(np.median(lengths))
    else:
        beta = 2.0 / float(np.median(lengths))
    share = float(rollouts.correct.mean())
    p = min(max(1.25 * share, 0.2), 0.95)
    log_tau = np.log(np.maximum(model.shortest[model.solved] - 1.0 / beta, 1.0))
    sigma = max(float(log_tau.std()), 0.2) if log_tau.shape[0] > 1 else 0.5
    return np.array([math.log(beta), math.log(p / (1 - p)), float(log_tau.mean()), math.log(sigma)])


def _standard_errors(model: ThresholdLikelihood, theta: NDArray[np.float64]) -> tuple[float, float]:
    """Standard errors of ``beta`` and ``p`` from a central-difference Hessian of the marginal likelihood."""
    step = 1e-3
    d = theta.shape[0]
    hessian = np.empty((d, d))
    center = model.log_marginal(theta)
    with np.errstate(all="ignore"):
        for i in range(d):
            for j in range(i, d):
                if i == j:
                    up, down = theta.copy(), theta.copy()
                    up[i] += step
                    down[i] -= step
                    value = (model.log_marginal(up) - 2 * center + model.log_marginal(down)) / step**2
                else:
                    corners = []
                    for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                        shifted = theta.copy()
                        shifted[i] += si * step
                        shifted[j] += sj * step
                        corners.append(model.log_marginal(shifted))
                    value = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * step**2)
                hessian[i, j] = hessian[j, i] = value
    if not np.all(np.isfinite(hessian)) or np.any(np.linalg.eigvalsh(-hessian) <= 0):
        warnings.warn("the fit's information matrix is not positive definite: standard errors are nan", stacklevel=3)
        return math.nan, math.nan
    covariance = np.linalg.inv(-hessian)
    params = unpack(theta)
    p = params.p_mean
    return params.beta * math.sqrt(covariance[0, 0]), p * (1 - p) * math.sqrt(covariance[1, 1])


def _summarise(model: ThresholdLikelihood, rollouts: Rollouts, theta: NDArray[np.float64]) -> FitResult:
    params = unpack(theta)
    points, weights, success_weighted = model.posterior(theta)
    log_points = np.log(points)
    log_mean = (weights * log_points).sum(axis=1)
    log_spread = np.sqrt(np.maximum((weights * (log_points - log_mean[:, None]) ** 2).sum(axis=1), 0.0))
    beta_se, p_se = _standard_errors(model, theta)
    statistic, pvalue = ks_uniform(model.correct_length_ranks(theta))
    predicted = model.success_probability_at(theta, rollouts.query, rollouts.cap)
    arrays = {
        "tau": weighted_quantiles(points, weights, 0.5),
        "tau_mean": (weights * points).sum(axis=1),
        "tau_low": weighted_quantiles(points, weights, 0.025),
        "tau_high": weighted_quantiles(points, weights, 0.975),
        "log_tau_spread": log_spread,
        "solved": model.solved.copy(),
        # shared: exactly p (the posterior sum reproduces it only up to rounding)
        "query_success_probability": (
            np.full(model.n_queries, params.p_mean) if theta.shape[0] == 4 else success_weighted.sum(axis=1)
        ),
    }
    for array in arrays.values():
        array.flags.writeable = False
    return FitResult(
        beta=params.beta,
        success_probability=params.p_mean,
        beta_se=beta_se,
        success_probability_se=p_se,
        tau_log_mean=params.mu,
        tau_log_std=params.sigma,
        success_model="shared" if theta.shape[0] == 4 else "per_query",
        success_concentration=params.concentration,
        query_ids=rollouts.query_ids,
        log_likelihood=model.log_marginal(theta),
        n_runs=model.n_runs,
        ks_statistic=statistic,
        ks_pvalue=pvalue,
        calibration=calibration_table(rollouts.cap, rollouts.correct, predicted),
        **arrays,
    )
