"""Gateway keys: both header styles, stored hashes, allow-lists, /models per key, no key leaks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway

GOOD = {"model": "openai-main/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
HASHED_KEY = "sk-stored-as-a-hash"


@pytest.fixture
def keyed(gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]) -> RunningGateway:
    gateway_config["auth"]["keys"] += [
        {"name": "hashed", "key_sha256": hashlib.sha256(HASHED_KEY.encode()).hexdigest(), "user": "h"},
        {"name": "mini-only", "key": "sk-mini-only", "models": ["openai-main/gpt-4o-mini"]},
        {"name": "unset", "key": "${PROXY_CORE_TEST_NEVER_SET}"},
    ]
    return gateway_factory(gateway_config)


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": f"Bearer {GATEWAY_KEY}"},
        {"Authorization": f"bearer {GATEWAY_KEY}"},
        {"x-api-key": GATEWAY_KEY},
        {"authorization": f"Bearer {HASHED_KEY}"},
    ],
)
def test_accepted_keys(keyed: RunningGateway, fake_openai: FakeUpstream, headers: dict[str, str]) -> None:
    r = httpx.post(keyed.url + "/v1/chat/completions", json=GOOD, headers=headers)
    assert r.status_code == 200, r.text
    upstream = fake_openai.last
    assert upstream.headers["authorization"] == "Bearer sk-upstream-openai-secret"
    assert "x-api-key" not in upstream.headers
    assert GATEWAY_KEY.encode() not in upstream.body and HASHED_KEY.encode() not in upstream.body


def test_an_unset_key_variable_disables_that_key(keyed: RunningGateway, fake_openai: FakeUpstream) -> None:
    names = [principal.name for _, principal in keyed.gateway.state["auth"].static]
    assert names == ["test", "hashed", "mini-only"]
    r = httpx.post(keyed.url + "/v1/chat/completions", json=GOOD, headers={"x-api-key": ""})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert fake_openai.requests == []


def test_allow_list(keyed: RunningGateway, fake_openai: FakeUpstream) -> None:
    client = openai.OpenAI(base_url=keyed.url + "/v1", api_key="sk-mini-only", max_retries=0)
    ok = client.chat.completions.create(**GOOD)  # type: ignore[call-overload]
    assert ok.choices[0].message.content
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.chat.completions.create(model="openai-main/gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert "mini-only" in info.value.message and "openai-main/gpt-4o" in info.value.message
    assert len(fake_openai.requests) == 1
    assert [m.id for m in client.models.list()] == ["openai-main/gpt-4o-mini"]
    client.close()


def test_models_lists_everything_for_an_unrestricted_key(keyed: RunningGateway) -> None:
    with openai.OpenAI(base_url=keyed.url, api_key=GATEWAY_KEY, max_retries=0) as client:
        models = client.models.list()
    assert sorted(m.id for m in models) == ["openai-main/gpt-4o", "openai-main/gpt-4o-mini"]
    assert all(m.object == "model" and m.owned_by == "openai-main" for m in models)


def test_models_needs_a_key(keyed: RunningGateway) -> None:
    r = httpx.get(keyed.url + "/v1/models")
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"


def test_route_alias_is_listed_and_resolved(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    gateway_config["routes"] = {"fast": {"targets": ["openai-main/gpt-4o-mini", "@openai-main/gpt-4o"]}}
    gw = gateway_factory(gateway_config)
    with openai.OpenAI(base_url=gw.url, api_key=GATEWAY_KEY, max_retries=0) as client:
        assert "fast" in [m.id for m in client.models.list()]
        done = client.chat.completions.create(model="fast", messages=[{"role": "user", "content": "x"}])
        assert done.model == "fast"
        done = client.chat.completions.create(model="@openai-main/gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert fake_openai.requests[0].json()["model"] == "gpt-4o-mini"
    assert fake_openai.requests[1].json()["model"] == "gpt-4o"


def test_anonymous_mode(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    gateway_config["plugins"] = {"auth": {"anonymous": True}}
    gw = gateway_factory(gateway_config)
    assert httpx.post(gw.url + "/v1/chat/completions", json=GOOD).status_code == 200
