"""Readiness and draining: /readyz fails and new requests get 503 once draining starts."""

from __future__ import annotations

import httpx

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
GOOD = {"model": "openai-main/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_draining_refuses_new_requests(gateway: RunningGateway, fake_openai: FakeUpstream) -> None:
    with httpx.Client(base_url=gateway.url) as client:
        assert client.get("/readyz").json() == {"status": "ready"}
        assert client.post("/v1/chat/completions", json=GOOD, headers=AUTH).status_code == 200
        gateway.gateway.begin_drain(grace_s=5)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json() == {"status": "draining"}
        assert client.get("/healthz").status_code == 200, "liveness never depends on draining"
        refused = client.post("/v1/chat/completions", json=GOOD, headers=AUTH)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "shutting_down"
        anthropic_route = client.post("/v1/messages", json={**GOOD, "max_tokens": 5}, headers=AUTH)
        assert anthropic_route.status_code == 503 and anthropic_route.json()["type"] == "error"
    assert len(fake_openai.requests) == 1
