"""Bad Azure OpenAI and OpenAI-compatible accounts fail at start-up naming the path;
an unset key variable starts and answers 503 naming the variable."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway
from proxy_core.testing import GATEWAY_KEY, RunningGateway

AZURE = {"type": "azure-openai", "base_url": "https://res.openai.azure.com", "api_key": "k", "models": {"gpt-4o": {}}}


def problems(account: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Gateway({"providers": {"az": account}})
    return info.value.problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"base_url": None}, "providers.az.base_url: Field required"),
        ({"base_url": "my-resource"}, "providers.az.base_url: String should match pattern"),
        ({"api_version": "latest"}, "providers.az.api_version: String should match pattern"),
        ({"models": {"gpt-4o": {"deployment": "a/b"}}}, "providers.az.models.gpt-4o.deployment: Value error, must be"),
        ({"models": {"my model": {}}}, "providers.az.models.my model.deployment: Value error, must be"),
        ({"api_key": None}, "providers.az: Value error, api_key: give api_key"),
        ({"auth": {"type": "entra_token", "token": "t"}}, "providers.az: Value error, api_key: give api_key"),
        ({"api_key": None, "auth": {"type": "entra_token"}}, "providers.az.auth.token: Field required"),
        ({"api_key": None, "auth": {"type": "client_secret"}}, "providers.az.auth.type: Input should be 'entra_token'"),
    ],
)
def test_azure_config_errors_name_the_path(change: dict[str, Any], expected: str) -> None:
    account = {k: v for k, v in {**AZURE, **change}.items() if v is not None}
    found = problems(account)
    assert any(p.startswith(expected) for p in found), found
    assert not any("res.openai.azure.com" in p for p in found)


@pytest.mark.parametrize("provider", ["groq", "xai", "mistral", "deepseek", "openrouter", "together", "fireworks"])
def test_hosted_family_accounts_need_a_key(provider: str) -> None:
    with pytest.raises(ConfigError) as info:
        Gateway({"providers": {"az": {"type": provider, "models": {"m": {}}}}})
    assert info.value.problems == ["providers.az.api_key: Field required"]


@pytest.mark.parametrize("provider", ["vllm", "ollama"])
def test_local_servers_need_no_key(provider: str) -> None:
    gw = Gateway({"providers": {"local": {"type": provider, "models": {"m": {}}}}})
    assert gw.providers["local"].base_url.startswith("http://localhost:")


@pytest.mark.parametrize(
    "account",
    [
        {**AZURE, "api_key": "${AZURE_OPENAI_TEST_UNSET}"},
        {"type": "groq", "api_key": "${AZURE_OPENAI_TEST_UNSET}", "models": {"m": {}}},
    ],
)
def test_unset_key_variable_is_a_503_naming_it(
    account: dict[str, Any],
    gateway_factory: Callable[..., RunningGateway],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AZURE_OPENAI_TEST_UNSET", raising=False)
    config = {"auth": {"keys": [{"name": "t", "key": GATEWAY_KEY}]}, "providers": {"acct": account}}
    gw = gateway_factory(config)
    model = "acct/" + next(iter(account["models"]))
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0)
    with client, pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 503
    assert "api_key (set AZURE_OPENAI_TEST_UNSET)" in info.value.message


def test_the_shipped_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[3] / "conf" / "openai-compatible.example.yaml"
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test")
    gw = Gateway.from_config(example)
    assert gw.providers["azure-main"].type_name == "azure-openai"
    assert {p.type_name for p in gw.providers.values()} >= {"groq", "xai", "mistral", "deepseek", "ollama", "vllm"}
    assert gw.providers["groq-main"].unavailable_reason is None
