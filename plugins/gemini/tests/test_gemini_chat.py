"""Chat Completions through the openai SDK to the fake Gemini API: both ends asserted."""

from __future__ import annotations

import base64

import openai
import pytest

from proxy_core.testing import Reply
from proxy_core.testing.fake_gemini import GEMINI_KEY, GEMINI_TEXT, FakeGemini, gemini_answer

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake-image").decode()
PDF = base64.b64encode(b"%PDF-1.4 fake").decode()
WAV = base64.b64encode(b"RIFF....WAVEfake").decode()


def test_plain_answer_and_usage(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    answer = openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}]
    )
    assert answer.choices[0].message.content == GEMINI_TEXT
    assert answer.choices[0].finish_reason == "stop"
    assert answer.model == "gemini-main/gemini-2.5-pro"
    assert answer.usage is not None and (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (12, 7)
    sent = gemini.last
    assert sent.path == "/v1beta/models/gemini-2.5-pro:generateContent"
    assert sent.headers["x-goog-api-key"] == GEMINI_KEY
    assert "key=" not in sent.path and "authorization" not in sent.headers
    assert sent.json() == {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    assert gemini.rejections == []


def test_system_multi_turn_and_parameters(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    raw = openai_client.chat.completions.with_raw_response.create(
        model="gemini-main/gemini-2.0-flash",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Name a colour."},
            {"role": "assistant", "content": "Blue."},
            {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
            {"role": "user", "content": "Another?"},
        ],
        max_tokens=50,
        temperature=0.2,
        top_p=0.9,
        seed=7,
        stop=["\n\n", "END"],
        logit_bias={"1": 2},
        user="u-1",
    )
    assert raw.parse().choices[0].message.content == GEMINI_TEXT
    assert raw.headers["x-proxy-core-dropped-params"] == "logit_bias,user"
    body = gemini.last.json()
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Answer in French."}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert body["contents"][1] == {"role": "model", "parts": [{"text": "Blue."}]}
    assert body["generationConfig"] == {
        "maxOutputTokens": 50,
        "temperature": 0.2,
        "topP": 0.9,
        "seed": 7,
        "stopSequences": ["\n\n", "END"],
    }


def test_images_pdf_audio_inline_and_detail(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-flash",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Describe these.", "cache_control": {"type": "ephemeral"}},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "high"}},
                    {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PDF}", "filename": "a.pdf"}},
                    {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}},
                    {"type": "image_url", "image_url": {"url": "https://www.youtube.com/watch?v=abc"}},
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:video/mp4;base64,{PNG}", "mime_type": "video/mp4"},
                    },
                ],
            }
        ],
    )
    body = gemini.last.json()
    parts = body["contents"][0]["parts"]
    assert parts[0] == {"text": "Describe these."}  # cache_control stripped
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": PNG}}
    assert parts[3] == {"inlineData": {"mimeType": "application/pdf", "data": PDF}}
    assert parts[4] == {"inlineData": {"mimeType": "audio/wav", "data": WAV}}
    assert parts[5] == {"fileData": {"mimeType": "video/mp4", "fileUri": "https://www.youtube.com/watch?v=abc"}}
    assert parts[6] == {"inlineData": {"mimeType": "video/mp4", "data": PNG}}  # the seed's video form
    assert body["generationConfig"] == {"mediaResolution": "MEDIA_RESOLUTION_HIGH"}  # the highest detail wins


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("https://example.com/cat.png", "does not fetch URLs"),
        ("gs://bucket/cat.png", "does not fetch URLs"),
        ("ftp://example.com/cat.png", "does not fetch URLs"),
        ("data:image/png;base64", "base64 data: URI"),
        ("data:application/x-msdownload;base64,AAAA", "not supported by Gemini"),
    ],
)
def test_media_the_gateway_refuses(openai_client: openai.OpenAI, gemini: FakeGemini, url: str, needle: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="gemini-main/gemini-2.5-flash",
            messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}],
        )
    assert needle in err.value.message and "messages[0].content[0]" in err.value.message
    assert gemini.requests == []


def test_bad_input_is_a_400_before_any_upstream_call(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    cases = [
        ({"n": 2}, "'n' must be 1"),
        ({"stop": ["a", "b", "c", "d", "e", "f"]}, "at most 5"),
        ({"temperature": "hot"}, "'temperature' must be a number"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ]
    for extra, needle in cases:
        with pytest.raises(openai.BadRequestError) as err:
            openai_client.chat.completions.create(
                model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}], **extra
            )
        assert needle in err.value.message
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model="gemini-main/gemini-2.5-pro",
            messages=[{"role": "user", "content": "Hi"}, {"role": "tool", "tool_call_id": "call_x", "content": "1"}],
        )
    assert "messages[1].tool_call_id" in err.value.message
    assert gemini.requests == []
    # and the gateway keeps serving
    assert (
        openai_client.chat.completions.create(
            model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}]
        )
        .choices[0]
        .message.content
    )


def test_safety_block_is_content_filter_with_the_reason(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    ratings = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]
    gemini.queue(Reply.json(gemini_answer([{"text": "Partial"}], finish="SAFETY", safetyRatings=ratings)))
    answer = openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "x"}]
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "content_filter"
    assert choice.message.refusal == "Gemini stopped the answer: SAFETY (HARM_CATEGORY_DANGEROUS_CONTENT)"
    gemini.queue(Reply.json(gemini_answer(promptFeedback={"blockReason": "PROHIBITED_CONTENT"})))
    answer = openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "x"}]
    )
    assert answer.choices[0].finish_reason == "content_filter"
    assert answer.choices[0].message.content is None
    assert answer.choices[0].message.refusal == "Gemini blocked the prompt: PROHIBITED_CONTENT"


def test_usage_reasoning_and_cached_tokens(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    usage = {
        "promptTokenCount": 100,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "cachedContentTokenCount": 64,
    }
    gemini.queue(Reply.json(gemini_answer([{"text": "Hmm", "thought": True}, {"text": "42"}], usage=usage)))
    answer = openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Q"}]
    )
    u = answer.usage
    assert u is not None
    assert (u.prompt_tokens, u.completion_tokens, u.total_tokens) == (100, 50, 150)
    assert u.completion_tokens_details is not None and u.completion_tokens_details.reasoning_tokens == 30
    assert u.prompt_tokens_details is not None and u.prompt_tokens_details.cached_tokens == 64
    message = answer.choices[0].message
    assert message.content == "42"
    assert message.reasoning_content == "Hmm"  # type: ignore[attr-defined]
