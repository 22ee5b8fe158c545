"""reasoning_effort on OpenAI-wire targets: passed through where the model takes it."""

from __future__ import annotations

import openai
import pytest
from proxy_core_reasoning.plugin import DROPPED_HEADER

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import openai_completion


@pytest.mark.parametrize("model", ["openai-main/o4-mini", "xai-main/grok-3-mini"])
def test_passed_through_where_supported(openai_client: openai.OpenAI, fake_openai: FakeUpstream, model: str) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "user", "content": "How to compute 3^3^3?"}],
        reasoning_effort="high",
        max_tokens=8000,
    )
    assert fake_openai.last.json()["reasoning_effort"] == "high"
    assert "thinking" not in fake_openai.last.json()
    assert DROPPED_HEADER not in raw.headers


@pytest.mark.parametrize("model", ["openai-main/gpt-4o-mini", "openai-main/my-reasoner", "xai-main/grok-4-0709"])
def test_removed_elsewhere(openai_client: openai.OpenAI, fake_openai: FakeUpstream, model: str) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hi"}], reasoning_effort="low", temperature=0.2
    )
    upstream = fake_openai.last.json()
    assert "reasoning_effort" not in upstream
    assert upstream["temperature"] == 0.2  # thinking rules are for thinking targets only
    assert raw.headers[DROPPED_HEADER] == "reasoning_effort"


def test_reasoning_tokens_reported(openai_client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    answer = openai_completion("o4-mini", "7625597484987")
    answer["usage"]["completion_tokens_details"] = {"reasoning_tokens": 64}
    fake_openai.queue(Reply.json(answer))
    response = openai_client.chat.completions.create(
        model="openai-main/o4-mini", messages=[{"role": "user", "content": "3^3^3?"}], reasoning_effort="medium"
    )
    assert response.usage is not None and response.usage.completion_tokens_details is not None
    assert response.usage.completion_tokens_details.reasoning_tokens == 64
