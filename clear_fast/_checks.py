"""Input coercion and validation shared by the public API.

Every message names the argument and, for arrays, the first offending index,
so a user with a million queries can find the one that is wrong.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

T = TypeVar("T")
C = TypeVar("C")


def as_float_array(
    name: str,
    value: Any,
    n: int | None = None,
    *,
    minimum: float | None = None,
    strictly_positive: bool = False,
    allow_inf: bool = False,
) -> NDArray[np.float64]:
    """Return ``value`` as a new, contiguous float64 vector of length ``n``.

    Scalars broadcast to length ``n``. The user's array is never aliased, so
    nothing the caller holds can be changed through the result.
    """
    try:
        array = np.array(value, dtype=np.float64, copy=True)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a number or an array of numbers, got {value!r:.80}") from None
    if array.ndim == 0:
        if n is None:
            array = array.reshape(1)
        else:
            array = np.full(n, float(array))
    elif array.ndim != 1:
        raise ValueError(f"`{name}` must be a scalar or a 1-D array, got shape {array.shape}")
    elif n is not None and array.shape[0] != n:
        raise ValueError(f"`{name}` has length {array.shape[0]}, expected {n} (one value per query)")
    bad = np.isnan(array) if allow_inf else ~np.isfinite(array)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"`{name}` must be finite, got {array[i]} at index {i}")
    if strictly_positive:
        bad = ~(array > 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"`{name}` must be > 0, got {array[i]} at index {i}")
    elif minimum is not None:
        bad = array < minimum
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(f"`{name}` must be >= {minimum:g}, got {array[i]} at index {i}")
    return np.ascontiguousarray(array)


def as_whole_counts(name: str, value: Any, n: int) -> NDArray[np.int64]:
    """Return ``value`` as a new int64 vector of ``n`` whole numbers >= 0 (token caps, counts).

    TypeError for anything that is not numbers (booleans included); ValueError naming the
    first index that is negative, fractional or not finite, or for a wrong shape.
    """
    try:
        values = np.array(value, copy=True)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be an array of whole numbers, got {value!r:.80}") from None
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(f"`{name}` must have shape ({n},), got {values.shape}")
    if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.number):
        raise TypeError(f"`{name}` must hold numbers, got dtype {values.dtype}")
    as_float = values.astype(np.float64)
    bad = ~np.isfinite(as_float) | (as_float < 0) | (as_float != np.floor(as_float))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"`{name}` must be whole numbers >= 0, got {values[i].item()!r} at index {i}")
    return values.astype(np.int64)


def as_budget(value: Any, name: str = "budget") -> int:
    """Return a token budget as a Python int, refusing anything that is not a whole number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a whole number of tokens, got {value!r:.80}")
    as_float = float(value)
    if not np.isfinite(as_float) or as_float < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    if as_float != int(as_float):
        raise ValueError(f"`{name}` must be a whole number of tokens, got {value!r}")
    # an int stays exact beyond 2**53; anything else was checked whole above
    return value if isinstance(value, int) else int(as_float)


def first_bad_index(mask: NDArray[np.bool_]) -> int:
    """Index of the first True in ``mask`` (callers check ``mask.any()`` first)."""
    return int(np.argmax(mask))


# -- single values ---------------------------------------------------------------------------------
# A bool is an int to Python, but True as a seed or a count is always a mistake: refuse it.


def _is_real(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Real)


def _is_integer(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, numbers.Integral)


def _is_finite_real(value: Any) -> bool:
    """A real number (not a bool) that is finite; ints of any size count as finite."""
    return _is_real(value) and (isinstance(value, numbers.Integral) or math.isfinite(float(value)))


def require_instance(name: str, value: Any, kind: type[T]) -> T:
    """Return ``value`` if it is a ``kind``; TypeError naming the type it has otherwise."""
    if not isinstance(value, kind):
        raise TypeError(f"`{name}` must be a {kind.__name__}, got {type(value).__name__}")
    return value


def require_choice(name: str, value: C, choices: Collection[Any]) -> C:
    """Return ``value`` if it is one of ``choices`` (listed in the message as given)."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}, got {value!r}")
    return value


def require_number(name: str, value: Any) -> Any:
    """Return ``value`` unchanged if it is a real number (not a bool); TypeError for anything else."""
    if not _is_real(value):
        raise TypeError(f"`{name}` must be a number, got {value!r:.80}")
    return value


def as_nonnegative_number(name: str, value: Any) -> float:
    """Return a finite real number >= 0 as a float; one ValueError for a wrong type or value."""
    if not (_is_finite_real(value) and value >= 0):
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    return float(value)


def as_positive_number(name: str, value: Any) -> float:
    """Return a finite real number > 0 as a float; one ValueError for a wrong type or value."""
    if not (_is_finite_real(value) and value > 0):
        raise ValueError(f"`{name}` must be a finite number > 0, got {value!r}")
    return float(value)


def as_number_at_least(name: str, value: Any, minimum: float) -> float:
    """Return a real number >= ``minimum`` (``inf`` allowed) as a float; one ValueError otherwise."""
    if not (_is_real(value) and value >= minimum):
        raise ValueError(f"`{name}` must be a number >= {minimum:g}, got {value!r}")
    return float(value)


def as_positive_tokens(name: str, value: Any) -> float:
    """Return a finite number of tokens > 0 as a float: TypeError for a non-number, ValueError for the rest."""
    if not _is_real(value):
        raise TypeError(f"`{name}` must be a number of tokens, got {value!r:.80}")
    if not (_is_finite_real(value) and value > 0):
        raise ValueError(f"`{name}` must be a finite number of tokens > 0, got {value!r}")
    return float(value)


def as_integer(name: str, value: Any) -> int:
    """Return an integer (Python or numpy, not a bool) as an int; TypeError for anything else."""
    if not _is_integer(value):
        raise TypeError(f"`{name}` must be an integer, got {value!r:.80}")
    return int(value)


def as_nonnegative_integer(name: str, value: Any) -> int:
    """Return an integer >= 0 as an int: TypeError for a non-integer, ValueError below 0."""
    number = as_integer(name, value)
    if number < 0:
        raise ValueError(f"`{name}` must be >= 0, got {value}")
    return number


def as_index(name: str, value: Any, length: int) -> int:
    """Return an integer position in ``[0, length)``: TypeError for a non-integer, ValueError outside."""
    number = as_integer(name, value)
    if not 0 <= number < length:
        raise ValueError(f"`{name}` must be in [0, {length}), got {value}")
    return number


def as_integer_at_least(name: str, value: Any, minimum: int) -> int:
    """Return an integer >= ``minimum`` as an int; one ValueError for a wrong type or value."""
    if not (_is_integer(value) and value >= minimum):
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_positive_integer(name: str, value: Any) -> int:
    """Return an integer >= 1 as an int; one ValueError for a wrong type or value."""
    if not (_is_integer(value) and value >= 1):
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    return int(value)


# -- runtime scalars: durations, counts, ids -------------------------------------------------------
# Used by clear_fast.runtime (ledgers, pacer, policies).


def as_seconds(name: str, value: Any) -> float:
    """Return a duration as a float: a finite number of seconds > 0."""
    if not _is_real(value):
        raise TypeError(f"`{name}` must be a number of seconds, got {value!r:.80}")
    if not (_is_finite_real(value) and value > 0):
        raise ValueError(f"`{name}` must be a finite number of seconds > 0, got {value!r}")
    return float(value)


def as_optional_seconds(name: str, value: Any) -> float | None:
    """Like :func:`as_seconds`, with None accepted (and returned) for "no duration"."""
    if value is None:
        return None
    if not _is_real(value):
        raise TypeError(f"`{name}` must be a number of seconds or None, got {value!r:.80}")
    return as_seconds(name, value)


def as_token_count(value: Any, name: str, most: int) -> int:
    """Return a whole number of tokens in ``[0, most]`` as an int (see :func:`as_budget`)."""
    if type(value) is int and 0 <= value <= most:
        return value  # the common case, checked fast: batches check thousands of counts
    # Compare a huge int before as_budget turns it into a float (which overflows past 1e308).
    too_many = _is_real(value) and isinstance(value, numbers.Integral) and int(value) > most
    if too_many or as_budget(value, name) > most:
        raise ValueError(f"`{name}` must be at most {most} tokens, got {value!r:.80}")
    return as_budget(value, name)


def as_text_id(value: Any, name: str = "query_id") -> str:
    """Return an id as a non-empty string (integers are accepted and turned into their decimal text)."""
    if isinstance(value, bool) or not isinstance(value, (str, numbers.Integral)):
        raise TypeError(f"`{name}` must be a string or an integer, got {value!r:.80}")
    text = str(value)
    if not text:
        raise ValueError(f"`{name}` must not be empty")
    return text


def as_flag(name: str, value: Any) -> bool:
    """Return ``value`` if it is True or False (not merely truthy)."""
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be True or False, got {value!r:.80}")
    return value
