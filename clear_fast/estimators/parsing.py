"""Reading a token count out of a chat model's free-text answer."""

from __future__ import annotations

import math
import re

_NUMBER = r"(\d+(?:\.\d+)?(?:e\+?\d+)?)\s*(k\b|thousand|million|billion)?"
_MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_RANGE = re.compile(r"(?:between\s+)?" + _NUMBER + r"\s*(?:-|–|—|to|and)\s*" + _NUMBER)
_SINGLE = re.compile(r"([-−]\s*)?" + _NUMBER)
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")


def _value(digits: str, suffix: str | None) -> float:
    return float(digits) * (_MULTIPLIERS[suffix] if suffix else 1.0)


def parse_token_estimate(answer: str, *, max_tokens: float = 100_000.0) -> float | None:
    """The number of tokens an answer names, or None when it names no usable number.

    Parameters
    ----------
    answer : str
        The model's reply, e.g. ``"about 300 tokens"``, ``"1.2k"``, ``"300-500"``,
        ``"Roughly 1,500 tokens should do."``.
    max_tokens : float
        Estimates above this are absurd and refused.

    Returns
    -------
    float or None
        The estimate (a range gives the geometric mean of its ends; ``k``,
        ``thousand``, ``million`` and ``billion`` multiply). None for no number, a
        negative number, less than one token, or more than ``max_tokens``.

    Notes
    -----
    When the reply mentions "token", the number nearest before that word is read
    (models often number their steps first); otherwise the first number.
    """
    if not isinstance(answer, str):
        return None
    text = _THOUSANDS_COMMA.sub("", answer.lower())
    anchor = text.find("token")
    if anchor >= 0:
        # the estimate is in the last number-bearing stretch before "token"
        before = text[:anchor]
        candidates = list(_RANGE.finditer(before))
        singles = list(_SINGLE.finditer(before))
        if not singles:
            return None
        last_single = singles[-1]
        last_range = candidates[-1] if candidates else None
        if last_range is not None and last_range.end() >= last_single.end():
            estimate = _range_value(last_range)
        else:
            estimate = _single_value(last_single)
    else:
        found_range = _RANGE.search(text)
        found_single = _SINGLE.search(text)
        if found_single is None:
            return None
        if found_range is not None and found_range.start() <= found_single.start() + len(found_single.group(1) or ""):
            estimate = _range_value(found_range)
        else:
            estimate = _single_value(found_single)
    if estimate is None or not math.isfinite(estimate) or estimate < 1.0 or estimate > max_tokens:
        return None
    return estimate


def _single_value(match: re.Match[str]) -> float | None:
    if match.group(1):  # a minus sign: a negative count is no estimate
        return None
    return _value(match.group(2), match.group(3))


def _range_value(match: re.Match[str]) -> float | None:
    low_digits, low_suffix, high_digits, high_suffix = match.groups()
    high = _value(high_digits, high_suffix)
    # "1-2k" means 1000 to 2000
    low = _value(low_digits, low_suffix or (high_suffix if float(low_digits) < float(high_digits) else None))
    if low <= 0 or high <= 0:
        return None
    return math.sqrt(low * high)
