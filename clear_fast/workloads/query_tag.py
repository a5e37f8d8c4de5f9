"""The ``#<index>`` tag in a stream's query text: how a simulated model knows which query it is asked.

Every text of a :class:`~clear_fast.workloads.streams.Stream` starts with
``Problem #<index>``. A simulated chat model (the LangChain integration's
``SimulatedReasoningChatModel``) reads the tag back from its prompt with
:func:`query_from_tag` and answers as that query's curve says.
"""

from __future__ import annotations

import re

_QUERY_TAG = re.compile(r"#(\d+)")


def query_from_tag(text: str) -> int:
    """The query index written as ``#<number>`` in ``text`` (the first such tag).

    Raises
    ------
    ValueError
        If ``text`` has no ``#<number>`` tag.
    """
    found = _QUERY_TAG.search(text)
    if found is None:
        raise ValueError(f"prompt names no query: expected a '#<number>' tag, got {text[:80]!r}")
    return int(found.group(1))
