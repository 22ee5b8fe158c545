"""cache_control forwarded or stripped, prompt_cache_key, short-prefix warnings and cache
usage, through the official SDKs (seeds 000 and 004), both ends checked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from proxy_core_anthropic.provider import AnthropicProvider
from proxy_core_prompt_cache.plugin import STRIPPED_HEADER, WARNING_HEADER

from proxy_core import hookimpl
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_answers import anthropic_events, anthropic_message, openai_chunks, openai_completion

CACHE = {"type": "ephemeral", "ttl": "5m"}
LONG_SYSTEM_PROMPT = "You review Kubernetes Helm charts for security and reliability issues. " * 80  # ~1.2k tokens
SONNET_4 = "anthropic-main/claude-sonnet-4-20250514"
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
    "cache_control": {"type": "ephemeral"},
}


def _seed_messages() -> list[Any]:
    return [
        {"role": "system", "content": [{"type": "text", "text": LONG_SYSTEM_PROMPT, "cache_control": CACHE}]},
        {"role": "user", "content": "What should I check in a Helm chart review?"},
    ]


def _everywhere() -> list[Any]:
    """cache_control on a system part, user and assistant parts and a tool result."""
    mark = {"type": "ephemeral"}
    return [
        {"role": "system", "content": [{"type": "text", "text": LONG_SYSTEM_PROMPT, "cache_control": mark}]},
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?", "cache_control": mark}]},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "Checking.", "cache_control": mark}],
            "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "toolu_1",
            "content": [{"type": "text", "text": "18C", "cache_control": mark}],
        },
    ]


def test_seed_000_prompt_caching(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    text = [{"type": "text", "text": "Check values, RBAC and probes."}]
    first = {"input_tokens": 20, "output_tokens": 9, "cache_creation_input_tokens": 1210, "cache_read_input_tokens": 0}
    second = {"input_tokens": 20, "output_tokens": 9, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1210}
    for usage in (first, second):
        fake_anthropic.queue(Reply.json(anthropic_message("claude-sonnet-4-20250514", text, usage=usage)))

    seen = []
    for _ in range(2):
        raw = openai_client.chat.completions.with_raw_response.create(model=SONNET_4, messages=_seed_messages())
        usage = raw.parse().usage
        assert usage is not None
        extra = getattr(usage, "model_extra", {}) or {}
        seen.append((extra.get("cache_creation_input_tokens", 0), extra.get("cache_read_input_tokens", 0)))
        assert WARNING_HEADER not in raw.headers and STRIPPED_HEADER not in raw.headers
    assert seen == [(1210, 0), (0, 1210)]
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 1210
    assert usage.prompt_tokens == 1230

    upstream = fake_anthropic.last.json()
    assert upstream["system"] == [{"type": "text", "text": LONG_SYSTEM_PROMPT, "cache_control": CACHE}]


def test_cache_usage_in_a_stream(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    usage = {"cache_creation_input_tokens": 0, "cache_read_input_tokens": 1210}
    fake_anthropic.queue(Reply.sse(anthropic_events("claude-sonnet-4-20250514", "Check RBAC.", usage=usage)))
    stream = openai_client.chat.completions.create(
        model=SONNET_4, messages=_seed_messages(), stream=True, stream_options={"include_usage": True}
    )
    last = list(stream)[-1]
    assert last.usage is not None
    extra = last.usage.model_extra or {}
    assert (extra["cache_creation_input_tokens"], extra["cache_read_input_tokens"]) == (0, 1210)
    assert last.usage.prompt_tokens_details is not None and last.usage.prompt_tokens_details.cached_tokens == 1210


def test_forwarded_unchanged_to_anthropic(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model=SONNET_4,
        messages=_everywhere(),
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    )
    upstream = fake_anthropic.last.json()
    mark = {"type": "ephemeral"}
    assert upstream["tools"][0]["cache_control"] == mark
    assert upstream["system"][0]["cache_control"] == mark
    assert upstream["messages"][0]["content"][0]["cache_control"] == mark
    assert upstream["messages"][1]["content"][0]["cache_control"] == mark
    tool_result = upstream["messages"][2]["content"][0]
    assert tool_result["type"] == "tool_result" and tool_result["content"][0]["cache_control"] == mark
    assert STRIPPED_HEADER not in raw.headers


@pytest.mark.parametrize("stream", [False, True])
def test_never_reaches_an_openai_account(openai_client: openai.OpenAI, fake_openai: FakeUpstream, stream: bool) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="openai-main/gpt-4o-mini",
        messages=[*_everywhere(), {"role": "user", "content": "And?", "cache_control": {"type": "ephemeral"}}],  # type: ignore[list-item]
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        stream=stream,
    )
    if stream:
        list(raw.parse())
    else:
        raw.parse()
    assert len(fake_openai.requests) == 1
    assert b"cache_control" not in fake_openai.last.body
    sent = fake_openai.last.json()
    assert sent["messages"][0]["content"] == [{"type": "text", "text": LONG_SYSTEM_PROMPT}]
    assert sent["tools"][0] == {k: v for k, v in WEATHER_TOOL.items() if k != "cache_control"}
    assert raw.headers[STRIPPED_HEADER] == "cache_control"


def test_seed_004_prompt_cache_key_goes_to_openai_only(
    openai_client: openai.OpenAI, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream
) -> None:
    answer = openai_completion("gpt-4o", "Sure.")
    answer["usage"]["prompt_tokens_details"] = {"cached_tokens": 1024}
    fake_openai.queue(Reply.json(answer))
    response = openai_client.chat.completions.create(
        model="openai-main/gpt-4o",
        messages=_seed_messages(),
        prompt_cache_key="helm-reviews",
    )
    assert fake_openai.last.json()["prompt_cache_key"] == "helm-reviews"
    assert response.usage is not None and response.usage.prompt_tokens_details is not None
    assert response.usage.prompt_tokens_details.cached_tokens == 1024  # reported as the provider gave it

    raw = openai_client.chat.completions.with_raw_response.create(
        model=SONNET_4, messages=_seed_messages(), prompt_cache_key="helm-reviews"
    )
    assert "prompt_cache_key" not in fake_anthropic.last.json()
    assert raw.headers[STRIPPED_HEADER] == "prompt_cache_key"
    assert "x-proxy-core-dropped-params" not in raw.headers


def test_other_openai_compatible_accounts_strip_too(openai_client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(Reply.sse(openai_chunks("grok-4-0709", "ok")))
    stream = openai_client.chat.completions.create(model="xai-main/grok-4-0709", messages=_seed_messages(), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "ok"
    assert b"cache_control" not in fake_openai.last.body


@pytest.mark.parametrize(
    ("model", "text", "minimum"),
    [
        (SONNET_4, "Be brief.", 1024),
        ("anthropic-main/claude-3-5-haiku-20241022", "x" * 1500, 2048),
        ("anthropic-main/claude-opus-4-6", "z" * 3000, 4096),  # could reach Sonnet 4's minimum, not Opus 4.6's
    ],
)
def test_surely_too_short_prefix_gets_a_warning(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, model: str, text: str, minimum: int
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model=model,
        messages=[
            {"role": "system", "content": [{"type": "text", "text": text, "cache_control": CACHE}]},
            {"role": "user", "content": "hi"},
        ],
    )
    assert raw.parse().choices[0].message.content  # never an error
    warning = raw.headers[WARNING_HEADER]
    assert f"below the {minimum}-token minimum" in warning and "nothing will be cached" in warning
    assert fake_anthropic.last.json()["system"][0]["cache_control"] == CACHE  # still forwarded


@pytest.mark.parametrize(
    ("model", "messages"),
    [
        (SONNET_4, _seed_messages()),  # long enough
        (
            "anthropic-main/claude-3-5",
            [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": CACHE}]}],
        ),
        (
            "anthropic-main/claude-sonnet-4-5",
            [
                {"role": "system", "content": [{"type": "text", "text": "y" * 100, "cache_control": CACHE}]},
                {"role": "user", "content": "hi"},
            ],
        ),  # config: 64
        (
            SONNET_4,
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "https://x.test/big.png"}},
                        {"type": "text", "text": "Describe it.", "cache_control": CACHE},
                    ],
                }
            ],
        ),  # an image's tokens are not knowable: no claim
        (SONNET_4, [{"role": "user", "content": "hi"}]),  # nothing marked
    ],
)
def test_no_warning_unless_surely_too_short(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, model: str, messages: list[Any]
) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(model=model, messages=messages)
    assert WARNING_HEADER not in raw.headers


def test_tools_count_in_the_prefix(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    # A short prompt after tools: the tools' size (and Anthropic's tool prompt) may reach
    # the minimum, so no warning is claimed.
    raw = openai_client.chat.completions.with_raw_response.create(
        model=SONNET_4,
        messages=[{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": CACHE}]}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
    )
    assert WARNING_HEADER not in raw.headers


@pytest.mark.parametrize("stream", [False, True])
def test_messages_route_forwards_and_reports_cache_usage(
    anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream, stream: bool
) -> None:
    usage = {"input_tokens": 20, "output_tokens": 9, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 1210}
    if stream:
        fake_anthropic.queue(Reply.sse(anthropic_events("claude-sonnet-4-20250514", "ok", usage=usage)))
    else:
        fake_anthropic.queue(
            Reply.json(anthropic_message("claude-sonnet-4-20250514", [{"type": "text", "text": "ok"}], usage=usage))
        )
    kwargs: dict[str, Any] = {
        "model": SONNET_4,
        "max_tokens": 256,
        "system": [{"type": "text", "text": LONG_SYSTEM_PROMPT, "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
        "messages": [{"role": "user", "content": "What should I check?"}],
    }
    if stream:
        with anthropic_client.messages.stream(**kwargs) as events:
            message = events.get_final_message()
    else:
        message = anthropic_client.messages.create(**kwargs)
    assert message.usage.cache_read_input_tokens == 1210
    assert fake_anthropic.last.json()["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}


class _NoExplicitCaching(AnthropicProvider):
    type_name = "claude-no-cache"
    capabilities = AnthropicProvider.capabilities - {"cache_control"}


class _Registers:
    @hookimpl
    def register_providers(self, register: Callable[[str, type], None]) -> None:
        register("claude-no-cache", _NoExplicitCaching)


def test_keys_on_the_capability_not_the_type_name(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_anthropic: FakeUpstream
) -> None:
    gateway_config["providers"]["no-cache"] = {
        **gateway_config["providers"]["anthropic-main"],
        "type": "claude-no-cache",
    }
    gw = gateway_factory(gateway_config, plugins=[("claude-no-cache", _Registers())])
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as client:
        client.chat.completions.create(
            model="no-cache/claude-sonnet-4-20250514",
            messages=_everywhere(),
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
        )
    assert b"cache_control" not in fake_anthropic.last.body
