"""The persistence check at connect time, against real servers with each kind of setting."""

from __future__ import annotations

import warnings

import pytest

from clear_fast.runtime import LedgerError, LedgerNotFound, PersistenceWarning, RedisLedger

from redis_server import DURABLE, FORGETFUL, RedisServer

pytestmark = pytest.mark.redis


@pytest.fixture
def server_with():
    servers = []

    def make(*settings: str) -> RedisServer:
        servers.append(RedisServer(settings))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()


def warnings_of(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, PersistenceWarning)]


def test_a_server_with_an_append_only_file_fsynced_every_second_passes_quietly(server_with):
    server = server_with(*DURABLE)
    assert warnings_of(lambda: RedisLedger.create(server.client(), "ok", 10, persistence="require")) == []
    assert warnings_of(lambda: RedisLedger(server.client(), "ok")) == []


def test_a_server_without_persistence_is_warned_about_refused_or_ignored(server_with):
    server = server_with(*FORGETFUL)
    client = server.client()
    with pytest.raises(LedgerError, match="may lose its books: appendonly is 'no': a restart loses every write"):
        RedisLedger.create(client, "l", 10, persistence="require")
    with pytest.raises(LedgerNotFound):
        RedisLedger(client, "l", persistence="ignore")  # the refusal came before anything was written
    (message,) = warnings_of(lambda: RedisLedger.create(client, "l", 10))
    assert "appendonly is 'no'" in message and "set appendonly yes and appendfsync everysec or always" in message
    assert warnings_of(lambda: RedisLedger(client, "l", persistence="ignore")) == []


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (("--appendonly", "yes", "--appendfsync", "no"), "appendfsync is 'no': the OS decides when writes reach the disk"),
        (("--appendonly", "yes", "--maxmemory-policy", "allkeys-lru"), "maxmemory-policy is 'allkeys-lru': under memory pressure the server may evict"),
        (("--appendonly", "yes", "--rename-command", "CONFIG", ""), "its settings could not be read (CONFIG GET answered:"),
    ],
)
def test_each_risky_setting_is_named(server_with, settings, expected):
    server = server_with(*settings)
    (message,) = warnings_of(lambda: RedisLedger.create(server.client(), "l", 10))
    assert expected in message
    with pytest.raises(LedgerError, match="Pass persistence='warn' or 'ignore' to connect anyway"):
        RedisLedger(server.client(), "l", persistence="require")
