"""Input coercion and validation shared by the public API.

Every message names the argument and, for arrays, the first offending index,
so a user with a million queries can find the one that is wrong.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import NDArray


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


def as_tolerance(value: Any, name: str = "rtol") -> float:
    """Return a relative tolerance as a float, refusing anything that is not a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a number, got {value!r:.80}")
    as_float = float(value)
    if not np.isfinite(as_float) or as_float < 0:
        raise ValueError(f"`{name}` must be a finite number >= 0, got {value!r}")
    return as_float


def first_bad_index(mask: NDArray[np.bool_]) -> int:
    """Index of the first True in ``mask`` (callers check ``mask.any()`` first)."""
    return int(np.argmax(mask))
