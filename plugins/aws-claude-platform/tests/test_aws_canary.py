"""Canary: the credential values appear in no log line (structlog and stdlib, at DEBUG),
no error body a client gets, no span, and no upstream header where they do not belong."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
import structlog
from aws_fakes import (
    ACCESS_KEY_ID,
    ACCOUNTS,
    API_KEY,
    BASE_KEY_ID,
    BASE_SECRET,
    EXTERNAL_ID,
    MODEL,
    SECRET_KEY,
    FakePlatform,
    FakeSTS,
)

from proxy_core.testing import GATEWAY_KEY, RecordedRequest, Reply, RunningGateway

USER = [{"role": "user", "content": "hi"}]


def echo_error(request: RecordedRequest) -> Reply:
    """An upstream error that (badly) echoes the credentials it got: the account's own."""
    h = request.headers
    if h["authorization"].startswith("Bearer "):
        seen = API_KEY
    else:
        key = h["authorization"].split("Credential=")[1].split("/")[0]
        seen = f"{key} {SECRET_KEY if key == ACCESS_KEY_ID else ''} {h.get('x-amz-security-token', '')}"
    message = f"bad credentials {seen}"
    return Reply.json({"type": "error", "error": {"type": "invalid_request_error", "message": message}}, status=400)


def test_credentials_never_leak(
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    platform: FakePlatform,
    sts: FakeSTS,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    gateway_config["plugins"] = {
        "disabled": ["fallback"],
        "tracing": {"exporter": "memory"},
        "cost": {"store": f"sqlite:///{tmp_path / 'spend.db'}"},
    }
    gw = gateway_factory(gateway_config)
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []
    with structlog.testing.capture_logs() as events:
        openai_client = openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10)
        anthropic_client = anthropic.Anthropic(base_url=gw.url, api_key=GATEWAY_KEY, max_retries=0, timeout=10)
        with (
            openai_client,
            anthropic_client,
            httpx.Client(base_url=gw.url, headers={"x-api-key": GATEWAY_KEY}, timeout=10) as raw,
        ):
            for account in ACCOUNTS:
                openai_client.chat.completions.create(model=f"{account}/{MODEL}", messages=USER)
                list(openai_client.chat.completions.create(model=f"{account}/{MODEL}", messages=USER, stream=True))
                anthropic_client.messages.create(model=f"{account}/{MODEL}", max_tokens=8, messages=USER)
                # error bodies, read raw, on both client APIs
                platform.queue(echo_error, echo_error)
                chat = {"model": f"{account}/{MODEL}", "messages": USER}
                bodies.append(raw.post("/v1/chat/completions", json=chat).text)
                bodies.append(raw.post("/v1/messages", json={**chat, "max_tokens": 8}).text)
            # an STS refusal and a signature rejection are error paths too
            role = gw.gateway.providers["aws-role"].credentials  # type: ignore[attr-defined]
            role.clock = lambda: time.time() + 7200
            sts.queue(Reply.raw(b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>", 403))
            bodies.append(raw.post("/v1/chat/completions", json={"model": f"aws-role/{MODEL}", "messages": USER}).text)
            platform.known.pop(sts.issued[0][0], None)  # the platform no longer knows that key
            role.clock = time.time
    time.sleep(0.2)  # records and spans end just after the responses

    sts_secrets = [s for _, secret, token in sts.issued for s in (secret, token)]
    secrets = [SECRET_KEY, BASE_SECRET, API_KEY, EXTERNAL_ID, ACCESS_KEY_ID, BASE_KEY_ID, *sts_secrets]
    assert len(sts.issued) == 1 and len(bodies) == 7
    assert all(b.startswith("{") for b in bodies)
    assert "[redacted]" in bodies[0] and "[redacted]" in bodies[1]

    log_text = "\n".join(repr(e) for e in events) + "\n".join(
        r.getMessage() + repr(r.__dict__.get("event", "")) for r in caplog.records
    )
    spans = gw.gateway.state["tracing"].exporter.get_finished_spans()
    assert spans
    span_text = "\n".join(repr(dict(s.attributes or {})) + repr([e.attributes for e in s.events]) for s in spans)
    assert events and span_text
    for secret in secrets:
        assert secret not in log_text, "a credential reached a log line"
        assert secret not in span_text, "a credential reached a span"
        for body in bodies:
            assert secret not in body, "a credential reached an error body"

    # Upstream: each credential only where it belongs.
    for request in platform.requests:
        h = request.headers
        assert "x-api-key" not in h
        everywhere = repr(h) + request.body.decode(errors="replace")
        for secret in (SECRET_KEY, BASE_SECRET, BASE_KEY_ID, EXTERNAL_ID, *sts_secrets[::2]):
            assert secret not in everywhere
        if h["authorization"].startswith("Bearer "):
            assert ACCESS_KEY_ID not in everywhere and not [n for n in h if n.startswith("x-amz-")]
        else:
            assert API_KEY not in everywhere
    for request in sts.requests:  # STS gets the external id in its form, never a platform credential
        everywhere = repr(request.headers) + request.body.decode()
        for secret in (SECRET_KEY, API_KEY, BASE_SECRET, ACCESS_KEY_ID):
            assert secret not in everywhere
