"""The OpenAI-compatible family (groq, xai, mistral, deepseek, openrouter, together,
fireworks, vllm, ollama) through the official openai SDK, against a fake that rejects
what each real provider rejects: both ends asserted, parametrized across providers."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
from openai_family_fake import MODELS, RULES, FamilyFake

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import OPENAI_TEXT, openai_chunks, openai_completion

PROVIDERS = list(MODELS)
DROPPED = "x-proxy-core-dropped-params"
IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


def name(provider: str, model: str | None = None) -> str:
    return f"{provider}-main/{model or MODELS[provider]}"


def names(header: str | None) -> list[str] | None:
    """A dropped-params header's names (their order follows the client's JSON)."""
    return sorted(header.split(",")) if header else None


def sent(family: FamilyFake) -> dict[str, Any]:
    assert family.rejections == [], family.rejections
    return dict(family.last.json())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_plain_with_system(family_client: openai.OpenAI, family: FamilyFake, provider: str) -> None:
    messages: list[Any] = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    done = family_client.chat.completions.create(model=name(provider), messages=messages)
    assert done.choices[0].message.content == OPENAI_TEXT
    assert done.model == name(provider) and done.usage is not None and done.usage.total_tokens == 20
    body = sent(family)
    prefix = "/deepseek" if provider == "deepseek" else f"/{provider}/v1"
    assert family.last.path == prefix + "/chat/completions"
    assert body == {"model": MODELS[provider], "messages": messages}
    key = RULES[provider].key
    assert family.last.headers.get("authorization") == (f"Bearer {key}" if key else None)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stream_with_usage(family_client: openai.OpenAI, family: FamilyFake, provider: str) -> None:
    chunks = list(
        family_client.chat.completions.create(
            model=name(provider),
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == OPENAI_TEXT
    usage = [c.usage for c in chunks if c.usage is not None]
    assert usage and usage[-1].prompt_tokens == 12 and usage[-1].completion_tokens == 8
    body = sent(family)
    if provider == "mistral":  # no stream_options there: usage rides on the last chunk
        assert "stream_options" not in body
    else:
        assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_stream_without_usage_hides_it(family_client: openai.OpenAI, family: FamilyFake, provider: str) -> None:
    chunks = list(
        family_client.chat.completions.create(
            model=name(provider), messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert all(c.usage is None for c in chunks) and chunks[-1].choices[0].finish_reason == "stop"
    sent(family)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_tools_round_trip_multi_turn_and_image(family_client: openai.OpenAI, family: FamilyFake, provider: str) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
    family.queue(Reply.json(openai_completion(MODELS[provider], None, tool_calls=[call], finish_reason="tool_calls")))
    user: Any = {
        "role": "user",
        "content": [{"type": "text", "text": "Weather here?"}, {"type": "image_url", "image_url": {"url": IMAGE}}],
    }
    first = family_client.chat.completions.create(model=name(provider), messages=[user], tools=[WEATHER_TOOL])
    tool_call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert first.choices[0].finish_reason == "tool_calls" and tool_call.function.arguments == '{"city":"Paris"}'
    assert sent(family)["messages"] == [user] and sent(family)["tools"] == [WEATHER_TOOL]
    # the assistant turn goes back as an SDK client sends it, reasoning echoes included
    assistant: Any = {
        "role": "assistant",
        "content": None,
        "tool_calls": [call],
        "reasoning_content": "I should call the tool.",
        "thinking_blocks": [{"type": "thinking", "thinking": "x", "signature": "sig"}],
    }
    tool_result: Any = {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
    second = family_client.chat.completions.create(
        model=name(provider), messages=[user, assistant, tool_result], tools=[WEATHER_TOOL]
    )
    assert second.choices[0].message.content == OPENAI_TEXT
    messages = sent(family)["messages"]
    assert messages[2] == tool_result and messages[1]["tool_calls"] == [call]
    assert "thinking_blocks" not in messages[1]  # Anthropic-only, never sent to the family
    echoed = "reasoning_content" in messages[1]
    assert echoed == (provider not in ("deepseek", "mistral"))


@pytest.mark.parametrize(
    ("provider", "model", "kept"),
    [
        ("groq", "openai/gpt-oss-120b", True),
        ("groq", "llama-3.3-70b-versatile", False),
        ("xai", "grok-3-mini", True),
        ("xai", "grok-4", False),
        ("deepseek", "deepseek-reasoner", False),
        ("ollama", None, False),
    ],
)
def test_reasoning_effort_kept_or_dropped(
    family_client: openai.OpenAI, family: FamilyFake, provider: str, model: str | None, kept: bool
) -> None:
    raw = family_client.chat.completions.with_raw_response.create(
        model=name(provider, model), messages=[{"role": "user", "content": "hi"}], reasoning_effort="low"
    )
    assert raw.parse().choices[0].message.content == OPENAI_TEXT
    assert (sent(family).get("reasoning_effort") == "low") is kept
    assert ("reasoning_effort" in raw.headers.get("x-proxy-core-reasoning-dropped", "")) is not kept


@pytest.mark.parametrize(("provider", "model"), [("xai", "grok-3-mini"), ("xai", "grok-4")])
def test_xai_reasoning_models_lose_penalties_and_stop(
    family_client: openai.OpenAI, family: FamilyFake, provider: str, model: str
) -> None:
    raw = family_client.chat.completions.with_raw_response.create(
        model=name(provider, model),
        messages=[{"role": "user", "content": "hi"}],
        presence_penalty=0.5,
        frequency_penalty=0.5,
        stop=["END"],
        temperature=0.2,
    )
    assert raw.parse().choices[0].message.content == OPENAI_TEXT
    assert sorted(raw.headers[DROPPED].split(",")) == ["frequency_penalty", "presence_penalty", "stop"]
    body = sent(family)
    assert body["temperature"] == 0.2 and not {"presence_penalty", "frequency_penalty", "stop"} & set(body)


@pytest.mark.parametrize(
    ("provider", "params", "dropped", "expected"),
    [
        ("groq", {"logprobs": True, "top_logprobs": 2, "seed": 7}, "logprobs,top_logprobs", {"seed": 7}),
        ("mistral", {"seed": 7, "user": "u1", "max_completion_tokens": 50, "store": True}, "user,store",
         {"random_seed": 7, "max_tokens": 50}),
        ("deepseek", {"logprobs": True, "temperature": 0.3}, None, {"logprobs": True, "temperature": 0.3}),
        ("ollama", {"logit_bias": {"50256": -100}, "user": "u1", "seed": 3}, "logit_bias,user", {"seed": 3}),
        ("openrouter", {"logprobs": True, "seed": 1}, None, {"logprobs": True, "seed": 1}),
    ],
)  # fmt: skip
def test_provider_parameter_rules(
    family_client: openai.OpenAI,
    family: FamilyFake,
    provider: str,
    params: dict[str, Any],
    dropped: str | None,
    expected: dict[str, Any],
) -> None:
    raw = family_client.chat.completions.with_raw_response.create(
        model=name(provider), messages=[{"role": "user", "content": "hi", "name": "ann"}], **params
    )
    assert raw.parse().choices[0].message.content == OPENAI_TEXT
    body = sent(family)
    assert {k: body.get(k) for k in expected} == expected
    header = raw.headers.get(DROPPED)
    if provider == "groq":  # messages[].name is a 400 on Groq
        assert "name" not in body["messages"][0]
        assert names(header) == names(f"{dropped},messages[].name")
    else:
        assert body["messages"][0]["name"] == "ann"
        assert names(header) == names(dropped)


def test_deepseek_reasoner_rules(family_client: openai.OpenAI, family: FamilyFake) -> None:
    raw = family_client.chat.completions.with_raw_response.create(
        model=name("deepseek", "deepseek-reasoner"),
        messages=[{"role": "user", "content": "hi"}],
        temperature=0.3,
        logprobs=True,
        max_tokens=100,
    )
    raw.parse()
    assert names(raw.headers[DROPPED]) == ["logprobs", "temperature"]
    assert sent(family) == {
        "model": "deepseek-reasoner",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 100,
    }


@pytest.mark.parametrize("provider", ["groq", "ollama"])
def test_n_above_one_is_a_400_where_one_choice_comes_back(
    family_client: openai.OpenAI, family: FamilyFake, provider: str
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        family_client.chat.completions.create(model=name(provider), messages=[{"role": "user", "content": "hi"}], n=2)
    assert info.value.status_code == 400 and info.value.body["param"] == "n"  # type: ignore[index]
    assert family.requests == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_cache_markers_stripped_and_prompt_cache_key(
    family_client: openai.OpenAI, family: FamilyFake, provider: str
) -> None:
    mark = {"type": "ephemeral"}
    messages: Any = [
        {"role": "system", "content": [{"type": "text", "text": "Long rules.", "cache_control": mark}]},
        {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": mark}]},
    ]
    tool: Any = {**WEATHER_TOOL, "cache_control": mark}
    raw = family_client.chat.completions.with_raw_response.create(
        model=name(provider), messages=messages, tools=[tool], prompt_cache_key="conv-42"
    )
    assert raw.parse().choices[0].message.content == OPENAI_TEXT
    body = sent(family)
    assert "cache_control" not in str(body)
    assert "prompt_cache_key" not in body
    stripped = raw.headers["x-proxy-core-prompt-cache-stripped"]
    if provider == "xai":  # xAI routes caches by conversation id on Chat Completions
        assert stripped == "cache_control" and family.last.headers["x-grok-conv-id"] == "conv-42"
    else:
        assert stripped == "cache_control,prompt_cache_key" and "x-grok-conv-id" not in family.last.headers


SCHEMA = {
    "type": "json_schema",
    "json_schema": {
        "name": "city",
        "strict": True,
        "schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
    },
}


@pytest.mark.parametrize(
    ("provider", "model", "response_format", "mode"),
    [
        ("groq", "openai/gpt-oss-120b", SCHEMA, "passthrough"),
        ("groq", None, SCHEMA, "tool"),
        ("groq", None, {"type": "json_object"}, "passthrough"),
        ("deepseek", None, SCHEMA, "tool"),
        ("deepseek", None, {"type": "json_object"}, "passthrough"),
        ("xai", "grok-4", SCHEMA, "passthrough"),
        ("mistral", None, SCHEMA, "passthrough"),
        ("openrouter", None, SCHEMA, "tool"),
        ("vllm", None, SCHEMA, "passthrough"),
    ],
)
def test_structured_output_native_or_forced_tool(
    family_client: openai.OpenAI,
    family: FamilyFake,
    provider: str,
    model: str | None,
    response_format: dict[str, Any],
    mode: str,
) -> None:
    upstream_model = model or MODELS[provider]
    if mode == "tool":
        tool_name = response_format["json_schema"]["name"]
        call = {"id": "call_9", "type": "function", "function": {"name": tool_name, "arguments": '{"name":"Paris"}'}}
        family.queue(Reply.json(openai_completion(upstream_model, None, tool_calls=[call], finish_reason="tool_calls")))
    raw = family_client.chat.completions.with_raw_response.create(
        model=name(provider, model),
        messages=[{"role": "user", "content": "A city?"}],
        response_format=response_format,  # type: ignore[arg-type]
    )
    answer = raw.parse().choices[0]
    assert raw.headers["x-proxy-core-structured-output"] == mode
    body = sent(family)
    if mode == "passthrough":
        assert body["response_format"] == response_format and "tools" not in body
        assert answer.message.content == OPENAI_TEXT
    else:
        assert "response_format" not in body
        assert body["tools"][0]["function"]["name"] == "city"
        assert body["tool_choice"] == {"type": "function", "function": {"name": "city"}}
        assert answer.message.content == '{"name":"Paris"}' and answer.finish_reason == "stop"


@pytest.mark.parametrize("provider", ["groq", "openrouter", "together", "ollama", "vllm", "deepseek"])
def test_reasoning_text_comes_back_as_reasoning_content(
    family_client: openai.OpenAI, family: FamilyFake, provider: str
) -> None:
    field = "reasoning_content" if provider == "deepseek" else "reasoning"
    answer = openai_completion(MODELS[provider], "42")
    answer["choices"][0]["message"][field] = "Six times seven."
    answer["usage"]["prompt_cache_hit_tokens"] = 5  # DeepSeek's name for cached input
    chunks = openai_chunks(MODELS[provider], "42", include_usage=True)
    chunks.insert(1, {**chunks[1], "choices": [{"index": 0, "delta": {field: "Six times"}, "finish_reason": None}]})
    family.queue(Reply.json(answer), Reply.sse(chunks))
    done = family_client.chat.completions.create(model=name(provider), messages=[{"role": "user", "content": "6x7?"}])
    message = done.choices[0].message.model_dump()
    assert message["reasoning_content"] == "Six times seven." and "reasoning" not in message
    assert done.usage is not None and done.usage.prompt_tokens_details is not None
    assert done.usage.prompt_tokens_details.cached_tokens == 5
    stream = family_client.chat.completions.create(
        model=name(provider), messages=[{"role": "user", "content": "6x7?"}], stream=True
    )
    deltas = [c.choices[0].delta.model_dump() for c in stream if c.choices]
    assert [d["reasoning_content"] for d in deltas if d.get("reasoning_content")] == ["Six times"]
    assert not any(d.get("reasoning") for d in deltas)
    assert "".join(d["content"] or "" for d in deltas) == "42"


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, openai.RateLimitError), (400, openai.BadRequestError), (500, openai.InternalServerError)],
)
@pytest.mark.parametrize("provider", ["groq", "mistral", "vllm"])
def test_upstream_errors_keep_status_and_message(
    family_client: openai.OpenAI, family: FamilyFake, provider: str, status: int, error: type[openai.APIError]
) -> None:
    detail = {"message": f"upstream says {status}", "type": "invalid_request_error", "code": "some_code"}
    family.queue(Reply.json({"error": detail}, status=status, headers={"retry-after": "3"}))
    with pytest.raises(error) as info:
        family_client.chat.completions.create(model=name(provider), messages=[{"role": "user", "content": "hi"}])
    assert f"upstream says {status}" in info.value.message
    ok = family_client.chat.completions.create(model=name(provider), messages=[{"role": "user", "content": "hi"}])
    assert ok.choices[0].message.content == OPENAI_TEXT


def test_fallback_across_family_providers(family_client: openai.OpenAI, family: FamilyFake) -> None:
    family.queue(Reply.json({"error": {"message": "over capacity", "type": "server_error"}}, status=503))
    raw = family_client.chat.completions.with_raw_response.create(
        model="family-fallback",
        messages=[{"role": "user", "content": "hi"}],
        presence_penalty=0.1,  # fine on Groq's Llama, a 400 on Grok 4: dropped for the fallback
    )
    assert raw.parse().choices[0].message.content == OPENAI_TEXT
    assert raw.headers["x-proxy-core-target"] == "xai-main/grok-4"
    assert raw.headers[DROPPED] == "presence_penalty"
    first, second = family.requests
    assert first.path.startswith("/groq/") and first.json()["presence_penalty"] == 0.1
    assert second.path.startswith("/xai/") and "presence_penalty" not in second.json()
    assert family.rejections == []


def test_fallback_from_anthropic_overloaded_to_groq(
    family_client: openai.OpenAI, family: FamilyFake, fake_anthropic: FakeUpstream
) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_anthropic.queue(Reply.json(overloaded, status=529))
    done = family_client.chat.completions.create(
        model="claude-then-groq", messages=[{"role": "user", "content": "hi"}], reasoning_effort="low"
    )
    assert done.choices[0].message.content == OPENAI_TEXT
    assert fake_anthropic.last.json()["thinking"]["type"] == "enabled"
    assert sent(family)["reasoning_effort"] == "low" and "thinking" not in sent(family)


def test_the_fake_is_strict(family: FamilyFake) -> None:
    """The gate refuses what the providers refuse (so the tests above prove the gateway avoids it)."""
    cases = [
        ("groq/v1", RULES["groq"].key, {"logprobs": True}),
        ("xai/v1", RULES["xai"].key, {"presence_penalty": 1}),
        ("mistral/v1", RULES["mistral"].key, {"seed": 1}),
        ("deepseek", RULES["deepseek"].key, {"messages": [{"role": "user", "content": "a", "reasoning_content": "r"}]}),
    ]
    for path, key, extra in cases:
        model = "grok-4" if path.startswith("xai") else "m"
        body = {"model": model, "messages": [{"role": "user", "content": "hi"}], **extra}
        response = httpx.post(
            f"{family.url}/{path}/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}
        )
        assert response.status_code in (400, 422), path
    assert len(family.rejections) == len(cases)


def test_xai_prompt_cache_key_unfit_for_a_header_is_a_400(family_client: openai.OpenAI, family: FamilyFake) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        family_client.chat.completions.create(
            model=name("xai"), messages=[{"role": "user", "content": "hi"}], prompt_cache_key="two words\r\nx: y"
        )
    assert info.value.body["param"] == "prompt_cache_key"  # type: ignore[index]
    assert family.requests == []
    ok = family_client.chat.completions.create(model=name("xai"), messages=[{"role": "user", "content": "hi"}])
    assert ok.choices[0].message.content == OPENAI_TEXT


@pytest.mark.parametrize(
    ("provider", "model", "cost"),
    [
        ("deepseek", "deepseek-chat", 12 * 0.28e-6 + 8 * 0.42e-6),
        ("xai", "grok-3-mini", 12 * 0.3e-6 + 8 * 0.5e-6),
        ("groq", "openai/gpt-oss-120b", 12 * 0.15e-6 + 8 * 0.6e-6),
    ],
)
def test_family_models_are_priced(
    family_client: openai.OpenAI, family: FamilyFake, provider: str, model: str, cost: float
) -> None:
    raw = family_client.chat.completions.with_raw_response.create(
        model=name(provider, model), messages=[{"role": "user", "content": "hi"}]
    )
    raw.parse()
    assert float(raw.headers["x-proxy-core-cost-usd"]) == pytest.approx(cost, abs=1e-12)
