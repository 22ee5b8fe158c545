"""Prices of Gemini models and of Claude on Vertex (ids with "@date") reach the cost header."""

from __future__ import annotations

import openai
from vertex_helpers import CLAUDE

from proxy_core.testing import Reply
from proxy_core.testing.fake_gemini import gemini_answer
from proxy_core.testing.fake_vertex import FakeVertex


def test_cost_of_gemini_and_vertex_claude(openai_client: openai.OpenAI, vertex: FakeVertex) -> None:
    usage = {"promptTokenCount": 1_000_000, "candidatesTokenCount": 100_000, "thoughtsTokenCount": 100_000}
    vertex.queue(Reply.json(gemini_answer(usage=usage)))
    raw = openai_client.chat.completions.with_raw_response.create(
        model="vertex-sa/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}]
    )
    assert float(raw.headers["x-proxy-core-cost-usd"]) == 1.25 + 0.2 * 10.0  # thoughts billed as output
    raw = openai_client.chat.completions.with_raw_response.create(
        model=f"vertex-sa/{CLAUDE}", messages=[{"role": "user", "content": "Hi"}]
    )
    assert float(raw.headers["x-proxy-core-cost-usd"]) == round((12 * 3.0 + 8 * 15.0) / 1e6, 10)
