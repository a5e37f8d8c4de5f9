"""Checking what callers hand a ledger, before anything reaches the books.

Both ledgers take the same arguments and refuse the same ones with the same
message, before any state changes: an operation is either fully valid or not
attempted. Counts are capped at :data:`~clear_fast.runtime.limits.MAX_TOKENS`.
"""

from __future__ import annotations

from typing import Any, Sequence

from .._checks import as_text_id, as_token_count
from .limits import MAX_TOKENS

Request = tuple[str, int, "int | None"]
"""One reservation asked for: query id, tokens, the smallest grant accepted (None: all or nothing)."""


def as_count(value: Any, name: str) -> int:
    """A token count for a ledger: a whole number in ``[0, MAX_TOKENS]``."""
    return as_token_count(value, name, MAX_TOKENS)


def as_floor(at_least: Any, tokens: int, name: str = "at_least", tokens_name: str = "tokens") -> int | None:
    """``at_least`` as a whole number of tokens <= ``tokens``, or None."""
    if at_least is None:
        return None
    floor = as_count(at_least, name)
    if floor > tokens:
        raise ValueError(f"`{name}` must be <= `{tokens_name}` ({tokens}), got {floor}")
    return floor


def one_request(query_id: Any, tokens: Any, at_least: Any) -> Request:
    wanted = as_count(tokens, "tokens")
    return as_text_id(query_id), wanted, as_floor(at_least, wanted)


def _sequence(value: Any, name: str, length: int | None = None) -> Sequence[Any]:
    """``value`` as an indexable sequence (a list, a tuple, a 1-D array), of ``length`` items if given."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not hasattr(value, "__getitem__"):
        raise TypeError(f"`{name}` must be a sequence (a list, a tuple or a 1-D array), got {value!r:.80}")
    if getattr(value, "ndim", 1) != 1:
        raise ValueError(f"`{name}` must be one-dimensional, got shape {value.shape}")
    if length is not None and len(value) != length:
        raise ValueError(f"`{name}` has {len(value)} items, expected {length} (one per query id)")
    return value


def as_query_ids(values: Any) -> list[str]:
    """Ids of a batch: each a non-empty string or an integer, none twice."""
    ids = [as_text_id(value, f"query_ids[{i}]") for i, value in enumerate(_sequence(values, "query_ids"))]
    seen: set[str] = set()
    for text in ids:
        if text in seen:
            raise ValueError(f"`query_ids` holds {text!r} twice: each query needs its own id")
        seen.add(text)
    return ids


def as_counts(values: Any, name: str, length: int) -> list[int]:
    """One token count per query of a batch."""
    return [as_count(value, f"{name}[{i}]") for i, value in enumerate(_sequence(values, name, length))]


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or getattr(value, "ndim", 1) == 0


def many_requests(ids: Any, tokens: Any, at_least: Any) -> list[Request]:
    """The requests of a batch reservation; ``at_least`` is None, one count for all, or one per query."""
    names = as_query_ids(ids)
    wanted = as_counts(tokens, "tokens", len(names))
    if _is_scalar(at_least):
        floors = [as_floor(at_least, cap, tokens_name=f"tokens[{i}]") for i, cap in enumerate(wanted)]
    else:
        given = _sequence(at_least, "at_least", len(names))
        floors = [
            as_floor(given[i], cap, f"at_least[{i}]", f"tokens[{i}]") for i, cap in enumerate(wanted)
        ]
    return list(zip(names, wanted, floors))
