"""Gemini models on Vertex through the openai SDK: the gemini plugin's translation at
Vertex's paths, with a service account's OAuth token."""

from __future__ import annotations

import json

import openai

from proxy_core.testing import Reply
from proxy_core.testing.fake_gemini import GEMINI_TEXT, gemini_answer, gemini_events
from proxy_core.testing.fake_vertex import FakeVertex

PATH = "/v1/projects/proxy-core-test/locations/us-east5/publishers/google/models"
SIG = "CiQB0e2Kb-vertex-signature=="
TOOL = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}}}


def test_plain_and_stream_with_usage(openai_client: openai.OpenAI, vertex: FakeVertex) -> None:
    answer = openai_client.chat.completions.create(
        model="vertex-sa/gemini-2.5-pro",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    )
    assert answer.choices[0].message.content == GEMINI_TEXT
    sent = vertex.last
    assert sent.path == f"{PATH}/gemini-2.5-pro:generateContent"
    assert sent.headers["authorization"].startswith("Bearer ya29.fake-")
    assert "x-goog-api-key" not in sent.headers
    assert sent.json()["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    chunks = list(
        openai_client.chat.completions.create(
            model="vertex-sa/gemini-2.5-pro",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == GEMINI_TEXT
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 19
    assert vertex.last.path == f"{PATH}/gemini-2.5-pro:streamGenerateContent?alt=sse"
    assert vertex.rejections == []


def test_cloud_storage_and_https_files_by_reference(openai_client: openai.OpenAI, vertex: FakeVertex) -> None:
    openai_client.chat.completions.create(
        model="vertex-sa/gemini-2.5-pro",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "gs://bucket/cat.png", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "https://example.org/report.pdf"}},
                    {"type": "image_url", "image_url": {"url": "https://example.org/clip", "mime_type": "video/mp4"}},
                ],
            }
        ],
    )
    body = vertex.last.json()
    assert body["contents"][0]["parts"] == [
        {"fileData": {"mimeType": "image/png", "fileUri": "gs://bucket/cat.png"}},
        {"fileData": {"mimeType": "application/pdf", "fileUri": "https://example.org/report.pdf"}},
        {"fileData": {"mimeType": "video/mp4", "fileUri": "https://example.org/clip"}},
    ]
    assert body["generationConfig"] == {"mediaResolution": "MEDIA_RESOLUTION_LOW"}


def test_tools_round_trip_with_signature_and_reasoning(openai_client: openai.OpenAI, vertex: FakeVertex) -> None:
    call = {"functionCall": {"name": "lookup", "args": {}}, "thoughtSignature": SIG}
    vertex.queue(Reply.json(gemini_answer([{"text": "planning", "thought": True}, call])))
    first = openai_client.chat.completions.create(
        model="vertex-sa/gemini-3-pro-preview",
        messages=[{"role": "user", "content": "Look it up"}],
        tools=[TOOL],  # type: ignore[list-item]
        reasoning_effort="high",
    )
    assert vertex.last.json()["generationConfig"]["thinkingConfig"] == {
        "thinkingLevel": "high",
        "includeThoughts": True,
    }
    message = first.choices[0].message
    assert message.reasoning_content == "planning"  # type: ignore[attr-defined]
    assert message.tool_calls is not None
    openai_client.chat.completions.create(
        model="vertex-sa/gemini-3-pro-preview",
        messages=[
            {"role": "user", "content": "Look it up"},
            message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": message.tool_calls[0].id, "content": '{"found": true}'},
        ],
        tools=[TOOL],  # type: ignore[list-item]
    )
    assert vertex.rejections == []
    contents = vertex.last.json()["contents"]
    assert contents[1] == {"role": "model", "parts": [call]}
    assert contents[2]["parts"] == [{"functionResponse": {"name": "lookup", "response": {"found": True}}}]


def test_structured_output_native_and_via_function(openai_client: openai.OpenAI, vertex: FakeVertex) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    fmt = {"type": "json_schema", "json_schema": {"name": "num", "schema": schema}}
    vertex.queue(Reply.json(gemini_answer([{"text": '{"n": 3}'}])))
    answer = openai_client.chat.completions.create(
        model="vertex-sa/gemini-2.5-pro",
        messages=[{"role": "user", "content": "3"}],
        response_format=fmt,  # type: ignore[arg-type]
    )
    assert json.loads(answer.choices[0].message.content or "") == {"n": 3}
    assert vertex.last.json()["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }
    vertex.queue(gemini_events([{"functionCall": {"name": "num", "args": {"n": 4}}}]))
    stream = openai_client.chat.completions.create(
        model="vertex-sa/gemini-2.5-pro",
        messages=[{"role": "user", "content": "4"}],
        response_format=fmt,  # type: ignore[arg-type]
        tools=[TOOL],  # type: ignore[list-item]
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert json.loads(text) == {"n": 4}
    assert "responseMimeType" not in vertex.last.json().get("generationConfig", {})
