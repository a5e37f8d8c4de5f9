"""Blocking ledger calls from async code, made exact under cancellation.

``asyncio.to_thread`` lets a cancelled caller go while its thread keeps running:
the call still happens on the server, and its answer is lost. A reservation
made that way leaks; a settle races the release of the cancelled block. Here a
cancellation either lands before the thread starts the call (the call never
runs), or waits for the call to finish, lets ``undo`` take back what the
caller can no longer use, and is then raised.
"""

from __future__ import annotations

import threading
from typing import Any, Callable


class _OnceUnlessAbandoned:
    """A call a worker thread runs, unless the caller gave up on it before the thread started it."""

    def __init__(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self._function = function
        self._args = args
        self._lock = threading.Lock()
        self._state = "waiting"

    def run(self) -> Any:
        with self._lock:
            if self._state == "abandoned":
                return None
            self._state = "running"
        return self._function(*self._args)

    def abandon(self) -> bool:
        """Give up on the call if it has not started; True when it will never run."""
        with self._lock:
            if self._state == "waiting":
                self._state = "abandoned"
            return self._state == "abandoned"


async def _wait_out(future: Any) -> BaseException | None:
    """Wait for ``future`` to finish whatever happens; return the first cancellation that came meanwhile."""
    import asyncio

    cancellation: BaseException | None = None
    while not future.done():
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError as error:
            cancellation = cancellation or error
    return cancellation


async def finish_in_thread(function: Callable[..., Any], *args: Any, undo: Callable[[Any], Any] | None = None) -> Any:
    """``function(*args)`` in a worker thread, so the event loop stays free, exact under cancellation.

    A cancellation before the thread starts the call: the call never runs.
    During the call: the call finishes, ``undo(result)`` runs (if given and the
    call succeeded), then the cancellation is raised.
    """
    import asyncio
    import contextvars

    loop = asyncio.get_running_loop()
    call = _OnceUnlessAbandoned(function, args)
    future = loop.run_in_executor(None, contextvars.copy_context().run, call.run)
    try:
        await asyncio.wait([future])
    except asyncio.CancelledError:
        if call.abandon():
            raise
        await _wait_out(future)
        if undo is not None and future.exception() is None:
            # The caller is gone and cannot be told if this fails: a reservation left behind
            # is returned by the ledger's reservation timeout.
            undone = loop.run_in_executor(None, contextvars.copy_context().run, undo, future.result())
            await _wait_out(undone)
            undone.exception()
        else:
            future.exception()  # retrieved: the caller, being cancelled, cannot receive it
        raise
    return future.result()


async def outlast_cancellation(awaitable: Any) -> Any:
    """Await ``awaitable`` to its end even if the caller is cancelled meanwhile; then raise the cancellation."""
    import asyncio

    future = asyncio.ensure_future(awaitable)
    cancellation = await _wait_out(future)
    if cancellation is not None:
        if not future.cancelled():
            future.exception()
        raise cancellation
    return future.result()
