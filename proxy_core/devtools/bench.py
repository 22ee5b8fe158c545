"""`make bench`: the gateway vs the same fake upstream called directly, in one run.

Starts the fast fake upstream and `proxy-core serve --workers 1` on 127.0.0.1, runs a
bounded closed-loop load (CONNECTIONS, SECONDS per scenario) against each, and prints
req/s and p50/p99 latency with the gateway/direct ratio; then a paced phase (~10 req/s
over 4 connections: the latency the gateway adds without queueing), the first scenario
again at BENCH_MANY_CONNECTIONS (500), and the gateway's RSS after all of it. On a
machine with two or more cores the gateway gets the last core to itself and the load
generator and fake upstream share the others.

Regression guard: ``BENCH_SAVE=FILE`` writes the results as JSON; ``BENCH_BASELINE=FILE``
compares this run with a saved one and names every scenario whose gateway/direct ratio
fell by more than BENCH_NOISE (default 0.10, this machine's run-to-run spread). It
reports; it never fails.
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
from typing import Any

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
MANY = int(os.environ.get("BENCH_MANY_CONNECTIONS", "500"))
PACED_CONNECTIONS, PACED_RATE = 4, 10.0
SAVE = os.environ.get("BENCH_SAVE", "")
BASELINE = os.environ.get("BENCH_BASELINE", "")
NOISE = float(os.environ.get("BENCH_NOISE", "0.10"))


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


def _load(
    url: str,
    path: str,
    body: dict[str, object],
    cpus: set[int],
    headers: list[str],
    connections: int = CONNECTIONS,
    pause_s: float = 0.0,
    seconds: float = SECONDS,
) -> dict[str, float]:
    args = [sys.executable, "-m", "proxy_core.devtools.bench_load", f"--pause={pause_s}", url, path]
    args += [orjson.dumps(body).decode(), str(connections), str(seconds), MARKER, *headers]
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
            results = _measure(scenarios, upstream, gateway, load_cpus, procs[-1].pid)
            print(
                f"\nGateway RSS: {results['rss_mib']:.1f} MiB after the {CONNECTIONS}-connection and paced runs, "
                f"{results['rss_after_many_mib']:.1f} MiB after the {MANY}-connection run"
            )
            if SAVE:
                Path(SAVE).write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
                print(f"saved to {SAVE}")
            if BASELINE:
                _compare(results, orjson.loads(Path(BASELINE).read_bytes()))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(10)


Scenario = tuple[str, str, str, bool]


def _bodies(name: str, path: str, model: str, stream: bool) -> tuple[str, dict[str, object], dict[str, object]]:
    """The upstream path, the body sent to the upstream directly, the body sent through the gateway."""
    upstream_path = "/v1/messages" if "anthropic" in name or name.startswith("messages") else path
    direct: dict[str, object] = {"model": "m", "messages": PROMPT, "max_tokens": 256, "stream": stream}
    return upstream_path, direct, {**direct, "model": model}


def _measure(scenarios: list[Scenario], upstream: str, gateway: str, cpus: set[int], pid: int) -> dict[str, Any]:
    auth = [f"authorization: Bearer {KEY}"]
    for name, path, model, stream in scenarios:  # warm-up: lazy imports, pools, caches
        _load(gateway, path, _bodies(name, path, model, stream)[2], cpus, auth, seconds=1.0)
    results: dict[str, Any] = {"max": {}, "paced": {}, "many": {}}
    print("\n| scenario | direct req/s | gateway req/s | ratio | direct p50/p99 ms | gateway p50/p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for name, path, model, stream in scenarios:
        upstream_path, direct_body, body = _bodies(name, path, model, stream)
        direct = _load(upstream, upstream_path, direct_body, cpus, [])
        via = _load(gateway, path, body, cpus, auth)
        ratio = via["rps"] / direct["rps"] if direct["rps"] else 0.0
        results["max"][name] = {"direct": direct, "gateway": via, "ratio": ratio}
        print(
            f"| {name} | {direct['rps']:.0f} | {via['rps']:.0f} | {ratio:.3f} | "
            f"{direct['p50_ms']} / {direct['p99_ms']} | {via['p50_ms']} / {via['p99_ms']} | {int(via['errors'])} |",
            flush=True,
        )
    pause = PACED_CONNECTIONS / PACED_RATE
    print(f"\nPaced: ~{PACED_RATE:g} req/s over {PACED_CONNECTIONS} connections (latency without queueing)\n")
    print("| scenario | direct p50/p99 ms | gateway p50/p99 ms | added p50/p99 ms | errors |")
    print("|---|---|---|---|---|")
    for name, path, model, stream in scenarios:
        upstream_path, direct_body, body = _bodies(name, path, model, stream)
        direct = _load(upstream, upstream_path, direct_body, cpus, [], PACED_CONNECTIONS, pause)
        via = _load(gateway, path, body, cpus, auth, PACED_CONNECTIONS, pause)
        added = (round(via["p50_ms"] - direct["p50_ms"], 2), round(via["p99_ms"] - direct["p99_ms"], 2))
        results["paced"][name] = {"direct": direct, "gateway": via, "added_p50_ms": added[0], "added_p99_ms": added[1]}
        print(
            f"| {name} | {direct['p50_ms']} / {direct['p99_ms']} | {via['p50_ms']} / {via['p99_ms']} | "
            f"{added[0]} / {added[1]} | {int(via['errors'])} |",
            flush=True,
        )
    results["rss_mib"] = _rss_mib(pid)
    name, path, model, stream = scenarios[0]
    _, _, body = _bodies(name, path, model, stream)
    many = _load(gateway, path, body, cpus, auth, MANY)
    results["rss_after_many_mib"] = _rss_mib(pid)
    share = many["rps"] / results["max"][name]["gateway"]["rps"] if results["max"][name]["gateway"]["rps"] else 0.0
    results["many"] = {"scenario": name, "connections": MANY, "gateway": many, "of_max": share}
    print(
        f"\n{name} at {MANY} connections: {many['rps']:.0f} req/s ({share:.2f} of the {CONNECTIONS}-connection "
        f"figure), p50/p99 {many['p50_ms']} / {many['p99_ms']} ms, errors {int(many['errors'])}"
    )
    return results


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _compare(new: dict[str, Any], old: dict[str, Any]) -> None:
    """Name the scenarios whose gateway/direct ratio fell by more than the noise."""
    print(f"\nAgainst the baseline (a change beyond {NOISE:.0%} of the ratio is reported):\n")
    slower = []
    for name, now in new["max"].items():
        before = old.get("max", {}).get(name)
        if before is None or not before["ratio"]:
            continue
        change = now["ratio"] / before["ratio"] - 1
        print(f"- {name}: ratio {before['ratio']:.4f} -> {now['ratio']:.4f} ({change:+.1%})")
        if change < -NOISE:
            slower.append(name)
    print(f"\nSLOWER than the baseline: {', '.join(slower)}" if slower else "\nNo scenario slower than the noise.")


if __name__ == "__main__":
    main()
