"""Anthropic's Messages API on a Bedrock Claude model, with the official anthropic SDK:
InvokeModel / InvokeModelWithResponseStream out, Anthropic's message and events back."""

from __future__ import annotations

import anthropic
import pytest
from bedrock_fakes import CLAUDE, CLAUDE_US, NOVA

from proxy_core.testing.fake_answers import anthropic_events
from proxy_core.testing.fake_bedrock import TEXT, FakeBedrock, event_stream, exception_frame, invoke_stream_frames


def test_create(anthropic_client: anthropic.Anthropic, bedrock: FakeBedrock) -> None:
    message = anthropic_client.messages.create(
        model=f"bedrock/{CLAUDE}",
        max_tokens=64,
        system="Be brief.",
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"},
    )
    assert message.content[0].text == TEXT  # type: ignore[union-attr]
    assert message.usage.input_tokens > 0
    assert bedrock.rejections == [] and bedrock.last.path == f"/model/{CLAUDE}/invoke"
    assert bedrock.last.json() == {
        "max_tokens": 64,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "hi"}],
        "anthropic_version": "bedrock-2023-05-31",
        "anthropic_beta": ["context-1m-2025-08-07"],
    }


def test_stream_and_final_message(anthropic_client: anthropic.Anthropic, bedrock: FakeBedrock) -> None:
    bedrock.queue(event_stream(invoke_stream_frames(anthropic_events("claude-sonnet-4-5", "streamed on bedrock"))))
    with anthropic_client.messages.stream(
        model=f"bedrock/{CLAUDE_US}", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        assert "".join(stream.text_stream) == "streamed on bedrock"
        final = stream.get_final_message()
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0
    assert bedrock.last.path == f"/model/{CLAUDE_US}/invoke-with-response-stream"
    assert "stream" not in bedrock.last.json() and "model" not in bedrock.last.json()


def test_in_stream_exception_after_content(anthropic_client: anthropic.Anthropic, bedrock: FakeBedrock) -> None:
    events = anthropic_events("claude-sonnet-4-5", "partial answer")
    frames = [*invoke_stream_frames(events[:4]), exception_frame("throttlingException", "Too many tokens, slow down.")]
    bedrock.queue(event_stream(frames))
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        anthropic_client.messages.stream(
            model=f"bedrock/{CLAUDE}", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as stream,
    ):
        for _ in stream.text_stream:
            pass
    assert "Too many tokens" in str(info.value)


def test_messages_on_other_families_go_through_converse(
    anthropic_client: anthropic.Anthropic, bedrock: FakeBedrock
) -> None:
    """Not Claude: no InvokeModel with an Anthropic body; the Messages bridge serves it over Converse."""
    message = anthropic_client.messages.create(
        model=f"bedrock/{NOVA}", max_tokens=64, system="Be brief.", messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].text == TEXT  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.usage.output_tokens > 0
    assert bedrock.rejections == [] and bedrock.last.path == f"/model/{NOVA}/converse"
    sent = bedrock.last.json()
    assert sent["system"] == [{"text": "Be brief."}]
    assert sent["messages"] == [{"role": "user", "content": [{"text": "hi"}]}]
    assert sent["inferenceConfig"]["maxTokens"] == 64


def test_malformed_native_body_is_a_400(anthropic_client: anthropic.Anthropic, bedrock: FakeBedrock) -> None:
    with pytest.raises(anthropic.BadRequestError):
        anthropic_client.messages.create(
            model=f"bedrock/{CLAUDE}",
            max_tokens=64,
            messages=[{"role": "user", "content": [{"text": "no type"}]}],  # type: ignore[list-item]
        )
    assert bedrock.requests == []
