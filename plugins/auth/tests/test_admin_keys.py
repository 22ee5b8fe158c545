"""The keys admin API on one gateway: create (the key once), list (never keys or
hashes), revoke, the key's limits on its Principal, and every kind of bad input."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from auth_helpers import ADMIN_KEY, ALICE_KEY, auth_config, sqlite_store

from proxy_core.testing import FakeUpstream, RunningGateway

CHAT = {"model": "openai-open/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def gw(
    gateway_factory: Callable[..., RunningGateway],
    tmp_path: Path,
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
) -> RunningGateway:
    return gateway_factory(auth_config(fake_openai.url, fake_anthropic.url, sqlite_store(tmp_path)))


def admin(gw: RunningGateway, method: str, path: str, key: str | None = ADMIN_KEY, **kw: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.request(method, gw.url + path, headers=headers, timeout=10, **kw)


def test_create_use_list_revoke(gw: RunningGateway, fake_openai: FakeUpstream, openai_for: Callable[..., Any]) -> None:
    body = {
        "name": "ci",
        "user": "carol",
        "teams": ["ml"],
        "models": ["openai-open/*"],
        "rpm": 60,
        "tpm": 1000,
        "budget_usd": {"day": 1.5, "month": 20},
    }
    created = admin(gw, "POST", "/admin/keys", json=body)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("pc-") and len(key) > 40
    assert {k: created.json()[k] for k in body} == body

    client = openai_for(gw, key)
    assert client.chat.completions.create(**CHAT).choices[0].message.content
    assert fake_openai.last.headers["authorization"] == "Bearer sk-upstream-openai-secret"
    assert key.encode() not in fake_openai.last.body
    with pytest.raises(openai.PermissionDeniedError):  # the key's own allow-list
        client.chat.completions.create(model="openai-main/gpt-4o", messages=CHAT["messages"])
    principal = gw.gateway.state["auth"].runtime[hashlib.sha256(key.encode()).digest()]
    assert (principal.name, principal.user, principal.teams, principal.admin) == ("ci", "carol", ("ml",), False)
    assert principal.limits == {"rpm": 60, "tpm": 1000, "budget_usd": {"day": 1.5, "month": 20}}

    listed = admin(gw, "GET", "/v1/admin/keys")
    assert listed.status_code == 200
    rows = {r["name"]: r for r in listed.json()["data"]}
    assert rows["ci"]["source"] == "store" and rows["ci"]["budget_usd"] == {"day": 1.5, "month": 20}
    assert rows["admin"]["source"] == "config" and rows["admin"]["admin"] is True
    digest = hashlib.sha256(key.encode()).hexdigest()
    assert key not in listed.text and digest not in listed.text and "sk-auth" not in listed.text
    assert all("key" not in r and "key_sha256" not in r for r in listed.json()["data"])

    assert admin(gw, "DELETE", "/admin/keys/ci").status_code == 204
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(**CHAT)
    missing = admin(gw, "DELETE", "/admin/keys/ci")
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "name"
    static = admin(gw, "DELETE", "/admin/keys/alice")
    assert static.status_code == 409 and "auth.keys" in static.json()["error"]["message"]


def test_a_key_without_limits_has_none(gw: RunningGateway) -> None:
    key = admin(gw, "POST", "/admin/keys", json={"name": "plain"}).json()["key"]
    principal = gw.gateway.state["auth"].runtime[hashlib.sha256(key.encode()).digest()]
    assert principal.limits is None and principal.models is None and principal.teams == ()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "admin": True}, "admin"),
        ({"name": "x", "rpm": -1}, "rpm"),
        ({"name": "x", "tpm": -5}, "tpm"),
        ({"name": "x", "budget_usd": {"day": -0.01}}, "budget_usd.day"),
        ({"name": "x", "budget_usd": {"week": 3}}, "budget_usd.week"),
        ({"name": "x", "budget_usd": 5}, "budget_usd"),
        ({"name": "x", "rpm": "60"}, "rpm"),
        ({"name": "x", "rpm": 1.5}, "rpm"),
        ({"name": "x", "rpm": True}, "rpm"),
        ({"name": "x", "teams": "ml"}, "teams"),
        ({"name": "x", "teams": [1]}, "teams.0"),
        ({"name": "x", "models": "openai-open/*"}, "models"),
        ({"name": "x", "user": 7}, "user"),
        ({"user": "x"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "a/b"}, "name"),
        ({"name": "alice"}, "name"),  # a static key's name
        ([], "(body)"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(gw: RunningGateway, body: Any, field: str) -> None:
    r = admin(gw, "POST", "/admin/keys", json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == field
    assert field.split(".")[-1] in error["message"] or field == "(body)"


def test_duplicate_run_time_name_and_malformed_json(gw: RunningGateway) -> None:
    assert admin(gw, "POST", "/admin/keys", json={"name": "dup"}).status_code == 201
    again = admin(gw, "POST", "/admin/keys", json={"name": "dup", "user": "other"})
    assert again.status_code == 400 and again.json()["error"]["param"] == "name"
    assert "already exists" in again.json()["error"]["message"]
    bad = admin(gw, "POST", "/admin/keys", content=b"{not json")
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "(body)"
    huge = admin(gw, "POST", "/admin/keys", content=b" " * 70_000)
    assert huge.status_code == 413
    assert admin(gw, "GET", "/admin/keys").status_code == 200  # still serving


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/admin/keys"), ("POST", "/admin/keys"), ("DELETE", "/admin/keys/alice")],
)
def test_non_admin_403_no_key_401(gw: RunningGateway, method: str, path: str) -> None:
    forbidden = admin(gw, method, path, key=ALICE_KEY, json={"name": "x"})
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["type"] == "permission_error" and "alice" in forbidden.json()["error"]["message"]
    anonymous = admin(gw, method, path, key=None, json={"name": "x"})
    assert anonymous.status_code == 401 and anonymous.json()["error"]["type"] == "authentication_error"
    wrong = admin(gw, method, path, key="pc-not-a-key", json={"name": "x"})
    assert wrong.status_code == 401
    names = [r["name"] for r in admin(gw, "GET", "/admin/keys").json()["data"]]
    assert "x" not in names


def test_keys_and_hashes_are_never_logged(
    gw: RunningGateway, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    key = admin(gw, "POST", "/admin/keys", json={"name": "quiet"}).json()["key"]
    assert admin(gw, "DELETE", "/admin/keys/quiet").status_code == 204
    out = capsys.readouterr()
    logged = out.out + out.err + caplog.text
    assert key not in logged and hashlib.sha256(key.encode()).hexdigest() not in logged


def test_a_replica_started_later_knows_the_key_at_once(
    gw: RunningGateway,
    gateway_factory: Callable[..., RunningGateway],
    tmp_path: Path,
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    openai_for: Callable[..., Any],
) -> None:
    key = admin(gw, "POST", "/admin/keys", json={"name": "early"}).json()["key"]
    later = gateway_factory(auth_config(fake_openai.url, fake_anthropic.url, sqlite_store(tmp_path)))
    assert openai_for(later, key).chat.completions.create(**CHAT).choices


def test_an_unreachable_store_is_a_503_and_static_keys_keep_working(
    gateway_factory: Callable[..., RunningGateway],
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    openai_for: Callable[..., Any],
) -> None:
    store = "postgresql://postgres:hunter2@127.0.0.1:1/nothing"  # nothing listens on port 1
    down = gateway_factory(auth_config(fake_openai.url, fake_anthropic.url, store))
    assert openai_for(down, ALICE_KEY).chat.completions.create(**CHAT).choices
    for method, path in [("GET", "/admin/keys"), ("POST", "/admin/keys"), ("DELETE", "/admin/keys/x")]:
        r = admin(down, method, path, json={"name": "x"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable", r.text
        assert "hunter2" not in r.text
    with pytest.raises(openai.AuthenticationError):
        openai_for(down, "pc-unknown").chat.completions.create(**CHAT)
