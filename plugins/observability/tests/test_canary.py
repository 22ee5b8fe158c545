"""Canary secrets (gateway keys, a provider key, AWS credentials) appear in no log line,
span, metric, error body or spend row, across success, 4xx, 5xx, upstream-timeout and
disconnect paths."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from structlog.testing import capture_logs

from proxy_core.testing import FakeUpstream, Reply, default_config
from proxy_core.testing.fake_answers import anthropic_message, openai_chunks

GATEWAY_CANARY = "sk-CANARY-gateway-5b1d0e"
ADMIN_CANARY = "sk-CANARY-admin-77c2aa"
PROVIDER_CANARY = "sk-CANARY-provider-9e4f31"
WRONG_CANARY = "sk-CANARY-wrong-0c3b9d"
AWS_KEY_ID_CANARY = "AKIACANARY0KEYID0001"
AWS_SECRET_CANARY = "CANARY+aws/secret/7f2e9a41b3c8d5e6f708192a3b4c5d"
CANARIES = (
    "CANARY",
    GATEWAY_CANARY,
    ADMIN_CANARY,
    PROVIDER_CANARY,
    WRONG_CANARY,
    AWS_KEY_ID_CANARY,
    AWS_SECRET_CANARY,
)
MODEL = "openai-main/gpt-4o-mini"


def test_canary_secrets_never_leak(
    gateway_factory: Callable[..., Any],
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    cfg = default_config(openai_url=fake_openai.url)
    cfg["auth"]["keys"] = [
        {"name": "app", "key": GATEWAY_CANARY, "user": "u1", "teams": ["t1"]},
        {"name": "ops", "key": ADMIN_CANARY, "admin": True},
    ]
    cfg["providers"]["openai-main"]["api_key"] = PROVIDER_CANARY
    cfg["providers"]["openai-main"]["timeout"] = {"read": 0.3}
    cfg["providers"]["aws-claude"] = {
        "type": "aws-claude-platform",
        "workspace_id": "wrkspc_01CanaryWorkspace",
        "region": "us-west-2",
        "base_url": fake_anthropic.url,
        "auth": {"type": "access_key", "access_key_id": AWS_KEY_ID_CANARY, "secret_access_key": AWS_SECRET_CANARY},
        "models": {"claude-sonnet-4-5": {}},
    }
    cfg["server"] = {"log_level": "debug"}
    cfg["plugins"] = {
        # no retries of the same target; the fallback plugin's idle timeout wins over the account's
        "fallback": {"retry": {"attempts": 1}, "timeouts": {"idle": 0.3}},
        "cost": {"store": f"sqlite:///{tmp_path / 'spend.db'}", "flush_interval_s": 0.05},
        "tracing": {"exporter": "memory"},
        "observability": {},
        "trace_hooks": True,
    }
    caplog.set_level(logging.DEBUG)
    gw = gateway_factory(cfg)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}
    auth = {"authorization": f"Bearer {GATEWAY_CANARY}"}
    bodies: list[str] = []
    chunks = openai_chunks("gpt-4o-mini", "streamed", include_usage=True)
    masked = PROVIDER_CANARY[:6] + "*" * 10 + PROVIDER_CANARY[-4:]  # how OpenAI words a bad key
    fake_openai.queue(
        Reply.json(
            {"error": {"message": f"Incorrect API key provided: {masked}", "type": "invalid_request_error"}}, 401
        ),
        Reply.json({"error": {"message": "boom", "type": "server_error"}}, status=500),
        Reply.json({}, hang=True),  # upstream read timeout
        Reply.sse(chunks),
        Reply.sse(chunks, delay_between=0.15),  # the client leaves
    )
    with capture_logs() as logs, httpx.Client(base_url=gw.url + "/v1", timeout=10) as client:
        # upstream 401 (the key masked as OpenAI words it), a wrong key, no key
        bodies.extend(
            client.post("/chat/completions", json=body, headers=h).text for h in (auth, {"x-api-key": WRONG_CANARY}, {})
        )
        bodies.append(client.post("/chat/completions", json=body, headers=auth).text)  # 500
        bodies.append(client.post("/chat/completions", json=body, headers=auth).text)  # timeout
        bodies.append(client.post("/chat/completions", json={**body, "stream": True}, headers=auth).text)
        with client.stream("POST", "/chat/completions", json={**body, "stream": True}, headers=auth) as r:
            next(r.iter_bytes())
        assert fake_openai.wait_for_disconnect(3.0) is not None
        bodies.append(client.post("/chat/completions", json={**body, "model": "nope/x"}, headers=auth).text)
        bodies.append(client.get("/admin/spend", headers={"x-api-key": GATEWAY_CANARY}).text)  # 403
        bodies.append(client.get("/admin/spend", headers={"x-api-key": WRONG_CANARY}).text)  # 401
        # SigV4-signed account: a success and an upstream 403 that names the key id
        aws = {**body, "model": "aws-claude/claude-sonnet-4-5"}
        denied = f"User with access key {AWS_KEY_ID_CANARY} is not authorized to perform: aws-external-anthropic:*"
        fake_anthropic.queue(
            Reply.json(anthropic_message("claude-sonnet-4-5", [{"type": "text", "text": "ok"}])),
            Reply.json({"type": "error", "error": {"type": "permission_error", "message": denied}}, 403),
        )
        bodies.append(client.post("/chat/completions", json=aws, headers=auth).text)
        bodies.append(client.post("/chat/completions", json=aws, headers=auth).text)
        deadline = time.monotonic() + 5
        while len([e for e in logs if e["event"] == "request"]) < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        bodies.append(client.get("/admin/spend?group_by=key", headers={"x-api-key": ADMIN_CANARY}).text)
        bodies.append(client.get("/metrics").text)

    statuses = sorted(e["status"] for e in logs if e["event"] == "request")
    # upstream 401 and 403 (the account's credentials, not the client's fault) are 502s
    assert statuses == [200, 200, 401, 401, 404, 499, 500, 502, 502, 504]
    assert fake_openai.requests[0].headers["authorization"] == f"Bearer {PROVIDER_CANARY}"  # it was really used
    assert AWS_KEY_ID_CANARY in fake_anthropic.requests[0].headers["authorization"]  # SigV4 really signed

    spans = [s.to_json() for s in gw.gateway.state["tracing"].exporter.get_finished_spans()]
    assert len(spans) >= 8
    with sqlite3.connect(tmp_path / "spend.db") as db:
        rows = "\n".join(db.iterdump())
    assert "INSERT INTO" in rows
    out, err = capfd.readouterr()
    evidence = {
        "structlog events": orjson.dumps(logs, default=repr).decode(),
        "stdlib log records": "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text}" for r in caplog.records),
        "stdout/stderr": out + err,
        "spans": "\n".join(spans),
        "responses (error bodies, admin, metrics)": "\n".join(bodies),
        "spend rows": rows,
    }
    for where, text in evidence.items():
        for canary in CANARIES:
            assert canary not in text, f"{canary} found in {where}"
