"""One gateway for the session with an account of every OpenAI-compatible family type,
all on one strict fake (:mod:`openai_family_fake`), plus Anthropic for fallback tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai_family_fake import RULES, FamilyFake

from proxy_core.gateway import Gateway
from proxy_core.testing import GATEWAY_KEY, BackgroundLoop, FakeUpstream, RunningGateway

# provider type -> the model its parametrized tests use
MODELS = {
    "groq": "llama-3.3-70b-versatile",
    "xai": "grok-3-mini",
    "mistral": "mistral-large-latest",
    "deepseek": "deepseek-chat",
    "openrouter": "anthropic/claude-sonnet-4.5",
    "together": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "fireworks": "accounts/fireworks/models/llama-v3p3-70b-instruct",
    "vllm": "Qwen/Qwen3-8B",
    "ollama": "llama3.2",
}
EXTRA_MODELS = {
    "groq": {"openai/gpt-oss-120b": {}},
    "xai": {"grok-4": {}},
    "deepseek": {"deepseek-reasoner": {}},
}


def family_config(family_url: str, anthropic_url: str) -> dict[str, Any]:
    providers: dict[str, Any] = {}
    for name, model in MODELS.items():
        account: dict[str, Any] = {
            "type": name,
            "base_url": f"{family_url}/{name}" + ("" if name == "deepseek" else "/v1"),
            "models": {model: {}, **EXTRA_MODELS.get(name, {})},
        }
        if RULES[name].key is not None:
            account["api_key"] = RULES[name].key
        providers[f"{name}-main"] = account
    providers["anthropic-main"] = {
        "type": "anthropic",
        "api_key": "sk-ant-upstream-secret",
        "base_url": anthropic_url,
        "models": {"claude-sonnet-4-5": {}},
    }
    return {
        "auth": {"keys": [{"name": "test", "key": GATEWAY_KEY, "user": "tester"}]},
        "providers": providers,
        # one try per target (the tests script one error), no target benched by passive health
        "plugins": {"fallback": {"retry": {"attempts": 1}, "health": {"failures": 1000}}},
        "routes": {
            "family-fallback": {"targets": ["groq-main/llama-3.3-70b-versatile", "xai-main/grok-4"]},
            "claude-then-groq": {"targets": ["anthropic-main/claude-sonnet-4-5", "groq-main/openai/gpt-oss-120b"]},
        },
    }


@pytest.fixture(scope="session")
def _family_server(proxy_core_loop: BackgroundLoop) -> Iterator[FamilyFake]:
    fake = FamilyFake()
    proxy_core_loop.run(fake.start())
    yield fake
    proxy_core_loop.run(fake.stop())


@pytest.fixture
def family(_family_server: FamilyFake) -> FamilyFake:
    _family_server.reset()
    return _family_server


@pytest.fixture(scope="session")
def _family_gateway(
    proxy_core_loop: BackgroundLoop, _family_server: FamilyFake, _fake_anthropic_server: FakeUpstream
) -> Iterator[RunningGateway]:
    gw = RunningGateway(Gateway(family_config(_family_server.url, _fake_anthropic_server.url)), proxy_core_loop)
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def family_client(
    _family_gateway: RunningGateway, family: FamilyFake, fake_anthropic: FakeUpstream
) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=_family_gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10) as c:
        yield c
