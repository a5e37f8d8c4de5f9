"""The Lua script that makes every Redis ledger operation atomic, read from the package's ``*.lua`` files.

The script is the four files below run as one chunk (``ledger_books.lua``
describes the keys and arguments). The source is read on first use, not at
import: ``import clear_fast`` needs neither the files nor ``importlib.resources``.
"""

from __future__ import annotations

import functools

PARTS = ("ledger_books.lua", "ledger_admin.lua", "ledger_operations.lua", "ledger_main.lua")


@functools.cache
def ledger_script() -> str:
    """The source of the ledger's script."""
    from importlib.resources import files

    folder = files(__package__)
    return "\n".join(folder.joinpath(part).read_text(encoding="utf-8") for part in PARTS)
