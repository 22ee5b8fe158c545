"""One gateway for the session on the kit's fake Bedrock (every signature verified), a
fake STS for the assumed role and the kit's fake Anthropic for fallback routes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bedrock_fakes import FakeSTS, bedrock_config

from proxy_core.testing import BackgroundLoop, FakeUpstream, RunningGateway, run_fake, serve_gateway
from proxy_core.testing.fake_bedrock import FakeBedrock


@pytest.fixture(scope="session")
def _bedrock_server(proxy_core_loop: BackgroundLoop) -> Iterator[FakeBedrock]:
    yield from run_fake(proxy_core_loop, FakeBedrock())


@pytest.fixture(scope="session")
def _sts_server(proxy_core_loop: BackgroundLoop, _bedrock_server: FakeBedrock) -> Iterator[FakeSTS]:
    yield from run_fake(proxy_core_loop, FakeSTS(_bedrock_server))


@pytest.fixture
def bedrock(_bedrock_server: FakeBedrock) -> FakeBedrock:
    _bedrock_server.reset()
    return _bedrock_server


@pytest.fixture
def sts(_sts_server: FakeSTS) -> FakeSTS:
    _sts_server.reset()
    return _sts_server


@pytest.fixture
def gateway_config(bedrock: FakeBedrock, sts: FakeSTS, fake_anthropic: FakeUpstream) -> dict[str, Any]:
    return bedrock_config(bedrock.url, sts.url, fake_anthropic.url)


@pytest.fixture(scope="session")
def _bedrock_gateway(
    proxy_core_loop: BackgroundLoop,
    _bedrock_server: FakeBedrock,
    _sts_server: FakeSTS,
    _fake_anthropic_server: FakeUpstream,
) -> Iterator[RunningGateway]:
    config = bedrock_config(_bedrock_server.url, _sts_server.url, _fake_anthropic_server.url)
    yield from serve_gateway(proxy_core_loop, config)


@pytest.fixture
def gateway(
    _bedrock_gateway: RunningGateway, bedrock: FakeBedrock, sts: FakeSTS, fake_anthropic: FakeUpstream
) -> RunningGateway:
    return _bedrock_gateway
