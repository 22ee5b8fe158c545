"""Clear errors: Bedrock ids, a region that does not match the workspace, outbound web
identity federation disabled, access denied (with the IAM action), rejected signatures,
and configuration errors that name the path without printing a secret.

An upstream 401/403 reaches clients as a 502 (the core: the account's credentials or
permissions are the operator's to fix); these messages are kept in it as actionable."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from aws_fakes import BEDROCK_ID, MODEL, SECRET_KEY, WORKSPACE, FakePlatform, platform_config
from proxy_core_aws_claude_platform.errors import iam_action

from proxy_core.config import ConfigError
from proxy_core.gateway import Gateway
from proxy_core.testing import Reply

USER = [{"role": "user", "content": "hi"}]
FEDERATION = "Outbound web identity federation is disabled for your account"


def test_bedrock_id_in_config_is_a_400(openai_client: openai.OpenAI, platform: FakePlatform) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model=f"aws-key/{BEDROCK_ID}", messages=USER)
    assert "Amazon Bedrock model id" in info.value.message and "claude-sonnet-4-6" in info.value.message
    assert platform.requests == []


def test_bedrock_id_not_in_config_is_a_400_not_a_404(
    anthropic_client: anthropic.Anthropic, platform: FakePlatform
) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(
            model="aws-apikey/anthropic.claude-3-haiku-20240307-v1:0", max_tokens=8, messages=USER
        )
    assert "bare first-party ids" in info.value.message
    assert platform.requests == []


def test_region_not_matching_the_workspace(openai_client: openai.OpenAI, platform: FakePlatform) -> None:
    with pytest.raises(openai.InternalServerError) as info:
        openai_client.chat.completions.create(model=f"aws-east/{MODEL}", messages=USER)
    message = info.value.message
    assert "this account's workspace is not reachable through region us-east-1" in message
    assert WORKSPACE not in message  # the log names it
    assert "set this account's `region` to the workspace's region" in message
    assert platform.rejections == ["Credential should be scoped to a valid region, not 'us-east-1'."]


def test_workspace_bound_elsewhere_message(anthropic_client: anthropic.Anthropic, platform: FakePlatform) -> None:
    body = {"type": "error", "error": {"type": "not_found_error", "message": "Workspace not found in region us-west-2"}}
    platform.queue(Reply.json(body, status=404))
    with pytest.raises(anthropic.NotFoundError) as info:
        anthropic_client.messages.create(model=f"aws-apikey/{MODEL}", max_tokens=8, messages=USER)
    assert "Workspaces are bound to the one AWS region" in info.value.message


@pytest.mark.parametrize("shape", ["aws", "anthropic"])
def test_outbound_federation_disabled_says_what_to_run(
    shape: str, openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic, platform: FakePlatform
) -> None:
    if shape == "aws":
        reply = Reply.json({"message": FEDERATION}, status=403, headers={"x-amzn-errortype": "AccessDeniedException"})
    else:
        reply = Reply.json({"type": "error", "error": {"type": "permission_error", "message": FEDERATION}}, status=403)
    platform.queue(reply, reply)
    with pytest.raises(openai.InternalServerError) as info:
        openai_client.chat.completions.create(model=f"aws-key/{MODEL}", messages=USER)
    assert "`aws iam enable-outbound-web-identity-federation`" in info.value.message
    assert info.value.code == "aws_outbound_federation_disabled"  # an upstream 403 is a 502 keeping the actionable code
    with pytest.raises(anthropic.InternalServerError) as native:
        anthropic_client.messages.create(model=f"aws-role/{MODEL}", max_tokens=8, messages=USER)
    assert "aws iam enable-outbound-web-identity-federation" in native.value.message


def denied(action: str) -> Reply:
    message = f"User: arn:aws:iam::123456789012:user/gw is not authorized to perform: aws-external-anthropic:{action}"
    return Reply.json({"message": message}, status=403, headers={"x-amzn-errortype": "AccessDeniedException:http://"})


def test_access_denied_names_the_iam_action(
    openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic, platform: FakePlatform
) -> None:
    platform.queue(denied("CreateInference"))
    with pytest.raises(openai.InternalServerError) as info:
        openai_client.chat.completions.create(model=f"aws-key/{MODEL}", messages=USER)
    assert "needs aws-external-anthropic:CreateInference on arn:aws:aws-external-anthropic:us-west-2" in (
        info.value.message
    )
    assert "CallWithBearerToken" not in info.value.message
    platform.queue(denied("CountTokens"))
    with pytest.raises(anthropic.InternalServerError) as native:
        anthropic_client.messages.count_tokens(model=f"aws-key/{MODEL}", messages=USER)
    assert "needs aws-external-anthropic:CountTokens" in native.value.message
    platform.queue(Reply.json({"message": "Access denied"}, status=403))
    with pytest.raises(anthropic.InternalServerError) as keyed:
        anthropic_client.messages.create(model=f"aws-apikey/{MODEL}", max_tokens=8, messages=USER)
    assert "CreateInference" in keyed.value.message and 'CallWithBearerToken on "*"' in keyed.value.message


@pytest.mark.parametrize(
    ("method", "path", "action"),
    [
        ("POST", "/v1/messages", "CreateInference"),
        ("POST", "/v1/messages/count_tokens", "CountTokens"),
        ("GET", "/v1/models", "ListModels"),
        ("GET", "/v1/models/claude-sonnet-4-6", "GetModel"),
        ("POST", "/v1/files", "CreateFile"),
        ("GET", "/v1/files", "ListFiles"),
        ("GET", "/v1/files/file_1", "GetFile"),
        ("GET", "/v1/files/file_1/content", "GetFile"),
        ("DELETE", "/v1/files/file_1", "DeleteFile"),
        ("GET", "/v1/organizations/workspaces/wrkspc_1", "GetWorkspace"),
        ("GET", "/v1/organizations/workspaces", "ListWorkspaces"),
        ("POST", "/v1/messages/batches", "CreateBatchInference"),
        ("POST", "/v1/messages/batches/b1/cancel", "CancelBatchInference"),
        ("GET", "/v1/messages/batches/b1/results", "GetBatchInference"),
    ],
)
def test_iam_action_table(method: str, path: str, action: str) -> None:
    assert iam_action(method, path) == action


def test_wrong_secret_is_rejected_by_the_fake(
    platform: FakePlatform, gateway_factory: Any, gateway_config: Any
) -> None:
    """The fake's verification can fail: a signature made with another secret is refused."""
    gateway_config["providers"]["aws-key"]["auth"]["secret_access_key"] = "not-the-secret"
    gw = gateway_factory(gateway_config)
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key="sk-proxy-core-test-key", max_retries=0)
    with client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model=f"aws-key/{MODEL}", messages=USER)
    assert "signature we calculated does not match" in info.value.message
    assert platform.rejections == ["The request signature we calculated does not match the signature you provided."]


def test_default_base_url_is_regional() -> None:
    config = platform_config("http://unused", "http://unused")
    del config["providers"]["aws-key"]["base_url"]
    gw = Gateway(config)
    assert gw.providers["aws-key"].base_url == "https://aws-external-anthropic.us-west-2.api.aws"
    assert gw.providers["aws-east"].base_url == "http://unused"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("workspace_id", "ws-123", "providers.aws-key.workspace_id: String should match pattern"),
        ("region", "Oregon", "providers.aws-key.region: String should match pattern"),
        ("auth", {"type": "password", "secret": SECRET_KEY}, "providers.aws-key.auth: Input tag 'password'"),
        (
            "auth",
            {"type": "access_key", "access_key_id": "AKIA1"},
            "providers.aws-key.auth.access_key.secret_access_key",
        ),
        ("auth", {"type": "api_key", "api_key": SECRET_KEY, "x": 1}, "providers.aws-key.auth.api_key.x: Extra inputs"),
        ("api_key", SECRET_KEY, "put the key under auth: {type: api_key"),
    ],
)
def test_config_errors_name_the_path_not_the_secret(path: str, value: Any, expected: str) -> None:
    config = platform_config("http://unused", "http://unused")
    config["providers"]["aws-key"][path] = value
    with pytest.raises(ConfigError) as info:
        Gateway(config)
    text = str(info.value)
    assert expected in text
    assert SECRET_KEY not in text


def test_config_requires_workspace_region_and_auth() -> None:
    config = platform_config("http://unused", "http://unused")
    for field in ("workspace_id", "region", "auth"):
        del config["providers"]["aws-key"][field]
    with pytest.raises(ConfigError) as info:
        Gateway(config)
    for field in ("workspace_id", "region", "auth"):
        assert f"providers.aws-key.{field}: Field required" in str(info.value)
