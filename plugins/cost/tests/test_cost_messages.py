"""Cost on the Anthropic Messages API (/v1/messages), stream and not, through the anthropic SDK."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from cost_helpers import ADMIN_KEY, wait_for_spend

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, default_config
from proxy_core.testing.fake_answers import anthropic_events, anthropic_message

USAGE = {"input_tokens": 100, "output_tokens": 50, "cache_creation_input_tokens": 2000, "cache_read_input_tokens": 3000}
# claude-sonnet-4-5: $3 input, $3.75 5-minute cache write, $0.30 cache read, $15 output per MTok
COST = (100 * 3.0 + 2000 * 3.75 + 3000 * 0.30 + 50 * 15.0) / 1e6
MODEL = "anthropic-main/claude-sonnet-4-5"


@pytest.fixture
def gw(
    gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, fake_anthropic: FakeUpstream, tmp_path: Path
) -> Any:
    cfg = default_config(openai_url=fake_openai.url, anthropic_url=fake_anthropic.url)
    cfg["auth"]["keys"].append({"name": "ops", "key": ADMIN_KEY, "admin": True})
    cfg["plugins"] = {"cost": {"store": f"sqlite:///{tmp_path / 'spend.db'}", "flush_interval_s": 0.05}}
    return gateway_factory(cfg)


def test_messages_non_stream_and_stream_cost_the_same(gw: Any, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(
        Reply.json(anthropic_message("claude-sonnet-4-5", [{"type": "text", "text": "ok"}], usage=USAGE)),
        Reply.sse(anthropic_events("claude-sonnet-4-5", "streamed", usage=USAGE)),
    )
    with anthropic.Anthropic(base_url=gw.url, api_key=GATEWAY_KEY, max_retries=0, timeout=10) as client:
        raw = client.messages.with_raw_response.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        )
        assert raw.parse().usage.cache_read_input_tokens == 3000
        assert float(raw.headers["x-proxy-core-cost-usd"]) == pytest.approx(COST, abs=1e-12)
        with client.messages.stream(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}]) as s:
            assert s.get_final_text() == "streamed"
    # the fake's stream reports output_tokens 8 at the end (message_delta), not 50
    stream_cost = COST - (50 - 8) * 15.0 / 1e6
    report = wait_for_spend(gw.url, 2, group_by="model")
    assert report["total"]["requests"] == 2
    assert report["total"]["cost_usd"] == pytest.approx(COST + stream_cost, abs=1e-12)
    assert report["total"]["input_tokens"] == 2 * 5100
    assert report["total"]["cache_read_tokens"] == 6000 and report["total"]["cache_write_tokens"] == 4000
    assert [r["model"] for r in report["rows"]] == ["claude-sonnet-4-5"]


def test_chat_through_anthropic_bills_1h_cache_writes(gw: Any, fake_anthropic: FakeUpstream) -> None:
    usage = {**USAGE, "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1500}}
    fake_anthropic.queue(
        Reply.json(anthropic_message("claude-sonnet-4-5", [{"type": "text", "text": "ok"}], usage=usage))
    )
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10) as client:
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
    expected = (100 * 3.0 + 500 * 3.75 + 1500 * 6.0 + 3000 * 0.30 + 50 * 15.0) / 1e6
    assert float(raw.headers["x-proxy-core-cost-usd"]) == pytest.approx(expected, abs=1e-12)
    assert raw.parse().usage.prompt_tokens == 5100
