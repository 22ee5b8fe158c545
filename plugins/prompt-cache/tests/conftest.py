"""The prompt-cache plugin's tests: one session gateway with Anthropic and OpenAI accounts."""

from __future__ import annotations

from typing import Any

from proxy_core.testing import default_config
from proxy_core.testing.pytest_plugin import shared_gateway


def cache_config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    config["providers"]["anthropic-main"]["models"] = {
        "claude-sonnet-4-20250514": {},  # 1024-token minimum
        "claude-opus-4-6": {},  # 4096
        "claude-3-5-haiku-20241022": {},  # 2048
        "claude-3-5": {},  # not in the table: no minimum known
        "claude-sonnet-4-5": {"min_cache_tokens": 64},  # config overrides the table
    }
    config["providers"]["openai-main"]["models"] = {"gpt-4o-mini": {}, "gpt-4o": {}}
    config["providers"]["xai-main"] = {
        **config["providers"]["openai-main"],
        "models": {"grok-4-0709": {}},
    }
    config["plugins"] = {"disabled": ["fallback"]}
    return config


gateway_config, _shared_gateway, gateway = shared_gateway(cache_config)
