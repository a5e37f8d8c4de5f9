"""The outcome of a fit, its curves, and its JSON form (a "model profile")."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import require_choice
from ..curves import FORMS, SurgeCurves
from .goodness import CalibrationRow

PROFILE_FORMAT = "clear_fast.model_profile"
PROFILE_VERSION = 1
_QUERY_FIELDS = ("tau", "tau_mean", "tau_low", "tau_high", "log_tau_spread", "query_success_probability")


@dataclass(frozen=True, eq=False)
class FitResult:
    """A model's shared curve parameters and every fitted query's threshold.

    Attributes
    ----------
    beta : float
        Decay rate per token; correct answers run ``tau + Gamma(2, 1/beta)`` tokens.
    success_probability : float
        ``p``: the chance the model knows an answer (the accuracy with no cap); with
        ``success_model == "per_query"``, the mean of the queries' chances.
    beta_se, success_probability_se : float
        Standard errors from the observed information (nan when it is not negative definite).
    tau_log_mean, tau_log_std : float
        The population of thresholds: ``log tau ~ Normal(tau_log_mean, tau_log_std)``.
        A new query with no runs is best described by this (see
        :class:`clear_fast.estimators.ConstantPrior`).
    query_ids : tuple
        The fitted queries, in first-seen order.
    tau : ndarray, shape (n,)
        Posterior median threshold of each query (tokens).
    tau_mean : ndarray, shape (n,)
        Posterior mean threshold.
    tau_low, tau_high : ndarray, shape (n,)
        Central 95% posterior interval.
    log_tau_spread : ndarray, shape (n,)
        Posterior standard deviation of ``log tau``: the ``spread`` that risk-aware
        allocation takes.
    query_success_probability : ndarray, shape (n,)
        Posterior mean of each query's chance of being known (all equal to
        ``success_probability`` when it is shared).
    solved : ndarray of bool, shape (n,)
        Whether any run of the query was correct. An unsolved query's threshold is
        known only to lie beyond its caps; its posterior is the population's tail.
    log_likelihood : float
        Marginal log-likelihood at the fit (thresholds integrated out).
    n_runs : int
        Number of runs fitted.
    ks_statistic, ks_pvalue : float
        Kolmogorov-Smirnov test of correct answers' posterior-predictive length ranks
        against uniform: a small statistic means the lengths look like the model.
    calibration : tuple of CalibrationRow
        Observed against predicted accuracy, by cap.
    success_model : {"shared", "per_query"}
        How the chance of knowing an answer was modelled.
    success_concentration : float
        For ``"per_query"``, ``kappa`` of the Beta population
        ``p_i ~ Beta(p kappa, (1 - p) kappa)`` (large: nearly shared); ``inf`` when shared.
    form : {"cumulative", "surge"}
        The curve form :meth:`curves` builds unless told otherwise: ``"cumulative"``, what
        the fit measures (accuracy at a cap); a model profile records it.
    decoding : {"sampled", "deterministic"}
        How the runs were read: independent draws, or one answer per query seen at several
        caps (greedy decoding; each query was fitted on its most informative run).
    width_prior : (float, float) or None
        The prior on the width the fit used (see :func:`clear_fast.fit.fit_rollouts`).
    notes : tuple of str
        Every warning the fit raised (deterministic decoding found, a width the runs do not
        measure, a parameter on a bound): a profile keeps them.
    """

    beta: float
    success_probability: float
    beta_se: float
    success_probability_se: float
    tau_log_mean: float
    tau_log_std: float
    query_ids: tuple[Any, ...]
    tau: NDArray[np.float64]
    tau_mean: NDArray[np.float64]
    tau_low: NDArray[np.float64]
    tau_high: NDArray[np.float64]
    log_tau_spread: NDArray[np.float64]
    query_success_probability: NDArray[np.float64]
    solved: NDArray[np.bool_]
    log_likelihood: float
    n_runs: int
    ks_statistic: float
    ks_pvalue: float
    calibration: tuple[CalibrationRow, ...] = ()
    success_model: str = "shared"
    success_concentration: float = math.inf
    form: str = "cumulative"
    decoding: str = "sampled"
    width_prior: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()

    @property
    def width(self) -> float:
        """``1/beta``: the width of the surge in tokens."""
        return 1.0 / self.beta

    @property
    def alpha(self) -> float:
        """``p * beta**2``: the slope parameter of both curve forms (with per-query ``p``, at their mean)."""
        return self.success_probability * self.beta * self.beta

    def index_of(self, query_ids: Sequence[Any]) -> NDArray[np.int64]:
        """Positions of ``query_ids`` among the fitted queries.

        Raises
        ------
        KeyError
            Naming the first id that was not fitted.
        """
        position = {q: i for i, q in enumerate(self.query_ids)}
        out = np.empty(len(query_ids), dtype=np.int64)
        for k, q in enumerate(query_ids):
            if q not in position:
                raise KeyError(f"query id {q!r} is not among the {len(position)} fitted queries")
            out[k] = position[q]
        return out

    def curves(
        self,
        query_ids: Sequence[Any] | None = None,
        *,
        form: str | None = None,
        weight: ArrayLike | None = None,
        min_tokens: ArrayLike | None = None,
        max_tokens: ArrayLike | None = None,
    ) -> SurgeCurves:
        """The fitted queries' curves, ready for :func:`clear_fast.allocate`.

        Parameters
        ----------
        query_ids : sequence, optional
            Which queries, in this order (default: all, in fitted order).
        form : {"cumulative", "surge"}, optional
            ``"cumulative"`` (accuracy at a cap) or the paper's surge, its derivative; default
            :attr:`form`. ``alpha = p * beta**2`` in both, so the surge is the density of
            correct lengths times ``p``.
        weight, min_tokens, max_tokens
            Passed to :class:`clear_fast.SurgeCurves`.

        Returns
        -------
        SurgeCurves
            With ``tau`` the posterior median of each query and ``alpha = p * beta**2``
            (each query's own ``p`` when they were fitted per query).
        """
        pick = np.arange(len(self.query_ids)) if query_ids is None else self.index_of(query_ids)
        return self.curves_for(
            self.tau[pick], self.query_success_probability[pick], form=form, weight=weight,
            min_tokens=min_tokens, max_tokens=max_tokens,
        )

    def curves_for(
        self,
        tau: ArrayLike,
        success_probability: ArrayLike | None = None,
        *,
        form: str | None = None,
        weight: ArrayLike | None = None,
        min_tokens: ArrayLike | None = None,
        max_tokens: ArrayLike | None = None,
    ) -> SurgeCurves:
        """Curves of new queries: their predicted thresholds with this model's ``beta``.

        Parameters
        ----------
        tau : array_like, shape (n,)
            Predicted thresholds in tokens (a threshold predictor's ``tau``).
        success_probability : float or array_like, shape (n,), optional
            Each query's chance of being solved at all (a
            :class:`clear_fast.estimators.SolvabilityPredictor`'s prediction): the curve's
            ceiling, ``alpha_i = p_i * beta**2``. Default: the model's mean ``p``.
        form, weight, min_tokens, max_tokens
            As in :meth:`curves`.

        Returns
        -------
        SurgeCurves

        Raises
        ------
        ValueError
            When a success probability is not in (0, 1].
        """
        chance = np.asarray(self.success_probability if success_probability is None else success_probability, dtype=float)
        if chance.ndim > 1 or not np.all((chance > 0) & (chance <= 1)):
            bad = chance[~((chance > 0) & (chance <= 1))] if chance.ndim == 1 else chance
            raise ValueError(f"`success_probability` must be in (0, 1], got {np.ravel(bad)[:1].tolist()}")
        return SurgeCurves(
            tau, chance * self.beta * self.beta, self.beta, weight=weight, min_tokens=min_tokens,
            max_tokens=max_tokens, form=self.form if form is None else form,
        )

    def threshold_observations(self, texts: Mapping[Any, str] | Sequence[str]) -> list[tuple[str, float]]:
        """``(text, tau)`` of every solved query, for a threshold predictor's ``update``.

        A query no run solved has no threshold of its own: its posterior is the
        population's tail beyond its caps (or the model does not know it), and
        training a predictor on that would teach it the population's median, not the
        query's. Those are left out (their chance of being solved at all is in
        :meth:`solvability_observations`).

        Parameters
        ----------
        texts : mapping of id to str, or sequence of str
            The queries' texts, by id or in fitted order.
        """
        return [(text, float(tau)) for text, tau, solved in zip(self._texts(texts), self.tau, self.solved) if solved]

    def solvability_observations(self, texts: Mapping[Any, str] | Sequence[str]) -> list[tuple[str, float]]:
        """``(text, chance of being solved at all)`` of every fitted query, for a solvability predictor.

        The chance is :attr:`query_success_probability`: with ``success="per_query"``
        each query's own (under deterministic decoding, the probability that the model
        knows it); with a shared ``p``, the same for all, which teaches nothing.
        """
        return [(text, float(p)) for text, p in zip(self._texts(texts), self.query_success_probability)]

    def _texts(self, texts: Mapping[Any, str] | Sequence[str]) -> list[str]:
        if isinstance(texts, Mapping):
            missing = [q for q in self.query_ids if q not in texts]
            if missing:
                raise KeyError(f"`texts` has no text for the fitted query id {missing[0]!r}")
            return [texts[q] for q in self.query_ids]
        if isinstance(texts, str) or len(texts) != len(self.query_ids):
            raise ValueError(
                f"`texts` must map ids to texts or hold one text per fitted query ({len(self.query_ids)}), "
                f"got {'a string' if isinstance(texts, str) else len(texts)}"
            )
        return list(texts)

    # -- model profile ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the model profile)."""
        return {
            "format": PROFILE_FORMAT,
            "version": PROFILE_VERSION,
            "form": self.form,
            "alpha": self.alpha,
            "beta": self.beta,
            "success_probability": self.success_probability,
            "beta_se": _finite_or_none(self.beta_se),
            "success_probability_se": _finite_or_none(self.success_probability_se),
            "tau_prior": {"log_mean": self.tau_log_mean, "log_std": self.tau_log_std},
            "success": {"model": self.success_model, "concentration": _finite_or_none(self.success_concentration)},
            "fit": {
                "log_likelihood": self.log_likelihood,
                "n_runs": self.n_runs,
                "ks_statistic": _finite_or_none(self.ks_statistic),
                "ks_pvalue": _finite_or_none(self.ks_pvalue),
                "decoding": self.decoding,
                "width_prior": None if self.width_prior is None else list(self.width_prior),
                "notes": list(self.notes),
                # an uncapped group has cap inf, which strict JSON cannot hold: null
                "calibration": [
                    {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in vars(row).items()}
                    for row in self.calibration
                ],
            },
            "queries": {
                "ids": list(self.query_ids),
                "solved": self.solved.tolist(),
                **{name: getattr(self, name).tolist() for name in _QUERY_FIELDS},
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FitResult:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        ValueError
            When ``data`` is not a clear_fast model profile of a known version.
        """
        if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
            raise ValueError(f"not a clear_fast model profile: expected \"format\": {PROFILE_FORMAT!r}")
        if data.get("version") != PROFILE_VERSION:
            raise ValueError(f"model profile version {data.get('version')!r} is not supported (expected {PROFILE_VERSION})")
        try:
            queries, fit = data["queries"], data["fit"]
            arrays = {name: _readonly(np.array(queries[name], dtype=np.float64)) for name in _QUERY_FIELDS}
            return cls(
                beta=float(data["beta"]),
                success_probability=float(data["success_probability"]),
                beta_se=_none_to_nan(data.get("beta_se")),
                success_probability_se=_none_to_nan(data.get("success_probability_se")),
                tau_log_mean=float(data["tau_prior"]["log_mean"]),
                tau_log_std=float(data["tau_prior"]["log_std"]),
                query_ids=tuple(queries["ids"]),
                solved=_readonly(np.array(queries["solved"], dtype=np.bool_)),
                log_likelihood=float(fit["log_likelihood"]),
                n_runs=int(fit["n_runs"]),
                ks_statistic=_none_to_nan(fit.get("ks_statistic")),
                ks_pvalue=_none_to_nan(fit.get("ks_pvalue")),
                calibration=tuple(_calibration_row(row) for row in fit.get("calibration", ())),
                success_model=data["success"]["model"],
                success_concentration=_none_to_inf(data["success"]["concentration"]),
                form=require_choice("form", data.get("form", "cumulative"), FORMS),
                decoding=require_choice("decoding", fit.get("decoding", "sampled"), ("sampled", "deterministic")),
                width_prior=_width_prior(fit.get("width_prior")),
                notes=tuple(str(note) for note in fit.get("notes", ())),
                **arrays,
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"model profile is missing or has a malformed field: {error}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model profile as JSON to ``path``."""
        try:
            text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        except TypeError:
            raise TypeError("query ids must be strings or integers to be saved in a model profile") from None
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FitResult:
        """Read a model profile written by :meth:`save`."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_dict(json.load(handle))

    def __repr__(self) -> str:
        return (
            f"FitResult(n_queries={len(self.query_ids)}, beta={self.beta:.4g}, "
            f"success_probability={self.success_probability:.3f} ({self.success_model}), "
            f"decoding={self.decoding!r}, ks_statistic={self.ks_statistic:.3f})"
        )


def load_profile(path: str | os.PathLike[str]) -> FitResult:
    """Read a model profile JSON file (see :meth:`FitResult.save`)."""
    return FitResult.load(path)


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _none_to_inf(value: Any) -> float:
    return math.inf if value is None else float(value)


def _none_to_nan(value: Any) -> float:
    return math.nan if value is None else float(value)


def _width_prior(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    ratio, log_sd = value
    return float(ratio), float(log_sd)


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


def _calibration_row(row: dict[str, Any]) -> CalibrationRow:
    """One calibration row from its JSON form (an open-ended cap is stored as null)."""

    def cap(value: Any) -> float:
        return math.inf if value is None else float(value)

    return CalibrationRow(
        cap_low=cap(row["cap_low"]),
        cap_high=cap(row["cap_high"]),
        runs=int(row["runs"]),
        observed=float(row["observed"]),
        predicted=float(row["predicted"]),
    )
