"""A client that leaves a stream early still pays for what it got: after a complete answer
the gateway reads on for the upstream's usage (``server.usage_drain_s``); mid-answer it
cancels the upstream at once and estimates the output from what was relayed."""

from __future__ import annotations

import threading
from collections.abc import Callable

import anthropic
import openai
import pytest

from proxy_core import RequestContext, hookimpl
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway, default_config
from proxy_core.testing.fake_answers import anthropic_events, openai_chunks


class Records:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.ctx: RequestContext | None = None

    @hookimpl
    def on_request_end(self, ctx: RequestContext) -> None:
        self.ctx = ctx
        self.done.set()

    def wait(self) -> RequestContext:
        assert self.done.wait(5), "no request record"
        assert self.ctx is not None
        return self.ctx


@pytest.fixture
def setup(
    gateway_factory: Callable[..., RunningGateway], fake_openai: FakeUpstream, fake_anthropic: FakeUpstream
) -> tuple[RunningGateway, Records]:
    records = Records()
    config = default_config(openai_url=fake_openai.url, anthropic_url=fake_anthropic.url)
    return gateway_factory(config, plugins=[("records", records)]), records


def test_usage_after_finish_reason_is_collected_when_the_client_leaves(
    setup: tuple[RunningGateway, Records], fake_openai: FakeUpstream, openai_for: Callable[..., openai.OpenAI]
) -> None:
    """Was: recorded as 499 with 0 tokens and $0 although the client had the whole answer."""
    gw, records = setup
    # The usage chunk comes 0.2 s after the finish reason, when the client is gone.
    chunks = openai_chunks("gpt-4o-mini", "a complete answer", include_usage=True)
    fake_openai.queue(Reply.sse(chunks, delay_between=0.2))
    client = openai_for(gw)
    stream = client.chat.completions.create(
        model="openai-main/gpt-4o-mini",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text = ""
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            if chunk.choices[0].finish_reason:
                break
    stream.close()
    ctx = records.wait()
    assert text == "a complete answer"
    assert ctx.status == 499
    assert ctx.usage_source == "upstream"
    assert ctx.usage is not None and ctx.usage["prompt_tokens"] == 12 and ctx.usage["completion_tokens"] == 8


def test_a_client_leaving_mid_answer_cancels_at_once_and_output_is_estimated(
    setup: tuple[RunningGateway, Records], fake_openai: FakeUpstream, openai_for: Callable[..., openai.OpenAI]
) -> None:
    gw, records = setup
    text = "x" * 400
    fake_openai.queue(Reply.sse(openai_chunks("gpt-4o-mini", text, include_usage=True, pieces=4), delay_between=0.3))
    client = openai_for(gw)
    stream = client.chat.completions.create(
        model="openai-main/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    got = ""
    for chunk in stream:
        got += chunk.choices[0].delta.content or "" if chunk.choices else ""
        if got:
            break
    stream.close()
    left = fake_openai.wait_for_disconnect(2)
    assert left is not None and left.events_sent < 6, "the upstream was not cancelled at once"
    ctx = records.wait()
    assert ctx.status == 499 and ctx.usage_source == "estimated"
    assert ctx.usage is not None
    assert ctx.usage["completion_tokens"] == len(got) // 4 == 25
    assert ctx.usage["prompt_tokens"] == len(ctx.raw_body) // 4


def test_anthropic_estimate_keeps_the_upstreams_input_count(
    setup: tuple[RunningGateway, Records], fake_anthropic: FakeUpstream
) -> None:
    gw, records = setup
    events = anthropic_events("claude-sonnet-4-5", "y" * 400, pieces=4, usage={"input_tokens": 321})
    fake_anthropic.queue(Reply.sse(events, delay_between=0.3))
    client = anthropic.Anthropic(base_url=gw.url, api_key=GATEWAY_KEY, max_retries=0)
    with client.messages.stream(
        model="anthropic-main/claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        for text in stream.text_stream:
            if text:
                break
    client.close()
    assert fake_anthropic.wait_for_disconnect(3) is not None
    ctx = records.wait()
    assert ctx.usage_source == "estimated"
    assert ctx.usage is not None
    assert ctx.usage["prompt_tokens"] == 321
    assert 20 <= ctx.usage["completion_tokens"] <= 30  # 100 characters relayed, less envelope noise
