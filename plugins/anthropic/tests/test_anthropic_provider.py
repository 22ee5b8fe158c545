"""The provider's small pieces that the SDK tests do not reach directly."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from proxy_core_anthropic.provider import AnthropicProvider

from proxy_core.config import ProviderConfig

USAGE = {"input_tokens": 10, "output_tokens": 4, "cache_read_input_tokens": 6}


def _usage_of(operation: str, response: dict[str, Any]) -> dict[str, Any] | None:
    provider = AnthropicProvider("a", ProviderConfig(type="anthropic", api_key="k"))
    ctx: Any = SimpleNamespace(operation=SimpleNamespace(name=operation))
    return provider.usage_of(ctx, response)


def test_native_usage_in_openai_names() -> None:
    usage = _usage_of("messages", {"type": "message", "usage": USAGE})
    assert usage is not None
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (16, 4, 20)
    assert usage["prompt_tokens_details"] == {"cached_tokens": 6}


def test_chat_usage_already_translated() -> None:
    translated = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    assert _usage_of("chat", {"usage": translated}) is translated


@pytest.mark.parametrize(("operation", "response"), [("count_tokens", {"input_tokens": 42}), ("messages", {})])
def test_no_usage(operation: str, response: dict[str, Any]) -> None:
    assert _usage_of(operation, response) is None


def test_default_base_url_and_auth_headers() -> None:
    provider = AnthropicProvider("a", ProviderConfig(type="anthropic", api_key="sk-ant-x"))
    assert provider.base_url == "https://api.anthropic.com"
    assert provider.auth_headers() == {"x-api-key": "sk-ant-x"}
