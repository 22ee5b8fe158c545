"""Fault injection over real HTTP: every request gets the whole answer or a clear error,
never a hang or a truncated success; each case then serves a good request."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from proxy_core.hookspecs import hookimpl
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_answers import OPENAI_TEXT, anthropic_events, default_reply, openai_chunks

MSG = [{"role": "user", "content": "hi"}]
AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}


class Recorder:
    def __init__(self) -> None:
        self.records: list[Any] = []

    def nth(self, n: int) -> Any:
        """The n-th record (1-based), waiting for it: records are written after the response."""
        deadline = time.monotonic() + 3
        while len(self.records) < n:
            assert time.monotonic() < deadline, "no record"
            time.sleep(0.01)
        return self.records[n - 1]

    @hookimpl
    def on_request_end(self, ctx: Any) -> None:
        served = ctx.served_by
        self.records.append((ctx.outcome, ctx.status, served.target.name if served else None, len(ctx.attempts)))


@pytest.fixture
def setup(
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    openai_for: Callable[[RunningGateway], openai.OpenAI],
) -> tuple[RunningGateway, openai.OpenAI, Recorder]:
    recorder = Recorder()
    gw = gateway_factory(gateway_config, plugins=[("recorder", recorder)])
    return gw, openai_for(gw), recorder


def models(fake: FakeUpstream) -> list[str]:
    return [r.json()["model"] for r in fake.requests]


def still_serves(client: openai.OpenAI, fake: FakeUpstream) -> None:
    before = len(fake.requests)
    done = client.chat.completions.create(model="main", messages=MSG)  # type: ignore[arg-type]
    assert done.choices[0].message.content == OPENAI_TEXT
    assert len(fake.requests) == before + 1


def error(status: int, message: str = "boom", headers: dict[str, str] | None = None) -> Reply:
    return Reply.json({"error": {"message": message, "type": "server_error"}}, status=status, headers=headers)


def test_429_with_retry_after_is_retried_after_the_pause(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(error(429, "slow down", {"retry-after": "0.4"}))
    started = time.monotonic()
    done = client.chat.completions.create(model="main", messages=MSG)
    assert time.monotonic() - started >= 0.4
    assert done.choices[0].message.content == OPENAI_TEXT
    assert models(fake_openai) == ["gpt-4o-mini", "gpt-4o-mini"]
    still_serves(client, fake_openai)


def test_retry_after_beyond_the_cap_falls_back_at_once(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(error(429, "come back in a minute", {"retry-after": "60"}))
    started = time.monotonic()
    client.chat.completions.create(model="main", messages=MSG)
    assert time.monotonic() - started < 1
    assert models(fake_openai) == ["gpt-4o-mini", "gpt-4o"]


def test_persistent_429_falls_back(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(error(429), error(429))
    raw = client.chat.completions.with_raw_response.create(model="main", messages=MSG)
    assert raw.headers["x-proxy-core-target"] == "openai-backup/gpt-4o"
    assert raw.parse().model == "main"
    assert models(fake_openai) == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o"]
    assert recorder.nth(1) == ("completed", 200, "openai-backup/gpt-4o", 3)
    still_serves(client, fake_openai)


def test_persistent_429_without_fallback_reaches_the_client(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(error(429, "rate limited"), error(429, "rate limited"))
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="solo", messages=MSG)
    assert "rate limited" in info.value.message
    assert len(fake_openai.requests) == 2
    still_serves(client, fake_openai)


def test_500_once_is_retried(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(error(500))
    done = client.chat.completions.create(model="solo", messages=MSG)
    assert done.choices[0].message.content == OPENAI_TEXT
    assert models(fake_openai) == ["gpt-4o-mini", "gpt-4o-mini"]


@pytest.mark.parametrize("status", [503, 529])
def test_persistent_5xx_with_and_without_fallback(setup: Any, fake_openai: FakeUpstream, status: int) -> None:
    gw, client, recorder = setup
    fake_openai.queue(error(status), error(status))
    assert client.chat.completions.create(model="main", messages=MSG).choices[0].message.content == OPENAI_TEXT
    assert models(fake_openai) == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o"]
    fake_openai.reset()
    fake_openai.queue(error(status, "overloaded"), error(status, "overloaded"))
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="solo", messages=MSG)
    assert info.value.status_code == status
    still_serves(client, fake_openai)


def test_400_is_neither_retried_nor_a_fallback_reason(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(Reply.json({"error": {"message": "context too long", "type": "invalid_request_error"}}, 400))
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="main", messages=MSG)
    assert "context too long" in info.value.message
    assert models(fake_openai) == ["gpt-4o-mini"]
    still_serves(client, fake_openai)


def test_when_every_target_rejects_the_primary_error_wins(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    primary = Reply.json({"error": {"message": "no such model (primary)", "type": "invalid_request_error"}}, 404)
    backup = Reply.json({"error": {"message": "bad request (backup)", "type": "invalid_request_error"}}, 400)
    fake_openai.queue(primary, backup)
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="main", messages=MSG)
    assert "(primary)" in info.value.message
    assert models(fake_openai) == ["gpt-4o-mini", "gpt-4o"], "4xx are not retried on the same target"
    still_serves(client, fake_openai)


def test_connection_refused_falls_back(
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    openai_for: Callable[[RunningGateway], openai.OpenAI],
    fake_openai: FakeUpstream,
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    gateway_config["providers"]["openai-main"]["base_url"] = f"http://127.0.0.1:{dead}/v1"
    client = openai_for(gateway_factory(gateway_config))
    done = client.chat.completions.create(model="main", messages=MSG)
    assert done.choices[0].message.content == OPENAI_TEXT
    assert models(fake_openai) == ["gpt-4o"]
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="solo", messages=MSG)
    assert info.value.status_code == 502 and "cannot reach" in info.value.message


def test_an_upstream_that_never_answers_times_out_and_falls_back(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(Reply(hang=True), Reply(hang=True))
    started = time.monotonic()
    done = client.chat.completions.create(model="main", messages=MSG)
    elapsed = time.monotonic() - started
    assert done.choices[0].message.content == OPENAI_TEXT
    assert 2 <= elapsed < 4, "idle limit 1 s per try, two tries, then the backup"
    assert fake_openai.wait_for_disconnect(1) is not None, "the hung upstream connection was closed"
    still_serves(client, fake_openai)


OVERLOADED = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})


def test_overloaded_event_before_content_falls_back_to_one_clean_stream(
    setup: Any, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream
) -> None:
    gw, client, recorder = setup
    head = anthropic_events("claude-sonnet-4-5", "x")[:3]  # message_start, block start, ping
    fake_anthropic.queue(Reply.sse([*head, OVERLOADED]), Reply.sse([*head, OVERLOADED]))
    chunks = list(client.chat.completions.create(model="claude", messages=MSG, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == OPENAI_TEXT
    roles = [c.choices[0].delta.role for c in chunks if c.choices and c.choices[0].delta.role]
    assert roles == ["assistant"], "one clean stream: the failed attempt's role chunk never reached the client"
    assert len(fake_anthropic.requests) == 2 and models(fake_openai) == ["gpt-4o"]
    assert recorder.nth(1)[:3] == ("completed", 200, "openai-backup/gpt-4o")


def test_overloaded_as_529_before_a_stream(setup: Any, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    overloaded = Reply.json({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, 529)
    fake_anthropic.queue(overloaded, overloaded)
    text = "".join(
        c.choices[0].delta.content or ""
        for c in client.chat.completions.create(model="claude", messages=MSG, stream=True)
        if c.choices
    )
    assert text == OPENAI_TEXT


def test_error_after_content_is_an_error_event_not_a_fallback(
    setup: Any, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream
) -> None:
    gw, client, recorder = setup
    events = anthropic_events("claude-sonnet-4-5", "partial answer")
    fake_anthropic.queue(Reply.sse([*events[:5], OVERLOADED]))
    received: list[str] = []
    with pytest.raises(openai.APIError) as info:
        for chunk in client.chat.completions.create(model="claude", messages=MSG, stream=True):
            received.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
    assert "Overloaded" in info.value.message
    assert "".join(received), "content had reached the client before the error"
    assert fake_openai.requests == [], "no switch after the first chunk"
    assert recorder.nth(1)[:2] == ("failed", 529)
    still_serves(client, fake_openai)


def sse_text(gw: RunningGateway, model: str = "solo") -> str:
    body = {"model": model, "messages": MSG, "stream": True}
    with httpx.Client(timeout=10) as http:
        r = http.post(gw.url + "/v1/chat/completions", json=body, headers=AUTH)
    assert r.status_code == 200
    return r.text


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        (Reply.sse(openai_chunks("gpt-4o-mini", "cut short", pieces=6), cut_after=3), "cut"),
        (Reply.sse(openai_chunks("gpt-4o-mini", "reset", pieces=6), reset_after=3), "cut"),
        (Reply.sse(openai_chunks("gpt-4o-mini", "stall", pieces=6), stall_after=3), "stalled"),
        (Reply.sse([*openai_chunks("gpt-4o-mini", "abc", pieces=3)[:3], b"data: {not json\n\n"]), "malformed"),
        (Reply.sse(openai_chunks("gpt-4o-mini", "no terminator", pieces=3)[:-1]), "[DONE]"),
    ],
    ids=["cut", "reset", "stall", "malformed", "no-terminator"],
)
def test_broken_streams_end_with_an_error_event_and_no_done(
    setup: Any, fake_openai: FakeUpstream, reply: Reply, needle: str
) -> None:
    gw, client, recorder = setup
    fake_openai.queue(reply)
    text = sse_text(gw)
    assert "data: [DONE]" not in text
    last = text.strip().split("\n\n")[-1]
    assert last.startswith('data: {"error"') and needle in last, last
    assert recorder.nth(1)[0] == "failed"
    with pytest.raises(openai.APIError):  # the SDK raises instead of returning a truncated success
        fake_openai.queue(reply)
        list(client.chat.completions.create(model="solo", messages=MSG, stream=True))
    still_serves(client, fake_openai)


def test_malformed_first_event_falls_back(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(Reply.sse([b"data: {not json\n\n"]), Reply.sse([b"data: {not json\n\n"]))
    chunks = list(client.chat.completions.create(model="main", messages=MSG, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == OPENAI_TEXT


def test_a_200_with_a_non_json_body(setup: Any, fake_openai: FakeUpstream) -> None:
    gw, client, recorder = setup
    fake_openai.queue(Reply.raw(b"<html>gateway error</html>", content_type="text/html"))
    done = client.chat.completions.create(model="main", messages=MSG)
    assert done.choices[0].message.content == OPENAI_TEXT
    fake_openai.queue(Reply.raw(b"<html>"), Reply.raw(b"<html>"))
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="solo", messages=MSG)
    assert info.value.status_code == 502 and "not JSON" in info.value.message


def test_total_limit(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    gateway_config["plugins"]["fallback"]["timeouts"] = {"total": 0.5, "idle": 5}
    gw = gateway_factory(gateway_config)
    fake_openai.queue(Reply.sse(openai_chunks("gpt-4o-mini", "y" * 100, pieces=50), delay_between=0.05))
    text = sse_text(gw)
    assert "total limit" in text.strip().split("\n\n")[-1] and "[DONE]" not in text


def test_passive_health_skips_a_failing_target_then_tries_it_again(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    gateway_config["plugins"]["fallback"]["health"] = {"failures": 2, "window_s": 10, "cooldown_s": 0.5}
    gateway_config["plugins"]["fallback"]["retry"] = {"attempts": 1}
    gw = gateway_factory(gateway_config)

    def primary_fails(request: Any) -> Reply:
        return error(503) if request.json()["model"] == "gpt-4o-mini" else default_reply("openai", request)

    fake_openai.queue(primary_fails, primary_fails, primary_fails, primary_fails)
    for _ in range(2):
        assert (
            httpx.post(
                gw.url + "/v1/chat/completions", json={"model": "main", "messages": MSG}, headers=AUTH
            ).status_code
            == 200
        )
    assert models(fake_openai) == ["gpt-4o-mini", "gpt-4o", "gpt-4o-mini", "gpt-4o"]
    fake_openai.reset()
    httpx.post(gw.url + "/v1/chat/completions", json={"model": "main", "messages": MSG}, headers=AUTH)
    assert models(fake_openai) == ["gpt-4o"], "the primary is cooling down"
    time.sleep(0.6)
    httpx.post(gw.url + "/v1/chat/completions", json={"model": "main", "messages": MSG}, headers=AUTH)
    assert models(fake_openai) == ["gpt-4o", "gpt-4o-mini"], "tried again after the cool-down"


def test_bad_fallback_config_names_the_path(gateway_config: dict[str, Any]) -> None:
    from proxy_core import ConfigError, Gateway
    from proxy_core.testing import BackgroundLoop

    gateway_config["routes"]["main"]["retry"] = {"attempts": 0}
    loop = BackgroundLoop()
    try:
        with pytest.raises(ConfigError, match=r"routes\.main\.retry\.attempts"):
            loop.run(Gateway(gateway_config).start())
    finally:
        loop.close()
