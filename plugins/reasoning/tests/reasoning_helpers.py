"""Scripted Anthropic answers (JSON and SSE events) for the reasoning tests."""

from __future__ import annotations

from typing import Any

from proxy_core.testing import Reply
from proxy_core.testing.fake_answers import anthropic_message
from proxy_core.testing.fake_answers import anthropic_stream as events_reply

SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds7rvWM2C/kG/ZRl6uZv1ypZo+VULo3FDLkqOZhPOdA=="
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4a"

__all__ = ["REDACTED", "SIGNATURE", "events_reply", "message_reply"]


def message_reply(model: str, content: list[dict[str, Any]], **kw: Any) -> Reply:
    return Reply.json(anthropic_message(model, content, **kw))
