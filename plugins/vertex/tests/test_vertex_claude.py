"""Claude on Vertex: the anthropic plugin's translation and passthrough at rawPredict /
streamRawPredict, through the openai SDK (chat) and the anthropic SDK (/v1/messages)."""

from __future__ import annotations

import json

import anthropic
import openai
from vertex_helpers import CLAUDE, STATIC_TOKEN

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import ANTHROPIC_TEXT, anthropic_message, anthropic_stream
from proxy_core.testing.fake_gemini import google_error
from proxy_core.testing.fake_vertex import FakeVertex

PATH = "/v1/projects/proxy-core-test/locations/us-east5/publishers/anthropic/models"
SIG = "EqQBCkYIBxgCKkC-claude-signature"


def test_chat_reasoning_cache_control_and_stream(openai_client: openai.OpenAI, vertex: FakeVertex) -> None:
    thinking = [{"type": "thinking", "thinking": "Hmm.", "signature": SIG}, {"type": "text", "text": "4"}]
    vertex.queue(Reply.json(anthropic_message(CLAUDE, thinking)))
    raw = openai_client.chat.completions.with_raw_response.create(
        model=f"vertex-sa/{CLAUDE}",
        messages=[
            {
                "role": "system",
                "content": [{"type": "text", "text": "Long rules", "cache_control": {"type": "ephemeral"}}],
            },
            {"role": "user", "content": "2+2?"},
        ],
        reasoning_effort="low",
        max_tokens=4000,
    )
    message = raw.parse().choices[0].message
    assert message.content == "4" and message.reasoning_content == "Hmm."  # type: ignore[attr-defined]
    assert message.thinking_blocks[0]["signature"] == SIG  # type: ignore[attr-defined]
    sent = vertex.last
    assert sent.path == f"{PATH}/{CLAUDE}:rawPredict"
    assert sent.headers["authorization"].startswith("Bearer ya29.fake-")
    assert "anthropic-version" not in sent.headers and "x-api-key" not in sent.headers
    body = sent.json()
    assert body["anthropic_version"] == "vertex-2023-10-16" and "model" not in body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1200}
    assert body["system"] == [{"type": "text", "text": "Long rules", "cache_control": {"type": "ephemeral"}}]
    assert raw.headers["x-proxy-core-target"] == f"vertex-sa/{CLAUDE}"
    chunks = list(
        openai_client.chat.completions.create(
            model=f"vertex-sa/{CLAUDE}",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANTHROPIC_TEXT
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 12
    assert vertex.last.path == f"{PATH}/{CLAUDE}:streamRawPredict"
    assert vertex.last.json()["stream"] is True
    assert vertex.rejections == []


def test_structured_output_native_on_claude(openai_client: openai.OpenAI, vertex: FakeVertex) -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    vertex.queue(Reply.json(anthropic_message(CLAUDE, [{"type": "text", "text": '{"a": "x"}'}])))
    raw = openai_client.chat.completions.with_raw_response.create(
        model=f"vertex-sa/{CLAUDE}",
        messages=[{"role": "user", "content": "x"}],
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
    )
    assert raw.headers["x-proxy-core-structured-output"] == "native"  # the table's entry, found without "@date"
    assert json.loads(raw.parse().choices[0].message.content or "") == {"a": "x"}
    assert vertex.last.json()["output_config"] == {"format": {"type": "json_schema", "schema": schema}}


def test_messages_passthrough_stream_and_count_tokens(
    anthropic_client: anthropic.Anthropic, vertex: FakeVertex
) -> None:
    message = anthropic_client.messages.create(
        model=f"vertex-sa/{CLAUDE}",
        max_tokens=2048,
        system="Be brief.",
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}]}
        ],
        thinking={"type": "enabled", "budget_tokens": 1024},
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"},
    )
    assert message.content[0].text == ANTHROPIC_TEXT  # type: ignore[union-attr]
    sent = vertex.last
    assert sent.path == f"{PATH}/{CLAUDE}:rawPredict"
    assert sent.headers["anthropic-beta"] == "context-1m-2025-08-07"
    body = sent.json()
    assert body["anthropic_version"] == "vertex-2023-10-16" and "model" not in body
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert body["messages"][0]["content"][0]["cache_control"] == {"type": "ephemeral"}
    vertex.queue(
        anthropic_stream(
            CLAUDE, [{"type": "thinking", "thinking": "Let me see", "signature": SIG}, {"type": "text", "text": "Yes"}]
        )
    )
    with anthropic_client.messages.stream(
        model=f"vertex-sa/{CLAUDE}", max_tokens=2048, messages=[{"role": "user", "content": "Hi"}]
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].signature == SIG  # type: ignore[union-attr]
    assert vertex.last.path == f"{PATH}/{CLAUDE}:streamRawPredict"
    count = anthropic_client.messages.count_tokens(
        model=f"vertex-sa/{CLAUDE}", messages=[{"role": "user", "content": "Hi"}]
    )
    assert count.input_tokens == 42
    assert vertex.last.path == f"{PATH}/count-tokens:rawPredict"
    assert vertex.last.json()["model"] == CLAUDE and vertex.last.json()["anthropic_version"] == "vertex-2023-10-16"
    assert vertex.rejections == []


def test_global_endpoint_with_a_static_token(anthropic_client: anthropic.Anthropic, vertex: FakeVertex) -> None:
    anthropic_client.messages.create(
        model=f"vertex-global/{CLAUDE}", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )
    assert (
        vertex.last.path
        == f"/v1/projects/proxy-core-test/locations/global/publishers/anthropic/models/{CLAUDE}:rawPredict"
    )
    assert vertex.last.headers["authorization"] == f"Bearer {STATIC_TOKEN}"


def test_errors_in_the_clients_shape(
    anthropic_client: anthropic.Anthropic, openai_client: openai.OpenAI, vertex: FakeVertex
) -> None:
    vertex.queue(google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com"))
    try:
        anthropic_client.messages.create(
            model=f"vertex-sa/{CLAUDE}", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
        raise AssertionError("expected a 429")
    except anthropic.RateLimitError as e:
        assert e.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
        assert "Quota exceeded" in e.body["error"]["message"]  # type: ignore[index]
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}
    vertex.queue(Reply.json(error, status=400))
    try:
        anthropic_client.messages.create(
            model=f"vertex-sa/{CLAUDE}", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
        raise AssertionError("expected a 400")
    except anthropic.BadRequestError as e:
        assert e.body == error  # Anthropic's own error body, unchanged
    vertex.queue(google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument."))
    try:
        openai_client.chat.completions.create(model=f"vertex-sa/{CLAUDE}", messages=[{"role": "user", "content": "Hi"}])
        raise AssertionError("expected a 400")
    except openai.BadRequestError as e:
        assert e.body["code"] == "INVALID_ARGUMENT"  # type: ignore[index]


def test_fallback_between_anthropic_and_vertex(
    anthropic_client: anthropic.Anthropic,
    openai_client: openai.OpenAI,
    vertex: FakeVertex,
    fake_anthropic: FakeUpstream,
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_anthropic.queue(Reply.json(overloaded, status=529))
    raw = anthropic_client.messages.with_raw_response.create(
        model="claude-anthropic-first", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )
    assert raw.headers["x-proxy-core-target"] == f"vertex-sa/{CLAUDE}"
    assert raw.parse().content[0].text == ANTHROPIC_TEXT  # type: ignore[union-attr]
    assert fake_anthropic.requests[0].json()["model"] == "claude-sonnet-4-5"
    assert "model" not in vertex.last.json()
    vertex.queue(google_error(503, "UNAVAILABLE", "The service is currently unavailable."))
    raw_chat = openai_client.chat.completions.with_raw_response.create(
        model="claude-vertex-first",
        messages=[{"role": "user", "content": "Hi"}],
        reasoning_effort="medium",
        max_tokens=4000,
    )
    assert raw_chat.headers["x-proxy-core-target"] == "anthropic-main/claude-sonnet-4-5"
    assert fake_anthropic.last.json()["thinking"] == {"type": "enabled", "budget_tokens": 2400}
    assert "anthropic_version" not in fake_anthropic.last.json()
    vertex.queue(google_error(429, "RESOURCE_EXHAUSTED", "Resource exhausted."))
    raw_chat = openai_client.chat.completions.with_raw_response.create(
        model="gemini-then-claude", messages=[{"role": "user", "content": "Hi"}]
    )
    assert raw_chat.headers["x-proxy-core-target"] == f"vertex-global/{CLAUDE}"
    assert raw_chat.parse().choices[0].message.content == ANTHROPIC_TEXT
