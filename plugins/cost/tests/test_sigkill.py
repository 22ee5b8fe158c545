"""SIGKILL during a spend-store outage loses no record: the journal brings them back.

A real ``proxy-core serve`` process, the openai SDK as the client; the store is a real
PostgreSQL behind a TCP relay the test cuts (or a SQLite path that cannot be opened).
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import orjson
import pytest
from cost_helpers import ADMIN_KEY, POSTGRES_URL, spend
from tcp_proxy import TcpProxy

from proxy_core.testing import FakeUpstream, Reply, default_config
from proxy_core.testing.fake_answers import openai_chunks, openai_completion
from proxy_core.testing.subprocess_gateway import served

N = 12
MSG = [{"role": "user", "content": "hi"}]


def usage(i: int) -> dict[str, int]:
    return {"prompt_tokens": 1000 + i, "completion_tokens": 10 + i, "total_tokens": 1010 + 2 * i}


def cost(i: int) -> float:  # gpt-4o-mini: $0.15 input, $0.60 output per million tokens
    return ((1000 + i) * 0.15 + (10 + i) * 0.60) / 1e6


def reply(i: int) -> Reply:
    if i % 2:
        chunks = openai_chunks("gpt-4o-mini", f"answer {i}", include_usage=True)
        chunks[-2]["usage"] = usage(i)
        return Reply.sse(chunks)
    body = openai_completion("gpt-4o-mini", f"answer {i}")
    body["usage"] = usage(i)
    return Reply.json(body)


def gateway_config(openai_url: str, store: str, table: str, **cost: Any) -> dict[str, Any]:
    cfg = default_config(openai_url=openai_url)
    cfg["auth"]["keys"].append({"name": "ops", "key": ADMIN_KEY, "admin": True})
    cfg["plugins"] = {
        "cost": {"store": store, "table": table, "flush_interval_s": 0.05, **cost},
        "fallback": {"retry": {"attempts": 1}},
    }
    cfg["server"] = {"log_level": "info"}
    return cfg


def send_requests(openai_for: Callable[..., Any], url: str) -> dict[str, int]:
    """N requests (half of them streams); request id -> index."""
    client = openai_for(url)
    ids: dict[str, int] = {}
    for i in range(N):
        raw = client.chat.completions.with_raw_response.create(
            model="openai-main/gpt-4o-mini", messages=MSG, stream=bool(i % 2)
        )
        answer = raw.parse()
        if i % 2:
            assert "".join(c.choices[0].delta.content or "" for c in answer if c.choices) == f"answer {i}"
        else:
            assert answer.choices[0].message.content == f"answer {i}"
        ids[raw.headers["x-request-id"]] = i
    return ids


def journal_ids(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {orjson.loads(line)["request_id"] for line in path.read_bytes().splitlines() if line.strip()}


def wait_for_journal(path: Path, ids: set[str], log: Path) -> None:
    """Records reach the journal within a flush interval of the failed write."""
    deadline = time.monotonic() + 10
    while not ids <= journal_ids(path):
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.02)


def kill_during_outage_then_restart(
    tmp_path: Path,
    fake_openai: FakeUpstream,
    openai_for: Callable[..., Any],
    cfg: dict[str, Any],
    journal: Path,
    outage: Callable[[], None],
    recover: Callable[[], None],
) -> dict[str, int]:
    fake_openai.queue(*[reply(i) for i in range(N)])
    with served(tmp_path, cfg) as (proc, url):
        outage()
        ids = send_requests(openai_for, url)
        assert len(fake_openai.requests) == N
        wait_for_journal(journal, set(ids), tmp_path / "gateway.log")
        proc.kill()  # SIGKILL: no shutdown hook runs
        assert proc.wait(10) < 0
    recover()
    with served(tmp_path, cfg) as (_, url):
        report = spend(url).json()  # pending records, the journal's included, are written first
        assert report["total"]["requests"] == N, report
        assert report["total"]["cost_usd"] == pytest.approx(sum(cost(i) for i in range(N)), abs=1e-12)
    assert journal.read_bytes() == b""  # replayed, then emptied
    return ids


def check_rows(rows: list[tuple[Any, ...]], ids: dict[str, int]) -> None:
    assert len(rows) == N
    for request_id, input_tokens, output_tokens, cost_usd, source, stream in rows:
        i = ids[request_id]
        assert (input_tokens, output_tokens, source, bool(stream)) == (1000 + i, 10 + i, "upstream", bool(i % 2))
        assert cost_usd == pytest.approx(cost(i), abs=1e-15)


COLUMNS = "request_id, input_tokens, output_tokens, cost_usd, usage_source, stream"


@pytest.fixture
def pg_relay() -> Iterator[TcpProxy]:
    parts = urlsplit(POSTGRES_URL)
    relay = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    relay.start()
    yield relay
    relay.close()


def test_sigkill_during_a_postgres_outage_loses_no_record(
    tmp_path: Path, fake_openai: FakeUpstream, openai_for: Callable[..., Any], pg_table: str, pg_relay: TcpProxy
) -> None:
    parts = urlsplit(POSTGRES_URL)
    netloc = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    relayed = urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{pg_relay.port}"))
    journal = tmp_path / "journal.jsonl"
    cfg = gateway_config(fake_openai.url, relayed, pg_table, journal=str(journal))
    # The store is up when the gateway starts (its pool connects), then goes away.
    ids = kill_during_outage_then_restart(
        tmp_path, fake_openai, openai_for, cfg, journal, outage=pg_relay.stop, recover=pg_relay.start
    )

    async def read() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            return [tuple(r) for r in await conn.fetch(f"SELECT {COLUMNS} FROM {pg_table}")]
        finally:
            await conn.close()

    check_rows(asyncio.run(read()), ids)


def test_sigkill_while_the_sqlite_file_cannot_be_opened_loses_no_record(
    tmp_path: Path, fake_openai: FakeUpstream, openai_for: Callable[..., Any]
) -> None:
    db = tmp_path / "data" / "spend.db"
    db.mkdir(parents=True)  # a directory where the database should be: every open fails
    journal = tmp_path / "data" / "spend-journal.jsonl"  # the default: beside the database
    cfg = gateway_config(fake_openai.url, f"sqlite:///{db}", "spend")
    ids = kill_during_outage_then_restart(
        tmp_path, fake_openai, openai_for, cfg, journal, outage=lambda: None, recover=lambda: shutil.rmtree(db)
    )
    with sqlite3.connect(db) as conn:
        check_rows(conn.execute(f"SELECT {COLUMNS} FROM spend").fetchall(), ids)
