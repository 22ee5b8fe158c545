"""Config of the gemini plugin's test gateway (imported by conftest and tests)."""

from __future__ import annotations

from typing import Any

from proxy_core.testing import default_config
from proxy_core.testing.fake_gemini import GEMINI_KEY

MODELS = ("gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-pro-preview", "gemini-2.0-flash")


def gemini_config(gemini_url: str, anthropic_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url)
    config["providers"]["gemini-main"] = {
        "type": "gemini",
        "api_key": GEMINI_KEY,
        "base_url": gemini_url,
        "models": {m: {} for m in MODELS},
    }
    config["routes"] = {
        "gemini-then-claude": {"targets": ["gemini-main/gemini-2.5-pro", "anthropic-main/claude-sonnet-4-5"]},
        "claude-then-gemini": {"targets": ["anthropic-main/claude-sonnet-4-5", "gemini-main/gemini-2.5-flash"]},
    }
    config["plugins"] = {"disabled": ["fallback"]}  # the core's default fallback (429/5xx) stays
    return config
