"""asyncio cancellation: a cancelled caller leaves the books as if its call completed or never happened.

The in-process ledger runs each call without awaiting, so a cancellation can
only land between calls. The Redis ledger runs calls in a worker thread; these
tests cancel the task at the worst moment (the server has run the call, the
caller has not seen the answer: ``StallingClient``) and check that the books
come out the same as the in-process ledger's for the same story.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import random
import threading
import uuid

import pytest

from clear_fast.runtime import Ledger, RedisLedger

from faulty_clients import StallingClient
from ledger_clock import FakeClock

pytestmark = pytest.mark.redis


@pytest.fixture
def stalling(redis_port):
    client = StallingClient(host="127.0.0.1", port=redis_port)
    yield client
    client.go_on.set()
    client.close()


def twins(client, budget, **options):
    clock = FakeClock()
    memory = Ledger(budget, clock=clock, **options)
    shared = RedisLedger.create(client, f"cancel-{uuid.uuid4().hex}", budget, clock=clock, **options)
    return memory, shared, clock


async def answered(client, call, operation: str):
    """Start ``call`` as a task and return it once the server has answered its ``operation`` (held back)."""
    client.stall_on = operation
    task = asyncio.create_task(call)
    await asyncio.to_thread(client.answered.wait, 10)
    assert client.answered.is_set()
    return task


async def cancel_when_answered(client, task, operation: str):
    """Cancel ``task`` once the server has answered its ``operation``, then let the answer through."""
    client.stall_on = operation
    await asyncio.to_thread(client.answered.wait, 10)
    assert client.answered.is_set()
    task.cancel()
    await asyncio.sleep(0.01)  # the cancellation lands while the answer is held back
    client.go_on.set()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_a_reserve_cancelled_after_the_server_granted_it_is_withdrawn(stalling):
    memory, shared, _ = twins(stalling, 1000)

    async def story(ledger, stall: bool):
        task = asyncio.create_task(ledger.areserve("q", 400))
        if stall:
            await cancel_when_answered(stalling, task, "reserve")
        else:
            task.cancel()  # in process, a cancellation can only come before the call
            with pytest.raises(asyncio.CancelledError):
                await task
        return ledger.snapshot()

    books = asyncio.run(story(shared, stall=True))
    assert books == asyncio.run(story(memory, stall=False))
    assert (books.granted, books.reserved, books.open_reservations, books.released) == (0, 0, 0, 0)
    assert shared.reserve("q", 400).tokens == 400  # the id was never taken


def test_a_cancelled_batch_reserve_is_withdrawn_whole(stalling):
    _, shared, _ = twins(stalling, 1000)

    async def story():
        task = asyncio.create_task(shared.areserve_many(["a", "b", "c"], [300, 300, 600]))
        await cancel_when_answered(stalling, task, "reserve")

    asyncio.run(story())
    books = shared.snapshot()
    assert (books.granted, books.reserved, books.open_reservations) == (0, 0, 0)
    assert stalling.calls[-2:] == ["withdraw", "snapshot"]


def test_a_reserve_that_expired_before_its_caller_was_cancelled_is_withdrawn_too(stalling):
    _, shared, clock = twins(stalling, 1000, reservation_timeout=5)

    async def story():
        task = await answered(stalling, shared.areserve("q", 400), "reserve")
        clock.advance(6)
        assert (await asyncio.to_thread(RedisLedger(stalling, shared.name, clock=clock).snapshot)).expired == 400
        task.cancel()
        await asyncio.sleep(0.01)
        stalling.go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(story())
    books = shared.snapshot()
    assert (books.granted, books.expired, books.reserved, books.balanced) == (0, 0, 0, True)


def test_a_call_cancelled_before_its_thread_starts_never_runs(stalling):
    _, shared, _ = twins(stalling, 1000)
    calls_before = len(stalling.calls)

    async def story():
        loop = asyncio.get_running_loop()
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=1))
        busy = threading.Event()
        blocker = loop.run_in_executor(None, busy.wait, 10)  # the only worker thread is taken
        task = asyncio.create_task(shared.areserve("q", 400))
        for _ in range(5):
            await asyncio.sleep(0)  # the reserve is queued behind the blocker
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        busy.set()
        await blocker
        await loop.run_in_executor(None, lambda: None)  # the queued call has had its turn (and skipped it)

    asyncio.run(story())
    assert stalling.calls[calls_before:] == []
    assert shared.snapshot().granted == 0


def test_a_settle_cancelled_after_the_server_ran_it_stays_charged_as_in_process(stalling):
    memory, shared, _ = twins(stalling, 1000)

    async def story(ledger, stall: bool):
        reached = asyncio.Event()

        async def worker():
            async with ledger.hold("q", 400) as reservation:
                await reservation.asettle(250)
                reached.set()
                await asyncio.sleep(30)

        task = asyncio.create_task(worker())
        if stall:
            await cancel_when_answered(stalling, task, "settle")
        else:
            await reached.wait()  # in process the settle finished before the cancellation could land
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return ledger.snapshot()

    books = asyncio.run(story(shared, stall=True))
    assert books == asyncio.run(story(memory, stall=False))
    assert (books.spent, books.charged, books.refunded, books.released, books.reserved) == (250, 250, 150, 0, 0)


def test_a_hold_cancelled_while_reserving_holds_nothing_and_one_cancelled_inside_releases(stalling):
    memory, shared, _ = twins(stalling, 1000)

    async def story(ledger, stall: bool):
        entered = asyncio.Event()

        async def worker(query_id):
            async with ledger.hold(query_id, 300):
                entered.set()
                await asyncio.sleep(30)

        entering = asyncio.create_task(worker("entering"))
        if stall:
            await cancel_when_answered(stalling, entering, "reserve")
        else:
            entering.cancel()
            with pytest.raises(asyncio.CancelledError):
                await entering
        inside = asyncio.create_task(worker("inside"))
        await entered.wait()
        inside.cancel()
        with pytest.raises(asyncio.CancelledError):
            await inside
        return ledger.snapshot()  # no pause: the release is done when the task ends

    books = asyncio.run(story(shared, stall=True))
    assert books == asyncio.run(story(memory, stall=False))
    assert (books.granted, books.released, books.reserved) == (300, 300, 0)


def test_a_release_cancelled_after_the_server_ran_it_stays_released(stalling):
    _, shared, _ = twins(stalling, 1000)
    shared.reserve("q", 400)

    async def story():
        task = asyncio.create_task(shared.arelease("q"))
        await cancel_when_answered(stalling, task, "release")

    asyncio.run(story())
    books = shared.snapshot()
    assert (books.released, books.reserved, books.free) == (400, 0, 1000)


def test_a_second_cancellation_during_the_wait_changes_nothing(stalling):
    _, shared, _ = twins(stalling, 1000)

    async def story():
        task = await answered(stalling, shared.areserve("q", 400), "reserve")
        for _ in range(3):
            task.cancel()
            await asyncio.sleep(0.005)
        stalling.go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(story())
    assert shared.snapshot().granted == 0


async def crowd(ledger, seed: int, span: float, tasks: int = 1000) -> dict[str, list]:
    """Many holds, about a third of them cancelled; each records how far it got.

    A tenth are cancelled while they reserve, a tenth inside the block, a tenth
    while they settle (the cancellation is set off just before the call and lands
    up to ``span`` seconds later: before its thread starts, while it runs, or
    after it returned), and a few more at random times.
    """
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    progress: dict[str, list] = {}
    moments = ["reserving", "inside", "settling"] * (tasks // 10) + [None] * (tasks - 3 * (tasks // 10))
    rng.shuffle(moments)

    async def one(query_id: str, tokens: int, used: int, moment: str | None):
        me = asyncio.current_task()
        progress[query_id] = [tokens, used, "started"]
        if moment == "reserving":
            loop.call_later(rng.random() * span, me.cancel)
        async with ledger.hold(query_id, tokens) as reservation:
            progress[query_id][2] = "reserved"
            if moment == "inside":
                loop.call_soon(me.cancel)
            await asyncio.sleep(rng.random() * 0.01)
            progress[query_id][2] = "settling"
            if moment == "settling":
                loop.call_later(rng.random() * span, me.cancel)
            await reservation.asettle(used)
            progress[query_id][2] = "settled"
            await asyncio.sleep(rng.random() * 0.01)

    running = []
    for i, moment in enumerate(moments):
        tokens = rng.randint(1, 200)
        running.append(asyncio.create_task(one(f"t{i}", tokens, rng.randint(0, tokens), moment)))
    for task in rng.sample(running, tasks // 20):
        loop.call_later(rng.random() * span, task.cancel)
    outcomes = await asyncio.gather(*running, return_exceptions=True)
    assert all(o is None or isinstance(o, asyncio.CancelledError) for o in outcomes)
    # Only the cancellations inside the block are sure to land (the others race the
    # task's own progress, and a fast machine finishes many first), so only they are counted on.
    inside = sum(moment == "inside" for moment in moments)
    assert sum(isinstance(o, asyncio.CancelledError) for o in outcomes) >= inside
    return progress


def test_a_crowd_of_cancelled_holds_leaves_exact_books_in_process():
    ledger = Ledger(10**9)
    progress = asyncio.run(crowd(ledger, seed=1, span=0.05))
    books = ledger.snapshot()
    reached = {query_id: state for query_id, (_, _, state) in progress.items()}
    assert "settling" not in reached.values()  # in process a settle never waits: nothing can cut it in two
    assert books.charged == sum(used for tokens, used, state in progress.values() if state == "settled")
    assert books.released == sum(tokens for tokens, used, state in progress.values() if state == "reserved")
    assert (books.reserved, books.open_reservations, books.balanced) == (0, 0, True)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_crowd_of_cancelled_holds_leaves_exact_books_on_redis(redis_client, seed):
    ledger = RedisLedger.create(redis_client, f"crowd-{uuid.uuid4().hex}", 10**9)
    progress = asyncio.run(crowd(ledger, seed=seed, span=0.5))
    books = ledger.snapshot()
    closed = {key.decode(): value.decode().split()[0] for key, value in redis_client.hgetall(ledger.keys[4]).items()}
    # Each query is settled (with its usage), released, or was never granted: nothing else.
    settled = [(tokens, used) for query_id, (tokens, used, _) in progress.items() if closed.get(query_id) == "settled"]
    released = [tokens for query_id, (tokens, _, _) in progress.items() if closed.get(query_id) == "released"]
    for query_id, (_, _, state) in progress.items():
        if state == "settled":
            assert closed[query_id] == "settled"  # a settle that returned is charged
        elif state == "reserved":
            assert closed[query_id] == "released"  # cancelled inside the block: released
        elif state == "started":
            assert query_id not in closed  # cancelled while reserving: never granted (withdrawn)
    assert books.charged == sum(used for _, used in settled)
    assert books.released == sum(released)
    assert books.granted == sum(tokens for tokens, _ in settled) + sum(released)
    assert (books.reserved, books.open_reservations, books.balanced) == (0, 0, True)
