"""What a rollout log can and cannot tell the fit: deterministic decoding, unmeasured widths, bounds.

A likelihood fit fails quietly on two common kinds of log. Greedy decoding
(temperature 0) repeats a query's answer exactly at every cap, so read as
independent draws the runs say the answer's length never varies: the width
``1/beta`` collapses to nothing. And with one run per query (or one answer per
query, which is what deterministic decoding gives) no run measures the width at
all: only the population of lengths does, which cannot tell a wide threshold
population from a wide surge. The functions here spot both before the fit and
check the fitted parameters after it; :class:`FitWarning` carries what was found
and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rollouts import Rollouts

DECODINGS = ("auto", "sampled", "deterministic")

_IDENTICAL_SHARE = 0.8  # of the queries with several correct runs: this many repeating one length = deterministic
_FEWEST_REPEATS = 3  # below this many such queries the log cannot tell


class FitWarning(UserWarning):
    """A rollout fit whose data do not pin a parameter down, or that looks degenerate."""


@dataclass(frozen=True)
class RepeatEvidence:
    """How a log's repeated correct runs look.

    Attributes
    ----------
    repeated : int
        Queries with at least two correct runs of known length.
    identical : int
        Those whose correct runs all have the same length.
    """

    repeated: int
    identical: int

    @property
    def looks_deterministic(self) -> bool:
        """Enough queries repeat one length exactly to call the decoding deterministic."""
        return self.repeated >= _FEWEST_REPEATS and self.identical >= _IDENTICAL_SHARE * self.repeated

    @property
    def measures_width(self) -> bool:
        """Some query has two correct lengths that differ: the runs measure the spread of a length."""
        return self.repeated > self.identical


def repeat_evidence(rollouts: Rollouts) -> RepeatEvidence:
    """Count queries with several correct runs of known length, and those repeating one length."""
    exact = rollouts.exact
    query, lengths = rollouts.query[exact], rollouts.tokens[exact]
    count = np.bincount(query, minlength=rollouts.n_queries)
    low = np.full(rollouts.n_queries, np.inf)
    high = np.full(rollouts.n_queries, -np.inf)
    np.minimum.at(low, query, lengths)
    np.maximum.at(high, query, lengths)
    repeated = count >= 2
    return RepeatEvidence(int(repeated.sum()), int((repeated & (low == high)).sum()))


def choose_decoding(decoding: str, evidence: RepeatEvidence) -> tuple[str, list[str]]:
    """The decoding to fit under, and the warnings that choice needs.

    ``"auto"`` becomes ``"deterministic"`` when the log repeats lengths exactly
    (with a warning saying so and how to silence it), ``"sampled"`` otherwise.
    """
    notes = []
    if decoding == "auto":
        if evidence.looks_deterministic:
            notes.append(
                f"decoding looks deterministic: {evidence.identical} of the {evidence.repeated} queries with several "
                "correct runs repeat the identical length, so their runs are one answer seen at several caps, not "
                "independent draws. Fitted one run per query (its most informative), its curve a step at its "
                "answer's length (one token wide); pass decoding='deterministic' to say so, or decoding='sampled' "
                "if the runs really were sampled"
            )
            return "deterministic", notes
        return "sampled", notes
    if decoding == "sampled" and evidence.looks_deterministic:
        notes.append(
            f"decoding='sampled' but {evidence.identical} of the {evidence.repeated} queries with several correct "
            "runs repeat the identical length: if decoding was greedy (temperature 0), fit with "
            "decoding='deterministic', or the width of the curve collapses towards zero"
        )
    return decoding, notes


def width_notes(decoding: str, evidence: RepeatEvidence, width: float, prior: tuple[float, float] | None) -> list[str]:
    """Warnings about the fitted width ``1/beta``: unmeasured by the runs, or degenerate."""
    notes = []
    if width < 1.0:
        notes.append(
            f"the fitted width 1/beta is {width:.3g} tokens, below one token: the runs leave it unbounded (often "
            "greedy decoding read as sampling). Fit with decoding='deterministic', keep width_prior, or log "
            "sampled runs (temperature > 0)"
        )
    elif decoding == "sampled" and not evidence.measures_width:
        source = "its prior (width_prior)" if prior is not None else "the population of lengths alone (no width_prior)"
        notes.append(
            f"no query has two correct runs of different lengths, so the runs do not measure the width of the "
            f"curve: 1/beta = {width:.3g} tokens comes mostly from {source}. Log a few sampled runs per query "
            "(temperature > 0) to measure it"
        )
    return notes


def bound_notes(parameters: list[tuple[str, float, float, float, float]]) -> list[str]:
    """Warnings for parameters that ended on a bound of the search.

    Each entry is ``(name, value shown, searched coordinate, its low bound, its high bound)``.
    """
    notes = []
    for name, shown, coordinate, low, high in parameters:
        if min(coordinate - low, high - coordinate) < 1e-3 * (high - low):
            notes.append(
                f"the fitted {name} ended on the bound of its search range ({shown:.3g}): the runs do not "
                "determine it; log more runs per query, at more caps, before trusting the profile"
            )
    return notes
