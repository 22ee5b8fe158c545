"""Shared pieces of the console tests: the gateway config, keys, and an ASGI app served
on the test kit's background loop (for the console mounted under a prefix)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ADMIN_KEY = "sk-console-admin-0123456789"
USER_KEY = "sk-console-user-0123456789"
MANAGER_KEY = "sk-console-manager-0123456789"
OPENAI_MODEL = "openai-main/gpt-4o-mini"
LIMITED_MODEL = "openai-main/gpt-limited"  # a limits rule refuses every request (rpm 0)
UNPRICED_MODEL = "openai-main/mystery-model"  # no price anywhere: its spend rows are unpriced
CLAUDE_MODEL = "anthropic-main/claude-sonnet-4-5"


def console_config(openai_url: str, anthropic_url: str, state_dir: Path) -> dict[str, Any]:
    return {
        "auth": {
            "keys": [
                {"name": "ops", "key": ADMIN_KEY, "user": "ops", "admin": True},
                {"name": "dev", "key": USER_KEY, "user": "alice", "teams": ["ml"], "models": ["openai-main/*"]},
                {"name": "lead", "key": MANAGER_KEY, "user": "bob", "teams": ["ml"]},
            ],
            "store": f"sqlite:///{state_dir / 'auth.db'}",
        },
        "providers": {
            "openai-main": {
                "type": "openai",
                "api_key": "sk-upstream-openai-secret",
                "base_url": openai_url + "/v1",
                "models": {"gpt-4o-mini": {}, "gpt-limited": {}, "mystery-model": {}},
            },
            "anthropic-main": {
                "type": "anthropic",
                "api_key": "sk-ant-upstream-secret",
                "base_url": anthropic_url,
                "models": {"claude-sonnet-4-5": {}},
                "collaborators": [{"subject": "user:bob", "role": "manager"}],
            },
        },
        "plugins": {
            "cost": {"store": f"sqlite:///{state_dir / 'spend.db'}"},
            "limits": {"rules": [{"match": {"model": LIMITED_MODEL}, "rpm": 0}]},
            "fallback": {"retry": {"attempts": 1}, "health": {"failures": 1, "window_s": 60, "cooldown_s": 300}},
        },
    }
