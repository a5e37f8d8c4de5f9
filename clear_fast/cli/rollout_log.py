"""Reading a log of completed queries (one row per run) into :class:`clear_fast.fit.Rollouts`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import CommandError
from .query_table import QueryTable

ID_COLUMNS = ("query_id", "query", "id")
CAP_COLUMNS = ("cap", "max_tokens")
TOKEN_COLUMNS = ("tokens_used", "tokens", "output_tokens")
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def _first_present(table: QueryTable, names: tuple[str, ...], what: str) -> str:
    for name in names:
        if name in table.columns:
            return name
    found = ", ".join(table.columns) or "none"
    raise CommandError(
        f"{table.source} has no {what} column (looked for {', '.join(names)}; found {found}); rename the column"
    )


def _flags(table: QueryTable, column: str) -> np.ndarray:
    out = np.empty(len(table), dtype=np.bool_)
    for i, row in enumerate(table.rows):
        out[i] = _flag(table, i, column, row.get(column))
    return out


def _flag(table: QueryTable, i: int, column: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = "" if raw is None else str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CommandError(f"{table.source}, {table.locate(i)}: column `{column}` must be true or false, got {raw!r}")


def read_rollouts(table: QueryTable) -> Any:
    """The runs in ``table`` as Rollouts.

    Columns: a query id (``query_id``, ``query`` or ``id``), the cap (``cap`` or
    ``max_tokens``; empty = uncapped), tokens used (``tokens_used``, ``tokens`` or
    ``output_tokens``), ``cut`` (true/false) or ``finish_reason`` (``length`` =
    cut), and ``correct`` (true/false). A run both cut and correct (the answer came
    before the cap and the model went on) counts as an answer that fitted.

    Raises
    ------
    CommandError
        Naming the column or line that cannot be used.
    """
    from clear_fast.fit import Rollouts

    id_column = _first_present(table, ID_COLUMNS, "query id")
    cap_column = _first_present(table, CAP_COLUMNS, "cap")
    token_column = _first_present(table, TOKEN_COLUMNS, "tokens used")
    if "correct" not in table.columns:
        raise CommandError(f"{table.source} has no `correct` column; add one saying whether each run was right (true/false)")
    ids = []
    for i, row in enumerate(table.rows):
        if row.get(id_column) is None:
            raise CommandError(f"{table.source}, {table.locate(i)}: empty `{id_column}`; every run needs its query's id")
        ids.append(str(row[id_column]))
    caps = table.numbers(cap_column, default=np.inf, strictly_positive=True, allow_inf=True)
    tokens = table.numbers(token_column, minimum=0.0, fix="every run needs its token count")
    if "cut" in table.columns:
        cut = _flags(table, "cut")
    elif "finish_reason" in table.columns:
        cut = np.array([str(row.get("finish_reason") or "").strip().lower() == "length" for row in table.rows])
    else:
        raise CommandError(
            f"{table.source} needs a `cut` (true/false) or `finish_reason` column: whether each run stopped at its cap"
        )
    correct = _flags(table, "correct")
    over = np.flatnonzero(tokens > caps)
    if over.size:
        i = int(over[0])
        raise CommandError(
            f"{table.source}, {table.locate(i)}: used {tokens[i]:g} tokens over its cap {caps[i]:g}; "
            "an endpoint that overruns its cap cannot be fitted, drop such runs"
        )
    return Rollouts.from_arrays(ids, caps, tokens, cut, correct)
