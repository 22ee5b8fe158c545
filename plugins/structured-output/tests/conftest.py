"""The structured-output plugin's tests: one session gateway with Anthropic and OpenAI accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from proxy_core.gateway import Gateway
from proxy_core.testing import BackgroundLoop, FakeUpstream, RunningGateway, default_config


def so_config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    config["providers"]["anthropic-main"]["models"] = {
        "claude-sonnet-4-20250514": {},  # tool conversion
        "claude-3-7-sonnet-20250219": {},
        "claude-sonnet-4-5": {},  # native
        "claude-opus-4-6": {},
    }
    config["plugins"] = {"disabled": ["fallback"]}
    return config


@pytest.fixture
def gateway_config(fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> dict[str, Any]:
    return so_config(fake_anthropic.url, fake_openai.url)


@pytest.fixture(scope="session")
def _so_gateway(
    proxy_core_loop: BackgroundLoop, _fake_anthropic_server: FakeUpstream, _fake_openai_server: FakeUpstream
) -> Iterator[RunningGateway]:
    gw = RunningGateway(
        Gateway(so_config(_fake_anthropic_server.url, _fake_openai_server.url)), proxy_core_loop
    ).start()
    yield gw
    gw.stop()


@pytest.fixture
def gateway(_so_gateway: RunningGateway, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> RunningGateway:
    return _so_gateway
