"""/files requests end in ``on_request_end`` like every request: an access-log line, a
metric, a trace span and a spend record for each (an upload and a list here)."""

from __future__ import annotations

import io
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from files_helpers import ALICE_KEY, anthropic_file, sdk
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from proxy_core.testing import FakeUpstream, Reply, RunningGateway


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Records are written just after the response: poll for them, up to ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def requests_metric(url: str, operation: str) -> float:
    text = httpx.get(url + "/metrics").text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "proxy_core_requests_total" and s.labels.get("operation") == operation
    )


def test_upload_and_list_are_logged_counted_traced_and_recorded(
    tmp_path: Path,
    gateway_config: dict[str, Any],
    gateway_factory: Callable[..., RunningGateway],
    fake_anthropic: FakeUpstream,
) -> None:
    gateway_config["plugins"]["tracing"] = {"exporter": "memory"}
    gw = gateway_factory(gateway_config)
    fake_anthropic.queue(Reply.json(anthropic_file()), Reply.json({"data": [], "has_more": False}))
    spans = gw.gateway.state["tracing"].exporter

    with capture_logs() as logs, sdk(gw, ALICE_KEY, **{"x-proxy-core-account": "anthropic-main"}) as alice:
        alice.files.create(file=("a.txt", io.BytesIO(b"hello")), purpose="user_data")
        alice.files.list()
        wait_for(lambda: len([e for e in logs if e.get("event") == "request"]) == 2)

    lines = [e for e in logs if e.get("event") == "request"]
    assert [(e["operation"], e["key"], e["status"], e["outcome"]) for e in lines] == [
        ("files.create", "alice", 200, "completed"),
        ("files.list", "alice", 200, "completed"),
    ]
    assert requests_metric(gw.url, "files.create") == 1 and requests_metric(gw.url, "files.list") == 1
    finished = [s for s in spans.get_finished_spans() if s.attributes.get("proxy_core.key_name") == "alice"]
    assert sorted((s.attributes["proxy_core.operation"], s.attributes["http.request.method"]) for s in finished) == [
        ("files.create", "POST"),
        ("files.list", "GET"),
    ]
    assert all(s.attributes["http.response.status_code"] == 200 for s in finished)

    db = tmp_path / "spend.db"

    def recorded() -> list[tuple[str, str, int]]:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT operation, key_name, status FROM spend ORDER BY ts").fetchall()
        return [tuple(r) for r in rows]

    wait_for(lambda: len(recorded()) == 2)
    assert recorded() == [("files.create", "alice", 200), ("files.list", "alice", 200)]


def test_refused_request_is_recorded_once_with_its_status(
    gateway: RunningGateway, fake_anthropic: FakeUpstream
) -> None:
    """A 401 and a 404 (another key's file) end in exactly one access-log line each."""
    with capture_logs() as logs:
        wrong = httpx.get(gateway.url + "/v1/files", headers={"authorization": "Bearer sk-wrong"})
        with (
            sdk(gateway, ALICE_KEY, **{"x-proxy-core-account": "anthropic-main"}) as alice,
            pytest.raises(openai.NotFoundError),
        ):
            alice.files.retrieve("file_someone_elses")
        wait_for(lambda: len([e for e in logs if e.get("event") == "request"]) == 2)
    assert wrong.status_code == 401
    lines = [(e["operation"], e["key"], e["status"], e["outcome"]) for e in logs if e.get("event") == "request"]
    assert lines == [("files.list", None, 401, "failed"), ("files.retrieve", "alice", 404, "failed")]
    assert fake_anthropic.requests == []
