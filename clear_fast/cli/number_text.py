"""Numbers written as text for a whole column at once: one row of bytes per value.

Formatting a million floats one by one in Python takes longer than everything
else the command does with them. Here the text of each value is laid out in a
row of a byte matrix with NumPy; NUL bytes are padding, anywhere in the row, and
the text is the row without them (sentence_column drops them). Values whose
rounding is too close to call in floating point (and zeros, infinities, NaNs,
extreme exponents) are formatted by Python itself, so every text equals
Python's ``format``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

_ZERO = ord("0")
# Powers of ten that a double holds exactly, so scaling by one rounds only once.
_EXACT_POWERS = np.array([float(10**k) for k in range(23)])


def integer_bytes(values: NDArray[np.int64]) -> NDArray[np.uint8]:
    """``str(int(v))`` of each value, one row of bytes per value."""
    v = np.asarray(values, dtype=np.int64)
    magnitude = np.abs(v).astype(np.uint64)  # |int64 min| fits in uint64
    width = len(str(int(magnitude.max()))) if v.size else 1
    text = _digit_bytes(magnitude, width)
    leading = np.ones(v.size, dtype=np.bool_)
    for k in range(width - 1):  # the last digit stays: zero is written `0`
        leading &= text[:, k] == _ZERO
        text[leading, k] = 0
    sign = np.where(v < 0, ord("-"), 0).astype(np.uint8)
    return np.hstack([sign[:, None], text])


def general_format_bytes(values: NDArray[np.float64], digits: int) -> NDArray[np.uint8]:
    """``format(v, f".{digits}g")`` of each value, one row of bytes per value (``1 <= digits <= 15``)."""
    x = np.asarray(values, dtype=np.float64)
    mantissa, exponent, exact = _decimal_digits(np.abs(x), digits)
    width = digits + 8  # sign, "0.000" before the digits, or a point and "e+308" around them
    out = np.zeros((x.size, width), dtype=np.uint8)
    digit_bytes = _digit_bytes(mantissa, digits)
    # How many digits %g writes: trailing zeros are dropped (the first digit is never 0).
    kept = np.full(x.size, digits, dtype=np.int64)
    trailing = np.ones(x.size, dtype=np.bool_)
    for k in range(digits - 1, 0, -1):
        trailing &= digit_bytes[:, k] == _ZERO
        kept -= trailing
    sign = np.where(x < 0, ord("-"), 0).astype(np.uint8)
    for e in _distinct(exponent[exact]):
        rows = np.flatnonzero(exact & (exponent == e))
        text = _layout(digit_bytes[rows], kept[rows], int(e), digits)
        out[rows, : 1 + text.shape[1]] = np.hstack([sign[rows, None], text])
    for i in np.flatnonzero(~exact).tolist():
        written = format(float(x[i]), f".{digits}g").encode()
        out[i, : len(written)] = np.frombuffer(written, dtype=np.uint8)
    return out


def _distinct(values: NDArray[np.int64]) -> list[int]:
    """The distinct small integers among ``values`` (decimal exponents), in order."""
    if values.size == 0:
        return []
    low = int(values.min())
    return (np.flatnonzero(np.bincount(values - low)) + low).tolist()


def _digit_bytes(values: NDArray[Any], width: int) -> NDArray[np.uint8]:
    """The last ``width`` decimal digits of each non-negative integer, as ASCII, most significant first."""
    out = np.empty((values.size, width), dtype=np.uint8)
    rest = values.copy()
    for k in range(width - 1, -1, -1):  # one scalar divisor per column: NumPy's fast path
        out[:, k] = rest % 10 + _ZERO
        rest //= 10
    return out


def _decimal_digits(magnitude: NDArray[np.float64], digits: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """Per value: the ``digits`` leading decimal digits as an integer, the decimal exponent, and whether both are certain."""
    usable = np.isfinite(magnitude) & (magnitude > 0)
    exponent = np.zeros(magnitude.shape, dtype=np.int64)
    exponent[usable] = np.floor(np.log10(magnitude[usable])).astype(np.int64)
    smallest, largest = 10.0 ** (digits - 1), 10.0**digits
    for _ in range(2):  # log10 can miss by one next to a power of ten
        mantissa = np.rint(_scaled(magnitude, digits - 1 - exponent, usable))
        exponent += (mantissa >= largest).astype(np.int64) - (mantissa < smallest).astype(np.int64)
    scaled = _scaled(magnitude, digits - 1 - exponent, usable)
    mantissa = np.rint(scaled)
    # One rounding in the scaling moves `scaled` by at most an ulp: a fraction that far from
    # one half rounds the same way as the exact decimal value, which is what Python rounds.
    clear_of_half = np.abs(scaled - np.floor(scaled) - 0.5) > largest * 1e-15
    exact = (
        usable & (np.abs(digits - 1 - exponent) < len(_EXACT_POWERS)) & clear_of_half
        # a mantissa of 1000...0 may have come from rounding up at one digit more: Python decides those
        & (mantissa > smallest) & (mantissa < largest)
    )
    return np.where(exact, mantissa, 0).astype(np.int64), exponent, exact


def _scaled(magnitude: NDArray[np.float64], power: NDArray[np.int64], usable: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``magnitude * 10**power`` with one rounding where ``|power| <= 22``, NaN elsewhere."""
    inside = usable & (np.abs(power) < len(_EXACT_POWERS))
    factor = _EXACT_POWERS[np.clip(np.abs(power), 0, len(_EXACT_POWERS) - 1)]
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.where(power >= 0, magnitude * factor, magnitude / factor)
    return np.where(inside, out, np.nan)


def _layout(digit_bytes: NDArray[np.uint8], kept: NDArray[np.int64], exponent: int, digits: int) -> NDArray[np.uint8]:
    """The text of rows of one decimal exponent, as ``%g`` lays it out (NUL where a dropped zero or point was)."""
    n = len(kept)
    column = np.arange(digits)[None, :]
    shown = np.where(column < kept[:, None], digit_bytes, 0).astype(np.uint8)
    point = np.full((n, 1), ord("."), dtype=np.uint8)

    def constant(text: str) -> NDArray[np.uint8]:
        return np.tile(np.frombuffer(text.encode(), dtype=np.uint8), (n, 1))

    if 0 <= exponent < digits:  # 123.45: the whole part keeps its zeros
        point[kept <= exponent + 1] = 0
        return np.hstack([digit_bytes[:, : exponent + 1], point, shown[:, exponent + 1:]])
    if -4 <= exponent < 0:  # 0.0012345
        return np.hstack([constant("0." + "0" * (-exponent - 1)), shown])
    point[kept <= 1] = 0  # 1.2345e-07
    return np.hstack([shown[:, :1], point, shown[:, 1:], constant(f"e{'+' if exponent >= 0 else '-'}{abs(exponent):02d}")])
