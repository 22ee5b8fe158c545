"""The gemini plugin's tests: one gateway for the session in front of a fake Gemini API
(:class:`proxy_core.testing.fake_gemini.FakeGemini`, which rejects what the real API
rejects) and the kit's fake Anthropic (for fallback routes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gemini_helpers import gemini_config

from proxy_core.testing import BackgroundLoop, FakeUpstream, RunningGateway, run_fake, serve_gateway
from proxy_core.testing.fake_gemini import FakeGemini


@pytest.fixture(scope="session")
def _gemini_server(proxy_core_loop: BackgroundLoop) -> Iterator[FakeGemini]:
    yield from run_fake(proxy_core_loop, FakeGemini())


@pytest.fixture
def gemini(_gemini_server: FakeGemini) -> FakeGemini:
    _gemini_server.reset()
    return _gemini_server


@pytest.fixture(scope="session")
def _gemini_gateway(
    proxy_core_loop: BackgroundLoop, _gemini_server: FakeGemini, _fake_anthropic_server: FakeUpstream
) -> Iterator[RunningGateway]:
    yield from serve_gateway(proxy_core_loop, gemini_config(_gemini_server.url, _fake_anthropic_server.url))


@pytest.fixture
def gateway(_gemini_gateway: RunningGateway, gemini: FakeGemini, fake_anthropic: FakeUpstream) -> RunningGateway:
    return _gemini_gateway
