"""Fixtures for the limits plugin: a private redis-server, three replicas sharing it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import openai
import pytest
from limits_helpers import RedisServer, limits_config

from proxy_core.testing import FakeUpstream
from proxy_core.testing.subprocess_gateway import served

# The replicas' rules; each test uses its own key, so its counters are its own.
REPLICA_RULES: list[dict[str, Any]] = [
    {"match": {"key": "k-rpm"}, "rpm": 20},
    {"match": {"key": "k-tpm"}, "tpm": 21500},
    {"match": {"key": "k-conc"}, "concurrency": 20},
    {"match": {"key": "k-budget", "model": "openai-main/gpt-priced"}, "budget_usd": {"day": 0.9}},
    {"match": {"key": "k-settle"}, "tpm": 1000},
    {"match": {"key": "k-ant"}, "rpm": 2, "tpm": 50000},
    {"match": {"key": "k-refund"}, "tpm": 100000, "budget_usd": {"month": 100}},
]
REPLICA_KEYS = ("k-rpm", "k-tpm", "k-conc", "k-budget", "k-settle", "k-ant", "k-refund", "k-free")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_db(redis_server: RedisServer) -> Iterator[Any]:
    """The shared test Redis, emptied for this test; a sync client to inspect it."""
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture(scope="session")
def replicas(
    tmp_path_factory: pytest.TempPathFactory,
    redis_server: RedisServer,
    _fake_openai_server: FakeUpstream,
    _fake_anthropic_server: FakeUpstream,
) -> Iterator[list[str]]:
    """Three `proxy-core serve` processes sharing the test Redis; their base URLs."""
    config = limits_config(
        _fake_openai_server.url,
        _fake_anthropic_server.url,
        REPLICA_RULES,
        key_names=REPLICA_KEYS,
        redis_url=redis_server.url,
    )
    with ExitStack() as stack:
        urls = []
        for i in range(3):
            _, url = stack.enter_context(served(tmp_path_factory.mktemp(f"replica{i}"), dict(config)))
            urls.append(url)
        yield urls


@pytest.fixture
def clients_for(replicas: list[str]) -> Iterator[Any]:
    """``clients_for(key_name)``: one openai SDK client per replica, using that key."""
    made: list[openai.OpenAI] = []

    def make(name: str) -> list[openai.OpenAI]:
        out = [openai.OpenAI(base_url=url + "/v1", api_key=f"sk-{name}", max_retries=0, timeout=30) for url in replicas]
        made.extend(out)
        return out

    yield make
    for client in made:
        client.close()
