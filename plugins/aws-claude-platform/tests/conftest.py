"""One gateway for the session with one Claude Platform account per auth method, all on
one fake platform (``FakePlatform``) that verifies every signature; a fake STS for the
assumed role. Tests that need fresh credential caches build their own gateway."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from fakes import (
    ACCESS_KEY_ID,
    API_KEY,
    BASE_KEY_ID,
    BASE_SECRET,
    EXTERNAL_ID,
    REGION,
    ROLE_ARN,
    SECRET_KEY,
    WORKSPACE,
    FakePlatform,
    FakeSTS,
)

from proxy_core.gateway import Gateway
from proxy_core.testing import GATEWAY_KEY, BackgroundLoop, RunningGateway

MODEL = "claude-sonnet-4-6"
BEDROCK_ID = "anthropic.claude-sonnet-4-5-20250929-v1:0"
ACCOUNTS = ("aws-key", "aws-role", "aws-apikey")


def platform_config(platform_url: str, sts_url: str) -> dict[str, Any]:
    base = {"type": "aws-claude-platform", "workspace_id": WORKSPACE, "region": REGION, "base_url": platform_url}
    models = {MODEL: {}, "claude-opus-4-6": {}}
    key_auth = {"type": "access_key", "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_KEY}
    role_auth = {
        "type": "assume_role",
        "role_arn": ROLE_ARN,
        "external_id": EXTERNAL_ID,
        "sts_endpoint": sts_url,
        "access_key_id": BASE_KEY_ID,
        "secret_access_key": BASE_SECRET,
    }
    return {
        "auth": {"keys": [{"name": "test", "key": GATEWAY_KEY, "user": "tester"}]},
        "providers": {
            "aws-key": {**base, "auth": key_auth, "models": {**models, BEDROCK_ID: {}}},
            "aws-role": {**base, "auth": role_auth, "models": models},
            "aws-apikey": {**base, "auth": {"type": "api_key", "api_key": API_KEY}, "models": models},
            "aws-east": {**base, "region": "us-east-1", "auth": key_auth, "models": models},
        },
        # The translators' tests are not about the fallback plugin's retry policy.
        "plugins": {"disabled": ["fallback"]},
    }


@pytest.fixture(scope="session")
def _platform_server(proxy_core_loop: BackgroundLoop) -> Iterator[FakePlatform]:
    fake = FakePlatform()
    proxy_core_loop.run(fake.start())
    yield fake
    proxy_core_loop.run(fake.stop())


@pytest.fixture(scope="session")
def _sts_server(proxy_core_loop: BackgroundLoop, _platform_server: FakePlatform) -> Iterator[FakeSTS]:
    fake = FakeSTS(_platform_server)
    proxy_core_loop.run(fake.start())
    yield fake
    proxy_core_loop.run(fake.stop())


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
    gw = RunningGateway(Gateway(platform_config(_platform_server.url, _sts_server.url)), proxy_core_loop).start()
    yield gw
    gw.stop()


@pytest.fixture
def gateway(_platform_gateway: RunningGateway, platform: FakePlatform, sts: FakeSTS) -> RunningGateway:
    return _platform_gateway


@pytest.fixture
def oai(gateway: RunningGateway) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=gateway.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10) as client:
        yield client


@pytest.fixture
def ant(gateway: RunningGateway) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0, timeout=10) as client:
        yield client
