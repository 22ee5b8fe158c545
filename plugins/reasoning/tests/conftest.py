"""The reasoning plugin's tests: one session gateway with Anthropic and OpenAI accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from proxy_core.gateway import Gateway
from proxy_core.testing import BackgroundLoop, FakeUpstream, RunningGateway, default_config


def reasoning_config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    config["providers"]["anthropic-main"]["models"] = {
        "claude-sonnet-4-20250514": {},
        "claude-opus-4-1-20250805": {},
        "claude-3-7-sonnet-20250219": {},
        "claude-sonnet-4-5": {},
        "claude-opus-4-6": {},
        "claude-3-5-haiku-20241022": {},
        "claude-opus-4-6-adaptive": {"thinking": "adaptive"},  # config opts in
        "claude-opus-4-5-effort": {"thinking": "effort"},
        "claude-small": {"max_tokens": 4000},
    }
    config["providers"]["openai-main"]["models"] = {"gpt-4o-mini": {}, "o4-mini": {}, "my-reasoner": {}}
    config["providers"]["xai-main"] = {
        **config["providers"]["openai-main"],
        "models": {"grok-3-mini": {}, "grok-4-0709": {}},
    }
    config["plugins"] = {"disabled": ["fallback"]}
    return config


@pytest.fixture
def gateway_config(fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> dict[str, Any]:
    return reasoning_config(fake_anthropic.url, fake_openai.url)


@pytest.fixture(scope="session")
def _reasoning_gateway(
    proxy_core_loop: BackgroundLoop, _fake_anthropic_server: FakeUpstream, _fake_openai_server: FakeUpstream
) -> Iterator[RunningGateway]:
    gw = RunningGateway(
        Gateway(reasoning_config(_fake_anthropic_server.url, _fake_openai_server.url)), proxy_core_loop
    ).start()
    yield gw
    gw.stop()


@pytest.fixture
def gateway(
    _reasoning_gateway: RunningGateway, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream
) -> RunningGateway:
    return _reasoning_gateway
