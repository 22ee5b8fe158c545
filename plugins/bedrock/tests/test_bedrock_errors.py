"""Bedrock's exceptions in the client's shape, with the right status; identifiers and
credentials never reach clients; fallback from an overloaded Anthropic target to Bedrock."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from bedrock_fakes import CLAUDE

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply
from proxy_core.testing.fake_bedrock import (
    SECRET_KEY,
    TEXT,
    FakeBedrock,
    aws_error,
    converse_stream_frames,
    event_stream,
    exception_frame,
)

CASES = [
    ("ThrottlingException", 429, "Too many requests, please wait before trying again.", 429, "rate_limit_error"),
    ("ServiceUnavailableException", 503, "Bedrock is unable to process your request.", 503, "overloaded_error"),
    ("ModelNotReadyException", 429, "Model is not ready for inference.", 503, "overloaded_error"),
    (
        "ValidationException",
        400,
        "Malformed input request: #: extraneous key [x] is not permitted",
        400,
        "invalid_request_error",
    ),
    ("ModelTimeoutException", 408, "Model has timed out in processing the request.", 504, "timeout_error"),
    ("ResourceNotFoundException", 404, "Could not resolve the foundation model.", 404, "not_found_error"),
    ("ModelErrorException", 424, "The model returned an error.", 502, "api_error"),
]


def chat(openai_client: openai.OpenAI, **kw: Any) -> Any:
    return openai_client.chat.completions.create(
        model=f"bedrock/{CLAUDE}", messages=[{"role": "user", "content": "hi"}], **kw
    )


@pytest.mark.parametrize(("kind", "upstream", "message", "status", "anthropic_type"), CASES)
def test_error_classes_in_both_shapes(
    openai_client: openai.OpenAI,
    anthropic_client: anthropic.Anthropic,
    bedrock: FakeBedrock,
    kind: str,
    upstream: int,
    message: str,
    status: int,
    anthropic_type: str,
) -> None:
    bedrock.queue(aws_error(kind, message, upstream), aws_error(kind, message, upstream))
    with pytest.raises(openai.APIStatusError) as info:
        chat(openai_client)
    assert info.value.status_code == status and message in str(info.value)
    with pytest.raises(anthropic.APIStatusError) as ainfo:
        anthropic_client.messages.create(
            model=f"bedrock/{CLAUDE}", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert ainfo.value.status_code == status
    body: Any = ainfo.value.body
    assert body["type"] == "error" and body["error"]["type"] == anthropic_type and message in body["error"]["message"]
    assert chat(openai_client).choices[0].message.content == TEXT  # the gateway keeps serving


def test_access_denied_names_the_iam_action(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    denied = (
        "User: arn:aws:iam::123456789012:user/gw is not authorized to perform this action "
        f"on resource: arn:aws:bedrock:us-east-1::foundation-model/{CLAUDE} secret {SECRET_KEY}"
    )
    bedrock.queue(aws_error("AccessDeniedException", denied, 403), aws_error("AccessDeniedException", denied, 403))
    with pytest.raises(openai.APIStatusError) as info:
        chat(openai_client)
    text = str(info.value)
    assert (
        info.value.status_code == 502 and "bedrock:InvokeModel on arn:aws:bedrock:us-east-1::foundation-model" in text
    )
    assert "123456789012" not in text and SECRET_KEY not in text
    with pytest.raises(openai.APIStatusError) as info:
        list(chat(openai_client, stream=True))
    assert "bedrock:InvokeModelWithResponseStream" in str(info.value)


def test_in_stream_exception_before_content_is_an_http_error(
    openai_client: openai.OpenAI, bedrock: FakeBedrock
) -> None:
    frames = converse_stream_frames()
    bedrock.queue(event_stream([frames[0], exception_frame("throttlingException", "Too many tokens.")]))
    with pytest.raises(openai.RateLimitError):
        list(chat(openai_client, stream=True))


def test_in_stream_exception_after_content_is_an_in_stream_error(
    openai_client: openai.OpenAI, bedrock: FakeBedrock
) -> None:
    frames = converse_stream_frames()
    stream_error = exception_frame("modelStreamErrorException", "The model stream failed.")
    bedrock.queue(event_stream([*frames[:2], stream_error]))
    with pytest.raises(openai.APIError) as info:
        for _ in chat(openai_client, stream=True):
            pass
    assert "The model stream failed." in str(info.value)


def test_fallback_from_overloaded_anthropic_to_bedrock(
    openai_client: openai.OpenAI, bedrock: FakeBedrock, fake_anthropic: FakeUpstream
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_anthropic.queue(Reply.json(overloaded, status=529))
    raw = openai_client.chat.completions.with_raw_response.create(
        model="claude-default", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().choices[0].message.content == TEXT
    assert raw.headers["x-proxy-core-target"] == f"bedrock/{CLAUDE}"
    assert len(fake_anthropic.requests) == 1 and bedrock.last.path == f"/model/{CLAUDE}/converse"
    fake_anthropic.queue(Reply.json(overloaded, status=529))
    with openai_client.chat.completions.create(
        model="claude-default", messages=[{"role": "user", "content": "hi"}], stream=True
    ) as stream:
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == TEXT
    assert bedrock.last.path == f"/model/{CLAUDE}/converse-stream"


def test_fallback_plugin_retries_then_moves_to_bedrock(
    gateway_factory: Any, gateway_config: dict[str, Any], bedrock: FakeBedrock, fake_anthropic: FakeUpstream
) -> None:
    gateway_config["plugins"] = {"fallback": {"retry": {"attempts": 2, "backoff_ms": 1, "max_backoff_ms": 1}}}
    gw = gateway_factory(gateway_config)
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_anthropic.queue(Reply.json(overloaded, status=529), Reply.json(overloaded, status=529))
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="claude-default", messages=[{"role": "user", "content": "hi"}]
        )
    assert raw.parse().choices[0].message.content == TEXT and len(fake_anthropic.requests) == 2
    assert raw.headers["x-proxy-core-target"] == f"bedrock/{CLAUDE}" and bedrock.rejections == []
