"""reasoning_effort -> Anthropic thinking, through the official openai SDK (seeds 000, 004)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai
import pytest
from proxy_core_anthropic.provider import AnthropicProvider
from proxy_core_reasoning.plugin import BUDGET_HEADER, DROPPED_HEADER
from proxy_core_reasoning.settings import parse
from reasoning_helpers import REDACTED, SIGNATURE, events_reply, message_reply

from proxy_core import ConfigError, hookimpl
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway

BAT_AND_BALL = "A bat and ball cost $1.10.The bat costs $1.00 more than the ball. How much is the ball?"
THINKING = {"type": "thinking", "thinking": "Let x be the ball: x + x + 1.00 = 1.10...", "signature": SIGNATURE}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_seed_000_bat_and_ball(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(
        message_reply(
            "claude-sonnet-4-20250514",
            [THINKING, {"type": "text", "text": "The ball costs $0.05."}],
            usage={"input_tokens": 40, "output_tokens": 120, "output_tokens_details": {"thinking_tokens": 90}},
        )
    )
    raw = openai_client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": BAT_AND_BALL}],
        reasoning_effort="high",
        max_tokens=8000,
    )
    response = raw.parse()
    upstream = fake_anthropic.last.json()
    assert upstream["thinking"] == {"type": "enabled", "budget_tokens": 7200}  # 90% of 8000
    assert upstream["max_tokens"] == 8000
    assert "reasoning_effort" not in upstream
    assert raw.headers[BUDGET_HEADER] == "7200"
    assert "x-proxy-core-dropped-params" not in raw.headers and DROPPED_HEADER not in raw.headers

    msg = response.choices[0].message
    extra = msg.model_extra or {}
    assert msg.content == "The ball costs $0.05."
    assert extra["reasoning_content"] == THINKING["thinking"]
    assert extra["thinking_blocks"] == [THINKING]
    assert response.usage is not None and response.usage.completion_tokens_details is not None
    assert response.usage.completion_tokens_details.reasoning_tokens == 90


@pytest.mark.parametrize(("effort", "budget"), [("low", 2400), ("medium", 4800), ("high", 7200)])
def test_ratios_of_max_tokens(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, effort: str, budget: int
) -> None:
    openai_client.chat.completions.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort=effort,  # type: ignore[arg-type]
        max_completion_tokens=8000,
    )
    assert fake_anthropic.last.json()["thinking"] == {"type": "enabled", "budget_tokens": budget}


def test_none_enables_no_thinking(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="none",
        max_tokens=8000,
        temperature=0.2,
    )
    upstream = fake_anthropic.last.json()
    assert "thinking" not in upstream and "reasoning_effort" not in upstream
    assert upstream["temperature"] == 0.2  # no thinking, no thinking rules
    assert DROPPED_HEADER not in raw.headers and "x-proxy-core-dropped-params" not in raw.headers


@pytest.mark.parametrize(
    "model",
    [
        "claude-3-7-sonnet-20250219",
        "claude-sonnet-4-20250514",
        "claude-opus-4-1-20250805",
        "claude-sonnet-4-5",
        "claude-opus-4-6",
    ],
)
def test_budget_is_the_default_for_every_seed_model(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, model: str
) -> None:
    openai_client.chat.completions.create(
        model="anthropic-main/" + model,
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="medium",
        max_tokens=10000,
    )
    assert fake_anthropic.last.json()["thinking"] == {"type": "enabled", "budget_tokens": 6000}


def test_absent_max_tokens_uses_the_default(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    openai_client.chat.completions.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="high",
    )
    upstream = fake_anthropic.last.json()
    assert upstream["max_tokens"] == 8192
    assert upstream["thinking"]["budget_tokens"] == 7372  # int(0.9 * 8192)


def test_absent_max_tokens_uses_the_models_config(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    openai_client.chat.completions.create(
        model="anthropic-main/claude-small", messages=[{"role": "user", "content": "hi"}], reasoning_effort="high"
    )
    upstream = fake_anthropic.last.json()
    assert (upstream["max_tokens"], upstream["thinking"]["budget_tokens"]) == (4000, 3600)


def test_budget_below_1024_is_raised_to_1024(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="low",
        max_tokens=2000,  # 30% = 600
    )
    assert fake_anthropic.last.json()["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert fake_anthropic.last.json()["max_tokens"] == 2000
    assert raw.headers[BUDGET_HEADER] == "1024"


def test_max_tokens_too_small_for_any_budget_is_a_400(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="anthropic-main/claude-sonnet-4-20250514",
            messages=[{"role": "user", "content": "hi"}],
            reasoning_effort="high",
            max_tokens=1024,
        )
    assert "max_tokens above 1024" in str(err.value)
    assert err.value.param == "max_tokens"
    assert fake_anthropic.requests == []


def test_unknown_effort_is_a_400(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="anthropic-main/claude-sonnet-4-20250514",
            messages=[{"role": "user", "content": "hi"}],
            reasoning_effort="extreme",  # type: ignore[arg-type]
        )
    assert "none, low, medium, high" in str(err.value)
    assert fake_anthropic.requests == []


def test_thinking_rules_drop_conflicting_params(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": "Weather in Bengaluru?"}],
        reasoning_effort="medium",
        max_tokens=8000,
        temperature=0.2,
        top_p=0.5,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        extra_body={"top_k": 40},
    )
    upstream = fake_anthropic.last.json()
    for name in ("temperature", "top_p", "top_k", "tool_choice"):
        assert name not in upstream
    assert upstream["thinking"]["budget_tokens"] == 4800
    assert raw.headers[DROPPED_HEADER] == "temperature,top_k,top_p,tool_choice"


def test_thinking_rules_keep_what_thinking_allows(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=8000,
        temperature=1,
        top_p=0.97,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        tool_choice="auto",
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 2000}},  # the client's own thinking
    )
    upstream = fake_anthropic.last.json()
    assert (upstream["temperature"], upstream["top_p"], upstream["tool_choice"]) == (1, 0.97, {"type": "auto"})
    assert upstream["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert DROPPED_HEADER not in raw.headers


def test_clients_thinking_wins_over_reasoning_effort(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="high",
        max_tokens=8000,
        temperature=0.5,
        extra_body={"thinking": {"type": "enabled", "budget_tokens": 2000}},
    )
    assert fake_anthropic.last.json()["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert raw.headers[DROPPED_HEADER] == "reasoning_effort,temperature"


def test_model_without_thinking_drops_reasoning_effort(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-3-5-haiku-20241022",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="high",
        temperature=0.3,
    )
    upstream = fake_anthropic.last.json()
    assert "thinking" not in upstream and "reasoning_effort" not in upstream
    assert upstream["temperature"] == 0.3
    assert raw.headers[DROPPED_HEADER] == "reasoning_effort"


def test_adaptive_thinking_where_config_opts_in(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="anthropic-main/claude-opus-4-6-adaptive",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="medium",
        max_tokens=8000,
    )
    upstream = fake_anthropic.last.json()
    assert upstream["thinking"] == {"type": "adaptive"}
    assert upstream["output_config"] == {"effort": "medium"}
    assert BUDGET_HEADER not in raw.headers


def test_native_effort_where_config_opts_in(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    openai_client.chat.completions.create(
        model="anthropic-main/claude-opus-4-5-effort",
        messages=[{"role": "user", "content": "hi"}],
        reasoning_effort="low",
        extra_body={"output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}},
    )
    upstream = fake_anthropic.last.json()
    assert "thinking" not in upstream
    assert upstream["output_config"] == {
        "format": {"type": "json_schema", "schema": {"type": "object"}},
        "effort": "low",
    }


def test_seed_004_multi_turn_echo(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    model = "anthropic-main/claude-opus-4-1-20250805"
    redacted = {"type": "redacted_thinking", "data": REDACTED}
    fake_anthropic.queue(
        message_reply("claude-opus-4-1-20250805", [THINKING, redacted, {"type": "text", "text": "7625597484987"}])
    )
    response = openai_client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "What is 3^3^3?"}], reasoning_effort="high", max_tokens=8000
    )
    assistant_message = response.choices[0].message.model_dump(exclude_none=True)
    openai_client.chat.completions.create(
        model=model,
        messages=[
            {"role": "user", "content": "What is 3^3^3?"},
            assistant_message,  # type: ignore[list-item]
            {"role": "user", "content": "Now explain why exponentiation is right-associative."},
        ],
        reasoning_effort="high",
        max_tokens=8000,
    )
    second = fake_anthropic.last.json()
    assert second["thinking"] == {"type": "enabled", "budget_tokens": 7200}
    assert second["messages"][1] == {
        "role": "assistant",
        "content": [THINKING, redacted, {"type": "text", "text": "7625597484987"}],
    }


def test_seed_004_multi_turn_thinking_with_tools(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    model = "anthropic-main/claude-opus-4-1-20250805"
    tool_use = {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Tokyo"}}
    fake_anthropic.queue(message_reply("claude-opus-4-1-20250805", [THINKING, tool_use], stop_reason="tool_use"))
    fake_anthropic.queue(message_reply("claude-opus-4-1-20250805", [{"type": "text", "text": "Sunny, 24°C in Tokyo."}]))

    tools = [WEATHER_TOOL]
    messages: list[Any] = [{"role": "user", "content": "What's the weather in Tokyo?"}]
    response = openai_client.chat.completions.create(
        model=model,
        messages=messages,
        tools=tools,
        reasoning_effort="high",
        max_tokens=8000,  # type: ignore[arg-type]
    )
    msg = response.choices[0].message
    assert response.choices[0].finish_reason == "tool_calls"
    messages.append(msg.model_dump(exclude_none=True))
    for tool_call in msg.tool_calls or []:
        args = json.loads(tool_call.function.arguments)  # type: ignore[union-attr]
        messages.append({"role": "tool", "tool_call_id": tool_call.id, "content": f"Sunny, 24°C in {args['city']}"})
    response2 = openai_client.chat.completions.create(
        model=model,
        messages=messages,
        tools=tools,
        reasoning_effort="high",
        max_tokens=8000,  # type: ignore[arg-type]
    )
    assert response2.choices[0].message.content == "Sunny, 24°C in Tokyo."

    first, second = (r.json() for r in fake_anthropic.requests)
    assert first["thinking"] == second["thinking"] == {"type": "enabled", "budget_tokens": 7200}
    assert second["messages"] == [
        {"role": "user", "content": "What's the weather in Tokyo?"},
        {"role": "assistant", "content": [THINKING, tool_use]},  # thinking first, signature untouched
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "Sunny, 24°C in Tokyo"}],
        },
    ]


def test_stream_reasoning_and_thinking_blocks(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    redacted = {"type": "redacted_thinking", "data": REDACTED}
    fake_anthropic.queue(
        events_reply(
            "claude-sonnet-4-20250514", [THINKING, redacted, {"type": "text", "text": "The ball costs $0.05."}]
        )
    )
    stream = openai_client.chat.completions.create(
        model="anthropic-main/claude-sonnet-4-20250514",
        messages=[{"role": "user", "content": BAT_AND_BALL}],
        reasoning_effort="high",
        max_tokens=8000,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta.model_dump(exclude_none=True) for c in chunks if c.choices]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == THINKING["thinking"]
    assert "".join(d.get("content", "") for d in deltas) == "The ball costs $0.05."
    blocks = [b for d in deltas for b in d.get("thinking_blocks", [])]
    assert blocks == [THINKING, redacted]
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 25
    upstream = fake_anthropic.last.json()
    assert upstream["stream"] is True and upstream["thinking"] == {"type": "enabled", "budget_tokens": 7200}


class _ClaudeCompatible(AnthropicProvider):
    type_name = "claude-compatible"


class _RegistersClaudeCompatible:
    @hookimpl
    def register_providers(self, register: Callable[[str, type], None]) -> None:
        register("claude-compatible", _ClaudeCompatible)


def test_keys_on_the_capability_not_the_type_name(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_anthropic: FakeUpstream
) -> None:
    gateway_config["providers"]["claude-other"] = {
        **gateway_config["providers"]["anthropic-main"],
        "type": "claude-compatible",
    }
    gateway_config["plugins"]["reasoning"] = {"ratios": {"high": 0.5}}
    gw = gateway_factory(gateway_config, plugins=[("claude-compatible", _RegistersClaudeCompatible())])
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as client:
        client.chat.completions.create(
            model="claude-other/claude-sonnet-4-5",
            messages=[{"role": "user", "content": "hi"}],
            reasoning_effort="high",
            max_tokens=8000,
        )
    assert fake_anthropic.last.json()["thinking"] == {"type": "enabled", "budget_tokens": 4000}  # configured ratio


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"ratios": {"high": 1.5}}, "plugins.reasoning.ratios.high"),
        ({"ratios": "fast"}, "plugins.reasoning.ratios"),
        ({"default_max_tokens": 100}, "plugins.reasoning.default_max_tokens"),
    ],
)
def test_bad_settings_name_the_path(section: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(section)
    assert err.value.problems[0].startswith(path + ":")
