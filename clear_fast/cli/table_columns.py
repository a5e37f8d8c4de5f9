"""One column of an input table, read either into Python values or into a pyarrow array.

Both kinds answer the same questions (which cells are empty, the cells as
numbers, as true/false flags, as id strings, one cell as given) with the same
answers. The Python kind is the reference: the pyarrow kind takes a vectorised
route where pyarrow's conversion is known to agree with Python's, and hands the
column to the Python kind for anything else, so both always give the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")


class Column(Protocol):
    """What the table checks and converts ask of a column; cells that are ``None`` (null) are empty."""

    def __len__(self) -> int: ...

    def missing(self) -> NDArray[np.bool_]:
        """True where the cell is empty."""

    def numbers(self) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """The cells as float64 (NaN where empty or not a number) and a mask of non-empty cells that are not numbers."""

    def flags(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """The cells as true/false and a mask of cells that are neither (empty ones included)."""

    def texts(self) -> Any:
        """The cells as strings (``str`` of the value), empty cells as ``None``: a list, or a pyarrow array."""

    def raw(self, index: int) -> Any:
        """The cell as given, for messages."""


def as_number(raw: Any) -> float | None:
    """A cell as a float, or None when it is not a number (booleans are not numbers here)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return float(raw)
    try:
        return float(str(raw).strip())
    except ValueError:
        return None


def as_flag(raw: Any) -> bool | None:
    """A cell as true/false, or None when it is neither."""
    if isinstance(raw, bool):
        return raw
    text = "" if raw is None else str(raw).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    return None


class ListColumn:
    """A column as Python values, one per row (``None`` for an empty cell)."""

    def __init__(self, values: Sequence[Any]) -> None:
        self.values = list(values)

    def __len__(self) -> int:
        return len(self.values)

    def missing(self) -> NDArray[np.bool_]:
        return np.fromiter((value is None for value in self.values), dtype=np.bool_, count=len(self.values))

    def numbers(self) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        out = np.full(len(self.values), np.nan)
        bad = np.zeros(len(self.values), dtype=np.bool_)
        for i, raw in enumerate(self.values):
            if raw is None:
                continue
            value = as_number(raw)
            if value is None:
                bad[i] = True
            else:
                out[i] = value
        return out, bad

    def flags(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        parsed = [as_flag(raw) for raw in self.values]
        values = np.fromiter((flag is True for flag in parsed), dtype=np.bool_, count=len(parsed))
        bad = np.fromiter((flag is None for flag in parsed), dtype=np.bool_, count=len(parsed))
        return values, bad

    def texts(self) -> list[str | None]:
        return [None if raw is None else str(raw) for raw in self.values]

    def raw(self, index: int) -> Any:
        return self.values[index]


class ArrowColumn:
    """A column as a pyarrow (chunked) array, nulls for empty cells.

    ``as_written`` gives the same column as the reference reader read it. It is
    asked for when the array cannot say what was written: pyarrow reads a JSON
    column that mixes ``1`` and ``2.5`` as floats, which give the same numbers but
    not the same text (an id ``1`` must stay ``"1"``, not become ``"1.0"``).
    """

    def __init__(self, array: Any, as_written: Callable[[], Column] | None = None) -> None:
        import pyarrow as pa

        self.array = array if isinstance(array, pa.ChunkedArray) else pa.chunked_array([array])
        self.as_written = as_written if as_written is not None and pa.types.is_floating(self.array.type) else None

    def __len__(self) -> int:
        return len(self.array)

    def _as_python(self) -> ListColumn:
        return ListColumn(self.array.to_pylist())

    def missing(self) -> NDArray[np.bool_]:
        return np.asarray(self.array.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)

    def numbers(self) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = self.array.type
        if pa.types.is_null(kind):
            return np.full(len(self), np.nan), np.zeros(len(self), dtype=np.bool_)
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            # unsafe: a large integer rounds to the nearest float, as float() rounds it
            as_float = pc.cast(self.array, pa.float64(), safe=False)
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            try:
                # pyarrow accepts a subset of what Python's float() accepts, with the same values;
                # anything else (and every mistake) is decided cell by cell in Python.
                as_float = pc.cast(pc.utf8_trim_whitespace(self.array), pa.float64())
            except pa.ArrowInvalid:
                return self._as_python().numbers()
        else:  # booleans, nested values, dates: Python decides (none of them is a number)
            return self._as_python().numbers()
        values = np.array(as_float.to_numpy(zero_copy_only=False), dtype=np.float64)
        return values, np.zeros(len(self), dtype=np.bool_)

    def flags(self) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.as_written is not None:
            return self.as_written().flags()
        kind = self.array.type
        if pa.types.is_boolean(kind):
            values = pc.fill_null(self.array, False).to_numpy(zero_copy_only=False)
            return np.asarray(values, dtype=np.bool_), self.missing()
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            return self._as_python().flags()
        words = pc.utf8_lower(pc.utf8_trim_whitespace(self.array))
        true = pc.fill_null(pc.is_in(words, value_set=pa.array(TRUE_WORDS)), False)
        false = pc.fill_null(pc.is_in(words, value_set=pa.array(FALSE_WORDS)), False)
        values = np.asarray(true.to_numpy(zero_copy_only=False), dtype=np.bool_)
        known = values | np.asarray(false.to_numpy(zero_copy_only=False), dtype=np.bool_)
        return values, ~known

    def texts(self) -> Any:
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.as_written is not None:
            return pa.array(self.as_written().texts(), type=pa.string())
        kind = self.array.type
        if pa.types.is_string(kind):
            return self.array
        if pa.types.is_large_string(kind) or pa.types.is_integer(kind):
            return pc.cast(self.array, pa.string())  # an integer's decimal digits, as str() writes them
        return pa.array(self._as_python().texts(), type=pa.string())

    def raw(self, index: int) -> Any:
        return self.as_written().raw(index) if self.as_written is not None else self.array[index].as_py()
