"""Plugins: entry-point discovery, plugins.disabled, check_pending, hook failures, the report."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pluggy
import pytest

from proxy_core import Gateway
from proxy_core.hookspecs import hookimpl
from proxy_core.plugins import make_plugin_manager, plugin_report
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
GOOD = {"model": "openai-main/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def acme_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Install a third-party plugin package the way pip lays one out: package + dist-info."""
    pkg = tmp_path / "acme_headers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        textwrap.dedent(
            """
            from proxy_core import hookimpl

            @hookimpl
            def response_headers(ctx, headers):
                headers["x-acme"] = "model=" + str(ctx.requested_model)

            @hookimpl
            def prepare_request(ctx, attempt):
                attempt.body["metadata"] = {"acme": "yes"}
            """
        )
    )
    dist = tmp_path / "acme_headers-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-headers\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[proxy_core]\nacme = acme_headers\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_entry_point_plugin_runs(
    acme_installed: None,
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    fake_openai: FakeUpstream,
) -> None:
    gw = gateway_factory(gateway_config)
    assert "acme" in dict(plugin_report(gw.gateway.pm))
    r = httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH)
    assert r.status_code == 200
    assert r.headers["x-acme"] == "model=openai-main/gpt-4o-mini"
    assert fake_openai.last.json()["metadata"] == {"acme": "yes"}


def test_disabled_plugin_does_not_run(
    acme_installed: None,
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    fake_openai: FakeUpstream,
) -> None:
    gateway_config["plugins"] = {"disabled": ["acme"]}
    gw = gateway_factory(gateway_config)
    assert "acme" not in dict(plugin_report(gw.gateway.pm))
    r = httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH)
    assert r.status_code == 200
    assert "x-acme" not in r.headers
    assert "metadata" not in fake_openai.last.json()


def test_misspelled_hook_fails_at_start_up() -> None:
    class Typo:
        @hookimpl
        def prepare_requests(self, ctx: Any) -> None: ...

    with pytest.raises(pluggy.PluginValidationError, match="prepare_requests"):
        make_plugin_manager(load_entrypoints=False, extra=[("typo", Typo())])


def test_a_failing_hook_is_a_clean_500_and_the_gateway_keeps_serving(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    class Broken:
        calls = 0

        @hookimpl
        def prepare_request(self, ctx: Any, attempt: Any) -> None:
            Broken.calls += 1
            if Broken.calls == 1:
                raise RuntimeError("secret internals")

    gw = gateway_factory(gateway_config, plugins=[("broken", Broken())])
    r = httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH)
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error"
    assert "secret internals" not in r.text
    assert fake_openai.requests == []
    assert httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH).status_code == 200


def test_async_first_result_hooks_are_looped(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    """An async authenticate returning None must not stop the next implementation."""

    class AsyncAbstainer:
        seen = 0

        @hookimpl(tryfirst=True)
        async def authenticate(self, ctx: Any) -> None:
            AsyncAbstainer.seen += 1
            return None

    gw = gateway_factory(gateway_config, plugins=[("abstainer", AsyncAbstainer())])
    assert httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH).status_code == 200
    assert AsyncAbstainer.seen == 1


def test_every_request_gets_exactly_one_record(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    records: list[tuple[str | None, int | None]] = []

    class Recorder:
        @hookimpl
        def on_request_end(self, ctx: Any) -> None:
            records.append((ctx.outcome, ctx.status))

    gw = gateway_factory(gateway_config, plugins=[("recorder", Recorder())])
    httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH)
    httpx.post(gw.url + "/v1/chat/completions", json={**GOOD, "stream": True}, headers=AUTH)
    httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers={})
    httpx.post(gw.url + "/v1/chat/completions", content=b"nope", headers=AUTH)
    deadline = time.monotonic() + 2  # records are written after the response has gone out
    while len(records) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert records == [("completed", 200), ("completed", 200), ("failed", 401), ("failed", 400)]


def test_hook_tracing_switch(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    """plugins.trace_hooks logs every hook call by name, never argument values."""
    from structlog.testing import capture_logs

    gateway_config["plugins"] = {"trace_hooks": True}
    gw = gateway_factory(gateway_config)
    with capture_logs() as logs:
        assert httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH).status_code == 200
    calls = [e for e in logs if e["event"] == "hook.call"]
    assert {"authenticate", "resolve_model", "prepare_request"} <= {e["hook"] for e in calls}
    assert GATEWAY_KEY not in repr(logs) and "hi" not in repr([e.get("args") for e in calls])


def test_duplicate_provider_type_is_a_start_up_error(gateway_config: dict[str, Any]) -> None:
    from proxy_core_openai.provider import OpenAIProvider

    from proxy_core import ConfigError

    class Again:
        @hookimpl
        def register_providers(self, register: Any) -> None:
            register("openai", OpenAIProvider)

    with pytest.raises(ConfigError, match="registered twice"):
        Gateway(gateway_config, plugins=[("again", Again())])


def test_every_attempt_starts_from_the_clients_body(
    gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any], fake_openai: FakeUpstream
) -> None:
    """A prepare hook's changes to one attempt never leak into the next one."""
    from proxy_core.testing import Reply

    class Stamper:
        @hookimpl
        def prepare_request(self, ctx: Any, attempt: Any) -> None:
            attempt.body["messages"].append({"role": "user", "content": f"attempt {attempt.index}"})

    gateway_config["routes"] = {"pair": {"targets": ["openai-main/gpt-4o-mini", "openai-main/gpt-4o"]}}
    gateway_config["plugins"] = {"fallback": {"retry": {"attempts": 2, "backoff_ms": 1}}}
    gw = gateway_factory(gateway_config, plugins=[("stamper", Stamper())])
    down = Reply.json({"error": {"message": "down"}}, status=503)
    fake_openai.queue(down, down)
    r = httpx.post(gw.url + "/v1/chat/completions", json={**GOOD, "model": "pair"}, headers=AUTH)
    assert r.status_code == 200
    sent = [(req.json()["model"], req.json()["messages"]) for req in fake_openai.requests]
    assert sent == [
        ("gpt-4o-mini", [*GOOD["messages"], {"role": "user", "content": "attempt 0"}]),
        ("gpt-4o-mini", [*GOOD["messages"], {"role": "user", "content": "attempt 1"}]),
        ("gpt-4o", [*GOOD["messages"], {"role": "user", "content": "attempt 2"}]),
    ]
