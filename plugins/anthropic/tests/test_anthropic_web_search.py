"""Web search on the chat route: OpenAI's ``web_search_options`` or Anthropic's server tool
in ``tools`` go up as the web_search server tool; citations come back as OpenAI
``url_citation`` annotations, the server-tool blocks in ``message.server_tool_blocks``,
and the searches in ``usage.server_tool_use`` (stream and non-stream)."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from anthropic_helpers import MODEL, UPSTREAM_MODEL, message_reply

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import anthropic_message

URL = "https://en.wikipedia.org/wiki/Claude_Shannon"
CITATION = {
    "type": "web_search_result_location",
    "url": URL,
    "title": "Claude Shannon - Wikipedia",
    "encrypted_index": "Eo8BCioIAhgB",
    "cited_text": "Claude Elwood Shannon (April 30, 1916 - February 24, 2001)",
}
SEARCH = {"type": "server_tool_use", "id": "srvtoolu_01", "name": "web_search", "input": {"query": "shannon birth"}}
RESULT = {
    "type": "web_search_tool_result",
    "tool_use_id": "srvtoolu_01",
    "content": [
        {"type": "web_search_result", "url": URL, "title": "Claude Shannon - Wikipedia", "encrypted_content": "EqgfC"}
    ],
}
INTRO = "Based on the search results, "
CITED = "Claude Shannon was born on April 30, 1916."
USAGE = {"input_tokens": 6039, "output_tokens": 93, "server_tool_use": {"web_search_requests": 1}}
HI = [{"role": "user", "content": "When was Claude Shannon born?"}]


def test_web_search_options_and_citations(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    content = [
        SEARCH,
        RESULT,
        {"type": "text", "text": INTRO},
        {"type": "text", "text": CITED, "citations": [CITATION]},
    ]
    fake_anthropic.queue(message_reply(content, usage=USAGE))
    response = openai_client.chat.completions.create(
        model=MODEL,
        messages=HI,  # type: ignore[arg-type]
        web_search_options={
            "user_location": {"type": "approximate", "approximate": {"country": "US", "city": "Boston"}}
        },
    )
    message = response.choices[0].message
    assert message.content == INTRO + CITED
    assert message.annotations is not None and len(message.annotations) == 1
    cite = message.annotations[0].url_citation
    assert (cite.url, cite.title) == (URL, "Claude Shannon - Wikipedia")
    assert message.content[cite.start_index : cite.end_index] == CITED
    assert message.model_extra is not None and message.model_extra["server_tool_blocks"] == [SEARCH, RESULT]
    assert response.usage is not None
    assert (response.usage.model_extra or {})["server_tool_use"] == {"web_search_requests": 1}
    sent = fake_anthropic.last.json()
    assert sent["tools"] == [
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "user_location": {"type": "approximate", "city": "Boston", "country": "US"},
        }
    ]
    assert "web_search_options" not in sent


def test_server_tool_in_tools_is_forwarded_as_it_is(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    tool = {"type": "web_search_20250305", "name": "web_search", "max_uses": 3, "allowed_domains": ["wikipedia.org"]}
    function = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    openai_client.chat.completions.create(model=MODEL, messages=HI, tools=[tool, function])  # type: ignore[list-item,arg-type]
    sent = fake_anthropic.last.json()
    assert sent["tools"][0] == tool
    assert sent["tools"][1] == {"name": "f", "input_schema": {"type": "object"}}


def test_server_tool_blocks_go_back_on_the_next_turn(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream
) -> None:
    assistant: dict[str, Any] = {
        "role": "assistant",
        "content": CITED,
        "server_tool_blocks": [{**SEARCH, "index": 0}, RESULT],
    }
    openai_client.chat.completions.create(
        model=MODEL, messages=[*HI, assistant, {"role": "user", "content": "And where?"}]
    )  # type: ignore[list-item]
    turn = fake_anthropic.last.json()["messages"][1]
    assert turn["content"] == [SEARCH, RESULT, {"type": "text", "text": CITED}]


def stream_events() -> list[dict[str, Any]]:
    start = {
        **anthropic_message(UPSTREAM_MODEL, [], usage={"input_tokens": 6039, "output_tokens": 1}),
        "stop_reason": None,
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    events.append({"type": "content_block_start", "index": 0, "content_block": {**SEARCH, "input": {}}})
    for piece in ('{"query": ', '"shannon birth"}'):
        events.append(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": piece}}
        )
    events.append({"type": "content_block_stop", "index": 0})
    events += [
        {"type": "content_block_start", "index": 1, "content_block": RESULT},
        {"type": "content_block_stop", "index": 1},
    ]
    events.append({"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}})
    events.append({"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": INTRO}})
    events.append({"type": "content_block_stop", "index": 2})
    events.append(
        {"type": "content_block_start", "index": 3, "content_block": {"type": "text", "text": "", "citations": []}}
    )
    events.append(
        {"type": "content_block_delta", "index": 3, "delta": {"type": "citations_delta", "citation": CITATION}}
    )
    for piece in (CITED[:10], CITED[10:]):
        events.append({"type": "content_block_delta", "index": 3, "delta": {"type": "text_delta", "text": piece}})
    events.append({"type": "content_block_stop", "index": 3})
    usage = {"output_tokens": 93, "server_tool_use": {"web_search_requests": 1}}
    events.append(
        {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": usage}
    )
    events.append({"type": "message_stop"})
    return events


def test_stream_citations_and_server_blocks(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.sse(stream_events()))
    with openai_client.chat.completions.stream(
        model=MODEL,
        messages=HI,
        web_search_options={},
        stream_options={"include_usage": True},  # type: ignore[arg-type]
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == INTRO + CITED
    assert message.annotations is not None and len(message.annotations) == 1
    cite = message.annotations[0].url_citation
    assert message.content[cite.start_index : cite.end_index] == CITED and cite.url == URL
    blocks = (message.model_extra or {})["server_tool_blocks"]
    assert [b["type"] for b in blocks] == ["server_tool_use", "web_search_tool_result"]
    assert blocks[0]["input"] == {"query": "shannon birth"}
    assert final.usage is not None and (final.usage.model_extra or {})["server_tool_use"] == {"web_search_requests": 1}


def test_searches_are_priced(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    """The cost plugin adds USD 10 per 1,000 web searches to the tokens' price."""
    fake_anthropic.queue(message_reply([{"type": "text", "text": CITED, "citations": [CITATION]}], usage=USAGE))
    raw = openai_client.chat.completions.with_raw_response.create(model=MODEL, messages=HI, web_search_options={})  # type: ignore[arg-type]
    tokens = (6039 * 3.0 + 93 * 15.0) / 1e6  # claude-sonnet-4 prices
    assert float(raw.headers["x-proxy-core-cost-usd"]) == pytest.approx(tokens + 0.01)
