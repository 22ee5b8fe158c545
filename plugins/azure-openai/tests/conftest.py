"""One gateway for the session: an api-key account and an Entra ID account on one
:class:`AzureFake`, an OpenAI account on the kit's fake (fallback target)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from azure_openai_fake import AzureFake, azure_config

from proxy_core.testing import GATEWAY_KEY, BackgroundLoop, FakeUpstream, RunningGateway, run_fake, serve_gateway


@pytest.fixture(scope="session")
def _azure_server(proxy_core_loop: BackgroundLoop) -> Iterator[AzureFake]:
    yield from run_fake(proxy_core_loop, AzureFake())


@pytest.fixture
def azure(_azure_server: AzureFake) -> AzureFake:
    _azure_server.reset()
    return _azure_server


@pytest.fixture(scope="session")
def _azure_gateway(
    proxy_core_loop: BackgroundLoop, _azure_server: AzureFake, _fake_openai_server: FakeUpstream
) -> Iterator[RunningGateway]:
    yield from serve_gateway(proxy_core_loop, azure_config(_azure_server.url, _fake_openai_server.url))


@pytest.fixture
def azure_client(
    _azure_gateway: RunningGateway, azure: AzureFake, fake_openai: FakeUpstream
) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=_azure_gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10) as c:
        yield c
