"""The Lua script that makes every Redis ledger operation atomic, read from the package's ``*.lua`` files.

The source is read on first use, not at import: ``import clear_fast`` needs
neither the files nor ``importlib.resources``.
"""

from __future__ import annotations

import functools


@functools.cache
def ledger_script() -> str:
    """The source of the ledger's script (see ``ledger.lua`` for the keys and replies)."""
    from importlib.resources import files

    return files(__package__).joinpath("ledger.lua").read_text(encoding="utf-8")
