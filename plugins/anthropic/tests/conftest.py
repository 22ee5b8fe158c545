"""The Anthropic plugin's tests: the default config plus the seeds' account names."""

from __future__ import annotations

from typing import Any

import pytest

from proxy_core.testing import FakeUpstream, default_config


@pytest.fixture
def gateway_config(fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> dict[str, Any]:
    config = default_config(anthropic_url=fake_anthropic.url, openai_url=fake_openai.url)
    # Seed 001 names its model "anthropic/claude-3-5": an account called "anthropic".
    config["providers"]["anthropic"] = {**config["providers"]["anthropic-main"], "models": {"claude-3-5": {}}}
    return config
