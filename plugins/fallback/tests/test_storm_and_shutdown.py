"""Under a 5xx storm the gateway stays bounded; on SIGTERM it drains in-flight streams."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psutil
import pytest

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply
from proxy_core.testing.fake_answers import openai_chunks
from proxy_core.testing.subprocess_gateway import served

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
MSG = [{"role": "user", "content": "hi"}]


HEALTH_PROBE = """
import sys, time, httpx
with httpx.Client(base_url=sys.argv[1], timeout=5) as client:
    for _ in range(20):
        started = time.monotonic()
        assert client.get("/healthz").status_code == 200
        print(time.monotonic() - started, flush=True)
        time.sleep(0.05)
"""


def test_5xx_storm_is_bounded(tmp_path: Path, gateway_config: dict[str, Any], fake_openai: FakeUpstream) -> None:
    """500 concurrent requests against failing upstreams: retries stay within the budget,
    every client gets a clean error, /healthz answers throughout, memory stays flat."""
    gateway_config["plugins"]["fallback"]["retry_budget"] = {"ratio": 0.1, "min_per_s": 5}
    gateway_config["plugins"]["fallback"]["timeouts"] = {"idle": 10}
    fake_openai.queue(*[Reply.json({"error": {"message": "down"}}, status=503) for _ in range(5000)])
    with served(tmp_path, gateway_config) as (proc, url):
        gateway = psutil.Process(proc.pid)
        rss_before = gateway.memory_info().rss

        async def storm() -> list[int]:
            # aiohttp as the client: httpx's pool scans every connection per request, and
            # with 500 of them this process (clients + the fake upstream) would be the bottleneck.
            connector = aiohttp.TCPConnector(limit=600)
            async with aiohttp.ClientSession(url, connector=connector, timeout=aiohttp.ClientTimeout(60)) as client:

                async def one() -> int:
                    body = {"model": "main", "messages": MSG}
                    async with client.post("/v1/chat/completions", json=body, headers=AUTH) as r:
                        assert (await r.json())["error"]["message"]
                        return r.status

                return await asyncio.gather(*[one() for _ in range(500)])

        # The probe runs in its own process: this one is busy being 500 clients and the fake.
        probe = subprocess.Popen([sys.executable, "-c", HEALTH_PROBE, url], stdout=subprocess.PIPE, text=True)
        statuses = asyncio.run(storm())
        health_latencies = [float(x) for x in probe.communicate(timeout=30)[0].split()]
        rss_growth = gateway.memory_info().rss - rss_before
        calls = len(fake_openai.requests)
        fake_openai.reset()
        good = httpx.post(
            url + "/v1/chat/completions", json={"model": "openai-main/gpt-4o-mini", "messages": MSG}, headers=AUTH
        )
    assert statuses == [503] * 500
    # Without a budget: 500 requests x 2 tries x 2 targets = 2000 calls.
    assert 500 <= calls <= 500 * 2 + 0.1 * 500 + 5 * 10 + 10, calls
    assert len(health_latencies) == 20 and max(health_latencies) < 1.0, health_latencies
    assert rss_growth < 60 * 1024 * 1024, rss_growth
    assert good.status_code == 200


def test_sigterm_drains_50_streams(tmp_path: Path, gateway_config: dict[str, Any], fake_openai: FakeUpstream) -> None:
    """SIGTERM: /readyz and the listener go at once, the 50 in-flight streams go on for the
    grace period, then end with an error event (no [DONE]); the process exits cleanly."""
    slow = Reply.sse(openai_chunks("gpt-4o-mini", "z" * 60, pieces=60), delay_between=0.05)  # ~3 s per stream
    fake_openai.queue(*[slow] * 50)
    with served(tmp_path, gateway_config, grace_s=1.0) as (proc, url):

        async def run() -> tuple[list[str], float]:
            started = asyncio.Event()
            first_chunks = 0
            async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=60)) as client:

                async def stream() -> str:
                    nonlocal first_chunks
                    body = {"model": "solo", "messages": MSG, "stream": True}
                    async with client.stream("POST", "/v1/chat/completions", json=body, headers=AUTH) as r:
                        assert r.status_code == 200
                        text = ""
                        async for part in r.aiter_text():
                            if not text:
                                first_chunks += 1
                                if first_chunks == 50:
                                    started.set()
                            text += part
                        return text

                tasks = [asyncio.ensure_future(stream()) for _ in range(50)]
                await asyncio.wait_for(started.wait(), 15)
                os.kill(proc.pid, signal.SIGTERM)
                signalled = time.monotonic()
                texts = await asyncio.gather(*tasks)
                return texts, time.monotonic() - signalled

        texts, drained_in = asyncio.run(run())
        for text in texts:
            assert "data: [DONE]" not in text
            last = text.strip().split("\n\n")[-1]
            assert last.startswith('data: {"error"') and "shut down" in last, last
            assert text.count('"content"') > 1, "the stream went on during the grace period"
        assert 0.9 <= drained_in < 4
        with pytest.raises(httpx.HTTPError):
            httpx.get(url + "/readyz", timeout=1)  # no longer listening
        # uvicorn re-raises the signal after its graceful shutdown: exit "by SIGTERM" is clean.
        assert proc.wait(10) in (0, -signal.SIGTERM)
        assert fake_openai.wait_for_disconnect(2) is not None
        output = (tmp_path / "gateway.log").read_text()
        assert "gateway.stopped" in output and "Traceback" not in output, output
