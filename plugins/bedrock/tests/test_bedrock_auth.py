"""The three auth methods (access key, assumed role through STS, Bedrock API key) and
config errors that name their path at start-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from bedrock_fakes import BASE_KEY_ID, CLAUDE, FakeSTS

from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway
from proxy_core.models import shipped_info
from proxy_core.testing import GATEWAY_KEY, RunningGateway
from proxy_core.testing.fake_bedrock import ACCESS_KEY_ID, API_KEY, TEXT, FakeBedrock


def chat(openai_client: openai.OpenAI, account: str) -> str | None:
    r = openai_client.chat.completions.create(model=f"{account}/{CLAUDE}", messages=[{"role": "user", "content": "hi"}])
    return r.choices[0].message.content


def test_access_key(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    assert chat(openai_client, "bedrock") == TEXT
    h = bedrock.last.headers
    assert bedrock.rejections == [] and f"Credential={ACCESS_KEY_ID}/" in h["authorization"]
    assert "x-amz-security-token" not in h and "x-api-key" not in h


def test_api_key_is_a_bearer_token(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    assert chat(openai_client, "bedrock-apikey") == TEXT
    h = bedrock.last.headers
    assert bedrock.rejections == [] and h["authorization"] == f"Bearer {API_KEY}"
    assert not [name for name in h if name.startswith("x-amz-")]


def test_assumed_role_cached(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], bedrock: FakeBedrock, sts: FakeSTS
) -> None:
    gw = gateway_factory(gateway_config)  # a fresh credential cache
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as openai_client:
        assert chat(openai_client, "bedrock-role") == TEXT
        assert chat(openai_client, "bedrock-role") == TEXT
    assert len(sts.requests) == 1 and f"Credential={BASE_KEY_ID}/" in sts.last.headers["authorization"]
    key, _, token = sts.issued[0]
    assert bedrock.rejections == [] and all(
        f"Credential={key}/" in r.headers["authorization"] for r in bedrock.requests
    )
    assert bedrock.last.headers["x-amz-security-token"] == token


def test_wrong_region_is_rejected_upstream(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], bedrock: FakeBedrock
) -> None:
    gateway_config["providers"]["bedrock"]["region"] = "eu-west-1"
    gw = gateway_factory(gateway_config)
    with (
        openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as openai_client,
        pytest.raises(openai.APIStatusError) as info,
    ):
        chat(openai_client, "bedrock")
    assert info.value.status_code == 502 and "rejected the gateway's credentials" in str(info.value)
    assert bedrock.rejections == ["Credential should be scoped to a valid region, not 'eu-west-1'."]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"region": "Mars-1"}, "providers.bedrock.region"),
        ({"region": None}, "providers.bedrock.region"),
        ({"auth": None}, "providers.bedrock.auth"),
        (
            {"auth": {"type": "access_key", "access_key_id": "AKIA"}},
            "providers.bedrock.auth.access_key.secret_access_key",
        ),
        ({"auth": {"type": "assume_role", "role_arn": "not-an-arn"}}, "providers.bedrock.auth.assume_role.role_arn"),
        ({"api_key": "top-level"}, "providers.bedrock"),
    ],
)
def test_config_errors_name_the_path(gateway_config: dict[str, Any], change: dict[str, Any], path: str) -> None:
    account = gateway_config["providers"]["bedrock"]
    for key, value in change.items():
        if value is None:
            account.pop(key)
        else:
            account[key] = value
    with pytest.raises(ConfigError) as info:
        Gateway(gateway_config)
    assert path in str(info.value)
    assert "top-level" not in str(info.value)


def test_model_table_strips_profile_prefixes() -> None:
    for prefix in ("", "us.", "eu.", "apac.", "global.", "us-gov."):
        assert shipped_info(f"{prefix}anthropic.claude-sonnet-4-5-20250929-v1:0")["thinking"] == "budget"
