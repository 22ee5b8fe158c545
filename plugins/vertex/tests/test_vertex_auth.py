"""Vertex credentials: service-account tokens from a fake token endpoint (JWT checked),
cached, refreshed before expiry, one refresh for concurrent requests; ADC; config errors."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import openai
import pytest
from vertex_helpers import CLAUDE

from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway
from proxy_core.testing import Reply, RunningGateway
from proxy_core.testing.fake_vertex import FakeGoogleToken, FakeVertex

CHAT = {"model": "vertex-sa/gemini-2.5-pro", "messages": [{"role": "user", "content": "Hi"}]}


def _fresh(gateway_factory: Callable[..., RunningGateway], config: dict[str, Any]) -> tuple[RunningGateway, Any]:
    gw = gateway_factory(config)
    return gw, gw.gateway.providers["vertex-sa"].tokens


def test_one_refresh_for_concurrent_requests(
    gateway_factory: Callable[..., RunningGateway],
    openai_for: Callable[..., openai.OpenAI],
    gateway_config: dict[str, Any],
    token_server: FakeGoogleToken,
    vertex: FakeVertex,
) -> None:
    token_server.delay_s = 0.3  # the requests arrive while the first refresh is in flight
    gw, tokens = _fresh(gateway_factory, gateway_config)
    client = openai_for(gw)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: client.chat.completions.create(**CHAT), range(8)))  # type: ignore[arg-type]
    assert all(a.choices[0].message.content for a in answers)
    assert len(token_server.requests) == 1 and tokens.refreshes == 1
    assert {r.headers["authorization"] for r in vertex.requests} == {f"Bearer {token_server.issued[0]}"}
    assert vertex.rejections == []


def test_refreshed_before_expiry_and_old_token_kept_when_refresh_fails(
    gateway_factory: Callable[..., RunningGateway],
    openai_for: Callable[..., openai.OpenAI],
    gateway_config: dict[str, Any],
    token_server: FakeGoogleToken,
    vertex: FakeVertex,
) -> None:
    gw, tokens = _fresh(gateway_factory, gateway_config)
    client = openai_for(gw)
    client.chat.completions.create(**CHAT)  # type: ignore[arg-type]
    client.chat.completions.create(**CHAT)  # type: ignore[arg-type]
    assert len(token_server.requests) == 1  # cached
    # 100 s before expiry, inside the 300 s refresh margin: the token endpoint fails, the old token serves on
    tokens.clock = lambda: time.time() + 3500
    token_server.queue(Reply.json({"error": "invalid_grant", "error_description": "try later"}, status=400))
    client.chat.completions.create(**CHAT)  # type: ignore[arg-type]
    assert len(token_server.requests) == 2
    assert vertex.last.headers["authorization"] == f"Bearer {token_server.issued[0]}"
    # the next request refreshes again, and gets a new token
    client.chat.completions.create(**CHAT)  # type: ignore[arg-type]
    assert len(token_server.requests) == 3 and len(token_server.issued) == 2
    assert vertex.last.headers["authorization"] == f"Bearer {token_server.issued[1]}"


def test_no_token_is_a_503_naming_the_account_never_a_secret(
    gateway_factory: Callable[..., RunningGateway],
    openai_for: Callable[..., openai.OpenAI],
    gateway_config: dict[str, Any],
    token_server: FakeGoogleToken,
    vertex: FakeVertex,
) -> None:
    gw, _ = _fresh(gateway_factory, gateway_config)
    token_server.queue(
        Reply.json({"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, status=400)
    )
    with pytest.raises(openai.InternalServerError) as err:
        openai_for(gw).chat.completions.create(**CHAT)  # type: ignore[arg-type]
    assert err.value.status_code == 503
    assert err.value.body["code"] == "google_token_unavailable"  # type: ignore[index]
    assert "vertex-sa" in err.value.message and "PRIVATE KEY" not in err.value.message
    assert vertex.requests == []


def test_application_default_credentials(
    gateway_factory: Callable[..., RunningGateway],
    openai_for: Callable[..., openai.OpenAI],
    gateway_config: dict[str, Any],
    sa_path: Path,
    token_server: FakeGoogleToken,
    vertex: FakeVertex,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(sa_path))
    gateway_config["providers"]["vertex-sa"]["auth"] = {"type": "adc"}
    gw, _ = _fresh(gateway_factory, gateway_config)
    openai_for(gw).chat.completions.create(**{**CHAT, "model": f"vertex-sa/{CLAUDE}"})  # type: ignore[arg-type]
    assert len(token_server.requests) == 1
    assert vertex.last.headers["authorization"] == f"Bearer {token_server.issued[0]}"


def test_default_endpoints_by_region(gateway_config: dict[str, Any]) -> None:
    for account in ("vertex-sa", "vertex-global"):
        del gateway_config["providers"][account]["base_url"]
    gateway_config["providers"]["vertex-eu"] = {
        **gateway_config["providers"]["vertex-global"],
        "region": "europe-west4",
    }
    providers = Gateway(gateway_config).providers
    assert providers["vertex-sa"].base_url == "https://us-east5-aiplatform.googleapis.com"
    assert providers["vertex-global"].base_url == "https://aiplatform.googleapis.com"
    assert providers["vertex-eu"].base_url == "https://europe-west4-aiplatform.googleapis.com"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (
            {"auth": {"type": "service_account", "credentials_file": "/nonexistent/sa.json"}},
            "auth.service_account.credentials_file",
        ),
        ({"region": "Moon Base"}, "region"),
        ({"project": "X"}, "project"),
        ({"auth": {"type": "access_token"}}, "auth.access_token.token"),
        ({"auth": {"type": "kerberos"}}, "auth"),
        ({"api_key": "AIza-not-here"}, ""),
    ],
)
def test_config_errors_name_the_path(gateway_config: dict[str, Any], change: dict[str, Any], path: str) -> None:
    gateway_config["providers"]["vertex-sa"].update(change)
    with pytest.raises(ConfigError) as err:
        Gateway(gateway_config)
    assert "providers.vertex-sa" + (f".{path}" if path else "") in str(err.value)
    assert "AIza-not-here" not in str(err.value)


def test_a_file_that_is_not_a_service_account_key(gateway_config: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "user.json"
    bad.write_text('{"type": "authorized_user"}')
    gateway_config["providers"]["vertex-sa"]["auth"] = {"type": "service_account", "credentials_file": str(bad)}
    with pytest.raises(ConfigError) as err:
        Gateway(gateway_config)
    assert "not a service-account key" in str(err.value)
