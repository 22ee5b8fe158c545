"""Request throughput with the cost, tracing and observability plugins on vs off, in one run.

    .venv/bin/python plugins/observability/scripts/overhead.py [--requests 2000] > /dev/null

Both gateways (uvicorn, real HTTP) serve the same fake OpenAI upstream, interleaved in
rounds so machine noise hits both alike; the result is a ratio, not an absolute number.
Not a test: a measurement for the record (bounded: a few seconds on two cores).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from typing import Any

import httpx

from proxy_core.gateway import Gateway
from proxy_core.logs import configure
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, default_config
from proxy_core.testing.server import BackgroundLoop, RunningGateway

OURS = ["cost", "tracing", "observability"]


async def load(url: str, n: int, concurrency: int, stream: bool) -> float:
    body = {"model": "openai-main/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    headers = {"authorization": f"Bearer {GATEWAY_KEY}"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=10) as client:
        todo = iter(range(n))

        async def worker() -> None:
            for _ in todo:
                r = await client.post("/v1/chat/completions", json=body)
                assert r.status_code == 200, r.text

        start = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        return n / (time.perf_counter() - start)


async def hook_cost(gateway: Gateway, n: int) -> float:
    """Microseconds of CPU per request spent in the record-stage hooks (headers, attempt end,
    request end), on a finished non-stream request with usage: the plugins' whole per-request work
    except the tracing span start and the httpx client span."""
    from proxy_core.context import Attempt, Principal, RequestContext

    await gateway.start()
    target = gateway.route_table["openai-main/gpt-4o-mini"].targets[0]
    usage = {"prompt_tokens": 1200, "completion_tokens": 300, "prompt_tokens_details": {"cached_tokens": 1024}}
    start = time.perf_counter()
    for _ in range(n):
        ctx = RequestContext(gateway, gateway.operations["chat"], {}, "/v1/chat/completions")
        ctx.principal = Principal("test", "tester", ("qa",))
        ctx.route = gateway.route_table["openai-main/gpt-4o-mini"]
        ctx.requested_model = "openai-main/gpt-4o-mini"
        attempt = Attempt(0, target, {})
        attempt.status = 200
        ctx.attempts.append(attempt)
        ctx.usage = usage
        gateway.hooks.on_attempt_end(ctx, attempt)
        gateway.hooks.response_headers(ctx, {})
        ctx.outcome, ctx.status, ctx.ended = "completed", 200, time.monotonic()
        await gateway.hooks.on_request_end(ctx)
    elapsed = time.perf_counter() - start
    await gateway.stop()
    return elapsed / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    configure("info")  # JSON log lines as in production (stdout: send it to /dev/null)
    loop = BackgroundLoop()
    fake = FakeUpstream("openai")
    loop.run(fake.start())
    tmp = tempfile.mkdtemp()
    on = default_config(openai_url=fake.url)
    on["plugins"] = {"cost": {"store": f"sqlite:///{tmp}/spend.db"}, "tracing": {"exporter": "memory"}}
    off = default_config(openai_url=fake.url)
    off["plugins"] = {"disabled": OURS}
    gateways: dict[str, Any] = {
        "plugins off": RunningGateway(Gateway(off), loop).start(),
        "cost+tracing+observability on": RunningGateway(Gateway(on), loop).start(),
    }
    try:
        for stream in (False, True):
            rates: dict[str, list[float]] = {name: [] for name in gateways}
            for _ in range(args.rounds):
                for name, gw in gateways.items():
                    if name.endswith("on"):
                        gw.gateway.state["tracing"].exporter.clear()
                    rates[name].append(asyncio.run(load(gw.url, args.requests, args.concurrency, stream)))
            med = {name: statistics.median(r) for name, r in rates.items()}
            base = med["plugins off"]
            kind = "stream" if stream else "json"
            for name, rate in med.items():
                print(f"{kind:6} {name:32} {rate:8.0f} req/s  ratio {rate / base:.3f}", file=sys.stderr)
        for name, cfg in (("plugins off", off), ("cost+tracing+observability on", on)):
            cfg = {**cfg, "plugins": {**cfg["plugins"], "cost": {"store": f"sqlite:///{tmp}/micro.db"}}}
            us = loop.run(hook_cost(Gateway(cfg), 5000), timeout=120)
            print(f"hooks  {name:32} {us:8.1f} us/request", file=sys.stderr)
    finally:
        for gw in gateways.values():
            gw.stop()
        loop.run(fake.stop())
        loop.close()


if __name__ == "__main__":
    main()
