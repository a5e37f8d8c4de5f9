"""Reading a log of completed queries (one row per run) into :class:`clear_fast.fit.Rollouts`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._errors import CommandError
from .query_table import QueryTable

ID_COLUMNS = ("query_id", "query", "id")
CAP_COLUMNS = ("cap", "max_tokens")
TOKEN_COLUMNS = ("tokens_used", "tokens", "output_tokens")


def _first_present(table: QueryTable, names: tuple[str, ...], what: str) -> str:
    for name in names:
        if name in table.columns:
            return name
    found = ", ".join(table.columns) or "none"
    raise CommandError(
        f"{table.source} has no {what} column (looked for {', '.join(names)}; found {found}); rename the column"
    )


def _cut_by_finish_reason(table: QueryTable) -> np.ndarray:
    """``finish_reason`` ``length`` (any case, spaces around) means the run stopped at its cap."""
    texts = table.cells["finish_reason"].texts()
    words = texts if isinstance(texts, list) else texts.to_pylist()
    return np.array([(word or "").strip().lower() == "length" for word in words], dtype=np.bool_)


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
    ids = table.texts(id_column, what="every run needs its query's id")
    caps = table.numbers(cap_column, default=np.inf, strictly_positive=True, allow_inf=True)
    tokens = table.numbers(token_column, minimum=0.0, fix="every run needs its token count")
    if "cut" in table.columns:
        cut = table.flags("cut")
    elif "finish_reason" in table.columns:
        cut = _cut_by_finish_reason(table)
    else:
        raise CommandError(
            f"{table.source} needs a `cut` (true/false) or `finish_reason` column: whether each run stopped at its cap"
        )
    correct = table.flags("correct")
    over = np.flatnonzero(tokens > caps)
    if over.size:
        i = int(over[0])
        raise CommandError(
            f"{table.source}, {table.locate(i)}: used {tokens[i]:g} tokens over its cap {caps[i]:g}; "
            "an endpoint that overruns its cap cannot be fitted, drop such runs"
        )
    return Rollouts.from_arrays(ids if isinstance(ids, list) else ids.to_pylist(), caps, tokens, cut, correct)
