"""One gateway for the session with one Claude Platform account per auth method, all on
one fake platform (``FakePlatform``) that verifies every signature; a fake STS for the
assumed role. Tests that need fresh credential caches build their own gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_fakes import FakePlatform, FakeSTS, platform_config

from proxy_core.testing import BackgroundLoop, RunningGateway, run_fake, serve_gateway


@pytest.fixture(scope="session")
def _platform_server(proxy_core_loop: BackgroundLoop) -> Iterator[FakePlatform]:
    yield from run_fake(proxy_core_loop, FakePlatform())


@pytest.fixture(scope="session")
def _sts_server(proxy_core_loop: BackgroundLoop, _platform_server: FakePlatform) -> Iterator[FakeSTS]:
    yield from run_fake(proxy_core_loop, FakeSTS(_platform_server))


@pytest.fixture
def platform(_platform_server: FakePlatform) -> FakePlatform:
    _platform_server.reset()
    return _platform_server


@pytest.fixture
def sts(_sts_server: FakeSTS) -> FakeSTS:
    _sts_server.reset()
    return _sts_server


@pytest.fixture
def gateway_config(platform: FakePlatform, sts: FakeSTS) -> dict[str, Any]:
    return platform_config(platform.url, sts.url)


@pytest.fixture(scope="session")
def _platform_gateway(
    proxy_core_loop: BackgroundLoop, _platform_server: FakePlatform, _sts_server: FakeSTS
) -> Iterator[RunningGateway]:
    yield from serve_gateway(proxy_core_loop, platform_config(_platform_server.url, _sts_server.url))


@pytest.fixture
def gateway(_platform_gateway: RunningGateway, platform: FakePlatform, sts: FakeSTS) -> RunningGateway:
    return _platform_gateway
