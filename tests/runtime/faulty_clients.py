"""Real redis-py clients with a fault placed exactly where a test needs it.

Each subclass runs every command on the real server; only what the caller gets
back is delayed or lost, at one chosen ledger operation. The Redis ledger sees
a ``redis.Redis`` like any other.
"""

from __future__ import annotations

import threading

import redis


def ledger_operation(args: tuple) -> str | None:
    """The ledger operation of an EVALSHA call (its first argument after the keys), else None."""
    if not args or args[0] != "EVALSHA":
        return None
    keys = int(args[2])
    operation = args[3 + keys]
    return operation.decode() if isinstance(operation, bytes) else str(operation)


class StallingClient(redis.Redis):
    """Once armed with an operation, holds the server's answer to its next call until ``go_on`` is set.

    ``answered`` is set when the server has run the call: a cancellation that
    lands then finds the operation done on the server but not yet seen by the
    caller, the moment the tests need.
    """

    def __init__(self, *args, **options) -> None:
        super().__init__(*args, **options)
        self.stall_on: str | None = None
        self.answered = threading.Event()
        self.go_on = threading.Event()
        self.calls: list[str] = []

    def execute_command(self, *args, **options):
        reply = super().execute_command(*args, **options)
        operation = ledger_operation(args)
        if operation is not None:
            self.calls.append(operation)
            if operation == self.stall_on:
                self.stall_on = None
                self.answered.set()
                if not self.go_on.wait(10):
                    raise RuntimeError("the test never let the stalled call go on")
        return reply


class ReplyDroppingClient(redis.Redis):
    """Runs the next ``drops`` calls of one operation on the server, then loses each answer to a timeout,
    as a network that drops the reply does; the ledger must retry and get the first call's outcome."""

    def __init__(self, *args, **options) -> None:
        super().__init__(*args, **options)
        self.drop: dict[str, int] = {}
        self.sent: list[tuple] = []

    def execute_command(self, *args, **options):
        reply = super().execute_command(*args, **options)
        operation = ledger_operation(args)
        if operation is not None:
            self.sent.append(args)
            if self.drop.get(operation, 0) > 0:
                self.drop[operation] -= 1
                raise redis.TimeoutError("Timeout reading from socket (the test dropped the reply)")
        return reply
