"""A table of queries read from a file: its columns, and the checked conversions the commands need.

Columns are converted whole (NumPy or pyarrow, not a Python loop per row); when
a value is wrong, the message still names the column, the line (or row) and the
value, and says how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._errors import CommandError
from .table_columns import Column


@dataclass(frozen=True)
class QueryTable:
    """The columns of one input, with names normalised to lower case.

    Attributes
    ----------
    source : str
        How to name the input in messages (its path, or ``stdin``).
    columns : list of str
        Column names in the order first seen.
    cells : mapping of str to Column
        Each column's cells (``None``/null when empty).
    size : int
        Number of rows.
    locate : callable
        ``locate(i)`` says where row ``i`` came from, e.g. ``"line 5"``.
    """

    source: str
    columns: list[str]
    cells: Mapping[str, Column]
    size: int
    locate: Callable[[int], str]

    def __len__(self) -> int:
        return self.size

    def missing(self, column: str) -> NDArray[np.bool_]:
        """True where ``column`` has no value (everywhere when there is no such column)."""
        if column not in self.cells:
            return np.ones(self.size, dtype=np.bool_)
        return self.cells[column].missing()

    def has(self, column: str) -> bool:
        """True when the column exists and at least one row has a value in it."""
        return column in self.cells and not self.cells[column].missing().all()

    def raw(self, column: str, index: int) -> Any:
        """The cell as given (``None`` when empty)."""
        return self.cells[column].raw(index) if column in self.cells else None

    def numbers(
        self,
        column: str,
        *,
        default: float | None = None,
        minimum: float | None = None,
        strictly_positive: bool = False,
        allow_inf: bool = False,
        fix: str = "",
    ) -> NDArray[np.float64]:
        """The column as float64, empty cells replaced by ``default``.

        Raises
        ------
        CommandError
            When a cell is empty and there is no default, is not a number, or is
            out of range; the message names the column, the line and the value,
            followed by ``fix`` (how to repair it). The first such row is named.
        """
        missing = self.missing(column)
        if column in self.cells:
            values, not_numbers = self.cells[column].numbers()
        else:
            values, not_numbers = np.full(self.size, np.nan), np.zeros(self.size, dtype=np.bool_)
        if missing.any():
            if default is None:
                i = int(np.argmax(missing))
                raise CommandError(f"{self.source}, {self.locate(i)}: no value in column `{column}`; {fix}")
            values[missing] = default
        given = ~missing
        with np.errstate(invalid="ignore"):
            problems = [
                (not_numbers | (given & np.isnan(values)), "is not a number"),
                (given & np.isinf(values) if not allow_inf else None, "must be finite"),
                (given & ~(values > 0) if strictly_positive else None, "must be > 0"),
                (given & (values < minimum) if minimum is not None else None, f"must be >= {minimum or 0:g}"),
            ]
        flagged = [(mask, what) for mask, what in problems if mask is not None and mask.any()]
        if flagged:
            i = min(int(np.argmax(mask)) for mask, _ in flagged)
            what = next(what for mask, what in flagged if mask[i])  # the first problem of that row, in order
            raise CommandError(
                f"{self.source}, {self.locate(i)}: column `{column}` {what}, got {self.raw(column, i)!r}; fix that value"
            )
        return values

    def flags(self, column: str) -> NDArray[np.bool_]:
        """The column as true/false (``true``/``false``, ``yes``/``no``, ``1``/``0``, ...).

        Raises
        ------
        CommandError
            Naming the first row whose cell is neither.
        """
        values, bad = self.cells[column].flags()
        if bad.any():
            i = int(np.argmax(bad))
            raise CommandError(
                f"{self.source}, {self.locate(i)}: column `{column}` must be true or false, got {self.raw(column, i)!r}"
            )
        return values

    def texts(self, column: str, *, what: str) -> Any:
        """The column as strings, refusing empty cells (``what`` says what each row needs)."""
        missing = self.missing(column)
        if missing.any():
            i = int(np.argmax(missing))
            raise CommandError(f"{self.source}, {self.locate(i)}: empty `{column}`; {what}")
        return self.cells[column].texts()

    def ids(self) -> Any:
        """The ``id`` column as strings, or row numbers ``1..n`` when there is none; refuses duplicates.

        Returns a list of str, or a pyarrow string array when the table was read with pyarrow.
        """
        if "id" not in self.cells:
            return [str(i + 1) for i in range(self.size)]
        ids = self.texts("id", what="give every query an id, or drop the column")
        if _has_repeats(ids):
            first, second = _first_repeat(ids)
            raise CommandError(
                f"{self.source}: id {_as_list(ids)[second]!r} appears twice ({self.locate(first)} and "
                f"{self.locate(second)}); ids must be unique so results can be matched to queries"
            )
        return ids


def _as_list(texts: Any) -> list:
    return texts if isinstance(texts, list) else texts.to_pylist()


def _has_repeats(texts: Any) -> bool:
    """True when some text appears twice."""
    if isinstance(texts, list):
        return len(set(texts)) < len(texts)
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32, count=len(texts) + 1, offset=4 * texts.offset)
    lengths = np.diff(offsets)
    if len(texts) < 2 or lengths.max() > 60:
        return int(pc.count_distinct(texts).as_py()) < len(texts)
    # Short texts: sort them as fixed-width byte strings (NumPy sorts those far faster than pyarrow
    # hashes them). Each key ends with its length, so texts that differ only by trailing NULs differ.
    width = int(lengths.max())
    keys = np.zeros((len(texts), width + 1), dtype=np.uint8)
    keys[np.arange(width + 1)[None, :] < lengths[:, None]] = np.frombuffer(texts.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    keys[:, width] = lengths + 1
    rows = keys.view(f"S{width + 1}").ravel()
    if np.all(rows[1:] > rows[:-1]):
        return False  # ids already in order (a common case): all different, no sort needed
    ordered = np.sort(rows)
    return bool(np.any(ordered[1:] == ordered[:-1]))


def _first_repeat(texts: Any) -> tuple[int, int]:
    """Rows of the first id seen twice: where it first appeared, and where it came again."""
    seen: dict[str, int] = {}
    for i, text in enumerate(_as_list(texts)):
        if text in seen:
            return seen[text], i
        seen[text] = i
    raise AssertionError("no repeated id")
