"""Redis stopped and restarted under on_store_error allow / deny; leases of a killed replica."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from limits_helpers import RedisServer, chat, limits_config, wait_until

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply
from proxy_core.testing.fake_answers import openai_chunks
from proxy_core.testing.subprocess_gateway import served

RULES = [{"match": {"key": "test"}, "rpm": 2}]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis this test may stop and restart (on the same port)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def _metric(gateway_url: str, name: str) -> float:
    text = httpx.get(gateway_url + "/metrics").text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_store_down_allow_serves_then_limits_return(
    gateway_factory: Callable[..., Any],
    openai_for: Callable[..., openai.OpenAI],
    fake_openai: FakeUpstream,
    own_redis: RedisServer,
) -> None:
    gw = gateway_factory(limits_config(fake_openai.url, None, RULES, redis_url=own_redis.url))
    client = openai_for(gw)
    assert [chat(client).ok for _ in range(3)] == [True, True, False]
    own_redis.stop()
    down = [chat(client) for _ in range(4)]
    assert all(o.ok for o in down)  # served without limits while Redis is away
    assert "x-ratelimit-limit-requests" not in down[0].headers
    assert _metric(gw.url, "proxy_core_limits_store_errors_total") >= 4
    assert _metric(gw.url, 'proxy_core_limits_refusals_total{kind="rpm"}') == 1
    own_redis.start()  # empty: the restart lost this window's counts, nothing more
    assert [chat(client).ok for _ in range(3)] == [True, True, False]


def test_store_down_deny_is_a_clear_503(
    gateway_factory: Callable[..., Any],
    openai_for: Callable[..., openai.OpenAI],
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    own_redis: RedisServer,
) -> None:
    config = limits_config(fake_openai.url, fake_anthropic.url, RULES, redis_url=own_redis.url, on_store_error="deny")
    gw = gateway_factory(config)
    client = openai_for(gw)
    assert chat(client).ok
    own_redis.stop()
    refused = chat(client)
    assert refused.status == 503
    assert refused.body["code"] == "limits_store_unavailable"
    assert "limits store is unreachable" in refused.body["message"]
    ant = anthropic.Anthropic(base_url=gw.url, api_key=GATEWAY_KEY, max_retries=0)
    with ant, pytest.raises(anthropic.InternalServerError) as e:
        ant.messages.create(
            model="anthropic-main/claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert e.value.status_code == 503 and e.value.body["type"] == "error"
    assert len(fake_openai.requests) == 1 and fake_anthropic.requests == []
    own_redis.start()
    assert [chat(client).ok for _ in range(3)] == [True, True, False]


def test_leases_renewed_while_running_and_freed_when_a_replica_dies(
    tmp_path: Path,
    gateway_factory: Callable[..., Any],
    openai_for: Callable[..., openai.OpenAI],
    fake_openai: FakeUpstream,
    own_redis: RedisServer,
) -> None:
    lease_s = 0.6
    config = limits_config(
        fake_openai.url,
        None,
        [{"match": {"key": "test"}, "concurrency": 1}],
        redis_url=own_redis.url,
        concurrency_lease_s=lease_s,
    )
    other = openai_for(gateway_factory(config))
    fake_openai.queue(Reply.sse(openai_chunks("m", "Hello there.", include_usage=True), stall_after=2))
    with served(tmp_path, config) as (proc, url):
        holder = openai_for(url)
        stream = holder.chat.completions.create(
            model="openai-main/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        next(iter(stream))
        time.sleep(3 * lease_s)  # outlive the lease: only the replica's renewals keep the slot
        refused = chat(other)
        assert refused.status == 429 and "concurrency" in refused.body["message"]
        proc.kill()  # the holder's replica dies without releasing its slot
        proc.wait()
        killed_at = time.monotonic()
        wait_until(lambda: chat(other).ok, timeout=5, what="the dead replica's lease to expire")
        assert time.monotonic() - killed_at < lease_s + 1.0
        stream.close()
