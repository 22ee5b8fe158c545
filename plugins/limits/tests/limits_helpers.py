"""Helpers for the limits tests: a private redis-server, configs, fan-out of SDK calls."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import redis

from proxy_core.testing import default_config

# 8 output tokens (the fakes' usage) at this price cost exactly $0.25; input is free.
PRICED = {"input_cost_per_mtok": 0.0, "output_cost_per_mtok": 31250.0}
PRICED_MODEL = "openai-main/gpt-priced"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server of the test's own on a free port: no persistence, stoppable, restartable."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (.ci/run installs it)"
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(args, cwd=self.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError("redis-server did not start") from None
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)


def wait_until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``condition`` (state in another process has no event to await)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def keys(*names: str) -> list[dict[str, Any]]:
    """Static gateway keys named ``names`` (key = "sk-" + name)."""
    return [{"name": n, "key": f"sk-{n}", "user": f"user-{n}", "teams": ["qa"]} for n in names]


def limits_config(
    openai_url: str,
    anthropic_url: str | None,
    rules: list[dict[str, Any]],
    *,
    key_names: tuple[str, ...] = (),
    redis_url: str | None = None,
    **settings: Any,
) -> dict[str, Any]:
    config = default_config(openai_url=openai_url, anthropic_url=anthropic_url)
    config["providers"]["openai-main"]["models"]["gpt-priced"] = dict(PRICED)
    config["auth"]["keys"] += keys(*key_names)
    section: dict[str, Any] = {"rules": rules, **settings}
    if redis_url:
        section["redis"] = redis_url
    config["plugins"] = {"limits": section}
    return config


@dataclass
class Outcome:
    ok: bool
    status: int
    headers: dict[str, str]
    body: Any


def chat(client: openai.OpenAI, model: str = "openai-main/gpt-4o-mini", **kw: Any) -> Outcome:
    """One chat call; a refusal is returned, not raised."""
    try:
        raw = client.chat.completions.with_raw_response.create(
            model=model, messages=[{"role": "user", "content": "hi"}], **kw
        )
        return Outcome(True, raw.status_code, dict(raw.headers), raw.parse())
    except openai.APIStatusError as e:
        return Outcome(False, e.status_code, dict(e.response.headers), e.body)


def fan_out(n: int, call: Callable[[int], Outcome]) -> list[Outcome]:
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(call, range(n)))


@contextmanager
def held_streams(clients: list[openai.OpenAI], n: int, **kw: Any) -> Iterator[list[Outcome]]:
    """``n`` concurrent chat streams (client i % len(clients)); an admitted one reads its
    first chunk and stays open (the fake stalls it) until every call has its answer, so
    nothing admitted ends (and settles) before all decisions are made. Yields outcomes;
    the admitted streams are closed on exit."""
    decided = threading.Barrier(n + 1)
    release = threading.Event()
    outcomes: list[Outcome | None] = [None] * n

    def one(i: int) -> None:
        client = clients[i % len(clients)]
        try:
            raw = client.chat.completions.with_raw_response.create(
                messages=[{"role": "user", "content": "hi"}], stream=True, **kw
            )
            stream = raw.parse()
            try:
                next(iter(stream))
                outcomes[i] = Outcome(True, raw.status_code, dict(raw.headers), None)
                decided.wait(30)
                release.wait(30)
            finally:
                stream.close()
        except openai.APIStatusError as e:
            outcomes[i] = Outcome(False, e.status_code, dict(e.response.headers), e.body)
            decided.wait(30)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    try:
        decided.wait(30)
        yield [o for o in outcomes if o is not None]
    finally:
        release.set()
        for t in threads:
            t.join(30)
