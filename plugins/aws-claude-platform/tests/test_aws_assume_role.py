"""Assumed-role credentials: STS AssumeRole (signed, verified by the fake STS), cached,
refreshed before expiry, and clear errors when STS says no."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import openai
import pytest
from aws_fakes import MODEL, ROLE_ARN, STS_DENIED, FakePlatform, FakeSTS
from proxy_core_aws.sts import AssumedRoleCredentials

from proxy_core.testing import GATEWAY_KEY, Reply, RunningGateway

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
def fresh(gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]) -> RunningGateway:
    return gateway_factory(gateway_config)


def chat(gw: RunningGateway) -> Any:
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10) as client:
        return client.chat.completions.create(model=f"aws-role/{MODEL}", messages=USER)


def source(gw: RunningGateway) -> AssumedRoleCredentials:
    creds = gw.gateway.providers["aws-role"].credentials  # type: ignore[attr-defined]
    assert isinstance(creds, AssumedRoleCredentials)
    return creds


def key_used(platform: FakePlatform) -> str:
    return platform.last.headers["authorization"].split("Credential=")[1].split("/")[0]


def test_one_sts_call_serves_many_requests(fresh: RunningGateway, platform: FakePlatform, sts: FakeSTS) -> None:
    for _ in range(3):
        chat(fresh)
    assert len(sts.requests) == 1
    form = sts.requests[0].body.decode()
    assert "Action=AssumeRole" in form and "RoleSessionName=proxy-core" in form and "DurationSeconds=3600" in form
    assert sts.requests[0].headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIATESTCANARYBASE002/")
    assert platform.rejections == [] and len(platform.requests) == 3
    assert key_used(platform) == sts.issued[0][0]
    assert platform.last.headers["x-amz-security-token"] == sts.issued[0][2]


def test_refreshed_before_expiry(fresh: RunningGateway, platform: FakePlatform, sts: FakeSTS) -> None:
    chat(fresh)
    creds = source(fresh)
    start = time.time()
    creds.clock = lambda: start + 3600 - 301  # just outside the 300 s refresh window
    chat(fresh)
    assert len(sts.requests) == 1
    creds.clock = lambda: start + 3600 - 299  # inside it: refresh although still valid
    chat(fresh)
    assert len(sts.requests) == 2
    assert key_used(platform) == sts.issued[1][0]
    assert platform.rejections == []


def test_refresh_failure_keeps_valid_credentials(fresh: RunningGateway, platform: FakePlatform, sts: FakeSTS) -> None:
    chat(fresh)
    creds = source(fresh)
    start = time.time()
    creds.clock = lambda: start + 3600 - 60  # refresh due, not expired
    sts.queue(Reply.raw(b"<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>", status=400))
    chat(fresh)
    assert len(sts.requests) == 2
    assert key_used(platform) == sts.issued[0][0]  # the old, still valid credentials
    creds.clock = lambda: start + 3600 + 1  # expired: STS must answer now
    sts.queue(Reply.raw(b"<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>", status=400))
    with pytest.raises(openai.InternalServerError) as info:
        chat(fresh)
    assert info.value.status_code == 502
    assert "cannot assume its role: STS answered Throttling" in info.value.message
    assert ROLE_ARN not in info.value.message


def test_access_denied_names_the_role(fresh: RunningGateway, platform: FakePlatform, sts: FakeSTS) -> None:
    sts.queue(Reply.raw(STS_DENIED.format(arn=ROLE_ARN).encode(), status=403, content_type="text/xml"))
    with pytest.raises(openai.PermissionDeniedError) as info:
        chat(fresh)
    message = info.value.message
    assert "provider account 'aws-role' cannot assume its role: STS AccessDenied" in message
    assert ROLE_ARN not in message and "123456789012" not in message  # the log has them
    assert "trust policy" in message and "external_id" in message
    assert platform.requests == []


def test_wrong_external_id_is_refused_by_sts(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], sts: FakeSTS
) -> None:
    gateway_config["providers"]["aws-role"]["auth"]["external_id"] = "not-the-one"
    with pytest.raises(openai.PermissionDeniedError):
        chat(gateway_factory(gateway_config))
    assert "ExternalId=not-the-one" in sts.last.body.decode()


def test_base_credentials_from_the_aws_environment(
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    platform: FakePlatform,
    sts: FakeSTS,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aws_fakes import BASE_KEY_ID, BASE_SECRET

    auth = gateway_config["providers"]["aws-role"]["auth"]
    del auth["access_key_id"], auth["secret_access_key"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", BASE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", BASE_SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    assert chat(gateway_factory(gateway_config)).choices[0].message.content
    assert len(sts.issued) == 1 and platform.rejections == []
