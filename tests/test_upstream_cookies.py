"""One upstream session serves every tenant of an account: a cookie set in one tenant's
answer never rides along with another request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai

from proxy_core.testing import FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_answers import openai_completion


def test_cookies_set_by_an_upstream_are_not_sent_back(
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    openai_for: Callable[..., openai.OpenAI],
    fake_openai: FakeUpstream,
) -> None:
    # A host name, not an IP: cookie jars keep no cookies for IP addresses.
    account = gateway_config["providers"]["openai-main"]
    account["base_url"] = account["base_url"].replace("127.0.0.1", "localhost")
    client = openai_for(gateway_factory(gateway_config))
    fake_openai.queue(
        Reply.json(openai_completion("gpt-4o-mini", "first"), headers={"set-cookie": "session=tenant-a; Path=/"})
    )
    for _ in range(2):
        client.chat.completions.create(model="openai-main/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert len(fake_openai.requests) == 2
    assert "cookie" not in fake_openai.requests[1].headers
