"""The reasoning plugin's tests: one session gateway with Anthropic and OpenAI accounts."""

from __future__ import annotations

from typing import Any

from proxy_core.testing import default_config
from proxy_core.testing.pytest_plugin import shared_gateway


def reasoning_config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    config["providers"]["anthropic-main"]["models"] = {
        "claude-sonnet-4-20250514": {},
        "claude-opus-4-1-20250805": {},
        "claude-3-7-sonnet-20250219": {},
        "claude-sonnet-4-5": {},
        "claude-opus-4-6": {},
        "claude-3-5-haiku-20241022": {},
        "claude-opus-4-6-adaptive": {"thinking": "adaptive"},  # config opts in
        "claude-opus-4-5-effort": {"thinking": "effort"},
        "claude-small": {"max_tokens": 4000},
    }
    config["providers"]["openai-main"]["models"] = {"gpt-4o-mini": {}, "o4-mini": {}, "my-reasoner": {}}
    config["providers"]["xai-main"] = {
        **config["providers"]["openai-main"],
        "models": {"grok-3-mini": {}, "grok-4-0709": {}},
    }
    config["plugins"] = {"disabled": ["fallback"]}
    return config


gateway_config, _shared_gateway, gateway = shared_gateway(reasoning_config)
