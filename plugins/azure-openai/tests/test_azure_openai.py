"""Azure OpenAI through the official openai SDK, against a fake resource that checks
deployment paths, api-version, credentials and what each model rejects: both ends asserted."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from azure_openai_fake import (
    API_KEY,
    ENTRA_TOKEN,
    FILTERS,
    AzureFake,
    azure_chunks,
    azure_completion,
    filtered_prompt_error,
)

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import OPENAI_TEXT

IMAGE = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}}}
HI: Any = [{"role": "user", "content": "hi"}]


def sent(azure: AzureFake) -> dict[str, Any]:
    assert azure.rejections == [], azure.rejections
    return dict(azure.last.json())


def test_plain_with_system_deployment_url_and_api_key(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    messages: Any = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    done = azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=messages)
    assert done.choices[0].message.content == OPENAI_TEXT and done.model == "azure-main/gpt-4o"
    assert done.usage is not None and done.usage.total_tokens == 20
    # Azure's filter annotations reach the client as they came
    assert done.model_extra is not None and done.model_extra["prompt_filter_results"][0]["prompt_index"] == 0
    assert done.choices[0].model_extra == {"content_filter_results": FILTERS}
    assert azure.last.path == "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21"
    assert sent(azure) == {"messages": messages}  # the deployment names the model
    assert azure.last.headers["api-key"] == API_KEY and "authorization" not in azure.last.headers


def test_deployment_defaults_to_the_model_name(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    azure_client.chat.completions.create(model="azure-main/gpt-4o-mini", messages=HI)
    assert azure.last.path.startswith("/openai/deployments/gpt-4o-mini/chat/completions?")
    sent(azure)


def test_entra_id_token(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    done = azure_client.chat.completions.create(model="azure-entra/gpt-4o", messages=HI)
    assert done.choices[0].message.content == OPENAI_TEXT
    assert azure.last.headers["authorization"] == "Bearer " + ENTRA_TOKEN and "api-key" not in azure.last.headers
    assert azure.last.path == "/openai/deployments/gpt4o-prod/chat/completions?api-version=2025-04-01-preview"
    sent(azure)


def test_stream_with_usage_and_filter_results(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    chunks = list(
        azure_client.chat.completions.create(
            model="azure-main/gpt-4o", messages=HI, stream=True, stream_options={"include_usage": True}
        )
    )
    assert chunks[0].choices == [] and chunks[0].model_extra is not None
    assert chunks[0].model_extra["prompt_filter_results"][0]["content_filter_results"]["jailbreak"]["filtered"] is False
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == OPENAI_TEXT
    assert any(c.choices and (c.choices[0].model_extra or {}).get("content_filter_results") for c in chunks)
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 8
    assert sent(azure)["stream_options"] == {"include_usage": True}


def test_stream_without_usage_keeps_the_prompt_filter_chunk(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    chunks = list(azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=HI, stream=True))
    assert chunks[0].choices == [] and all(c.usage is None for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_tools_round_trip_and_image(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    azure.queue(Reply.json(azure_completion("gpt-4o", None, finish_reason="tool_calls", tool_calls=[call])))
    user: Any = {
        "role": "user",
        "content": [{"type": "text", "text": "here?"}, {"type": "image_url", "image_url": {"url": IMAGE}}],
    }
    first = azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=[user], tools=[TOOL])  # type: ignore[list-item]
    assert first.choices[0].message.tool_calls[0].id == "call_1"  # type: ignore[index]
    assert sent(azure)["messages"] == [user]
    assistant = {"role": "assistant", "content": None, "tool_calls": [call]}
    tool_result = {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
    # echoes of another provider's reasoning, as a client replays a conversation, stay home
    echoed = {**assistant, "reasoning_content": "hm", "thinking_blocks": [{"type": "thinking", "thinking": "hm"}]}
    follow: Any = [user, echoed, tool_result]
    second = azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=follow, tools=[TOOL])  # type: ignore[list-item]
    assert second.choices[0].message.content == OPENAI_TEXT
    assert sent(azure)["messages"] == [user, assistant, tool_result]


@pytest.mark.parametrize(("model", "kept"), [("o4-mini", True), ("gpt-4o", False)])
def test_reasoning_effort_where_the_model_table_says(
    azure_client: openai.OpenAI, azure: AzureFake, model: str, kept: bool
) -> None:
    raw = azure_client.chat.completions.with_raw_response.create(
        model=f"azure-main/{model}", messages=HI, reasoning_effort="high"
    )
    raw.parse()
    assert (sent(azure).get("reasoning_effort") == "high") is kept
    assert ("x-proxy-core-reasoning-dropped" in raw.headers) is not kept


@pytest.mark.parametrize(("model", "key_kept"), [("gpt-5.6", True), ("gpt-4o", False)])
def test_cache_markers_stripped_prompt_cache_key_per_model(
    azure_client: openai.OpenAI, azure: AzureFake, model: str, key_kept: bool
) -> None:
    messages: Any = [
        {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}
    ]
    raw = azure_client.chat.completions.with_raw_response.create(
        model=f"azure-main/{model}", messages=messages, prompt_cache_key="tenant-7"
    )
    assert raw.parse().choices[0].message.content == OPENAI_TEXT
    body = sent(azure)
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    assert (body.get("prompt_cache_key") == "tenant-7") is key_kept
    expected = "cache_control" if key_kept else "cache_control,prompt_cache_key"
    assert raw.headers["x-proxy-core-prompt-cache-stripped"] == expected


SCHEMA: Any = {
    "type": "json_schema",
    "json_schema": {"name": "city", "schema": {"type": "object", "properties": {"name": {"type": "string"}}}},
}


@pytest.mark.parametrize(
    ("model", "response_format", "mode"),
    [
        ("gpt-4o", SCHEMA, "passthrough"),
        ("gpt-35-turbo", SCHEMA, "tool"),
        ("gpt-35-turbo", {"type": "json_object"}, "passthrough"),
    ],
)
def test_structured_output_native_or_tool(
    azure_client: openai.OpenAI, azure: AzureFake, model: str, response_format: Any, mode: str
) -> None:
    if mode == "tool":
        call = {"id": "c", "type": "function", "function": {"name": "city", "arguments": '{"name":"Oslo"}'}}
        azure.queue(Reply.json(azure_completion(model, None, finish_reason="tool_calls", tool_calls=[call])))
    raw = azure_client.chat.completions.with_raw_response.create(
        model=f"azure-main/{model}", messages=HI, response_format=response_format
    )
    answer = raw.parse().choices[0]
    assert raw.headers["x-proxy-core-structured-output"] == mode
    body = sent(azure)
    if mode == "tool":
        assert "response_format" not in body and body["tool_choice"]["function"]["name"] == "city"
        assert answer.message.content == '{"name":"Oslo"}'
    else:
        assert body["response_format"] == response_format


def test_filtered_completion_finish_reason_and_detail(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    answer = azure_completion("gpt-4o", None, finish_reason="content_filter")
    answer["choices"][0]["content_filter_results"] = {**FILTERS, "sexual": {"filtered": True, "severity": "medium"}}
    azure.queue(Reply.json(answer), Reply.sse(azure_chunks("gpt-4o", "Partial", finish_reason="content_filter")))
    done = azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=HI)
    assert done.choices[0].finish_reason == "content_filter"
    assert done.choices[0].model_extra["content_filter_results"]["sexual"]["filtered"] is True  # type: ignore[index]
    chunks = list(azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=HI, stream=True))
    last = chunks[-1].choices[0]
    assert last.finish_reason == "content_filter"
    assert last.model_extra["content_filter_results"]["violence"]["severity"] == "medium"  # type: ignore[index]


def test_filtered_prompt_is_a_clear_400_with_the_detail(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    azure.queue(filtered_prompt_error())
    with pytest.raises(openai.BadRequestError) as info:
        azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=HI)
    err = info.value
    assert err.status_code == 400 and err.code == "content_filter"
    assert "Azure OpenAI's content filter rejected the prompt (violence: high, jailbreak): " in err.message
    body: Any = err.body
    assert body["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert body["innererror"]["content_filter_result"]["jailbreak"] == {"filtered": True, "detected": True}
    # a filtered prompt is the client's to change: no fallback to the next target
    with pytest.raises(openai.BadRequestError):
        azure.queue(filtered_prompt_error())
        azure_client.chat.completions.create(model="azure-then-openai", messages=HI)


def test_errors_rate_limit_missing_deployment_and_scrubbed_key(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    azure.queue(
        Reply.json(
            {"error": {"code": "429", "message": "Rate limit is exceeded."}}, status=429, headers={"retry-after": "7"}
        )
    )
    with pytest.raises(openai.RateLimitError) as limited:
        azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=HI)
    assert limited.value.response.headers["retry-after"] == "7"
    with pytest.raises(openai.APIStatusError) as missing:
        azure_client.chat.completions.create(model="azure-main/gpt-4.1", messages=HI)
    assert missing.value.status_code == 502 and missing.value.code == "deployment_not_found"
    assert "providers.azure-main.models" in missing.value.message
    azure.queue(Reply.json({"error": {"code": "BadRequest", "message": f"bad key {API_KEY}"}}, status=400))
    with pytest.raises(openai.BadRequestError) as echoed:
        azure_client.chat.completions.create(model="azure-main/gpt-4o", messages=HI)
    assert API_KEY not in echoed.value.message and "[redacted]" in echoed.value.message


def test_fallback_from_azure_to_openai(
    azure_client: openai.OpenAI, azure: AzureFake, fake_openai: FakeUpstream
) -> None:
    azure.queue(Reply.json({"error": {"code": "ServiceUnavailable", "message": "busy"}}, status=503))
    raw = azure_client.chat.completions.with_raw_response.create(model="azure-then-openai", messages=HI)
    assert raw.parse().choices[0].message.content == OPENAI_TEXT
    assert raw.headers["x-proxy-core-target"] == "openai-main/gpt-4o-mini"
    assert fake_openai.last.json()["model"] == "gpt-4o-mini"


def test_azure_deployments_are_priced_by_model(azure_client: openai.OpenAI, azure: AzureFake) -> None:
    raw = azure_client.chat.completions.with_raw_response.create(model="azure-main/gpt-4o", messages=HI)
    raw.parse()
    assert float(raw.headers["x-proxy-core-cost-usd"]) == pytest.approx(12 * 2.5e-6 + 8 * 10e-6, abs=1e-12)
