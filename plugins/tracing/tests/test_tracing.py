"""Spans read from an in-memory exporter, for requests made with the official openai SDK."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from proxy_core_tracing.plugin import make_state

from proxy_core.config import ConfigError
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply, default_config
from proxy_core.testing.fake_answers import openai_chunks, openai_completion

MODEL = "openai-main/gpt-4o-mini"
USAGE = {
    "prompt_tokens": 2000,
    "completion_tokens": 300,
    "total_tokens": 2300,
    "prompt_tokens_details": {"cached_tokens": 1500},
    "completion_tokens_details": {"reasoning_tokens": 120},
}
COST = (500 * 0.15 + 1500 * 0.075 + 300 * 0.60) / 1e6


def config(fake: FakeUpstream, tmp_path: Path, attempts: int = 1, **tracing: Any) -> dict[str, Any]:
    cfg = default_config(openai_url=fake.url)
    cfg["plugins"] = {
        "fallback": {"retry": {"attempts": attempts, "backoff_ms": 1}},
        "tracing": {"exporter": "memory", **tracing},
        "cost": {"store": f"sqlite:///{tmp_path / 'spend.db'}"},
    }
    cfg["routes"] = {"smart": {"targets": ["openai-main/gpt-4o", "openai-main/gpt-4o-mini"]}}
    return cfg


@pytest.fixture
def traced(gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, tmp_path: Path) -> Any:
    return gateway_factory(config(fake_openai, tmp_path))


@pytest.fixture
def sdk() -> Iterator[Callable[..., openai.OpenAI]]:
    clients: list[openai.OpenAI] = []

    def make(url: str, key: str = GATEWAY_KEY, **kw: Any) -> openai.OpenAI:
        c = openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=10, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def spans(gw: Any) -> list[Any]:
    return list(gw.gateway.state["tracing"].exporter.get_finished_spans())


def server_span(gw: Any) -> Any:
    """The request's server span: it ends just after the response, so wait a little for it."""
    deadline = time.monotonic() + 3
    while not (found := [s for s in spans(gw) if s.kind is SpanKind.SERVER]) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(found) == 1
    return found[0]


def test_server_span_has_genai_attributes_and_a_client_child(
    traced: Any, fake_openai: FakeUpstream, sdk: Callable[..., openai.OpenAI]
) -> None:
    body = openai_completion("gpt-4o-mini", "ok")
    body["usage"] = USAGE
    fake_openai.queue(Reply.json(body))
    sdk(traced.url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])

    server = server_span(traced)
    assert server.name == "chat openai-main/gpt-4o-mini"
    a = server.attributes
    assert a["gen_ai.operation.name"] == "chat"
    assert a["gen_ai.provider.name"] == "openai"
    assert a["gen_ai.request.model"] == MODEL
    assert a["gen_ai.response.model"] == "gpt-4o-mini"
    assert a["gen_ai.usage.input_tokens"] == 2000
    assert a["gen_ai.usage.output_tokens"] == 300
    assert a["gen_ai.usage.cache_read.input_tokens"] == 1500
    assert a["gen_ai.usage.reasoning.output_tokens"] == 120
    assert a["proxy_core.cost_usd"] == pytest.approx(COST, abs=1e-12)
    assert a["proxy_core.key_name"] == "test"
    assert a["http.response.status_code"] == 200
    assert server.status.status_code is StatusCode.UNSET

    clients = [s for s in spans(traced) if s.kind is SpanKind.CLIENT]
    assert len(clients) == 1
    assert clients[0].parent.span_id == server.context.span_id
    assert clients[0].context.trace_id == server.context.trace_id
    assert clients[0].attributes.get("http.response.status_code", clients[0].attributes.get("http.status_code")) == 200
    # the trace went upstream as W3C context, the client's key did not
    assert fake_openai.last.headers["traceparent"].split("-")[1] == f"{server.context.trace_id:032x}"


def test_incoming_traceparent_is_continued(
    traced: Any, fake_openai: FakeUpstream, sdk: Callable[..., openai.OpenAI]
) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    client = sdk(traced.url, default_headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    server = server_span(traced)
    assert f"{server.context.trace_id:032x}" == trace_id
    assert f"{server.parent.span_id:016x}" == parent_id
    assert server.parent.is_remote


def test_fallback_is_two_client_spans_and_events(
    traced: Any, fake_openai: FakeUpstream, sdk: Callable[..., openai.OpenAI]
) -> None:
    fake_openai.queue(Reply.json({"error": {"message": "busy", "type": "server_error"}}, status=503))
    sdk(traced.url).chat.completions.create(model="smart", messages=[{"role": "user", "content": "hi"}])
    server = server_span(traced)
    attempts = [e for e in server.events if e.name == "proxy_core.attempt"]
    assert [(e.attributes["proxy_core.target"], e.attributes["http.response.status_code"]) for e in attempts] == [
        ("openai-main/gpt-4o", 503),
        ("openai-main/gpt-4o-mini", 200),
    ]
    assert attempts[0].attributes["error.type"] == "UpstreamError"
    (fallback,) = [e for e in server.events if e.name == "proxy_core.fallback"]
    assert fallback.attributes["proxy_core.from"] == "openai-main/gpt-4o"
    assert fallback.attributes["proxy_core.to"] == "openai-main/gpt-4o-mini"
    assert server.attributes["proxy_core.target"] == "openai-main/gpt-4o-mini"
    assert server.attributes["proxy_core.route"] == "smart"
    clients = [s for s in spans(traced) if s.kind is SpanKind.CLIENT]
    assert len(clients) == 2 and all(c.parent.span_id == server.context.span_id for c in clients)


def test_retry_of_the_same_target_is_a_retry_event(
    gateway_factory: Callable[..., Any],
    fake_openai: FakeUpstream,
    tmp_path: Path,
    sdk: Callable[..., openai.OpenAI],
) -> None:
    gw = gateway_factory(config(fake_openai, tmp_path, attempts=2))
    fake_openai.queue(Reply.json({"error": {"message": "busy", "type": "server_error"}}, status=503))
    sdk(gw.url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    server = server_span(gw)
    assert [e.name for e in server.events if e.name != "proxy_core.attempt"] == ["proxy_core.retry"]
    assert len([s for s in spans(gw) if s.kind is SpanKind.CLIENT]) == 2


def test_stream_span_has_final_usage_and_ttft(
    traced: Any, fake_openai: FakeUpstream, sdk: Callable[..., openai.OpenAI]
) -> None:
    chunks = openai_chunks("gpt-4o-mini", "streamed", include_usage=True)
    chunks[-2]["usage"] = {"prompt_tokens": 40, "completion_tokens": 7, "total_tokens": 47}
    fake_openai.queue(Reply.sse(chunks))
    list(
        sdk(traced.url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    a = server_span(traced).attributes
    assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (40, 7)
    assert a["proxy_core.stream"] is True and a["proxy_core.ttft_s"] >= 0


def test_failed_request_span_is_an_error(traced: Any, sdk: Callable[..., openai.OpenAI]) -> None:
    with pytest.raises(openai.AuthenticationError):
        sdk(traced.url, "sk-wrong").chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    server = server_span(traced)
    assert server.status.status_code is StatusCode.ERROR
    assert server.attributes["error.type"] == "AuthenticationError"
    assert server.attributes["http.response.status_code"] == 401


def test_sampling(
    gateway_factory: Callable[..., Any],
    fake_openai: FakeUpstream,
    tmp_path: Path,
    sdk: Callable[..., openai.OpenAI],
) -> None:
    gw = gateway_factory(config(fake_openai, tmp_path, sample_ratio=0.0))
    sdk(gw.url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert spans(gw) == []
    sampled_parent = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    sdk(gw.url, default_headers=sampled_parent).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    )
    server_span(gw)


def test_bad_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"plugins\.tracing\.exporter"):
        make_state({"exporter": "carrier-pigeon"})
    with pytest.raises(ConfigError, match=r"plugins\.tracing\.sample_ratio"):
        make_state({"exporter": "memory", "sample_ratio": 2})
    assert make_state({}) is None  # tracing is off unless an exporter is configured


def test_otlp_http_exporter_sends_spans_on_shutdown(
    gateway_factory: Callable[..., Any],
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    tmp_path: Path,
    sdk: Callable[..., openai.OpenAI],
) -> None:
    collector = fake_anthropic  # any HTTP server that records what it gets
    cfg = config(fake_openai, tmp_path, exporter="otlp", endpoint=collector.url + "/v1/traces")
    gw = gateway_factory(cfg)
    sdk(gw.url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    gw.stop()  # gateway_stopping flushes the batch processor
    assert collector.wait_for_requests(1, timeout=5)
    sent = collector.requests[0]
    assert (sent.method, sent.path) == ("POST", "/v1/traces")
    assert sent.headers["content-type"] == "application/x-protobuf"
    assert b"gen_ai.usage.input_tokens" in sent.body and b"proxy-core" in sent.body
    assert GATEWAY_KEY.encode() not in sent.body and b"sk-upstream-openai-secret" not in sent.body


def test_provider_is_named_by_opentelemetrys_well_known_value(
    gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, tmp_path: Path, sdk: Callable[..., openai.OpenAI]
) -> None:
    cfg = config(fake_openai, tmp_path)
    cfg["providers"]["grok"] = {
        "type": "xai",
        "api_key": "xai-k",
        "base_url": fake_openai.url + "/v1",
        "models": ["grok-3"],
    }
    gw = gateway_factory(cfg)
    sdk(gw.url).chat.completions.create(model="grok/grok-3", messages=[{"role": "user", "content": "hi"}])
    a = server_span(gw).attributes
    assert (a["gen_ai.provider.name"], a["proxy_core.provider_type"]) == ("x_ai", "xai")
