"""Maximum-likelihood fit of a model's curve from rollout logs, censoring included."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._checks import as_positive_integer, as_positive_number, require_choice
from ._nelder_mead import nelder_mead
from ._thresholds import Parameters, ThresholdLikelihood, weighted_quantiles
from .diagnostics import DECODINGS, FitWarning, bound_notes, choose_decoding, repeat_evidence, width_notes
from .goodness import calibration_table, ks_uniform
from .result import FitResult
from .rollouts import Rollouts

_LOGIT_LIMIT = 15.0
_LOG_SIGMA_RANGE = (math.log(0.02), math.log(5.0))
_LOG_KAPPA_RANGE = (math.log(0.05), math.log(1e5))  # Beta concentration: from U-shaped to nearly shared
# Weak priors on what a log may not measure (log-normal, in log units): the spread of log thresholds across
# queries, and the Beta population's concentration. With a few hundred runs they move nothing.
_SIGMA_PRIOR = (math.log(0.5), 1.0)
_KAPPA_PRIOR = (math.log(5.0), 2.0)

SUCCESS_MODELS = ("shared", "per_query")
DEFAULT_WIDTH_PRIOR = (0.25, 1.5)
DETERMINISTIC_WIDTH = 1.0
"""Width ``1/beta`` (tokens) of the curves of a deterministic fit: each answer has one length."""
"""Width ``1/beta`` of the surge is a priori a quarter of the median threshold, with a log-sd of 1.5."""


def fit_rollouts(
    rollouts: Rollouts | Iterable[Mapping[str, Any]],
    *,
    success: str = "shared",
    decoding: str = "auto",
    width_prior: tuple[float, float] | None = DEFAULT_WIDTH_PRIOR,
    max_evaluations: int = 800,
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
        about the number of success nodes (12). Under deterministic decoding a query is
        known or not, and ``"per_query"`` gives each query the posterior probability that
        it is known (the chance it can be solved at all).
    decoding : {"auto", "sampled", "deterministic"}
        How the runs were generated. ``"sampled"``: independent draws (temperature > 0).
        ``"deterministic"``: greedy decoding, so a query's runs at several caps are one
        answer seen through several caps; each query is fitted on its most informative
        run (:meth:`Rollouts.one_run_per_query`), and its curve is a step at its answer's
        length: the width is fixed at :data:`DETERMINISTIC_WIDTH` (one token) and what a new
        query needs is left to the threshold predictor's spread. ``"auto"`` (default):
        deterministic when most queries with several correct runs repeat the identical
        length, with a :class:`FitWarning` saying so.
    width_prior : (float, float) or None
        ``(ratio, log_sd)``: a weak lognormal prior on the surge's width ``1/beta`` around
        ``ratio`` times the median threshold, for sampled runs. Runs repeated per query
        outweigh it at once; it decides the width when the runs cannot (one run per query).
        None: plain maximum likelihood, which can then diverge.
    max_evaluations : int
        Budget of likelihood evaluations for the optimiser.

    Returns
    -------
    FitResult
        ``beta``, ``success_probability`` (so ``alpha = p * beta**2``) with standard
        errors, each query's threshold with a 95% interval, goodness of fit, the
        decoding fitted under and every warning raised (``notes``).

    Raises
    ------
    ValueError
        When no run is correct (nothing then identifies the length distribution),
        ``success`` or ``decoding`` is unknown, ``width_prior`` is not two positive numbers,
        or ``max_evaluations`` is not a positive integer.

    Warns
    -----
    FitWarning
        When the decoding looks deterministic (``decoding="auto"``) or contradicts the
        one given, when no run measures the width (it then comes from ``width_prior``),
        when a parameter ends on the bound of its search range, or when the fitted width
        is below one token. Each message says what to do.

    Notes
    -----
    The model (see :mod:`clear_fast.fit._length_model`): query ``i`` is known with
    probability ``p``; a known answer runs ``tau_i + Gamma(2, 1/beta)`` tokens; a run
    at cap ``c`` is correct iff known and the answer fits. A correct run contributes
    the density of its length; a correct run cut at its cap (the model went on after
    the answer) contributes ``p F(c - tau_i)``; every other run ``1 - p F(c - tau_i)``.
    A run cut at the cap is therefore censored, not a failure of known length, and
    a never-solved query only pushes its threshold beyond its caps.

    Thresholds follow ``log tau ~ Normal(mu, sigma)`` across queries and are
    integrated out by quadrature (thresholds hug the shortest correct answer, so
    maximising over each would bias ``beta`` upward when queries have few runs).
    The marginal likelihood times weak priors (``width_prior``; ``log sigma`` around
    log 0.5 and, for per-query ``p``, ``log kappa`` around log 5, each with a log-sd of
    1 or 2) is maximised over ``(log beta, logit p, mu, log sigma)`` (plus ``log kappa``,
    the Beta population's concentration, for per-query ``p``) by Nelder-Mead; standard
    errors come from a finite-difference Hessian. Each query's estimate is its posterior
    median. Cost per evaluation: O(m x 112), m = correct runs plus distinct (query, cap)
    pairs among the other runs; a few hundred evaluations.
    """
    as_positive_integer("max_evaluations", max_evaluations)
    require_choice("success", success, SUCCESS_MODELS)
    require_choice("decoding", decoding, DECODINGS)
    width_prior = _checked_width_prior(width_prior)
    if not isinstance(rollouts, Rollouts):
        rollouts = Rollouts.from_records(rollouts)
    if not rollouts.correct.any():
        raise ValueError(
            "no run in `rollouts` is correct: the length of correct answers, and so beta, cannot be estimated"
        )
    evidence = repeat_evidence(rollouts)
    decoding, notes = choose_decoding(decoding, evidence)
    deterministic = decoding == "deterministic"
    fitted = rollouts.one_run_per_query() if deterministic else rollouts
    binary = deterministic and success == "per_query"
    model = ThresholdLikelihood(fitted, binary=binary)
    per_query_beta = success == "per_query" and not binary
    # greedy decoding: a query's answer has one length, so its curve is a step there (one token wide); what
    # a new query needs is uncertain, and that is its threshold predictor's spread, not a width
    prior = None if deterministic else width_prior
    log_posterior = _log_posterior(model, prior)
    fixed = np.array([-math.log(DETERMINISTIC_WIDTH)]) if deterministic else np.zeros(0)
    scale = float(model.n_runs)

    def objective(free: NDArray[np.float64]) -> float:
        theta = np.r_[fixed, free]
        if abs(theta[1]) > _LOGIT_LIMIT or not _LOG_SIGMA_RANGE[0] <= theta[3] <= _LOG_SIGMA_RANGE[1]:
            return math.inf
        if theta.shape[0] == 5 and not _LOG_KAPPA_RANGE[0] <= theta[4] <= _LOG_KAPPA_RANGE[1]:
            return math.inf
        with np.errstate(all="ignore"):
            value = -log_posterior(theta) / scale
        return value if math.isfinite(value) else math.inf

    start = _starting_point(fitted, model, prior)
    if deterministic:
        start[0] = fixed[0]
    steps = np.array([0.3, 0.6, 0.3, 0.3])
    if per_query_beta:
        # start from the shared fit: a concentrated Beta around its p
        shared, _, _ = nelder_mead(objective, start, steps, max_evaluations=max_evaluations)
        start, steps = np.r_[shared, math.log(30.0)], np.r_[steps, 1.0]
    free = fixed.shape[0]
    found, _, _ = nelder_mead(objective, start[free:], steps[free:], max_evaluations=max_evaluations)
    # a restart from the optimum shakes off a simplex that collapsed early
    found, _, _ = nelder_mead(objective, found, steps[free:] / 3, max_evaluations=max_evaluations)
    theta = np.r_[fixed, found]
    params = model.unpack(theta)
    if not deterministic:
        notes += width_notes(decoding, evidence, 1.0 / params.beta, prior)
    bounds = [("spread of log thresholds across queries (sigma)", params.sigma, theta[3], *_LOG_SIGMA_RANGE)]
    if per_query_beta:
        bounds.append(("concentration of per-query success chances (kappa)", params.concentration, theta[4], *_LOG_KAPPA_RANGE))
    notes += bound_notes(bounds)
    for note in notes:
        warnings.warn(note, FitWarning, stacklevel=2)
    return _summarise(
        model, rollouts, theta, log_posterior,
        decoding=decoding, success=success, width_prior=prior, notes=tuple(notes), fixed=free,
    )


def _checked_width_prior(width_prior: Any) -> tuple[float, float] | None:
    if width_prior is None:
        return None
    if not (isinstance(width_prior, (tuple, list)) and len(width_prior) == 2):
        raise ValueError(f"`width_prior` must be (ratio, log_sd) or None, got {width_prior!r}")
    ratio, log_sd = width_prior
    return as_positive_number("width_prior ratio", ratio), as_positive_number("width_prior log_sd", log_sd)


def _log_posterior(
    model: ThresholdLikelihood, width_prior: tuple[float, float] | None
) -> Callable[[NDArray[np.float64]], float]:
    """Marginal log-likelihood plus the log priors (the objective, up to sign and scale)."""

    def log_posterior(theta: NDArray[np.float64]) -> float:
        # log width - log median threshold = -log beta - mu
        value = model.log_marginal(theta) + _log_normal(theta[3], *_SIGMA_PRIOR)
        if width_prior is not None:
            value += _log_normal(-theta[0] - theta[2], math.log(width_prior[0]), width_prior[1])
        if theta.shape[0] == 5:
            value += _log_normal(theta[4], *_KAPPA_PRIOR)
        return value

    return log_posterior


def _log_normal(x: float, mean: float, sd: float) -> float:
    return -0.5 * ((x - mean) / sd) ** 2


def _starting_point(
    rollouts: Rollouts, model: ThresholdLikelihood, width_prior: tuple[float, float] | None
) -> NDArray[np.float64]:
    """Moment estimates: Gamma(2, 1/beta) has variance 2/beta**2 within a query; else the width prior."""
    lengths, query = model.lengths, model.query_correct
    count = np.bincount(query, minlength=model.n_queries).astype(float)
    total = np.bincount(query, weights=lengths, minlength=model.n_queries)
    squares = np.bincount(query, weights=lengths * lengths, minlength=model.n_queries)
    repeated = count >= 2
    typical = float(np.median(lengths)) if lengths.shape[0] else float(np.median(model.shortest[model.solved]))
    beta = 2.0 / typical if width_prior is None else 1.0 / (width_prior[0] * typical)
    if repeated.any():
        within = np.sum(squares[repeated] - total[repeated] ** 2 / count[repeated]) / np.sum(count[repeated] - 1)
        if within > 0:
            beta = math.sqrt(2.0 / within)
    share = float(rollouts.correct.mean())
    p = min(max(1.25 * share, 0.2), 0.95)
    log_tau = np.log(np.maximum(model.shortest[model.solved] - 1.0 / beta, 1.0))
    sigma = max(float(log_tau.std()), 0.2) if log_tau.shape[0] > 1 else 0.5
    return np.array([math.log(beta), math.log(p / (1 - p)), float(log_tau.mean()), math.log(sigma)])


def _standard_errors(
    log_posterior: Callable[[NDArray[np.float64]], float], params: Parameters, theta: NDArray[np.float64], fixed: int
) -> tuple[float, float]:
    """Standard errors of ``beta`` and ``p`` from a central-difference Hessian of the log posterior.

    The first ``fixed`` coordinates (``log beta`` of a deterministic fit) were not estimated: their
    standard error is nan and the Hessian covers the others.
    """
    step = 1e-3
    whole = log_posterior
    log_posterior = lambda free: whole(np.r_[theta[:fixed], free])  # noqa: E731
    theta = theta[fixed:]
    d = theta.shape[0]
    hessian = np.empty((d, d))
    center = log_posterior(theta)
    with np.errstate(all="ignore"):
        for i in range(d):
            for j in range(i, d):
                if i == j:
                    up, down = theta.copy(), theta.copy()
                    up[i] += step
                    down[i] -= step
                    value = (log_posterior(up) - 2 * center + log_posterior(down)) / step**2
                else:
                    corners = []
                    for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                        shifted = theta.copy()
                        shifted[i] += si * step
                        shifted[j] += sj * step
                        corners.append(log_posterior(shifted))
                    value = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * step**2)
                hessian[i, j] = hessian[j, i] = value
    if not np.all(np.isfinite(hessian)) or np.any(np.linalg.eigvalsh(-hessian) <= 0):
        warnings.warn("the fit's information matrix is not positive definite: standard errors are nan", stacklevel=3)
        return math.nan, math.nan
    covariance = np.linalg.inv(-hessian)
    p = params.p_mean
    logit = 1 - fixed  # where logit p sits among the estimated coordinates
    beta_se = math.nan if fixed else params.beta * math.sqrt(covariance[0, 0])
    return beta_se, p * (1 - p) * math.sqrt(covariance[logit, logit])


def _summarise(
    model: ThresholdLikelihood,
    rollouts: Rollouts,
    theta: NDArray[np.float64],
    log_posterior: Callable[[NDArray[np.float64]], float],
    *,
    decoding: str,
    success: str,
    width_prior: tuple[float, float] | None,
    notes: tuple[str, ...],
    fixed: int,
) -> FitResult:
    params = model.unpack(theta)
    points, weights, success_weighted = model.posterior(theta)
    log_points = np.log(points)
    log_mean = (weights * log_points).sum(axis=1)
    log_spread = np.sqrt(np.maximum((weights * (log_points - log_mean[:, None]) ** 2).sum(axis=1), 0.0))
    beta_se, p_se = _standard_errors(log_posterior, params, theta, fixed)
    statistic, pvalue = ks_uniform(model.correct_length_ranks(theta))
    # calibration on every run logged, deterministic or not: what the profile predicts at each cap
    predicted = model.success_probability_at(theta, rollouts.query, rollouts.cap)
    arrays = {
        "tau": weighted_quantiles(points, weights, 0.5),
        "tau_mean": (weights * points).sum(axis=1),
        "tau_low": weighted_quantiles(points, weights, 0.025),
        "tau_high": weighted_quantiles(points, weights, 0.975),
        "log_tau_spread": log_spread,
        "solved": model.solved.copy(),
        # shared: exactly p (the posterior sum reproduces it only up to rounding)
        # a curve needs a positive ceiling: a posterior chance that underflows stays a tiny positive number
        "query_success_probability": (
            np.clip(success_weighted.sum(axis=1), 1e-12, 1.0) if success == "per_query"
            else np.full(model.n_queries, params.p_mean)
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
        success_model=success,
        success_concentration=params.concentration,
        query_ids=rollouts.query_ids,
        log_likelihood=model.log_marginal(theta),
        n_runs=rollouts.n_runs,
        ks_statistic=statistic,
        ks_pvalue=pvalue,
        calibration=calibration_table(rollouts.cap, rollouts.correct, predicted),
        decoding=decoding,
        width_prior=width_prior,
        notes=notes,
        **arrays,
    )
