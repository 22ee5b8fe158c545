"""One gateway for the session with an account of every OpenAI-compatible family type,
all on one strict fake (:mod:`openai_family_fake`), plus Anthropic for fallback tests."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from openai_family_fake import FamilyFake, family_config

from proxy_core.testing import GATEWAY_KEY, BackgroundLoop, FakeUpstream, RunningGateway, run_fake, serve_gateway


@pytest.fixture(scope="session")
def _family_server(proxy_core_loop: BackgroundLoop) -> Iterator[FamilyFake]:
    yield from run_fake(proxy_core_loop, FamilyFake())


@pytest.fixture
def family(_family_server: FamilyFake) -> FamilyFake:
    _family_server.reset()
    return _family_server


@pytest.fixture(scope="session")
def _family_gateway(
    proxy_core_loop: BackgroundLoop, _family_server: FamilyFake, _fake_anthropic_server: FakeUpstream
) -> Iterator[RunningGateway]:
    yield from serve_gateway(proxy_core_loop, family_config(_family_server.url, _fake_anthropic_server.url))


@pytest.fixture
def family_client(
    _family_gateway: RunningGateway, family: FamilyFake, fake_anthropic: FakeUpstream
) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=_family_gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10) as c:
        yield c
