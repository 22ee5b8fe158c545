"""Chat with an uploaded file: a file-source block upstream and the Files beta header."""

from __future__ import annotations

import io

import anthropic
import openai
from files_helpers import FILES_BETA, anthropic_file

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import ANTHROPIC_TEXT

MODEL = "anthropic-main/claude-sonnet-4-20250514"


def test_chat_with_an_uploaded_file_id(files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    fake_anthropic.queue(Reply.json(anthropic_file(filename="report.pdf", mime_type="application/pdf")))
    uploaded = files_client.files.create(file=("report.pdf", io.BytesIO(b"%PDF-1.4 ...")), purpose="user_data")
    response = files_client.chat.completions.create(
        model=MODEL,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Summarise the report."},
                    {"type": "file", "file": {"file_id": uploaded.id}},
                ],
            }
        ],
        extra_headers={"anthropic-beta": "token-efficient-tools-2025-02-19"},
    )
    assert response.choices[0].message.content == ANTHROPIC_TEXT
    chat = fake_anthropic.last
    assert chat.path == "/v1/messages"
    assert chat.json()["messages"][0]["content"][1] == {
        "type": "document",
        "source": {"type": "file", "file_id": uploaded.id},
    }
    # the client's own betas kept, the Files beta added once
    assert chat.headers["anthropic-beta"] == f"token-efficient-tools-2025-02-19,{FILES_BETA}"


def test_chat_without_files_gets_no_files_beta(files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    files_client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "anthropic-beta" not in fake_anthropic.last.headers


def test_native_messages_with_a_file_source_get_the_beta(
    anthropic_client: anthropic.Anthropic, fake_anthropic: FakeUpstream
) -> None:
    """The anthropic SDK's beta client sends file sources too; the header is added if missing."""
    anthropic_client.beta.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "file_abc"}}]}],
    )
    assert fake_anthropic.last.headers["anthropic-beta"] == FILES_BETA
    assert fake_anthropic.last.json()["messages"][0]["content"][0]["source"] == {"type": "file", "file_id": "file_abc"}


def test_chat_with_an_uploaded_image(files_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    """A file part naming an image format becomes an image block with a file source."""
    part = {"type": "file", "file": {"file_id": "file_img", "format": "image/png"}}
    files_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": [{"type": "text", "text": "What is in it?"}, part]}],  # type: ignore[list-item]
    )
    assert fake_anthropic.last.json()["messages"][0]["content"][1] == {
        "type": "image",
        "source": {"type": "file", "file_id": "file_img"},
    }
    assert fake_anthropic.last.headers["anthropic-beta"] == FILES_BETA
