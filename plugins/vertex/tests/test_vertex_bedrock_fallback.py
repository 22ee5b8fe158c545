"""Fallback between Bedrock and Vertex targets of one route (Claude on both), through the
openai and anthropic SDKs, against the kit's FakeBedrock and FakeVertex."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import openai
import pytest
from vertex_helpers import CLAUDE

from proxy_core.testing import GATEWAY_KEY, BackgroundLoop, RunningGateway, run_fake
from proxy_core.testing.fake_bedrock import API_KEY, FakeBedrock, aws_error
from proxy_core.testing.fake_gemini import google_error
from proxy_core.testing.fake_vertex import FakeVertex

BEDROCK_CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.fixture(scope="module")
def bedrock(proxy_core_loop: BackgroundLoop) -> Iterator[FakeBedrock]:
    yield from run_fake(proxy_core_loop, FakeBedrock())


@pytest.fixture
def mixed(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], bedrock: FakeBedrock
) -> RunningGateway:
    bedrock.reset()
    gateway_config["providers"]["bedrock"] = {
        "type": "bedrock",
        "region": "us-east-1",
        "base_url": bedrock.url,
        "auth": {"type": "api_key", "api_key": API_KEY},
        "models": {BEDROCK_CLAUDE: {}},
    }
    gateway_config["routes"]["bedrock-then-vertex"] = {"targets": [f"bedrock/{BEDROCK_CLAUDE}", f"vertex-sa/{CLAUDE}"]}
    gateway_config["routes"]["vertex-then-bedrock"] = {"targets": [f"vertex-sa/{CLAUDE}", f"bedrock/{BEDROCK_CLAUDE}"]}
    return gateway_factory(gateway_config)


def test_bedrock_throttled_falls_back_to_vertex(
    mixed: RunningGateway, openai_for: Callable[..., openai.OpenAI], bedrock: FakeBedrock, vertex: FakeVertex
) -> None:
    bedrock.queue(aws_error("ThrottlingException", "Too many requests, please wait before trying again.", 429))
    raw = openai_for(mixed).chat.completions.with_raw_response.create(
        model="bedrock-then-vertex",
        messages=[{"role": "user", "content": "Hi"}],
        reasoning_effort="low",
        max_tokens=4000,
    )
    assert raw.headers["x-proxy-core-target"] == f"vertex-sa/{CLAUDE}"
    assert raw.parse().choices[0].message.content
    assert len(bedrock.requests) == 1
    body = vertex.last.json()
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1200} and "model" not in body


def test_vertex_unavailable_falls_back_to_bedrock_on_messages(
    mixed: RunningGateway, bedrock: FakeBedrock, vertex: FakeVertex
) -> None:
    vertex.queue(google_error(503, "UNAVAILABLE", "The service is currently unavailable."))
    with anthropic.Anthropic(base_url=mixed.url, api_key=GATEWAY_KEY, max_retries=0, timeout=10) as anthropic_client:
        raw = anthropic_client.messages.with_raw_response.create(
            model="vertex-then-bedrock", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert raw.headers["x-proxy-core-target"] == f"bedrock/{BEDROCK_CLAUDE}"
    assert raw.parse().content[0].type == "text"
    assert len(vertex.requests) == 1 and len(bedrock.requests) == 1
