"""Access logs, /metrics, and the spend table, spans and metrics agreeing on a scripted mix."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import orjson
import pytest
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families
from structlog.testing import capture_logs

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, default_config
from proxy_core.testing.fake_answers import openai_chunks, openai_completion

MODEL = "openai-main/gpt-4o-mini"
ADMIN_KEY = "sk-observability-admin"
PRICES = {"gpt-4o-mini": (0.15, 0.075, 0.60), "gpt-4o": (2.5, 1.25, 10.0)}  # input, cached input, output


def config(fake: FakeUpstream, tmp_path: Path, **obs: Any) -> dict[str, Any]:
    cfg = default_config(openai_url=fake.url)
    cfg["auth"]["keys"].append({"name": "ops", "key": ADMIN_KEY, "admin": True})
    cfg["routes"] = {"smart": {"targets": ["openai-main/gpt-4o", "openai-main/gpt-4o-mini"]}}
    cfg["plugins"] = {
        "fallback": {"retry": {"attempts": 1}},  # no retries of the same target
        "cost": {"store": f"sqlite:///{tmp_path / 'spend.db'}", "flush_interval_s": 0.05},
        "tracing": {"exporter": "memory"},
        "observability": obs,
    }
    return cfg


def scrape(url: str, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(url + "/metrics", headers=headers).text
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(samples: dict[Any, float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items())


def cost_of(model: str, usage: dict[str, Any]) -> float:
    inp, cached_price, out = PRICES[model]
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens", 0)
    return ((usage["prompt_tokens"] - cached) * inp + cached * cached_price + usage["completion_tokens"] * out) / 1e6


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_access_log_line_per_request(
    gateway_factory: Callable[..., Any],
    fake_openai: FakeUpstream,
    tmp_path: Path,
    openai_for: Callable[..., openai.OpenAI],
) -> None:
    gw = gateway_factory(config(fake_openai, tmp_path))
    with capture_logs() as logs:
        openai_for(gw.url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.NotFoundError):
            openai_for(gw.url).chat.completions.create(
                model="openai-main/nope", messages=[{"role": "user", "content": "x"}]
            )
        wait_until(lambda: len([e for e in logs if e["event"] == "request"]) == 2)
    ok, missing = [e for e in logs if e["event"] == "request"]
    assert ok["log_level"] == "info"
    assert ok["key"] == "test" and ok["user"] == "tester" and ok["model"] == MODEL and ok["target"] == MODEL
    assert ok["status"] == 200 and ok["outcome"] == "completed" and ok["latency_ms"] > 0
    assert (ok["input_tokens"], ok["output_tokens"]) == (12, 8)
    assert ok["cost_usd"] == pytest.approx((12 * 0.15 + 8 * 0.60) / 1e6)
    assert ok["usage_source"] == "upstream" and ok["unpriced_reason"] is None
    assert ok["attempts"] == [{"target": MODEL, "status": 200, "error": None}]
    assert ok["request_id"].startswith("req_")
    assert missing["status"] == 404 and missing["error"] == "NotFoundError" and missing["model"] is None


def test_metrics_admin_only_when_configured(
    gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, tmp_path: Path
) -> None:
    gw = gateway_factory(config(fake_openai, tmp_path, metrics_auth="admin"))
    assert httpx.get(gw.url + "/metrics").status_code == 401
    assert httpx.get(gw.url + "/metrics", headers={"x-api-key": GATEWAY_KEY}).status_code == 403
    ok = httpx.get(gw.url + "/metrics", headers={"x-api-key": ADMIN_KEY})
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/plain")


def test_scripted_mix_spend_spans_and_metrics_agree(
    gateway_factory: Callable[..., Any],
    fake_openai: FakeUpstream,
    tmp_path: Path,
    openai_for: Callable[..., openai.OpenAI],
) -> None:
    gw = gateway_factory(config(fake_openai, tmp_path))
    client = openai_for(gw.url)
    msgs = [{"role": "user", "content": "hi"}]
    plain = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}
    cached = {"prompt_tokens": 5000, "completion_tokens": 50, "total_tokens": 5050}
    cached["prompt_tokens_details"] = {"cached_tokens": 4096}
    thinking = {"prompt_tokens": 300, "completion_tokens": 900, "total_tokens": 1200}
    thinking["completion_tokens_details"] = {"reasoning_tokens": 700}
    streamed = {"prompt_tokens": 80, "completion_tokens": 16, "total_tokens": 96}
    fallback = {"prompt_tokens": 60, "completion_tokens": 6, "total_tokens": 66}

    def reply(usage: dict[str, Any], model: str = "gpt-4o-mini") -> Reply:
        body = openai_completion(model, "ok")
        body["usage"] = usage
        return Reply.json(body)

    chunks = openai_chunks("gpt-4o-mini", "streamed answer", include_usage=True)
    chunks[-2]["usage"] = streamed
    fake_openai.queue(
        reply(plain),
        reply(cached),
        reply(thinking, "gpt-4o"),
        Reply.sse(chunks),
        Reply.json({"error": {"message": "overloaded", "type": "server_error"}}, status=529),
        reply(fallback),
        Reply.sse(chunks, delay_between=0.3),  # the client leaves after the first bytes
    )
    client.chat.completions.create(model=MODEL, messages=msgs)
    client.chat.completions.create(model=MODEL, messages=msgs)
    client.chat.completions.create(model="openai-main/gpt-4o", messages=msgs)
    list(client.chat.completions.create(model=MODEL, messages=msgs, stream=True))
    client.chat.completions.create(model="smart", messages=msgs)
    left_body = orjson.dumps({"model": MODEL, "messages": msgs, "stream": True})
    with httpx.stream(
        "POST",
        gw.url + "/v1/chat/completions",
        content=left_body,
        headers={"authorization": f"Bearer {GATEWAY_KEY}", "content-type": "application/json"},
    ) as response:
        next(response.iter_bytes())
    assert fake_openai.wait_for_disconnect(3.0) is not None

    estimated = {"prompt_tokens": len(left_body) // 4, "completion_tokens": 1}
    exporter = gw.gateway.state["tracing"].exporter
    wait_until(lambda: len([s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]) == 6)
    expected = [
        (MODEL, 200, plain, cost_of("gpt-4o-mini", plain)),
        (MODEL, 200, cached, cost_of("gpt-4o-mini", cached)),
        ("openai-main/gpt-4o", 200, thinking, cost_of("gpt-4o", thinking)),
        (MODEL, 200, streamed, cost_of("gpt-4o-mini", streamed)),
        ("smart", 200, fallback, cost_of("gpt-4o-mini", fallback)),
        # OpenAI reports usage at the end of a stream: the client left before it, so the core
        # estimated it (request bytes / 4 in; the 3 characters relayed -> 1 token out).
        (MODEL, 499, estimated, cost_of("gpt-4o-mini", estimated)),
    ]
    expected_cost = sum(e[3] for e in expected)
    expected_in = sum(e[2]["prompt_tokens"] for e in expected if e[2])
    expected_out = sum(e[2]["completion_tokens"] for e in expected if e[2])

    # the spend table
    httpx.get(gw.url + "/admin/spend", headers={"x-api-key": ADMIN_KEY})  # flushes
    with sqlite3.connect(tmp_path / "spend.db") as db:
        rows = db.execute(
            "SELECT route, status, input_tokens, output_tokens, cache_read_tokens, reasoning_tokens, cost_usd, model"
            " FROM spend ORDER BY ts"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(e[0], e[1]) for e in expected]
    assert [r[2] for r in rows] == [e[2]["prompt_tokens"] if e[2] else 0 for e in expected]
    assert [r[3] for r in rows] == [e[2]["completion_tokens"] if e[2] else 0 for e in expected]
    assert [r[4] for r in rows] == [0, 4096, 0, 0, 0, 0]
    assert [r[5] for r in rows] == [0, 0, 700, 0, 0, 0]
    assert [r[6] for r in rows] == pytest.approx([e[3] for e in expected], abs=1e-12)
    assert rows[4][7] == "gpt-4o-mini"  # the fallback billed the serving target
    assert round(sum(r[6] for r in rows), 2) == round(expected_cost, 2)

    # the spans
    servers = sorted(
        (s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER), key=lambda s: s.start_time
    )
    assert [s.attributes.get("gen_ai.usage.input_tokens", 0) for s in servers] == [r[2] for r in rows]
    assert [s.attributes.get("gen_ai.usage.output_tokens", 0) for s in servers] == [r[3] for r in rows]
    assert [s.attributes.get("proxy_core.cost_usd", 0.0) for s in servers] == pytest.approx([r[6] for r in rows])
    assert [s.attributes["http.response.status_code"] for s in servers] == [e[1] for e in expected]
    assert len([s for s in exporter.get_finished_spans() if s.kind is SpanKind.CLIENT]) == 7

    # the metrics
    m = scrape(gw.url)
    assert total(m, "proxy_core_requests_total") == 6
    assert total(m, "proxy_core_requests_total", status="499") == 1
    assert total(m, "proxy_core_requests_total", route="smart", model=MODEL, status="200") == 1
    assert total(m, "proxy_core_tokens_total", kind="input") == expected_in
    assert total(m, "proxy_core_tokens_total", kind="output") == expected_out
    assert total(m, "proxy_core_tokens_total", kind="cache_read") == 4096
    assert total(m, "proxy_core_tokens_total", kind="reasoning") == 700
    assert total(m, "proxy_core_cost_usd_total") == pytest.approx(expected_cost, abs=1e-12)
    assert total(m, "proxy_core_fallbacks_total", route="smart", from_target="openai-main/gpt-4o") == 1
    assert total(m, "proxy_core_upstream_errors_total", status="529") == 1
    assert total(m, "proxy_core_request_duration_seconds_count") == 6
    assert total(m, "proxy_core_time_to_first_token_seconds_count") == 2
    assert total(m, "proxy_core_streams_in_flight") == 0
    assert total(m, "proxy_core_spend_records_pending") == 0
    assert total(m, "proxy_core_spend_records_lost_total") == 0
