"""Checking, when a handle connects, that the Redis server keeps what the ledger writes.

A ledger on a server that forgets writes (no append-only file, or one the OS
flushes when it likes) loses spend on a restart, and a server that evicts keys
under memory pressure can drop a ledger's books. The ledger detects both
afterwards and refuses to go on; this check says so before the first token is
spent. It reads the settings with ``CONFIG GET``, which managed services and ACL
users often may not run: then it cannot tell, and says that instead.
"""

from __future__ import annotations

import warnings
from typing import Any

from .errors import LedgerError, PersistenceWarning

MODES = ("require", "warn", "ignore")


def persistence_problems(client: Any) -> list[str]:
    """What in the server's settings can lose the ledger's writes (empty: nothing)."""
    import redis

    try:
        settings = {}
        for name in ("appendonly", "appendfsync", "maxmemory-policy"):
            settings.update({_text(k): _text(v) for k, v in client.config_get(name).items()})
    except redis.ResponseError as error:  # CONFIG disabled, renamed, or not allowed to this user
        return [
            f"its settings could not be read (CONFIG GET answered: {error}), so it is unknown whether it keeps "
            "the ledger's writes across a restart"
        ]
    problems = []
    if settings.get("appendonly") != "yes":
        problems.append(
            "appendonly is 'no': a restart loses every write since the last RDB snapshot "
            "(set appendonly yes and appendfsync everysec or always)"
        )
    elif settings.get("appendfsync") not in ("everysec", "always"):
        problems.append(
            f"appendfsync is {settings.get('appendfsync')!r}: the OS decides when writes reach the disk, and a "
            "crash can lose many seconds of them (set everysec or always)"
        )
    policy = settings.get("maxmemory-policy", "")
    if policy.startswith("allkeys-"):
        problems.append(
            f"maxmemory-policy is {policy!r}: under memory pressure the server may evict the ledger's keys "
            "(set noeviction)"
        )
    return problems


def check_persistence(client: Any, mode: str, name: str) -> None:
    """Raise (``require``), warn (``warn``) or do nothing (``ignore``) about :func:`persistence_problems`."""
    if mode == "ignore":
        return
    problems = persistence_problems(client)
    if not problems:
        return
    message = f"the Redis server holding ledger {name!r} may lose its books: " + "; ".join(problems)
    if mode == "require":
        raise LedgerError(message + ". Pass persistence='warn' or 'ignore' to connect anyway")
    warnings.warn(message, PersistenceWarning, stacklevel=4)


def check_mode(mode: Any) -> str:
    if mode not in MODES:
        raise ValueError(f"`persistence` must be one of {MODES}, got {mode!r:.80}")
    return str(mode)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
