"""The prompt-cache plugin's tests: one session gateway with Anthropic and OpenAI accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from proxy_core.gateway import Gateway
from proxy_core.testing import BackgroundLoop, FakeUpstream, RunningGateway, default_config


def cache_config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    config["providers"]["anthropic-main"]["models"] = {
        "claude-sonnet-4-20250514": {},  # 1024-token minimum
        "claude-opus-4-6": {},  # 4096
        "claude-3-5-haiku-20241022": {},  # 2048
        "claude-3-5": {},  # not in the table: no minimum known
        "claude-sonnet-4-5": {"min_cache_tokens": 64},  # config overrides the table
    }
    config["providers"]["openai-main"]["models"] = {"gpt-4o-mini": {}, "gpt-4o": {}}
    config["providers"]["xai-main"] = {
        **config["providers"]["openai-main"],
        "models": {"grok-4-0709": {}},
    }
    config["plugins"] = {"disabled": ["fallback"]}
    return config


@pytest.fixture
def gateway_config(fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> dict[str, Any]:
    return cache_config(fake_anthropic.url, fake_openai.url)


@pytest.fixture(scope="session")
def _cache_gateway(
    proxy_core_loop: BackgroundLoop, _fake_anthropic_server: FakeUpstream, _fake_openai_server: FakeUpstream
) -> Iterator[RunningGateway]:
    gw = RunningGateway(
        Gateway(cache_config(_fake_anthropic_server.url, _fake_openai_server.url)), proxy_core_loop
    ).start()
    yield gw
    gw.stop()


@pytest.fixture
def gateway(_cache_gateway: RunningGateway, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> RunningGateway:
    return _cache_gateway
