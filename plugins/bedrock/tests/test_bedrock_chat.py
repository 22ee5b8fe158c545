"""Chat Completions through Converse, with the official openai SDK: what the client got
and what the fake Bedrock received (every request's SigV4 signature verified by botocore)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from bedrock_fakes import CLAUDE, CLAUDE_GLOBAL, CLAUDE_US, LLAMA, NOVA

from proxy_core.testing import GATEWAY_KEY, Reply
from proxy_core.testing.fake_bedrock import TEXT, FakeBedrock, converse_response

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
PDF = "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK"


def sent(bedrock: FakeBedrock) -> dict[str, Any]:
    assert bedrock.rejections == []
    body: dict[str, Any] = bedrock.last.json()
    return body


def test_plain_signed_and_encoded(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    r = openai_client.chat.completions.create(model=f"bedrock/{CLAUDE}", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == TEXT and r.choices[0].finish_reason == "stop"
    assert r.usage is not None and (r.usage.prompt_tokens, r.usage.completion_tokens) == (12, 8)
    request = bedrock.last
    assert request.path == f"/model/{CLAUDE}/converse"
    assert "/us-east-1/bedrock/aws4_request" in request.headers["authorization"]
    assert sent(bedrock) == {
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "inferenceConfig": {"maxTokens": 8192},
    }


@pytest.mark.parametrize("model", [CLAUDE_US, CLAUDE_GLOBAL])
def test_inference_profile_ids(openai_client: openai.OpenAI, bedrock: FakeBedrock, model: str) -> None:
    r = openai_client.with_options().chat.completions.with_raw_response.create(
        model=f"bedrock/{model}", messages=[{"role": "user", "content": "hi"}], reasoning_effort="low", max_tokens=10000
    )
    assert r.parse().choices[0].message.content == TEXT
    assert bedrock.last.path == f"/model/{model}/converse"
    # the model table knows the profile's model: budget thinking, as for the bare id
    assert sent(bedrock)["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 3000}}


def test_system_multi_turn_params(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    r = openai_client.chat.completions.with_raw_response.create(
        model=f"bedrock/{NOVA}",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": "two"},
            {"role": "user", "content": "three"},
            {"role": "user", "content": "four"},
        ],
        temperature=0.2,
        top_p=0.9,
        stop=["END"],
        user="alice",
        seed=7,
    )
    assert r.headers["x-proxy-core-dropped-params"] == "seed,user"
    body = sent(bedrock)
    assert body["system"] == [{"text": "Be brief."}]
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "one"}]},
        {"role": "assistant", "content": [{"text": "two"}]},
        {"role": "user", "content": [{"text": "three"}, {"text": "four"}]},
    ]
    # no max_tokens asked of a non-Claude model: the model's own default
    assert body["inferenceConfig"] == {"temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]}


def test_image_and_pdf(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    content: Any = [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}"}},
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}"}},
    ]
    openai_client.chat.completions.create(model=f"bedrock/{CLAUDE}", messages=[{"role": "user", "content": content}])
    assert sent(bedrock)["messages"][0]["content"] == [
        {"text": "what is this"},
        {"image": {"format": "png", "source": {"bytes": PNG}}},
        {"document": {"format": "pdf", "name": "document-1", "source": {"bytes": PDF}}},
        {"document": {"format": "pdf", "name": "document-2", "source": {"bytes": PDF}}},
    ]


def test_image_url_is_a_400_without_upstream_call(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    content: Any = [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(
            model=f"bedrock/{CLAUDE}", messages=[{"role": "user", "content": content}]
        )
    assert "base64 data: URI" in str(info.value) and bedrock.requests == []


TOOLS: Any = [
    {"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}}},
    {"type": "function", "function": {"name": "time", "description": "now"}},
]


def test_parallel_tool_calls_round_trip(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    uses = [
        {"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {"city": "Paris"}}},
        {"toolUse": {"toolUseId": "tooluse_2", "name": "time", "input": {}}},
    ]
    bedrock.queue(Reply.json(converse_response([{"text": "Checking."}, *uses], stop_reason="tool_use")))
    r = openai_client.chat.completions.create(
        model=f"bedrock/{CLAUDE}",
        messages=[{"role": "user", "content": "weather?"}],
        tools=TOOLS,
        tool_choice="required",
    )
    message = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls" and message.tool_calls is not None
    assert [(c.id, c.function.name, c.function.arguments) for c in message.tool_calls] == [  # type: ignore[union-attr]
        ("tooluse_1", "weather", '{"city":"Paris"}'),
        ("tooluse_2", "time", "{}"),
    ]
    assert sent(bedrock)["toolConfig"] == {
        "tools": [
            {"toolSpec": {"name": "weather", "inputSchema": {"json": {"type": "object", "properties": {}}}}},
            {
                "toolSpec": {
                    "name": "time",
                    "inputSchema": {"json": {"type": "object", "properties": {}}},
                    "description": "now",
                }
            },
        ],
        "toolChoice": {"any": {}},
    }
    openai_client.chat.completions.create(
        model=f"bedrock/{CLAUDE}",
        messages=[
            {"role": "user", "content": "weather?"},
            message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": "tooluse_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "tooluse_2", "content": "noon"},
        ],
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "weather"}},
    )
    body = sent(bedrock)
    assert body["messages"][1:] == [
        {"role": "assistant", "content": [{"text": "Checking."}, *uses]},
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "sunny"}]}},
                {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "noon"}]}},
            ],
        },
    ]
    assert body["toolConfig"]["toolChoice"] == {"tool": {"name": "weather"}}


def test_tool_choice_none_offers_no_tools(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    openai_client.chat.completions.create(
        model=f"bedrock/{LLAMA}", messages=[{"role": "user", "content": "hi"}], tools=TOOLS, tool_choice="none"
    )
    assert "toolConfig" not in sent(bedrock)


def test_reasoning_ratios_and_thinking_round_trip(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    for effort, budget in (("low", 3000), ("medium", 6000), ("high", 9000)):
        openai_client.chat.completions.create(
            model=f"bedrock/{CLAUDE}",
            messages=[{"role": "user", "content": "think"}],
            reasoning_effort=effort,
            max_tokens=10000,
            temperature=0.5,
        )
        body = sent(bedrock)
        assert body["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": budget}}
        assert body["inferenceConfig"] == {"maxTokens": 10000}  # thinking forbids temperature: dropped
    reasoning = {"reasoningContent": {"reasoningText": {"text": "Let me see.", "signature": "c2lnbmF0dXJl"}}}
    redacted = {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}}
    bedrock.queue(Reply.json(converse_response([reasoning, redacted, {"text": "42"}])))
    r = openai_client.chat.completions.create(
        model=f"bedrock/{CLAUDE}", messages=[{"role": "user", "content": "think"}], reasoning_effort="high"
    )
    message: Any = r.choices[0].message
    assert message.content == "42" and message.reasoning_content == "Let me see."
    assert message.thinking_blocks == [
        {"type": "thinking", "thinking": "Let me see.", "signature": "c2lnbmF0dXJl"},
        {"type": "redacted_thinking", "data": "cmVkYWN0ZWQ="},
    ]
    assert sent(bedrock)["inferenceConfig"] == {"maxTokens": 8192}  # the reasoning plugin's default base
    openai_client.chat.completions.create(
        model=f"bedrock/{CLAUDE}",
        messages=[
            {"role": "user", "content": "think"},
            {"role": "assistant", "content": "42", "thinking_blocks": message.thinking_blocks},  # type: ignore[typeddict-unknown-key]
            {"role": "user", "content": "why?"},
        ],
        reasoning_effort="low",
    )
    assert sent(bedrock)["messages"][1]["content"] == [reasoning, redacted, {"text": "42"}]


def test_reasoning_effort_removed_for_other_families(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    r = openai_client.chat.completions.with_raw_response.create(
        model=f"bedrock/{NOVA}", messages=[{"role": "user", "content": "hi"}], reasoning_effort="high", temperature=0.3
    )
    assert r.headers["x-proxy-core-reasoning-dropped"] == "reasoning_effort"
    body = sent(bedrock)
    assert "additionalModelRequestFields" not in body and body["inferenceConfig"] == {"temperature": 0.3}


def test_cache_control_becomes_cache_points(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    mark = {"type": "ephemeral"}
    messages: Any = [
        {"role": "system", "content": [{"type": "text", "text": "long system", "cache_control": mark}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "doc", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {"type": "text", "text": "q"},
            ],
        },
    ]
    tools: Any = [{**TOOLS[0], "cache_control": mark}]
    bedrock.queue(
        Reply.json(
            converse_response(
                usage={"inputTokens": 5, "outputTokens": 3, "cacheReadInputTokens": 100, "cacheWriteInputTokens": 20}
            )
        )
    )
    r = openai_client.chat.completions.create(model=f"bedrock/{CLAUDE}", messages=messages, tools=tools)
    body = sent(bedrock)
    assert body["system"] == [{"text": "long system"}, {"cachePoint": {"type": "default"}}]
    assert body["messages"][0]["content"] == [
        {"text": "doc"},
        {"cachePoint": {"type": "default", "ttl": "1h"}},
        {"text": "q"},
    ]
    assert body["toolConfig"]["tools"][1] == {"cachePoint": {"type": "default"}}
    usage: Any = r.usage
    assert (usage.prompt_tokens, usage.prompt_tokens_details.cached_tokens, usage.total_tokens) == (125, 100, 128)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (100, 20)
    # Amazon's models take cache points in system and messages, not on tools
    r2 = openai_client.chat.completions.with_raw_response.create(
        model=f"bedrock/{NOVA}", messages=messages, tools=tools
    )
    body = sent(bedrock)
    assert body["system"][1] == {"cachePoint": {"type": "default"}}
    assert [t for t in body["toolConfig"]["tools"] if "cachePoint" in t] == []
    assert "tools.cache_control" in r2.headers["x-proxy-core-dropped-params"]


def test_structured_output_by_forced_tool(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    use = {"toolUse": {"toolUseId": "tooluse_9", "name": "result", "input": {"answer": 42}}}
    bedrock.queue(Reply.json(converse_response([use], stop_reason="tool_use")))
    r = openai_client.chat.completions.create(
        model=f"bedrock/{CLAUDE}",
        messages=[{"role": "user", "content": "6 x 7?"}],
        response_format={"type": "json_schema", "json_schema": {"name": "result", "schema": schema}},
    )
    assert r.choices[0].message.content == '{"answer":42}' and r.choices[0].finish_reason == "stop"
    config = sent(bedrock)["toolConfig"]
    assert config["toolChoice"] == {"tool": {"name": "result"}}
    assert config["tools"][0]["toolSpec"]["inputSchema"] == {"json": schema}


def test_stop_reasons(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    for reason, finish in (
        ("max_tokens", "length"),
        ("guardrail_intervened", "content_filter"),
        ("stop_sequence", "stop"),
    ):
        bedrock.queue(Reply.json(converse_response(stop_reason=reason)))
        r = openai_client.chat.completions.create(
            model=f"bedrock/{CLAUDE}", messages=[{"role": "user", "content": "hi"}]
        )
        assert r.choices[0].finish_reason == finish


def test_cost_of_bedrock_models(openai_client: openai.OpenAI, bedrock: FakeBedrock) -> None:
    usage = {"inputTokens": 1000, "outputTokens": 500, "cacheReadInputTokens": 2000}
    for model, expected in (
        (NOVA, 1000 * 0.8 + 500 * 3.2 + 2000 * 0.2),
        (CLAUDE_GLOBAL, 1000 * 3 + 500 * 15 + 2000 * 0.3),
    ):
        bedrock.queue(Reply.json(converse_response(usage=usage)))
        r = openai_client.chat.completions.with_raw_response.create(
            model=f"bedrock/{model}", messages=[{"role": "user", "content": "hi"}]
        )
        assert float(r.headers["x-proxy-core-cost-usd"]) == pytest.approx(expected / 1e6)


def test_application_inference_profile_arn(
    gateway_factory: Any, gateway_config: dict[str, Any], bedrock: FakeBedrock
) -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"
    gateway_config["providers"]["bedrock"]["models"][arn] = {"bedrock_family": "anthropic"}
    gw = gateway_factory(gateway_config)
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0) as client:
        client.chat.completions.create(
            model=f"bedrock/{arn}",
            messages=[{"role": "user", "content": "hi"}],
            reasoning_effort="low",
            max_tokens=4000,
        )
    assert (
        bedrock.last.path
        == "/model/arn:aws:bedrock:us-east-1:123456789012:application-inference-profile%2Fa1b2c3/converse"
    )
    assert sent(bedrock)["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 1200
