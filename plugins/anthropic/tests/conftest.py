"""The Anthropic plugin's tests: the default config plus the seeds' account names.

One gateway serves the whole session (a gateway is stateless between requests and
starting one costs ~0.3 s); the fakes are reset for each test by their fixtures.
Tests that need another config use ``gateway_factory(gateway_config)``.
"""

from __future__ import annotations

from typing import Any

from proxy_core.testing import default_config
from proxy_core.testing.pytest_plugin import shared_gateway


def anthropic_config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    # Seeds 001 and 003 name their models "anthropic/claude-3-5" and
    # "@anthropic/claude-sonnet-4-5-20250929": an account called "anthropic".
    config["providers"]["anthropic"] = {
        **config["providers"]["anthropic-main"],
        "models": {"claude-3-5": {}, "claude-sonnet-4-5-20250929": {}},
    }
    # The Messages bridge's tests: a reasoning model beside the default ones.
    config["providers"]["openai-main"]["models"]["o4-mini"] = {}
    # These tests are about the translators: the retry/health policy of the `fallback`
    # plugin (when installed) is not theirs to depend on; the core's default fallback
    # (next target on 429/5xx/529) stays.
    config["plugins"] = {"disabled": ["fallback"]}
    # File ids in chat parts are translated here; who owns them is the files suite's test.
    config["auth"]["keys"][0]["admin"] = True
    return config


gateway_config, _shared_gateway, gateway = shared_gateway(anthropic_config)
