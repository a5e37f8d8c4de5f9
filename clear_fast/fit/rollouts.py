"""Rollout logs as arrays: one row per run of one query at one cap."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._checks import as_float_array, first_bad_index

_ID_KEYS = ("query_id", "query", "id")
_CAP_KEYS = ("cap", "max_tokens")
_TOKEN_KEYS = ("tokens_used", "tokens", "output_tokens")


def _pick(record: Mapping[str, Any], keys: Sequence[str], row: int) -> Any:
    for key in keys:
        if key in record:
            return record[key]
    raise ValueError(f"record {row} needs one of the keys {list(keys)}, got keys {sorted(record)}")


def _as_bool(name: str, value: ArrayLike, n: int) -> NDArray[np.bool_]:
    array = np.asarray(value)
    if array.shape != (n,):
        raise ValueError(f"`{name}` must have shape ({n},), got {array.shape}")
    if array.dtype != np.bool_:
        if array.dtype.kind not in "iu" or not np.isin(array, (0, 1)).all():
            raise TypeError(f"`{name}` must hold booleans, got dtype {array.dtype}")
    return array.astype(np.bool_, copy=True)


@dataclass(frozen=True, eq=False)
class Rollouts:
    """Runs of queries at caps: what was asked, what came back.

    Parameters
    ----------
    query_ids : sequence, shape (n_queries,)
        Distinct query identifiers (any hashable values), in first-seen order.
    query : ndarray of int64, shape (n_runs,)
        For each run, the position of its query in ``query_ids``.
    cap : ndarray of float64, shape (n_runs,)
        Token cap of each run (``inf`` when uncapped).
    tokens : ndarray of float64, shape (n_runs,)
        Tokens the run used (``<= cap``).
    cut : ndarray of bool, shape (n_runs,)
        True when the run stopped at the cap (finish_reason ``"length"``).
    correct : ndarray of bool, shape (n_runs,)
        True when the answer was right. A run can be both cut and correct: the
        answer was there before the cap, and the model went on (a rambling model);
        its length is then known only to be at most the cap.

    Notes
    -----
    Runs are read as independent draws (different seeds or a sampling temperature)
    unless the fit is told, or finds, that decoding was deterministic: then one
    query's runs at several caps are one answer seen through several caps
    (:meth:`one_run_per_query` keeps the run that says the most).
    Build instances with :meth:`from_arrays` or :meth:`from_records`.
    """

    query_ids: tuple[Any, ...]
    query: NDArray[np.int64]
    cap: NDArray[np.float64]
    tokens: NDArray[np.float64]
    cut: NDArray[np.bool_]
    correct: NDArray[np.bool_]

    @classmethod
    def from_arrays(
        cls,
        query_id: Sequence[Any] | NDArray[Any],
        cap: ArrayLike,
        tokens_used: ArrayLike,
        cut: ArrayLike,
        correct: ArrayLike,
    ) -> Rollouts:
        """Rollouts from parallel arrays, one entry per run.

        Parameters
        ----------
        query_id : array_like, shape (n_runs,)
            The query each run belongs to (any hashable values).
        cap : array_like of float, shape (n_runs,)
            Token cap of each run (> 0; ``inf`` for none).
        tokens_used : array_like of float, shape (n_runs,)
            Tokens each run used (>= 0, <= cap).
        cut : array_like of bool, shape (n_runs,)
            Whether the run hit the cap (finish_reason ``"length"``).
        correct : array_like of bool, shape (n_runs,)
            Whether the answer was right.

        Raises
        ------
        ValueError
            On mismatched lengths, no runs, non-positive caps, negative token counts,
            runs that used more tokens than their cap, or correct runs of no tokens.
        """
        if isinstance(query_id, (str, bytes)) or not hasattr(query_id, "__len__"):
            raise TypeError(f"`query_id` must be a sequence of ids, one per run, got {query_id!r:.80}")
        # tolist() turns numpy scalars into Python ones, which hash and serialise cleanly
        ids: list[Any] = query_id.tolist() if isinstance(query_id, np.ndarray) else list(query_id)
        n = len(ids)
        if n == 0:
            raise ValueError("`query_id` is empty: fitting needs at least one run")
        caps = as_float_array("cap", cap, n, strictly_positive=True, allow_inf=True)
        tokens = as_float_array("tokens_used", tokens_used, n, minimum=0.0)
        cut_flags = _as_bool("cut", cut, n)
        correct_flags = _as_bool("correct", correct, n)
        over = tokens > caps
        if over.any():
            i = first_bad_index(over)
            raise ValueError(
                f"`tokens_used` must be <= `cap` (an endpoint that overruns its cap cannot be fitted), "
                f"got {tokens[i]:g} > {caps[i]:g} at index {i}"
            )
        empty = correct_flags & (tokens < 1)
        if empty.any():
            i = first_bad_index(empty)
            raise ValueError(f"a correct run must have used at least 1 token, got {tokens[i]:g} at index {i}")
        distinct: dict[Any, int] = {}
        try:
            index = np.array([distinct.setdefault(q, len(distinct)) for q in ids], dtype=np.int64)
        except TypeError:
            raise TypeError("`query_id` values must be hashable (strings or integers)") from None
        for name, array in (("cap", caps), ("tokens", tokens), ("cut", cut_flags), ("correct", correct_flags)):
            array.flags.writeable = False
        index.flags.writeable = False
        return cls(tuple(distinct), index, caps, tokens, cut_flags, correct_flags)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Rollouts:
        """Rollouts from log records, one mapping per run.

        Parameters
        ----------
        records : iterable of mapping
            Each with a query id (key ``query_id``, ``query`` or ``id``), a cap
            (``cap`` or ``max_tokens``; ``None`` for uncapped), tokens used
            (``tokens_used``, ``tokens`` or ``output_tokens``), either ``cut`` (bool) or
            ``finish_reason`` (``"length"`` means cut), and ``correct`` (bool).

        Raises
        ------
        ValueError
            When a record lacks a field, plus everything :meth:`from_arrays` checks.
        """
        ids, caps, tokens, cuts, correct = [], [], [], [], []
        for row, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise TypeError(f"record {row} must be a mapping, got {type(record).__name__}")
            ids.append(_pick(record, _ID_KEYS, row))
            cap = _pick(record, _CAP_KEYS, row)
            caps.append(math.inf if cap is None else cap)
            tokens.append(_pick(record, _TOKEN_KEYS, row))
            if "cut" in record:
                cuts.append(bool(record["cut"]))
            else:
                cuts.append(_pick(record, ("finish_reason",), row) == "length")
            correct.append(bool(_pick(record, ("correct",), row)))
        return cls.from_arrays(ids, caps, tokens, np.array(cuts, dtype=bool), np.array(correct, dtype=bool))

    @property
    def exact(self) -> NDArray[np.bool_]:
        """Runs whose correct answer's length is known: correct and not cut."""
        return self.correct & ~self.cut

    def one_run_per_query(self) -> Rollouts:
        """The most informative run of each query, for logs of deterministic decoding.

        With greedy decoding (temperature 0) a query's runs at several caps are one
        answer seen through several caps: a correct answer of ``L`` tokens implies
        every smaller cap was cut and every larger one correct, so counting them as
        independent draws would claim the same length was drawn again and again.
        Per query this keeps, in order of preference: its shortest correct answer
        that was not cut (its length is known); else its correct run at the smallest
        cap (cut there, so the answer is at most that long); else its run at the
        largest cap (the answer, if any, did not fit even there).

        Returns
        -------
        Rollouts
            One run per query, same ``query_ids`` in the same order.
        """
        # a score per run: exact correct runs first (shortest wins), then cut-correct (smallest cap wins),
        # then the rest (largest cap wins); lexsort picks the best row of each query
        group = np.where(self.exact, 0, np.where(self.correct, 1, 2))
        key = np.where(group == 0, self.tokens, np.where(group == 1, self.cap, -self.cap))
        key = np.where(np.isfinite(key), key, np.where(key > 0, np.finfo(float).max, -np.finfo(float).max))
        order = np.lexsort((key, group, self.query))
        first = order[np.r_[True, self.query[order][1:] != self.query[order][:-1]]]
        picked = {}
        for name in ("query", "cap", "tokens", "cut", "correct"):
            array = getattr(self, name)[first].copy()
            array.flags.writeable = False
            picked[name] = array
        return Rollouts(self.query_ids, **picked)

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return int(self.query.shape[0])

    @property
    def n_queries(self) -> int:
        """Number of distinct queries."""
        return len(self.query_ids)
