"""The structured-output plugin's tests: one session gateway with Anthropic and OpenAI accounts."""

from __future__ import annotations

from typing import Any

from proxy_core.testing import default_config
from proxy_core.testing.pytest_plugin import shared_gateway


def so_config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    config["providers"]["anthropic-main"]["models"] = {
        "claude-sonnet-4-20250514": {},  # tool conversion
        "claude-3-7-sonnet-20250219": {},
        "claude-sonnet-4-5": {},  # native
        "claude-opus-4-6": {},
    }
    config["plugins"] = {"disabled": ["fallback"]}
    return config


gateway_config, _shared_gateway, gateway = shared_gateway(so_config)
