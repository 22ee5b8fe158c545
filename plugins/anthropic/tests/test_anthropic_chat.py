"""Chat Completions through an ``anthropic`` account, with the official openai SDK.

The seed examples (000, 003) run unchanged but for base URL and key; each test checks
what the client got and exactly what the fake Anthropic upstream received.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from anthropic_helpers import MODEL, UPSTREAM_KEY, UPSTREAM_MODEL, message_reply

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway
from proxy_core.testing.fake_answers import ANTHROPIC_TEXT


def test_chat_non_stream(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    response = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "What is TrueFoundry in one line?"}]
    )
    assert response.choices[0].message.content == ANTHROPIC_TEXT
    assert response.choices[0].message.role == "assistant"
    assert response.choices[0].finish_reason == "stop"
    assert response.model == MODEL
    assert response.object == "chat.completion"
    usage = response.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (12, 8, 20)

    upstream = fake_anthropic.last
    assert upstream.method == "POST" and upstream.path == "/v1/messages"
    assert upstream.json() == {
        "model": UPSTREAM_MODEL,
        "messages": [{"role": "user", "content": "What is TrueFoundry in one line?"}],
        "max_tokens": 8192,
    }
    assert upstream.headers["x-api-key"] == UPSTREAM_KEY
    assert upstream.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in upstream.headers
    assert GATEWAY_KEY not in repr(upstream.headers) and GATEWAY_KEY.encode() not in upstream.body


def test_portkey_style_name_and_max_tokens(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    client = openai.OpenAI(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0)
    response = client.chat.completions.create(
        model="@anthropic-main/claude-sonnet-4-5",
        messages=[{"role": "user", "content": "What is Portkey's AI Gateway?"}],
        max_tokens=250,
    )
    assert response.choices[0].message.content == ANTHROPIC_TEXT
    assert response.model == "@anthropic-main/claude-sonnet-4-5"
    body = fake_anthropic.last.json()
    assert body["model"] == "claude-sonnet-4-5"
    assert body["max_tokens"] == 250


def test_system_prompts_hoisted_with_cache_control(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    cache = {"type": "ephemeral", "ttl": "5m"}
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": [{"type": "text", "text": "LONG PROMPT", "cache_control": cache}]},
            {"role": "user", "content": "What should I check in a Helm chart review?"},
            {"role": "developer", "content": "Answer briefly."},
            {"role": "user", "content": "And in a Dockerfile?", "name": "bob"},
        ],
    )
    body = fake_anthropic.last.json()
    assert body["system"] == [
        {"type": "text", "text": "LONG PROMPT", "cache_control": cache},
        {"type": "text", "text": "Answer briefly."},
    ]
    # The two user turns are now adjacent: merged into one, `name` dropped.
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What should I check in a Helm chart review?"},
                {"type": "text", "text": "And in a Dockerfile?"},
            ],
        }
    ]


def test_single_system_string_stays_a_string(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "You are a helpful document analysis assistant."},
            {"role": "user", "content": "hi"},
        ],
    )
    body = fake_anthropic.last.json()
    assert body["system"] == "You are a helpful document analysis assistant."
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_cache_usage_has_openai_meaning(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_creation_input_tokens": 1500,
        "cache_read_input_tokens": 300,
        "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1000},
        "output_tokens_details": {"thinking_tokens": 3},
    }
    fake_anthropic.queue(message_reply([{"type": "text", "text": "ok"}], usage=usage))
    response = openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    u = response.usage
    assert u is not None
    assert u.prompt_tokens == 1810 and u.completion_tokens == 5 and u.total_tokens == 1815
    assert u.prompt_tokens_details is not None and u.prompt_tokens_details.cached_tokens == 300
    extra = u.model_extra or {}
    assert extra["cache_creation_input_tokens"] == 1500
    assert extra["cache_read_input_tokens"] == 300
    assert extra["cache_creation"] == {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1000}
    assert u.completion_tokens_details is not None and u.completion_tokens_details.reasoning_tokens == 3


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "stop"),
        ("model_context_window_exceeded", "length"),
    ],
)
def test_stop_reason_mapping(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, stop_reason: str, finish_reason: str
) -> None:
    fake_anthropic.queue(message_reply([{"type": "text", "text": "x"}], stop_reason=stop_reason))
    response = openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert response.choices[0].finish_reason == finish_reason


def test_sampling_parameters(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        max_completion_tokens=300,
        stop="END",
        temperature=0.2,
        top_p=0.9,
        user="user-42",
        n=1,
        extra_body={"top_k": 40},
    )
    body = fake_anthropic.last.json()
    assert body == {
        "model": UPSTREAM_MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 300,
        "stop_sequences": ["END"],
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "metadata": {"user_id": "user-42"},
    }


def test_output_config_is_forwarded(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    config = {"effort": "low", "format": {"type": "json_schema", "schema": {"type": "object"}}}
    response = openai_client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], extra_body={"output_config": config}
    )
    assert fake_anthropic.last.json()["output_config"] == config
    assert "x-proxy-core-dropped-params" not in response.headers


def test_stop_list_and_max_tokens(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stop=["a", "b"], max_tokens=77
    )
    body = fake_anthropic.last.json()
    assert body["stop_sequences"] == ["a", "b"] and body["max_tokens"] == 77


@pytest.mark.parametrize(("model", "expected"), [("anthropic-main/claude-3-5", 8192), ("anthropic/claude-3-5", 8192)])
def test_default_max_tokens_per_model(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, model: str, expected: int
) -> None:
    openai_client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert fake_anthropic.last.json()["max_tokens"] == expected


def test_default_max_tokens_from_model_table(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_anthropic: FakeUpstream
) -> None:
    gateway_config["providers"]["anthropic-main"]["models"]["claude-3-5"] = {"max_tokens": 1234}
    gw = gateway_factory(gateway_config)
    client = openai.OpenAI(base_url=gw.url, api_key=GATEWAY_KEY, max_retries=0)
    client.chat.completions.create(model="anthropic-main/claude-3-5", messages=[{"role": "user", "content": "hi"}])
    assert fake_anthropic.last.json()["max_tokens"] == 1234


def test_openai_only_params_are_dropped_and_named(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        seed=7,
        frequency_penalty=0.5,
        presence_penalty=0.1,
        logit_bias={"50256": -100},
        logprobs=False,
        store=False,
        extra_body={"some_unknown_field": 1},
    )
    assert raw.parse().choices[0].message.content == ANTHROPIC_TEXT
    assert raw.headers["x-proxy-core-dropped-params"] == (
        "frequency_penalty,logit_bias,presence_penalty,seed,some_unknown_field"
    )
    body = fake_anthropic.last.json()
    assert set(body) == {"model", "messages", "max_tokens"}


def test_no_dropped_header_when_nothing_dropped(openai_client: openai.OpenAI) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    )
    assert "x-proxy-core-dropped-params" not in raw.headers


def test_version_and_beta_headers(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    client = openai.OpenAI(
        base_url=gateway.url,
        api_key=GATEWAY_KEY,
        max_retries=0,
        default_headers={"anthropic-version": "2099-01-01", "anthropic-beta": "token-efficient-tools-2025-02-19"},
    )
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    headers = fake_anthropic.last.headers
    assert headers["anthropic-version"] == "2099-01-01"
    assert headers["anthropic-beta"] == "token-efficient-tools-2025-02-19"
    assert headers["x-api-key"] == UPSTREAM_KEY


def test_vision_by_url_and_data_uri(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    image_url = "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/boardwalk.jpg/2560px-boardwalk.jpg"
    response = openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe this image in one sentence."},
                    {"type": "image_url", "image_url": {"url": image_url}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
                ],
            }
        ],
    )
    assert response.choices[0].message.content == ANTHROPIC_TEXT
    assert fake_anthropic.last.json()["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Describe this image in one sentence."},
                {"type": "image", "source": {"type": "url", "url": image_url}},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            ],
        }
    ]


def test_pdf_by_data_uri_and_file_id(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    pdf_b64 = "JVBERi0xLjQKJcfsj6IK"
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What text is in this PDF?"},
                    {
                        "type": "file",
                        "file": {"filename": "sample.pdf", "file_data": f"data:application/pdf;base64,{pdf_b64}"},
                    },
                    {"type": "file", "file": {"file_id": "file_011CNha8iCJcU1wXNR6q4V8w"}},
                ],
            }
        ],
    )
    assert fake_anthropic.last.json()["messages"][0]["content"] == [
        {"type": "text", "text": "What text is in this PDF?"},
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf_b64}},
        {"type": "document", "source": {"type": "file", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"}},
    ]


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_tools_round_trip_seed(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    """Seed 000's tool example: forced tool, tool_calls echoed back, tool result, final answer."""
    fake_anthropic.queue(
        message_reply(
            [{"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Bengaluru"}}],
            stop_reason="tool_use",
        ),
        message_reply([{"type": "text", "text": "It is 28°C and partly cloudy in Bengaluru."}]),
    )
    messages: list[Any] = [{"role": "user", "content": "Weather in Bengaluru?"}]
    first = openai_client.chat.completions.create(
        model=MODEL,
        messages=messages,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assistant_msg = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    assert assistant_msg.content is None
    tool_calls = assistant_msg.tool_calls or []
    assert len(tool_calls) == 1
    call = tool_calls[0]
    assert call.id == "toolu_01A" and call.type == "function"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Bengaluru"}
    first_body = fake_anthropic.last.json()
    assert first_body["tools"] == [
        {
            "name": "get_weather",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "description": "Get the current weather for a city.",
        }
    ]
    assert first_body["tool_choice"] == {"type": "tool", "name": "get_weather"}

    messages.append(assistant_msg)
    messages.append(
        {
            "role": "tool",
            "tool_call_id": call.id,
            "content": json.dumps({"city": "Bengaluru", "temp_c": 28, "summary": "partly cloudy"}),
        }
    )
    second = openai_client.chat.completions.create(model=MODEL, messages=messages)
    assert second.choices[0].message.content == "It is 28°C and partly cloudy in Bengaluru."
    assert fake_anthropic.last.json()["messages"] == [
        {"role": "user", "content": "Weather in Bengaluru?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Bengaluru"}}],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_01A",
                    "content": '{"city": "Bengaluru", "temp_c": 28, "summary": "partly cloudy"}',
                }
            ],
        },
    ]


@pytest.mark.parametrize(
    ("tool_choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
def test_tool_choice_mapping(
    openai_client: openai.OpenAI,
    fake_anthropic: FakeUpstream,
    tool_choice: str | None,
    parallel: bool | None,
    expected: dict[str, Any],
) -> None:
    kwargs: dict[str, Any] = {}
    if tool_choice is not None:
        kwargs["tool_choice"] = tool_choice
    if parallel is not None:
        kwargs["parallel_tool_calls"] = parallel
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        tools=[WEATHER_TOOL],
        **kwargs,
    )
    assert fake_anthropic.last.json()["tool_choice"] == expected


def test_parallel_tool_results_grouped_in_one_turn(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {
                "role": "assistant",
                "content": "Checking both.",
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    {
                        "id": "toolu_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": [{"type": "text", "text": "24C"}]},
            {"role": "user", "content": "Which is warmer?"},
        ],
    )
    assert fake_anthropic.last.json()["messages"] == [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking both."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "24C"}]},
                {"type": "text", "text": "Which is warmer?"},
            ],
        },
    ]


SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds7rvWM2C/kG/ZRl6uZv1ypZo+VULo3FDLkqOZhPOdA=="


def test_thinking_response_and_continuation(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(
        message_reply(
            [
                {"type": "thinking", "thinking": "The ball costs x...", "signature": SIGNATURE},
                {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
                {"type": "text", "text": "The ball costs $0.05."},
                {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {}},
            ],
            stop_reason="tool_use",
        )
    )
    response = openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "A bat and ball cost $1.10..."}],
        max_tokens=8000,
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 2030}},
    )
    assert fake_anthropic.last.json()["thinking"] == {"type": "enabled", "budget_tokens": 2030}
    msg = response.choices[0].message
    extra = msg.model_extra or {}
    assert msg.content == "The ball costs $0.05."
    assert extra["reasoning_content"] == "The ball costs x..."
    blocks = extra["thinking_blocks"]
    assert blocks == [
        {"type": "thinking", "thinking": "The ball costs x...", "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
    ]
    assert msg.tool_calls is not None and msg.tool_calls[0].function.arguments == "{}"

    # Continue the turn: the assistant message goes back as the SDK gives it.
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "A bat and ball cost $1.10..."},
            msg.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": "toolu_9", "content": "sunny"},
        ],
    )
    assistant = fake_anthropic.last.json()["messages"][1]
    assert assistant == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "The ball costs x...", "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
            {"type": "text", "text": "The ball costs $0.05."},
            {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {}},
        ],
    }


def test_cache_control_kept_everywhere(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    cache = {"type": "ephemeral"}
    tool = {**WEATHER_TOOL, "cache_control": cache}
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "doc", "cache_control": cache},
                    {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}, "cache_control": cache},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "toolu_c", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "toolu_c",
                "content": [{"type": "text", "text": "sunny", "cache_control": cache}],
            },
        ],
        tools=[tool],
    )
    body = fake_anthropic.last.json()
    assert body["tools"][0]["cache_control"] == cache
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "doc", "cache_control": cache},
        {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}, "cache_control": cache},
    ]
    assert body["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_c",
            "content": [{"type": "text", "text": "sunny", "cache_control": cache}],
        }
    ]


@pytest.mark.parametrize(("budget", "expected"), [(2030, 8192), (8192, 16384), (20000, 28192)])
def test_default_max_tokens_leaves_room_for_thinking(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, budget: int, expected: int
) -> None:
    openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        extra_body={"thinking": {"type": "enabled", "budget_tokens": budget}},
    )
    body = fake_anthropic.last.json()
    assert body["max_tokens"] == expected
    assert body["thinking"] == {"type": "enabled", "budget_tokens": budget}
