"""Without Redis: the same exact semantics in process; config errors; a key's own limits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from limits_helpers import PRICED_MODEL, chat, fan_out, held_streams, limits_config, wait_until

from proxy_core import Principal, hookimpl
from proxy_core.config import ConfigError
from proxy_core.context import RequestContext
from proxy_core.gateway import Gateway
from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import openai_chunks

RULES = [
    {"match": {"key": "k-mem"}, "rpm": 20},
    {"match": {"key": "k-mb", "model": "openai-main/gpt-pri*"}, "budget_usd": {"day": 0.9, "month": 50}},
    {"match": {"user": "user-k-mc"}, "concurrency": 5},
]


@pytest.fixture
def memory_gateway(gateway_factory: Callable[..., Any], fake_openai: FakeUpstream) -> Any:
    return gateway_factory(limits_config(fake_openai.url, None, RULES, key_names=("k-mem", "k-mb", "k-mc")))


def test_in_process_rpm_exact(memory_gateway: Any, openai_for: Callable[..., openai.OpenAI]) -> None:
    client = openai_for(memory_gateway, key="sk-k-mem")
    outcomes = fan_out(60, lambda i: chat(client))
    assert sum(o.ok for o in outcomes) == 20
    refused = [o for o in outcomes if not o.ok]
    assert all(o.status == 429 and o.headers["x-ratelimit-remaining-requests"] == "0" for o in refused)
    assert "plugins.limits.rules[0] (key=k-mem)" in refused[0].body["message"]


def test_in_process_budget_exact(
    memory_gateway: Any, openai_for: Callable[..., openai.OpenAI], fake_openai: FakeUpstream
) -> None:
    client = openai_for(memory_gateway, key="sk-k-mb")
    outcomes = fan_out(30, lambda i: chat(client, model=PRICED_MODEL, max_tokens=8))
    assert sum(o.ok for o in outcomes) == 3
    assert {o.body["code"] for o in outcomes if not o.ok} == {"budget_exceeded"}
    assert len(fake_openai.requests) == 3
    store = memory_gateway.gateway.state["limits"].store
    assert sorted(store.usd.values()) == [750_000_000, 750_000_000]  # day and month, settled


def test_in_process_concurrency_exact(
    memory_gateway: Any, openai_for: Callable[..., openai.OpenAI], fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(*[Reply.sse(openai_chunks("m", "Hello there.", include_usage=True), stall_after=2)] * 5)
    client = openai_for(memory_gateway, key="sk-k-mc")
    with held_streams([client], 20, model="openai-main/gpt-4o-mini") as outcomes:
        assert sum(o.ok for o in outcomes) == 5
        refused = [o for o in outcomes if not o.ok]
        assert "plugins.limits.rules[2] (user=user-k-mc)" in refused[0].body["message"]
        assert "concurrency" in refused[0].body["message"]
    store = memory_gateway.gateway.state["limits"].store
    wait_until(lambda: not any(store.slots.values()), what="slots released")  # as the gateway sees the disconnects
    assert chat(client).ok


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ({"rules": [{"rpm": -1}]}, "plugins.limits.rules.0.rpm: "),
        ({"rules": [{"match": {"key": "a"}}, {"match": {"keys": "a"}, "rpm": 1}]}, "plugins.limits.rules.1.match.keys"),
        ({"rules": [{"budget_usd": {"week": 3}}]}, "plugins.limits.rules.0.budget_usd.week"),
        ({"on_store_error": "maybe"}, "plugins.limits.on_store_error"),
        ({"redis": "http://127.0.0.1:6379"}, "plugins.limits.redis"),
    ],
)
def test_bad_config_names_the_path(fake_openai: FakeUpstream, section: dict[str, Any], problem: str) -> None:
    config = limits_config(fake_openai.url, None, [])
    config["plugins"]["limits"] = section
    with pytest.raises(ConfigError) as e:
        Gateway(config)
    assert any(p.startswith(problem) for p in e.value.problems), e.value.problems


class RuntimeKeys:
    """Stands in for the auth plugin's run-time keys: a Principal carrying its own limits."""

    @hookimpl(tryfirst=True)
    def authenticate(self, ctx: RequestContext) -> Principal | None:
        if ctx.client_key == "sk-runtime":
            return Principal("ci-bot", user="bot", limits={"rpm": 3, "tpm": None, "budget_usd": {"day": 0.5}})
        return None


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "redis"])
def test_key_own_limits(
    gateway_factory: Callable[..., Any],
    openai_for: Callable[..., openai.OpenAI],
    fake_openai: FakeUpstream,
    redis_db: Any,
    redis_server: Any,
    shared: bool,
) -> None:
    config = limits_config(fake_openai.url, None, [], redis_url=redis_server.url if shared else None)
    gw = gateway_factory(config, plugins=[("runtime-keys", RuntimeKeys())])
    client = openai_for(gw, key="sk-runtime")
    assert [chat(client).ok for _ in range(3)] == [True] * 3
    refused = chat(client)
    assert refused.status == 429
    assert "key 'ci-bot'" in refused.body["message"] and "rpm" in refused.body["message"]
    assert refused.headers["x-ratelimit-limit-requests"] == "3"
    # The key's budget: $0.25 each on the priced model, but the rpm is spent: another key
    # of the same name would share the counters, so check the budget with a fresh gateway.
    gw2 = gateway_factory(
        limits_config(fake_openai.url, None, [], redis_url=None), plugins=[("runtime-keys", RuntimeKeys())]
    )
    client2 = openai_for(gw2, key="sk-runtime")
    results = [chat(client2, model=PRICED_MODEL, max_tokens=8) for _ in range(3)]
    assert [r.ok for r in results] == [True, True, False]
    assert results[2].body["code"] == "budget_exceeded" and "key 'ci-bot'" in results[2].body["message"]


def test_failed_upstream_refunds_all_but_the_request_count(
    gateway_factory: Callable[..., Any], openai_for: Callable[..., openai.OpenAI], fake_openai: FakeUpstream
) -> None:
    rule = {"match": {"key": "k-err"}, "rpm": 5, "tpm": 50000, "budget_usd": {"day": 10}}
    gw = gateway_factory(limits_config(fake_openai.url, None, [rule], key_names=("k-err",)))
    # A 400 (not retried by the fallback plugin): the upstream answered, with no usage.
    fake_openai.queue(Reply.json({"error": {"message": "bad", "type": "invalid_request_error"}}, status=400))
    failed = chat(openai_for(gw, key="sk-k-err"), model=PRICED_MODEL, max_tokens=100)
    assert failed.status == 400
    assert failed.headers["x-ratelimit-limit-requests"] == "5"  # limited responses carry them, errors too
    assert len(fake_openai.requests) == 1
    store = gw.gateway.state["limits"].store
    wait_until(lambda: sum(store.tpm_total.values()) == 0, what="the refund")
    assert sum(store.usd.values()) == 0
    assert sum(len(log) for log in store.rpm.values()) == 1  # the request still counts
