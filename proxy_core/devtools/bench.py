"""`make bench`: the gateway vs the same fake upstream called directly, in one run.

Starts the fast fake upstream and `proxy-core serve --workers 1` on 127.0.0.1, runs a
bounded closed-loop load (CONNECTIONS, SECONDS per scenario) against each, and prints
req/s and p50/p99 latency with the gateway/direct ratio. It reports; it never fails.
On a machine with two or more cores the gateway gets the last core to itself and the
load generator and fake upstream share the others.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from .bench_upstream import MARKER

KEY = "sk-bench-key"
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
PROMPT = [{"role": "user", "content": "Write one short paragraph about load testing."}]
# "memory" or a redis:// URL: serve with a plugins.limits rule (rpm, tpm, concurrency and
# a budget, none ever reached) on the bench key, to measure what limits cost per request.
LIMITS = os.environ.get("BENCH_LIMITS", "")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpus() -> tuple[set[int], set[int]]:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return set(cpus[:-1]), {cpus[-1]}


def _config(upstream: str, port: int, anthropic: bool) -> str:
    cfg = f"""server: {{host: 127.0.0.1, port: {port}}}
auth:
  keys:
    - {{name: bench, key: {KEY}, user: bench}}
providers:
  openai-main:
    type: openai
    api_key: sk-bench-upstream
    base_url: {upstream}/v1
    models: {{gpt-4o-mini: {{}}}}
"""
    if anthropic:
        cfg += f"""  anthropic-main:
    type: anthropic
    api_key: sk-ant-bench-upstream
    base_url: {upstream}
    models: {{claude-sonnet-4-20250514: {{}}}}
"""
    if LIMITS:
        cfg += "plugins:\n  limits:\n" + (f"    redis: {LIMITS}\n" if LIMITS != "memory" else "")
        cfg += "    rules:\n      - {match: {key: bench}, rpm: 1000000000, tpm: 1000000000000, concurrency: 100000,"
        cfg += " budget_usd: {day: 1000000000}}\n"
    return cfg


def _wait_ready(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"not ready: {url}")


def _load(url: str, path: str, body: dict[str, object], cpus: set[int], headers: list[str]) -> dict[str, float]:
    args = [sys.executable, "-m", "proxy_core.devtools.bench_load", url, path, orjson.dumps(body).decode()]
    args += [str(CONNECTIONS), str(SECONDS), MARKER, *headers]
    out = subprocess.run(
        args, capture_output=True, text=True, preexec_fn=lambda: os.sched_setaffinity(0, cpus), check=True
    )
    result: dict[str, float] = orjson.loads(out.stdout)
    return result


def main() -> None:
    load_cpus, gateway_cpus = _cpus()
    anthropic = importlib.util.find_spec("proxy_core_anthropic") is not None
    up_port, gw_port = _free_port(), _free_port()
    upstream = f"http://127.0.0.1:{up_port}"
    gateway = f"http://127.0.0.1:{gw_port}"
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "gateway.yaml"
        config.write_text(_config(upstream, gw_port, anthropic))
        try:
            pin_load = lambda: os.sched_setaffinity(0, load_cpus)  # noqa: E731
            pin_gateway = lambda: os.sched_setaffinity(0, gateway_cpus)  # noqa: E731
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "proxy_core.devtools.bench_upstream", str(up_port)], preexec_fn=pin_load
                )
            )
            cli = Path(sys.executable).parent / "proxy-core"
            procs.append(
                subprocess.Popen(
                    [str(cli), "serve", "--config", str(config), "--workers", "1"],
                    preexec_fn=pin_gateway,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            time.sleep(0.3)
            _wait_ready(gateway + "/healthz")
            scenarios = [
                ("openai_chat", "/v1/chat/completions", "openai-main/gpt-4o-mini", False),
                ("openai_chat_stream", "/v1/chat/completions", "openai-main/gpt-4o-mini", True),
            ]
            if anthropic:
                scenarios += [
                    ("chat (-> anthropic)", "/v1/chat/completions", "anthropic-main/claude-sonnet-4-20250514", False),
                    (
                        "chat_stream (-> anthropic)",
                        "/v1/chat/completions",
                        "anthropic-main/claude-sonnet-4-20250514",
                        True,
                    ),
                    ("messages", "/v1/messages", "anthropic-main/claude-sonnet-4-20250514", False),
                    ("messages_stream", "/v1/messages", "anthropic-main/claude-sonnet-4-20250514", True),
                ]
            print(
                f"make bench: {CONNECTIONS} connections, {SECONDS:g} s per run, gateway on CPU {sorted(gateway_cpus)}, "
                f"load + fake upstream on CPU {sorted(load_cpus)}, python {sys.version.split()[0]}"
                + (f", limits: {LIMITS}" if LIMITS else "")
            )
            print()
            print(
                "| scenario | direct req/s | gateway req/s | ratio | direct p50/p99 ms | gateway p50/p99 ms | errors |"
            )
            print("|---|---|---|---|---|---|---|")
            for name, path, model, stream in scenarios:
                upstream_path = "/v1/messages" if "anthropic" in name or name.startswith("messages") else path
                direct_body: dict[str, object] = {"model": "m", "messages": PROMPT, "max_tokens": 256, "stream": stream}
                body: dict[str, object] = {"model": model, "messages": PROMPT, "max_tokens": 256, "stream": stream}
                direct = _load(upstream, upstream_path, direct_body, load_cpus, [])
                via = _load(gateway, path, body, load_cpus, [f"authorization: Bearer {KEY}"])
                ratio = via["rps"] / direct["rps"] if direct["rps"] else 0
                print(
                    f"| {name} | {direct['rps']:.0f} | {via['rps']:.0f} | {ratio:.3f} | "
                    f"{direct['p50_ms']} / {direct['p99_ms']} | {via['p50_ms']} / {via['p99_ms']} | "
                    f"{int(via['errors'])} |",
                    flush=True,
                )
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(10)


if __name__ == "__main__":
    main()
