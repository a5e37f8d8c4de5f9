"""Tables in, tables out: a partition's columns as curves, and its ``cap``, ``funded``, ``reason`` columns.

Shared by the Ray and Dask engines (their partitions are pyarrow tables and
pandas frames); imports neither engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..cli.sentence_column import Field, sentences
from ..curves import SurgeCurves
from ..pricing import _breakeven
from .driver import PartitionedAllocation

FIELDS = ("tau", "alpha", "beta", "weight", "min_tokens", "max_tokens")
REQUIRED = ("tau", "alpha", "beta")
OUTPUT_COLUMNS = ("cap", "funded", "reason")

FUNDED = "funded with {tokens} tokens (break-even price {breakeven} >= shadow price {price})"
SEARCH_FUNDED = ("funded with {tokens} tokens by the whole-token search: whole queries cannot be split at the "
                 "shadow price {price}, and funding it was worth more")
NEVER_FUNDED = "abandoned: it can never be funded (its cap is below its threshold, or it has no value)"
NO_BUDGET = "abandoned: the budget is 0"
SEARCH_LEFT_OUT = "abandoned by the whole-token search: the best allocation it found leaves it out"
MARGINAL = ("abandoned as the marginal query: at its break-even price {breakeven} the demand jumps over the "
            "budget, and giving its tokens to the others was worth more than funding it")
AT_THE_JUMP = ("abandoned at the demand jump: its break-even price {breakeven} is above the shadow price "
               "{price}, but whole-token rounding left no room for its minimum grant")
PRICED_OUT = ("abandoned: its break-even price {breakeven} is below the shadow price {price}, so every "
              "token it could use buys more elsewhere")


class ColumnReader:
    """Reads a partition's curves from its columns.

    ``columns`` maps each curve parameter (``tau``, ``alpha``, ``beta`` and
    optionally ``weight``, ``min_tokens``, ``max_tokens``) to a column name, or
    to a number every query shares. Parameters not named read the column of
    their own name when the table has one (the optional ones default otherwise).
    """

    def __init__(self, columns: Mapping[str, str | float] | None, form: str) -> None:
        columns = dict(columns or {})
        unknown = sorted(set(columns) - set(FIELDS))
        if unknown:
            raise ValueError(f"`columns` names unknown curve parameters {unknown}; the parameters are {list(FIELDS)}")
        for name, source in columns.items():
            if not isinstance(source, (str, int, float)) or isinstance(source, bool):
                raise TypeError(f"`columns[{name!r}]` must be a column name or a number, got {source!r}")
        SurgeCurves(1.0, 1.0, 1.0, form=form)  # checks the form, with the curves' own message
        self.columns, self.form = columns, form

    def __call__(self, table: Any) -> SurgeCurves:
        names = list(table.column_names) if hasattr(table, "column_names") else list(table.columns)
        values: dict[str, Any] = {}
        for name in FIELDS:
            source = self.columns.get(name, name if name in names else None)
            if source is None:
                if name in REQUIRED:
                    raise ValueError(f"no column for `{name}`: the table has {names}; name one in `columns`")
                continue
            if isinstance(source, str):
                if source not in names:
                    raise ValueError(f"`columns[{name!r}]` is {source!r}, not a column of the table ({names})")
                values[name] = _floats(table, source)
            else:
                values[name] = float(source)
        return SurgeCurves(values.pop("tau"), values.pop("alpha"), values.pop("beta"), form=self.form, **values)

    def check(self, names: list[str]) -> None:
        """Fail early, on the driver, when the schema lacks a column the reader needs."""
        for name in FIELDS:
            source = self.columns.get(name, name if name in names else None)
            if source is None and name in REQUIRED:
                raise ValueError(f"no column for `{name}`: the dataset has {names}; name one in `columns`")
            if isinstance(source, str) and source not in names:
                raise ValueError(f"`columns[{name!r}]` is {source!r}, not a column of the dataset ({names})")
        for name in OUTPUT_COLUMNS:
            if name in names:
                raise ValueError(f"the dataset already has a column {name!r}; the answer would overwrite it")


def _floats(table: Any, name: str) -> NDArray[np.float64]:
    column = table[name]
    nulls = column.null_count if hasattr(column, "null_count") else int(column.isna().sum())
    if nulls:
        raise ValueError(f"column {name!r} has {nulls} empty cells; every query needs a value")
    return np.asarray(column.to_numpy(), dtype=np.float64)  # a pyarrow column or a pandas series


@dataclass(frozen=True)
class DatasetAllocation:
    """The answer of :func:`allocate_ray` / :func:`allocate_dask`.

    ``data`` is the input dataset with three more columns: ``cap`` (int64,
    the grant; 0 means abandoned), ``funded`` (bool) and ``reason`` (a sentence).
    ``allocation`` holds everything else (:class:`PartitionedAllocation`); the
    price, utility, certificate and round count are repeated here.
    """

    data: Any
    allocation: PartitionedAllocation
    shadow_price: float
    utility: float
    upper_bound: float
    optimal: bool
    rounds: int

    @classmethod
    def of(cls, data: Any, allocation: PartitionedAllocation) -> DatasetAllocation:
        a = allocation
        return cls(data, a, a.shadow_price, a.utility, a.upper_bound, a.optimal, a.rounds)


def answer_columns(answer: PartitionedAllocation, curves: SurgeCurves, offset: int) -> dict[str, Any]:
    """A partition's ``cap``, ``funded`` and ``reason`` columns."""
    tokens = answer.grants_of(curves, offset)
    breakeven = _breakeven(curves)[0] if len(curves) else np.zeros(0)
    return {"cap": tokens, "funded": tokens > 0, "reason": reasons(answer, tokens, breakeven, offset)}


def reasons(answer: PartitionedAllocation, tokens: NDArray[np.int64], breakeven: NDArray[np.float64],
            offset: int) -> Any:
    """Why each query of a partition got what it got: the sentences of ``Allocation.why`` (shorter where the
    whole-token search decided). A pyarrow array when pyarrow is installed, else a list."""
    n = tokens.shape[0]
    price, searched = answer.shadow_price, answer.search != "not needed"
    funded = tokens > 0
    marginal = np.zeros(n, dtype=np.bool_)
    if 0 <= answer.marginal - offset < n:
        marginal[answer.marginal - offset] = True
    everywhere = np.ones(n, dtype=np.bool_)
    cases = [
        (funded & (breakeven < price) & searched, SEARCH_FUNDED),
        (funded, FUNDED),
        (breakeven <= 0.0, NEVER_FUNDED),
        (everywhere & (answer.budget == 0), NO_BUDGET),
        (everywhere & searched, SEARCH_LEFT_OUT),
        (marginal, MARGINAL),
        (breakeven > price, AT_THE_JUMP),
        (everywhere, PRICED_OUT),
    ]
    fields: dict[str, Field | str] = {
        "tokens": Field(tokens, "d"), "breakeven": Field(breakeven, ".6g"), "price": format(price, ".6g"),
    }
    return sentences(cases, fields, n)


Reader = Callable[[Any], SurgeCurves]
