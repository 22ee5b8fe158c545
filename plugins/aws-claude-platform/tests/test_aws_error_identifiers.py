"""Claude Platform on AWS errors keep the operator's AWS identifiers (account id, IAM
principal ARN, role ARN, workspace id) out of what clients get: the message keeps the
action to take, and the gateway's log (``aws.upstream_error``, ``aws.assume_role_failed``)
has the detail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest
from aws_fakes import MODEL, ROLE_ARN, STS_DENIED, WORKSPACE, FakePlatform, FakeSTS
from structlog.testing import capture_logs

from proxy_core.testing import GATEWAY_KEY, Reply, RunningGateway

USER = [{"role": "user", "content": "hi"}]
ACCOUNT_ID = "123456789012"
PRINCIPAL = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/proxy-core-claude/proxy-core"
WORKSPACE_ARN = f"arn:aws:aws-external-anthropic:us-west-2:{ACCOUNT_ID}:workspace/{WORKSPACE}"
IDENTIFIERS = (ACCOUNT_ID, PRINCIPAL, WORKSPACE_ARN, WORKSPACE, ROLE_ARN, "arn:aws:iam:", "arn:aws:sts:")


def assert_no_identifiers(text: str) -> None:
    for identifier in IDENTIFIERS:
        assert identifier not in text, f"{identifier!r} reached the client"


def aws_denied() -> Reply:
    message = f"User: {PRINCIPAL} is not authorized to perform: aws-external-anthropic:CreateInference on resource: "
    return Reply.json(
        {"message": message + WORKSPACE_ARN + "."},
        status=403,
        headers={"x-amzn-errortype": "AccessDeniedException:http://internal.amazon.com/coral/"},
    )


def anthropic_shaped(status: int, kind: str, message: str) -> Reply:
    return Reply.json({"type": "error", "error": {"type": kind, "message": message}}, status=status)


def upstream_errors(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == "aws.upstream_error"]


def test_access_denied_hides_identifiers_from_both_sdks(
    openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic, platform: FakePlatform
) -> None:
    platform.queue(aws_denied(), aws_denied())
    with capture_logs() as logs:
        with pytest.raises(openai.APIStatusError) as chat:
            openai_client.chat.completions.create(model=f"aws-key/{MODEL}", messages=USER)
        with pytest.raises(anthropic.APIStatusError) as native:
            anthropic_client.messages.create(model=f"aws-key/{MODEL}", max_tokens=8, messages=USER)
    for error in (chat.value, native.value):
        body = orjson.dumps(error.body).decode()
        assert "aws-external-anthropic:CreateInference" in error.message  # the action to grant stays
        assert_no_identifiers(body)
        assert_no_identifiers(error.message)
    assert len(platform.requests) == 2 and all(r.path == "/v1/messages" for r in platform.requests)
    logged = upstream_errors(logs)
    assert len(logged) == 2 and {e["log_level"] for e in logged} == {"warning"}
    for event in logged:
        assert event["account"] == "aws-key" and event["code"] == "aws_access_denied"
        assert event["workspace_id"] == WORKSPACE
        assert PRINCIPAL in event["upstream_message"] and WORKSPACE_ARN in event["upstream_message"]


def test_raw_error_bodies_hold_no_identifiers(gateway: RunningGateway, platform: FakePlatform) -> None:
    """Errors relayed in Anthropic's shape (the native route returns the upstream body)."""
    message = f"Workspace {WORKSPACE} of account {ACCOUNT_ID} has no model {MODEL} ({WORKSPACE_ARN})"
    platform.queue(anthropic_shaped(404, "not_found_error", message), anthropic_shaped(404, "not_found_error", message))
    with capture_logs() as logs, httpx.Client(base_url=gateway.url, headers={"x-api-key": GATEWAY_KEY}) as http:
        native = http.post("/v1/messages", json={"model": f"aws-apikey/{MODEL}", "max_tokens": 8, "messages": USER})
        chat = http.post("/v1/chat/completions", json={"model": f"aws-apikey/{MODEL}", "messages": USER})
    assert (native.status_code, chat.status_code) == (404, 404)
    assert native.json()["type"] == "error" and native.json()["error"]["type"] == "not_found_error"
    assert "has no model" in native.json()["error"]["message"]
    assert "has no model" in chat.json()["error"]["message"]
    assert_no_identifiers(native.text)
    assert_no_identifiers(chat.text)
    logged = upstream_errors(logs)
    assert len(logged) == 2
    assert all(WORKSPACE_ARN in e["upstream_message"] and ACCOUNT_ID in e["upstream_message"] for e in logged)


def test_region_mismatch_names_the_workspace_only_in_the_log(
    openai_client: openai.OpenAI, platform: FakePlatform
) -> None:
    with capture_logs() as logs, pytest.raises(openai.APIStatusError) as info:
        openai_client.chat.completions.create(model=f"aws-east/{MODEL}", messages=USER)
    assert "set this account's `region` to the workspace's region" in info.value.message
    assert_no_identifiers(orjson.dumps(info.value.body).decode())
    [event] = upstream_errors(logs)
    assert event["code"] == "aws_region_mismatch" and event["workspace_id"] == WORKSPACE


def test_ordinary_errors_are_not_logged(anthropic_client: anthropic.Anthropic, platform: FakePlatform) -> None:
    platform.queue(anthropic_shaped(400, "invalid_request_error", "max_tokens: too large"))
    with capture_logs() as logs, pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(model=f"aws-key/{MODEL}", max_tokens=8, messages=USER)
    assert "max_tokens: too large" in info.value.message
    assert upstream_errors(logs) == []


def test_assume_role_refusal_names_the_role_only_in_the_log(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], sts: FakeSTS
) -> None:
    gw = gateway_factory(gateway_config)  # fresh credential cache: STS is asked
    sts.queue(Reply.raw(STS_DENIED.format(arn=ROLE_ARN).encode(), status=403, content_type="text/xml"))
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10)
    with client, capture_logs() as logs, pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=f"aws-role/{MODEL}", messages=USER)
    assert "trust policy" in info.value.message
    assert_no_identifiers(orjson.dumps(info.value.body).decode())
    [event] = [e for e in logs if e["event"] == "aws.assume_role_failed"]
    assert event["role_arn"] == ROLE_ARN and event["log_level"] == "warning"
    assert f"arn:aws:iam::{ACCOUNT_ID}:user/gw" in event["sts_message"]
    assert len(sts.requests) == 1


def test_assume_role_other_failure_redacts_the_sts_message(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], sts: FakeSTS
) -> None:
    gw = gateway_factory(gateway_config)
    xml = f"<ErrorResponse><Error><Code>RegionDisabledException</Code><Message>STS is not activated in {ACCOUNT_ID}"
    sts.queue(Reply.raw((xml + "</Message></Error></ErrorResponse>").encode(), status=400, content_type="text/xml"))
    client = openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10)
    with client, capture_logs() as logs, pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=f"aws-role/{MODEL}", messages=USER)
    assert "STS answered RegionDisabledException: STS is not activated in <account-id>" in info.value.message
    assert_no_identifiers(orjson.dumps(info.value.body).decode())
    [event] = [e for e in logs if e["event"] == "aws.assume_role_failed"]
    assert ACCOUNT_ID in event["sts_message"]
