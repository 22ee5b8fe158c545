"""Chat through an `openai`-type account, over real HTTP, with the official openai SDK."""

from __future__ import annotations

import openai
import pytest

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway
from proxy_core.testing.fake_answers import OPENAI_TEXT

MODEL = "openai-main/gpt-4o-mini"


@pytest.mark.parametrize("suffix", ["", "/v1"])
def test_chat_non_stream(gateway: RunningGateway, fake_openai: FakeUpstream, suffix: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + suffix, api_key=GATEWAY_KEY, max_retries=0)
    completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert completion.choices[0].message.content == OPENAI_TEXT
    assert completion.model == MODEL
    assert completion.usage is not None and completion.usage.total_tokens == 20

    upstream = fake_openai.last
    assert upstream.path == "/v1/chat/completions"
    assert upstream.json()["model"] == "gpt-4o-mini"
    assert upstream.json()["messages"] == [{"role": "user", "content": "hi"}]
    assert upstream.headers["authorization"] == "Bearer sk-upstream-openai-secret"
    assert GATEWAY_KEY not in repr(upstream.headers) and GATEWAY_KEY.encode() not in upstream.body


@pytest.mark.parametrize("suffix", ["", "/v1"])
def test_chat_stream(gateway: RunningGateway, fake_openai: FakeUpstream, suffix: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + suffix, api_key=GATEWAY_KEY, max_retries=0)
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Count from 1 to 5."}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == OPENAI_TEXT
    assert all(c.model == MODEL for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.usage is None for c in chunks), "usage was not asked for"

    upstream = fake_openai.last.json()
    assert upstream["model"] == "gpt-4o-mini"
    assert upstream["stream"] is True
    assert upstream["stream_options"] == {"include_usage": True}  # the gateway always meters
    assert fake_openai.last.headers["authorization"] == "Bearer sk-upstream-openai-secret"


def test_chat_stream_include_usage(openai_client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    stream = openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 12
    assert fake_openai.last.json()["stream_options"] == {"include_usage": True}


def test_upstream_error_keeps_status_and_message(openai_client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    from proxy_core.testing import Reply

    fake_openai.queue(
        Reply.json(
            {
                "error": {
                    "message": "This model's maximum context length is 128000 tokens",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                }
            },
            status=400,
        )
    )
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 400
    assert "maximum context length" in info.value.message
    assert info.value.code == "context_length_exceeded"
    # the gateway keeps serving
    ok = openai_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert ok.choices[0].message.content == OPENAI_TEXT
