"""Collaborators: a user, a manager, an outsider and an admin on chat, messages,
count_tokens and /models (both SDKs), route aliases falling back only through accounts
the caller may use, and who may change an account's models (in-process; the
multi-replica side is in test_replicas)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from auth_helpers import ADMIN_KEY, ALICE_KEY, BOB_KEY, MANAGER_KEY, OPS_KEY, auth_config, sqlite_store

from proxy_core.testing import FakeUpstream, RunningGateway

GUARDED = "anthropic-main/claude-sonnet-4-5"  # team ml: user; user mgr: manager
OPEN = "openai-open/gpt-4o-mini"  # no collaborators list
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def gw(
    gateway_factory: Callable[..., RunningGateway],
    tmp_path: Path,
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
) -> RunningGateway:
    config = auth_config(fake_openai.url, fake_anthropic.url, sqlite_store(tmp_path))
    config["routes"] = {"mixed": {"targets": [GUARDED, OPEN]}, "guarded-only": {"targets": [GUARDED]}}
    return gateway_factory(config)


@pytest.fixture
def clients(gw: RunningGateway) -> Iterator[Callable[[str], tuple[openai.OpenAI, anthropic.Anthropic]]]:
    made: list[Any] = []

    def make(key: str) -> tuple[openai.OpenAI, anthropic.Anthropic]:
        pair = (
            openai.OpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=0, timeout=10),
            anthropic.Anthropic(base_url=gw.url, api_key=key, max_retries=0, timeout=10),
        )
        made.extend(pair)
        return pair

    yield make
    for client in made:
        client.close()


@pytest.mark.parametrize("key", [ALICE_KEY, MANAGER_KEY, ADMIN_KEY], ids=["user", "manager", "admin"])
def test_collaborators_are_served_on_every_route(
    clients: Callable[[str], tuple[openai.OpenAI, anthropic.Anthropic]], fake_anthropic: FakeUpstream, key: str
) -> None:
    oai, ant = clients(key)
    assert oai.chat.completions.create(model=GUARDED, messages=MESSAGES).choices[0].message.content  # type: ignore[arg-type]
    assert ant.messages.create(model=GUARDED, max_tokens=16, messages=MESSAGES).content  # type: ignore[arg-type]
    assert ant.messages.count_tokens(model=GUARDED, messages=MESSAGES).input_tokens >= 0  # type: ignore[arg-type]
    assert [r.path for r in fake_anthropic.requests] == [
        "/v1/messages",
        "/v1/messages",
        "/v1/messages/count_tokens",
    ]
    assert GUARDED in {m.id for m in oai.models.list()}


def test_an_outsider_gets_403_in_each_clients_shape(
    clients: Callable[[str], tuple[openai.OpenAI, anthropic.Anthropic]],
    fake_anthropic: FakeUpstream,
    fake_openai: FakeUpstream,
) -> None:
    oai, ant = clients(BOB_KEY)
    with pytest.raises(openai.PermissionDeniedError) as chat:
        oai.chat.completions.create(model=GUARDED, messages=MESSAGES, stream=True)  # type: ignore[arg-type]
    assert "'anthropic-main'" in chat.value.message and chat.value.body["param"] == "model"  # type: ignore[index]
    with pytest.raises(anthropic.PermissionDeniedError) as native:
        ant.messages.create(model=GUARDED, max_tokens=16, messages=MESSAGES)  # type: ignore[arg-type]
    assert native.value.body["error"]["type"] == "permission_error"  # type: ignore[index]
    assert "'anthropic-main'" in native.value.message
    with pytest.raises(anthropic.PermissionDeniedError):
        ant.messages.count_tokens(model=GUARDED, messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(openai.PermissionDeniedError):
        oai.chat.completions.create(model="guarded-only", messages=MESSAGES)  # type: ignore[arg-type]
    assert fake_anthropic.requests == [] and fake_openai.requests == []
    # /models: the guarded accounts' models are hidden, the open account's shown.
    listed = {m.id for m in oai.models.list()}
    assert OPEN in listed and "mixed" in listed
    assert not any(m.startswith(("anthropic-main/", "openai-main/")) for m in listed) and "guarded-only" not in listed
    # Open accounts are served as before.
    assert oai.chat.completions.create(model=OPEN, messages=MESSAGES).choices[0].message.content  # type: ignore[arg-type]


def test_an_alias_falls_back_only_through_accounts_the_caller_may_use(
    clients: Callable[[str], tuple[openai.OpenAI, anthropic.Anthropic]],
    fake_anthropic: FakeUpstream,
    fake_openai: FakeUpstream,
) -> None:
    outsider, _ = clients(BOB_KEY)
    done = outsider.chat.completions.create(model="mixed", messages=MESSAGES)  # type: ignore[arg-type]
    assert done.model == "mixed"
    assert fake_anthropic.requests == [] and fake_openai.last.json()["model"] == "gpt-4o-mini"
    user, _ = clients(ALICE_KEY)
    user.chat.completions.create(model="mixed", messages=MESSAGES)  # type: ignore[arg-type]
    assert len(fake_anthropic.requests) == 1 and len(fake_openai.requests) == 1  # first target first


def put_model(gw: RunningGateway, key: str, account: str, model: str, body: Any) -> httpx.Response:
    return httpx.put(
        f"{gw.url}/admin/providers/{account}/models/{model}",
        json=body,
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    )


def delete_model(gw: RunningGateway, key: str, account: str, model: str) -> httpx.Response:
    url = f"{gw.url}/v1/admin/providers/{account}/models/{model}"
    return httpx.delete(url, headers={"x-api-key": key}, timeout=10)


@pytest.mark.parametrize(
    ("key", "account", "status"),
    [
        (MANAGER_KEY, "anthropic-main", 200),
        (ADMIN_KEY, "openai-open", 200),
        (OPS_KEY, "openai-main", 200),
        (OPS_KEY, "anthropic-main", 403),  # a manager of another account
        (MANAGER_KEY, "openai-main", 403),
        (ALICE_KEY, "anthropic-main", 403),  # a user, not a manager
        (ALICE_KEY, "openai-open", 403),  # everyone uses an open account; nobody but admins manages it
        (BOB_KEY, "anthropic-main", 403),
        (None, "anthropic-main", 401),
        (ADMIN_KEY, "no-such-account", 404),
    ],
)
def test_who_may_change_an_accounts_models(gw: RunningGateway, key: str | None, account: str, status: int) -> None:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    url = f"{gw.url}/admin/providers/{account}/models/new-model"
    put = httpx.put(url, json={"input_cost_per_mtok": 1.0}, headers=headers, timeout=10)
    assert put.status_code == status, put.text
    if status != 200:
        assert put.json()["error"]["type"] in ("permission_error", "authentication_error", "invalid_request_error")
        assert httpx.delete(url, headers=headers, timeout=10).status_code == status
        assert f"{account}/new-model" not in gw.gateway.route_table
        return
    assert put.json() == {"account": account, "model": "new-model", "settings": {"input_cost_per_mtok": 1.0}}
    assert gw.gateway.route_table[f"{account}/new-model"].targets[0].info["input_cost_per_mtok"] == 1.0
    assert httpx.delete(url, headers=headers, timeout=10).status_code == 204
    assert f"{account}/new-model" not in gw.gateway.route_table
    assert httpx.delete(url, headers=headers, timeout=10).status_code == 404


def test_model_ids_with_slashes_colons_and_at_signs(gw: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    for model in ("anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5@20250929", "org/team-model.v2"):
        assert put_model(gw, MANAGER_KEY, "anthropic-main", model, {}).status_code == 200
        with anthropic.Anthropic(base_url=gw.url, api_key=ALICE_KEY, max_retries=0, timeout=10) as ant:
            ant.messages.create(model=f"anthropic-main/{model}", max_tokens=8, messages=MESSAGES)  # type: ignore[arg-type]
        assert fake_anthropic.last.json()["model"] == model
        assert delete_model(gw, MANAGER_KEY, "anthropic-main", model).status_code == 204


def test_deleting_a_config_model_and_putting_it_back(
    gw: RunningGateway, clients: Callable[[str], tuple[openai.OpenAI, anthropic.Anthropic]]
) -> None:
    oai, _ = clients(ALICE_KEY)
    assert delete_model(gw, MANAGER_KEY, "anthropic-main", "claude-sonnet-4-5").status_code == 204
    with pytest.raises(openai.NotFoundError):
        oai.chat.completions.create(model=GUARDED, messages=MESSAGES)  # type: ignore[arg-type]
    assert GUARDED not in {m.id for m in oai.models.list()}
    assert "guarded-only" not in gw.gateway.route_table  # its only target is gone
    assert delete_model(gw, MANAGER_KEY, "anthropic-main", "claude-sonnet-4-5").status_code == 404
    assert put_model(gw, MANAGER_KEY, "anthropic-main", "claude-sonnet-4-5", {"max_tokens": 64}).status_code == 200
    assert oai.chat.completions.create(model="guarded-only", messages=MESSAGES).choices  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input_cost_per_mtok": -1}, "input_cost_per_mtok"),
        ({"output_cost_per_mtok": "3"}, "output_cost_per_mtok"),
        ({"cache_read_cost_per_mtok": True}, "cache_read_cost_per_mtok"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"thinking": "always"}, "thinking"),
        ({"native_structured_output": "yes"}, "native_structured_output"),
        (["gpt"], "(body)"),
    ],
)
def test_bad_model_settings_are_400_naming_the_field(gw: RunningGateway, body: Any, field: str) -> None:
    r = put_model(gw, MANAGER_KEY, "anthropic-main", "new-model", body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == field
    assert "anthropic-main/new-model" not in gw.gateway.route_table


def test_a_bad_model_name_is_400(gw: RunningGateway) -> None:
    r = httpx.put(
        f"{gw.url}/admin/providers/anthropic-main/models/has%20space",
        json={},
        headers={"authorization": f"Bearer {ADMIN_KEY}"},
        timeout=10,
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"
