"""Fault-injection fixtures: a route over two accounts on the fakes, fast backoff."""

from __future__ import annotations

from typing import Any

import pytest

from proxy_core.testing import FakeUpstream, default_config

PRIMARY = "openai-main/gpt-4o-mini"
BACKUP = "openai-backup/gpt-4o"


@pytest.fixture
def gateway_config(fake_openai: FakeUpstream, fake_anthropic: FakeUpstream) -> dict[str, Any]:
    config = default_config(openai_url=fake_openai.url, anthropic_url=fake_anthropic.url)
    config["providers"]["openai-backup"] = {**config["providers"]["openai-main"], "models": {"gpt-4o": {}}}
    config["routes"] = {
        "main": {"targets": [PRIMARY, BACKUP]},
        "solo": {"targets": [PRIMARY]},
        "claude": {"targets": ["anthropic-main/claude-sonnet-4-5", BACKUP]},
    }
    config["plugins"] = {
        "fallback": {
            "retry": {"attempts": 2, "backoff_ms": 10, "max_backoff_ms": 50},
            "timeouts": {"first_token": 5, "idle": 1, "total": 10},
        }
    }
    return config
