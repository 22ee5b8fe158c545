"""The Anthropic plugin's tests: the default config plus the seeds' account names.

One gateway serves the whole session (a gateway is stateless between requests and
starting one costs ~0.3 s); the fakes are reset for each test by their fixtures.
Tests that need another config use ``gateway_factory(gateway_config)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from proxy_core.gateway import Gateway
from proxy_core.testing import BackgroundLoop, FakeUpstream, RunningGateway, default_config


def anthropic_config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    # Seeds 001 and 003 name their models "anthropic/claude-3-5" and
    # "@anthropic/claude-sonnet-4-5-20250929": an account called "anthropic".
    config["providers"]["anthropic"] = {
        **config["providers"]["anthropic-main"],
        "models": {"claude-3-5": {}, "claude-sonnet-4-5-20250929": {}},
    }
    # These tests are about the translators: the retry/health policy of the `fallback`
    # plugin (when installed) is not theirs to depend on; the core's default fallback
    # (next target on 429/5xx/529) stays.
    config["plugins"] = {"disabled": ["fallback"]}
    return config


@pytest.fixture
def gateway_config(fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> dict[str, Any]:
    return anthropic_config(fake_anthropic.url, fake_openai.url)


@pytest.fixture(scope="session")
def _anthropic_gateway(
    proxy_core_loop: BackgroundLoop, _fake_anthropic_server: FakeUpstream, _fake_openai_server: FakeUpstream
) -> Iterator[RunningGateway]:
    config = anthropic_config(_fake_anthropic_server.url, _fake_openai_server.url)
    gw = RunningGateway(Gateway(config), proxy_core_loop).start()
    yield gw
    gw.stop()


@pytest.fixture
def gateway(
    _anthropic_gateway: RunningGateway, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream
) -> RunningGateway:
    return _anthropic_gateway
