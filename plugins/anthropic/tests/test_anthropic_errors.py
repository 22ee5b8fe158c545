"""Upstream errors on the chat route, and bad chat input: 400 in OpenAI's shape, no upstream call."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from anthropic_helpers import MODEL

from proxy_core.testing import FakeUpstream, Reply


@pytest.mark.parametrize(
    ("anthropic_type", "status", "openai_type", "exc"),
    [
        ("invalid_request_error", 400, "invalid_request_error", openai.BadRequestError),
        ("not_found_error", 404, "not_found_error", openai.NotFoundError),
        ("request_too_large", 413, "invalid_request_error", openai.APIStatusError),
        ("rate_limit_error", 429, "rate_limit_error", openai.RateLimitError),
        ("api_error", 500, "server_error", openai.InternalServerError),
        ("overloaded_error", 529, "overloaded_error", openai.InternalServerError),
    ],
)
def test_upstream_errors_map_to_openai(
    openai_client: openai.OpenAI,
    fake_anthropic: FakeUpstream,
    anthropic_type: str,
    status: int,
    openai_type: str,
    exc: type[openai.APIStatusError],
) -> None:
    message = f"upstream says {anthropic_type}"
    fake_anthropic.queue(
        Reply.json({"type": "error", "error": {"type": anthropic_type, "message": message}}, status=status)
    )
    with pytest.raises(exc) as info:
        openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == status
    assert info.value.body == {"message": message, "type": openai_type, "param": None, "code": None}
    assert len(fake_anthropic.requests) == 1


@pytest.mark.parametrize(("anthropic_type", "status"), [("authentication_error", 401), ("permission_error", 403)])
def test_rejected_account_credentials_are_a_502_with_the_detail_in_the_log(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, anthropic_type: str, status: int
) -> None:
    """The account's credentials are not the client's fault, and the upstream's text may echo them."""
    from structlog.testing import capture_logs

    message = "invalid x-api-key sk-ant-upstream-secret"
    fake_anthropic.queue(
        Reply.json({"type": "error", "error": {"type": anthropic_type, "message": message}}, status=status)
    )
    with capture_logs() as logs, pytest.raises(openai.InternalServerError) as info:
        openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 502
    body = info.value.body
    assert isinstance(body, dict) and body["code"] == "upstream_credentials_rejected"
    assert "anthropic-main" in body["message"] and f"HTTP {status}" in body["message"]
    assert "sk-ant" not in str(body) and "x-api-key" not in str(body)
    (logged,) = [e for e in logs if e["event"] == "upstream.credentials_rejected"]
    assert logged["status"] == status and logged["detail"] == "invalid x-api-key [redacted]"


def test_upstream_error_that_is_not_json(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.raw(b"<html>bad gateway</html>", status=502, content_type="text/html"))
    with pytest.raises(openai.InternalServerError) as info:
        openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 502
    assert "HTTP 502" in info.value.message


def _user(content: Any) -> list[dict[str, Any]]:
    return [{"role": "user", "content": content}]


BAD_INPUT: list[tuple[dict[str, Any], str]] = [
    ({"messages": _user("hi"), "n": 2}, "'n' must be 1"),
    (
        {
            "messages": [
                {"role": "user", "content": "hi"},
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "{bad"}}],
                },
            ]
        },
        "arguments is not valid JSON",
    ),
    (
        {
            "messages": [
                {
                    "role": "assistant",
                    "tool_calls": [{"id": "t1", "type": "function", "function": {"name": "f", "arguments": "[1]"}}],
                }
            ]
        },
        "must encode a JSON object",
    ),
    ({"messages": _user([{"type": "input_audio", "input_audio": {"data": "x", "format": "wav"}}])}, "'input_audio'"),
    ({"messages": _user([{"type": "video_url", "video_url": {"url": "x"}}])}, "'video_url'"),
    ({"messages": _user([{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}])}, "http(s) URL or a data: URI"),
    ({"messages": _user([{"type": "image_url", "image_url": {"url": "data:image/bmp;base64,AAAA"}}])}, "image/bmp"),
    ({"messages": _user([{"type": "image_url", "image_url": {"url": "data:image/png,rawdata"}}])}, "base64 data: URI"),
    (
        {"messages": _user([{"type": "file", "file": {"file_data": "data:text/plain;base64,aGk="}}])},
        "'text/plain' is not supported",
    ),
    ({"messages": _user([{"type": "file", "file": {"filename": "a.pdf"}}])}, "needs 'file_id' or 'file_data'"),
    ({"messages": _user([{"type": "file", "file": {"file_data": "aGVsbG8="}}])}, "file media type '' is not supported"),
    ({"messages": [{"role": "function", "name": "f", "content": "x"}]}, "unsupported role 'function'"),
    ({"messages": [{"role": "tool", "content": "x"}]}, "tool_call_id is required"),
    ({"messages": [{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}, "only text"),
    ({"messages": _user("hi"), "max_tokens": 0}, "'max_tokens' must be a positive integer"),
    ({"messages": _user("hi"), "max_completion_tokens": "many"}, "'max_completion_tokens'"),
    ({"messages": _user("hi"), "stop": 5}, "'stop' must be"),
    ({"messages": _user("hi"), "stop": ["a", 1]}, "'stop' must be"),
    ({"messages": _user("hi"), "tools": [{"type": "web_search", "web_search": {}}]}, "only function tools"),
    (
        {"messages": _user("hi"), "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "maybe"},
        "'tool_choice' must be",
    ),
    (
        {"messages": [{"role": "assistant", "content": "x", "thinking_blocks": [{"type": "thinking"}]}]},
        "thinking_blocks",
    ),
    ({"messages": _user(42)}, "messages[0].content"),
]


@pytest.mark.parametrize(("extra", "fragment"), BAD_INPUT)
def test_bad_chat_input_is_400_without_upstream_call(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, extra: dict[str, Any], fragment: str
) -> None:
    body = {"model": MODEL, **extra}
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.post("/chat/completions", body=body, cast_to=object)
    assert info.value.status_code == 400
    error = info.value.body
    assert isinstance(error, dict) and error["type"] == "invalid_request_error"
    assert fragment in error["message"], error["message"]
    assert fake_anthropic.requests == []
