"""One gateway for the session in front of a fake Vertex AI, a fake Google token
endpoint and the kit's fake Anthropic. Tests that need a fresh token cache build their
own gateway with ``gateway_factory(gateway_config)``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from vertex_helpers import CLIENT_EMAIL, PROJECT, STATIC_TOKEN, service_account_file, vertex_config

from proxy_core.testing import BackgroundLoop, FakeUpstream, RunningGateway, run_fake, serve_gateway
from proxy_core.testing.fake_vertex import FakeGoogleToken, FakeVertex


@pytest.fixture(scope="session")
def _token_server(proxy_core_loop: BackgroundLoop) -> Iterator[FakeGoogleToken]:
    yield from run_fake(proxy_core_loop, FakeGoogleToken())


@pytest.fixture(scope="session")
def sa_path(tmp_path_factory: pytest.TempPathFactory, _token_server: FakeGoogleToken) -> Path:
    path, public = service_account_file(tmp_path_factory.mktemp("gcp"), _token_server.url)
    _token_server.public_keys[CLIENT_EMAIL] = public
    return path


@pytest.fixture(scope="session")
def _vertex_server(proxy_core_loop: BackgroundLoop, _token_server: FakeGoogleToken) -> Iterator[FakeVertex]:
    fake = FakeVertex(PROJECT, _token_server)
    fake.tokens.add(STATIC_TOKEN)
    yield from run_fake(proxy_core_loop, fake)


@pytest.fixture
def token_server(_token_server: FakeGoogleToken) -> FakeGoogleToken:
    _token_server.reset()
    return _token_server


@pytest.fixture
def vertex(_vertex_server: FakeVertex) -> FakeVertex:
    _vertex_server.reset()
    return _vertex_server


@pytest.fixture
def gateway_config(vertex: FakeVertex, fake_anthropic: FakeUpstream, sa_path: Path) -> dict[str, Any]:
    return vertex_config(vertex.url, fake_anthropic.url, sa_path)


@pytest.fixture(scope="session")
def _vertex_gateway(
    proxy_core_loop: BackgroundLoop, _vertex_server: FakeVertex, _fake_anthropic_server: FakeUpstream, sa_path: Path
) -> Iterator[RunningGateway]:
    config = vertex_config(_vertex_server.url, _fake_anthropic_server.url, sa_path)
    yield from serve_gateway(proxy_core_loop, config)


@pytest.fixture
def gateway(
    _vertex_gateway: RunningGateway, vertex: FakeVertex, token_server: FakeGoogleToken, fake_anthropic: FakeUpstream
) -> RunningGateway:
    return _vertex_gateway
