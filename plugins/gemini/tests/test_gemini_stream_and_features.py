"""Streams, reasoning effort, structured output and fallback, through the openai SDK."""

from __future__ import annotations

import json

import openai
import pytest

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_gemini import GEMINI_TEXT, FakeGemini, gemini_answer, gemini_events, google_error

USAGE = {"promptTokenCount": 9, "candidatesTokenCount": 4, "thoughtsTokenCount": 5, "totalTokenCount": 18}
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "person", "schema": SCHEMA, "strict": True}}


def test_stream_with_thoughts_and_usage(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    gemini.queue(
        gemini_events([{"text": "Let me think", "thought": True}, {"text": "Four"}, {"text": "."}], usage=USAGE)
    )
    chunks = list(
        openai_client.chat.completions.create(
            model="gemini-main/gemini-2.5-flash",
            messages=[{"role": "user", "content": "2+2?"}],
            stream=True,
            stream_options={"include_usage": True},
            reasoning_effort="low",
            max_tokens=1000,
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join(d.content or "" for d in deltas) == "Four."
    assert "".join(getattr(d, "reasoning_content", None) or "" for d in deltas) == "Let me think"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    usage = chunks[-1].usage
    assert chunks[-1].choices == [] and usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (9, 9)
    sent = gemini.last
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert sent.json()["generationConfig"] == {
        "maxOutputTokens": 1000,
        "thinkingConfig": {"thinkingBudget": 300, "includeThoughts": True},
    }


def test_stream_cut_before_finish_reason_is_an_error_event(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    reply = gemini_events([{"text": "Par"}, {"text": "tial"}])
    reply.cut_after = 1
    gemini.queue(reply)
    stream = openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass


@pytest.mark.parametrize(
    ("model", "effort", "max_tokens", "expected"),
    [
        ("gemini-2.5-pro", "high", 10000, {"thinkingBudget": 9000, "includeThoughts": True}),
        ("gemini-2.5-pro", "low", 200, {"thinkingBudget": 128, "includeThoughts": True}),  # the model's minimum
        ("gemini-2.5-pro", "medium", None, {"thinkingBudget": 4915, "includeThoughts": True}),  # 0.6 x 8192
        ("gemini-2.5-pro", "none", None, {"thinkingBudget": 128}),  # 2.5 Pro cannot stop thinking
        ("gemini-2.5-flash", "none", None, {"thinkingBudget": 0}),
        ("gemini-2.5-flash", "high", 100000, {"thinkingBudget": 24576, "includeThoughts": True}),  # its maximum
        ("gemini-3-pro-preview", "high", None, {"thinkingLevel": "high", "includeThoughts": True}),
        ("gemini-3-pro-preview", "medium", None, {"thinkingLevel": "high", "includeThoughts": True}),
        ("gemini-3-pro-preview", "low", None, {"thinkingLevel": "low", "includeThoughts": True}),
        ("gemini-3-pro-preview", "none", None, {"thinkingLevel": "low"}),
    ],
)
def test_reasoning_effort_to_thinking_config(
    openai_client: openai.OpenAI, gemini: FakeGemini, model: str, effort: str, max_tokens: int | None, expected: dict
) -> None:
    extra = {"max_tokens": max_tokens} if max_tokens else {}
    openai_client.chat.completions.create(
        model=f"gemini-main/{model}", messages=[{"role": "user", "content": "Q"}], reasoning_effort=effort, **extra
    )  # type: ignore[call-overload]
    assert gemini.rejections == []
    assert gemini.last.json()["generationConfig"]["thinkingConfig"] == expected


def test_reasoning_effort_is_dropped_for_a_model_that_cannot_think(
    openai_client: openai.OpenAI, gemini: FakeGemini
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gemini-main/gemini-2.0-flash", messages=[{"role": "user", "content": "Q"}], reasoning_effort="high"
    )
    assert raw.headers["x-proxy-core-reasoning-dropped"] == "reasoning_effort"
    assert "generationConfig" not in gemini.last.json()


def test_structured_output_native_without_tools(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    gemini.queue(Reply.json(gemini_answer([{"text": '{"name": "Sarah", "age": 28}'}])))
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gemini-main/gemini-2.5-pro",
        messages=[{"role": "user", "content": "Sarah, 28"}],
        response_format=JSON_SCHEMA,  # type: ignore[arg-type]
    )
    assert raw.headers["x-proxy-core-structured-output"] == "native"
    assert json.loads(raw.parse().choices[0].message.content or "") == {"name": "Sarah", "age": 28}
    config = gemini.last.json()["generationConfig"]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": SCHEMA}
    openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-pro",
        messages=[{"role": "user", "content": "JSON please"}],
        response_format={"type": "json_object"},
    )
    assert gemini.last.json()["generationConfig"] == {"responseMimeType": "application/json"}


def test_structured_output_strict_schema_missing_required_is_a_400(
    openai_client: openai.OpenAI, gemini: FakeGemini
) -> None:
    loose = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="gemini-main/gemini-2.5-pro",
            messages=[{"role": "user", "content": "x"}],
            response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": loose, "strict": True}},
        )
    assert "missing: b" in err.value.message and gemini.requests == []


def test_structured_output_with_tools_goes_through_a_forced_function(
    openai_client: openai.OpenAI, gemini: FakeGemini
) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}
    call = {"functionCall": {"name": "person", "args": {"name": "Mike", "age": 32}}}
    gemini.queue(Reply.json(gemini_answer([call])))
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gemini-main/gemini-2.5-pro",
        messages=[{"role": "user", "content": "Mike, 32"}],
        tools=[tool],  # type: ignore[list-item]
        response_format=JSON_SCHEMA,  # type: ignore[arg-type]
    )
    assert raw.headers["x-proxy-core-structured-output"] == "tool"
    choice = raw.parse().choices[0]
    assert json.loads(choice.message.content or "") == {"name": "Mike", "age": 32}
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    sent = gemini.last.json()
    assert "responseMimeType" not in sent.get("generationConfig", {})  # never JSON together with tools
    assert [d["name"] for d in sent["tools"][0]["functionDeclarations"]] == ["lookup", "person"]
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}


def test_fallback_from_gemini_to_anthropic_and_back(
    openai_client: openai.OpenAI, gemini: FakeGemini, fake_anthropic: FakeUpstream
) -> None:
    gemini.queue(google_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later."))
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gemini-then-claude", messages=[{"role": "user", "content": "Hi"}]
    )
    assert raw.headers["x-proxy-core-target"] == "anthropic-main/claude-sonnet-4-5"
    assert len(gemini.requests) == 1 and len(fake_anthropic.requests) == 1
    fake_anthropic.queue(
        Reply.json({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, status=529)
    )
    raw = openai_client.chat.completions.with_raw_response.create(
        model="claude-then-gemini", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    assert raw.headers["x-proxy-core-target"] == "gemini-main/gemini-2.5-flash"
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert text == GEMINI_TEXT
