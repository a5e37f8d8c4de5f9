"""One handle's calls of the ledger's Lua script: keys, identity, retries.

Every call carries a token; a call retried after a timeout (by redis-py, or by
the loop below) carries the same token, and the script answers it as it
answered the first attempt. Every answer carries the ledger's generation and
operation count; the handle remembers the highest it has seen and sends it
along, so the script can tell books that went back in time from books that
moved on.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from typing import Any, Callable

from .errors import LedgerNotFound, LedgerStateLost, LedgerUnavailable
from .redis_script import ledger_script

KEY_PARTS = ("state", "open", "deadline", "overruns", "closed", "forget")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def server_time_text(seconds: str) -> str:
    """A server timestamp as people read it."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(seconds)))


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name or any(c in name for c in "{}"):
        raise ValueError(f"`name` must be a non-empty string without braces, got {name!r:.80}")
    return name


class LedgerCalls:
    """Calls the script for the ledger ``name`` on ``client``, remembering what the ledger showed.

    Parameters
    ----------
    client : redis.Redis
    name : str
    clock : callable or None
        Ledger time in seconds; None uses the server's clock.
    retry_for : float
        Seconds to keep retrying a call the server does not answer.
    """

    def __init__(self, client: Any, name: str, clock: Callable[[], float] | None, retry_for: float) -> None:
        import redis  # lazily: importing clear_fast must not need redis

        if not isinstance(client, redis.Redis):
            raise TypeError(f"`client` must be a redis.Redis client, got {client!r:.80}")
        self.name = check_name(name)
        self.client = client
        self.clock = clock
        self.retry_for = retry_for
        prefix = f"clear_fast:{{{name}}}"
        self.keys = [f"{prefix}:{part}" for part in KEY_PARTS]
        self._script = client.register_script(ledger_script())
        self._unanswered = (redis.ConnectionError, redis.TimeoutError)
        # Connection errors that a retry cannot cure: a wrong password or user is raised at once.
        self._refused = (redis.exceptions.AuthenticationError, redis.exceptions.AuthorizationError)
        self._lock = threading.Lock()
        self._epoch = ""
        self._seen: tuple[int, int] | None = None  # (generation, operation count)
        self._handle = os.urandom(6).hex()
        self._numbers = itertools.count()

    def new_token(self) -> str:
        """A token no other call of any handle carries."""
        return f"{self._handle}.{next(self._numbers)}"

    def remember(self, epoch: str) -> None:
        """Start checking calls against the ledger created as ``epoch``."""
        with self._lock:
            self._epoch = epoch

    def call(self, operation: str, *args: Any, token: str | None = None) -> list[str]:
        """Run ``operation``; return its answer after the outcome, generation and count.

        Raises LedgerNotFound, LedgerStateLost or LedgerUnavailable; answers that
        name an outcome the caller must turn into an error (``open``, ``unknown``,
        ``closed``, ``exists``) are returned as they are.
        """
        token = token or self.new_token()
        give_up_at, pause = time.monotonic() + self.retry_for, 0.02
        while True:
            with self._lock:
                epoch, seen = self._epoch, self._seen
            remembered = ("", "") if seen is None else (str(seen[0]), str(seen[1]))
            now = "" if self.clock is None else repr(float(self.clock()))
            try:
                raw = self._script(keys=self.keys, args=[operation, now, epoch, *remembered, token, *args])
                break
            except self._unanswered as error:
                if isinstance(error, self._refused):
                    raise
                # Safe to send again: the token makes a second run answer as the first.
                if time.monotonic() + pause > give_up_at:
                    raise LedgerUnavailable(self.name, operation, self.retry_for, error) from error
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
        reply = [_text(part) for part in raw]
        self._refuse_lost(reply)
        if len(reply) >= 3 and reply[0] not in ("exists", "created"):
            self._note(int(reply[1]), int(reply[2]))
        return reply

    def _note(self, generation: int, count: int) -> None:
        with self._lock:
            if self._seen is None or (generation, count) > self._seen:
                self._seen = (generation, count)

    def _refuse_lost(self, reply: list[str]) -> None:
        kind = reply[0]
        if kind == "missing":
            raise LedgerNotFound(self.name)
        if kind == "lost":
            raise LedgerStateLost(
                self.name, "lost",
                "it is gone from the server: it was deleted, or the server restarted without its data. Nothing "
                "was done. If the data was lost, create it again once with RedisLedger.create(...), taking into "
                "account what it had spent, and attach new handles",
            )
        if kind == "replaced":
            raise LedgerStateLost(
                self.name, "replaced",
                f"it was created again (at {server_time_text(reply[1])}) after this handle attached, so this handle's "
                f"reservations are not in it. Nothing was done. Attach a new handle: RedisLedger(client, {self.name!r})",
            )
        if kind == "halted":
            raise LedgerStateLost(
                self.name, "halted",
                f"its books went back in time ({reply[1]}): the server restarted from an older snapshot, or failed "
                "over to a replica that lagged. Nothing was done, and every operation is refused until an operator "
                "has checked the books and called RedisLedger.acknowledge_reset(client, "
                f"{self.name!r}) (see 'Running the ledger in production' in docs/runtime.md)",
            )
