"""Tools through the openai SDK: parallel calls, results matched by name, thought
signatures echoed on the next turn (Gemini 3 rejects a call sent back without one)."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from proxy_core.testing import Reply
from proxy_core.testing.fake_gemini import FakeGemini, gemini_answer, gemini_events

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
SIG_1 = "CiQB0e2Kb-signature-of-the-first-call=="
SIG_TEXT = "EiYKJGF-signature-on-the-text=="
CALLS = [
    {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SIG_1},
    {"functionCall": {"name": "get_weather", "args": {"city": "Tokyo"}}},
]


def _round_trip(openai_client: openai.OpenAI, gemini: FakeGemini, message: Any) -> dict[str, Any]:
    """Send the assistant message back (model_dump, as the seed shows) with both results."""
    history = [
        {"role": "user", "content": "Weather in Paris and Tokyo?"},
        message.model_dump(exclude_none=True),
        *[
            {"role": "tool", "tool_call_id": c.id, "content": json.dumps({"temp": 20 + i})}
            for i, c in enumerate(message.tool_calls)
        ],
    ]
    final = openai_client.chat.completions.create(
        model="gemini-main/gemini-3-pro-preview", messages=history, tools=[WEATHER]
    )
    assert final.choices[0].message.content
    assert gemini.rejections == []
    return gemini.last.json()


def test_parallel_calls_and_signature_round_trip(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    gemini.queue(Reply.json(gemini_answer(CALLS)))
    answer = openai_client.chat.completions.create(
        model="gemini-main/gemini-3-pro-preview",
        messages=[{"role": "user", "content": "Weather in Paris and Tokyo?"}],
        tools=[WEATHER],
        tool_choice="required",
    )
    sent = gemini.last.json()
    assert sent["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parametersJsonSchema": WEATHER["function"]["parameters"],
                }
            ]
        }
    ]
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls
    assert calls is not None and [json.loads(c.function.arguments) for c in calls] == [
        {"city": "Paris"},
        {"city": "Tokyo"},
    ]
    assert len({c.id for c in calls}) == 2 and all(c.id.startswith("call_") for c in calls)
    assert calls[0].model_dump()["thought_signature"] == SIG_1
    body = _round_trip(openai_client, gemini, choice.message)
    model_turn, results = body["contents"][1], body["contents"][2]
    assert model_turn == {"role": "model", "parts": CALLS}  # signature back on the first call, byte for byte
    assert results == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "get_weather", "response": {"temp": 20}}},
            {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
        ],
    }


def test_a_gemini_3_call_without_its_signature_is_rejected_by_the_fake(
    openai_client: openai.OpenAI, gemini: FakeGemini
) -> None:
    """What happens to a client that drops the signature: the real API's 400, in OpenAI's shape."""
    history = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "cold"},
    ]
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="gemini-main/gemini-3-pro-preview", messages=history, tools=[WEATHER]
        )
    assert "thought_signature" in err.value.message
    assert err.value.body["code"] == "INVALID_ARGUMENT"  # type: ignore[index]
    # a plain (non-JSON) tool result goes under "result"
    assert gemini.last.json()["contents"][2]["parts"][0]["functionResponse"]["response"] == {"result": "cold"}


def test_streamed_calls_keep_ids_and_signatures(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    gemini.queue(gemini_events([{"text": "Let me check."}, *CALLS]))
    stream = openai_client.chat.completions.create(
        model="gemini-main/gemini-3-pro-preview",
        messages=[{"role": "user", "content": "Weather in Paris and Tokyo?"}],
        tools=[WEATHER],
        stream=True,
    )
    deltas = [c.choices[0].delta for c in stream if c.choices]
    calls = [tc for d in deltas for tc in (d.tool_calls or [])]
    assert [(c.index, c.function.name) for c in calls] == [(0, "get_weather"), (1, "get_weather")]  # type: ignore[union-attr]
    assert calls[0].model_dump()["thought_signature"] == SIG_1
    assert "".join(d.content or "" for d in deltas) == "Let me check."
    assert gemini.last.path.endswith(":streamGenerateContent?alt=sse")


def test_text_signature_comes_back_through_thinking_blocks(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    gemini.queue(
        Reply.json(
            gemini_answer([{"text": "thinking...", "thought": True}, {"text": "Done.", "thoughtSignature": SIG_TEXT}])
        )
    )
    first = openai_client.chat.completions.create(
        model="gemini-main/gemini-3-pro-preview", messages=[{"role": "user", "content": "Go"}]
    )
    message = first.choices[0].message.model_dump(exclude_none=True)
    assert message["thinking_blocks"] == [{"type": "thinking", "thinking": "thinking...", "signature": SIG_TEXT}]
    openai_client.chat.completions.create(
        model="gemini-main/gemini-3-pro-preview",
        messages=[{"role": "user", "content": "Go"}, message, {"role": "user", "content": "And?"}],
    )
    assert gemini.last.json()["contents"][1] == {
        "role": "model",
        "parts": [{"text": "Done.", "thoughtSignature": SIG_TEXT}],
    }


def test_tool_choice_forms(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    messages = [{"role": "user", "content": "Hi"}]
    openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-flash",
        messages=messages,
        tools=[WEATHER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert gemini.last.json()["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }
    openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-flash", messages=messages, tools=[WEATHER], tool_choice="none"
    )
    assert gemini.last.json()["toolConfig"] == {"functionCallingConfig": {"mode": "NONE"}}


def test_google_search_grounding_tool(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    grounding = {
        "groundingChunks": [{"web": {"uri": "https://example.org/time", "title": "example.org"}}],
        "groundingSupports": [{"segment": {"startIndex": 0, "endIndex": 8}, "groundingChunkIndices": [0]}],
        "webSearchQueries": ["current time"],
    }
    gemini.queue(Reply.json(gemini_answer([{"text": "It is 9am."}], groundingMetadata=grounding)))
    answer = openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-pro",
        messages=[{"role": "user", "content": "what date and time is right now?"}],
        tools=[{"type": "function", "function": {"name": "google_search"}}],  # the seed's form
    )
    assert gemini.last.json()["tools"] == [{"googleSearch": {}}]
    assert "toolConfig" not in gemini.last.json()
    annotations = answer.choices[0].message.annotations
    assert annotations is not None and annotations[0].url_citation.url == "https://example.org/time"
    assert (annotations[0].url_citation.start_index, annotations[0].url_citation.end_index) == (0, 8)
