"""A client that goes away cancels its upstream request at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from proxy_core.hookspecs import hookimpl
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_answers import openai_chunks

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
BODY = {"model": "openai-main/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


class Recorder:
    def __init__(self) -> None:
        self.records: list[tuple[str | None, int | None]] = []

    @hookimpl
    def on_request_end(self, ctx: Any) -> None:
        self.records.append((ctx.outcome, ctx.status))


@pytest.fixture
def recorded(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]
) -> tuple[RunningGateway, Recorder]:
    recorder = Recorder()
    return gateway_factory(gateway_config, plugins=[("recorder", recorder)]), recorder


def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_disconnect_mid_stream_closes_upstream(
    recorded: tuple[RunningGateway, Recorder], fake_openai: FakeUpstream
) -> None:
    gw, recorder = recorded
    fake_openai.queue(Reply.sse(openai_chunks("gpt-4o-mini", "x" * 400, pieces=200), delay_between=0.05))
    url = gw.url + "/v1/chat/completions"
    with (
        httpx.Client(timeout=5) as client,
        client.stream("POST", url, json={**BODY, "stream": True}, headers=AUTH) as r,
    ):
        assert r.status_code == 200
        lines = r.iter_lines()
        assert next(lines).startswith("data: ")
        closed_at = time.monotonic()
    seen = fake_openai.wait_for_disconnect(2.0)
    assert seen is not None, "the upstream never saw the close"
    assert seen.at - closed_at < 0.1
    assert seen.events_sent < 50
    wait_for(lambda: bool(recorder.records))
    assert recorder.records == [("failed", 499)]
    assert httpx.post(gw.url + "/v1/chat/completions", json=BODY, headers=AUTH).status_code == 200


def test_disconnect_while_waiting_for_headers(
    recorded: tuple[RunningGateway, Recorder], fake_openai: FakeUpstream
) -> None:
    gw, recorder = recorded
    fake_openai.queue(Reply(hang=True))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gw.url + "/v1/chat/completions", json=BODY, headers=AUTH, timeout=0.3)
    closed_at = time.monotonic()
    seen = fake_openai.wait_for_disconnect(2.0)
    assert seen is not None
    assert seen.at - closed_at < 0.1
    wait_for(lambda: bool(recorder.records))
    assert recorder.records == [("failed", 499)]
    assert httpx.post(gw.url + "/v1/chat/completions", json=BODY, headers=AUTH).status_code == 200


def test_disconnect_before_first_token(recorded: tuple[RunningGateway, Recorder], fake_openai: FakeUpstream) -> None:
    gw, recorder = recorded
    fake_openai.queue(Reply.sse(openai_chunks("gpt-4o-mini", "late"), delay_before=5))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(gw.url + "/v1/chat/completions", json={**BODY, "stream": True}, headers=AUTH, timeout=0.3)
    seen = fake_openai.wait_for_disconnect(2.0)
    assert seen is not None and seen.events_sent == 0
    wait_for(lambda: bool(recorder.records))
    assert recorder.records == [("failed", 499)]
