"""The batched writer against real SQLite and PostgreSQL stores, with injected faults."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from cost_helpers import POSTGRES_URL, rec
from proxy_core_cost.record import SpendRecord
from proxy_core_cost.store import Store, open_store
from proxy_core_cost.writer import SpendWriter
from structlog.testing import capture_logs


class Flaky(Store):
    """Wraps a real store: fails the first ``fail`` writes; with ``lose_ack`` it commits
    and then raises, as when a connection drops between COMMIT and its answer."""

    def __init__(self, inner: Store, fail: int = 0, lose_ack: int = 0) -> None:
        self.inner, self.fail, self.lose_ack = inner, fail, lose_ack
        self.url, self.table = inner.url, inner.table
        self.calls = 0

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def write(self, records: list[SpendRecord]) -> None:
        self.calls += 1
        if self.fail:
            self.fail -= 1
            raise ConnectionResetError("store went away")
        await self.inner.write(records)
        if self.lose_ack:
            self.lose_ack -= 1
            raise ConnectionResetError("connection lost after commit")

    async def query(self, group_by: str | None, where: list[tuple[str, str, Any]]) -> Any:
        return await self.inner.query(group_by, where)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'spend.db'}"
    return POSTGRES_URL


@pytest.fixture
def table(store_url: str, request: pytest.FixtureRequest) -> str:
    if store_url.startswith("sqlite"):
        return "spend"
    return request.getfixturevalue("pg_table")


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_retry_after_transient_failures_and_no_double_count(store_url: str, table: str) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any], int]:
        store = Flaky(open_store(store_url, table), fail=2, lose_ack=1)
        writer = SpendWriter(store, batch_size=50, flush_interval_s=0.01, retry_base_s=0.01)
        writer.start()
        for i in range(120):
            await writer.put(rec(i))
        deadline = time.monotonic() + 5
        while writer.buffer and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        _, total = await store.query(None, [])
        stats = writer.describe()
        await writer.close()
        return total, stats, store.calls

    total, stats, calls = run(go())
    assert int(total["requests"]) == 120  # the re-sent batch was not counted twice
    assert stats["pending"] == 0 and stats["retries"] == 3 and stats["rejected"] == 0
    assert calls >= 6


def test_one_bad_record_does_not_sink_its_batch(store_url: str, table: str) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        store = open_store(store_url, table)
        writer = SpendWriter(store, batch_size=100, flush_interval_s=10)
        for i in range(10):
            await writer.put(rec(i, input_tokens=2**70 if i == 4 else 10))  # no 64-bit column holds this
        await writer.flush()
        _, total = await store.query(None, [])
        stats = writer.describe()
        await writer.close()
        return total, stats

    with capture_logs() as logs:
        total, stats = run(go())
    assert int(total["requests"]) == 9
    assert stats["rejected"] == 1 and stats["written"] == 9 and stats["pending"] == 0
    rejected = [e for e in logs if e["event"] == "spend.record_rejected"]
    assert [e["record"]["request_id"] for e in rejected] == ["req_000004"]  # loud, with the whole record


def test_close_flushes_everything_pending(store_url: str, table: str) -> None:
    async def go() -> dict[str, Any]:
        store = open_store(store_url, table)
        writer = SpendWriter(store, batch_size=1000, flush_interval_s=60)  # nothing flushes by itself
        writer.start()
        for i in range(250):
            await writer.put(rec(i))
        assert len(writer.buffer) == 250
        await writer.close()
        check = open_store(store_url, table)
        _, total = await check.query(None, [])
        await check.close()
        return total

    assert int(run(go())["requests"]) == 250


def test_unreachable_store_at_shutdown_spills_every_record(tmp_path: Path) -> None:
    spill = tmp_path / "unwritten.jsonl"

    async def go() -> dict[str, Any]:
        store = open_store("postgresql://postgres@127.0.0.1:1/nowhere")
        writer = SpendWriter(
            store, flush_interval_s=60, shutdown_timeout_s=0.2, retry_base_s=0.05, spill_path=str(spill)
        )
        for i in range(3):
            await writer.put(rec(i))
        await writer.close()
        return writer.describe()

    stats = run(go())
    assert stats["spilled"] == 3 and stats["pending"] == 0
    assert [orjson.loads(line)["request_id"] for line in spill.read_bytes().splitlines()] == [
        "req_000000",
        "req_000001",
        "req_000002",
    ]


def test_full_buffer_waits_then_drops_loudly(tmp_path: Path) -> None:
    async def go() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        store = Flaky(open_store(f"sqlite:///{tmp_path / 's.db'}"), fail=10**6)
        writer = SpendWriter(store, max_buffer=2, full_wait_s=0.05, flush_interval_s=60)
        with capture_logs() as logs:
            for i in range(3):
                await writer.put(rec(i))
        stats = writer.describe()
        writer.buffer.clear()
        await writer.close()
        return stats, logs

    stats, logs = run(go())
    assert stats["dropped"] == 1 and stats["pending"] == 2
    dropped = [e for e in logs if e["event"] == "spend.record_dropped"]
    assert dropped[0]["record"]["request_id"] == "req_000002"
