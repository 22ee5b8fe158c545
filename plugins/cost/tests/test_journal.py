"""The spend journal: records the store cannot take go to local disk within one flush
interval and are written to the store once it answers again (or on the next start)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from cost_helpers import POSTGRES_URL, rec
from proxy_core_cost.journal import Journal
from proxy_core_cost.record import SpendRecord
from proxy_core_cost.store import Store, open_store
from proxy_core_cost.writer import SpendWriter
from structlog.testing import capture_logs


class Switch(Store):
    """A real store behind a switch: while ``down``, every write fails as a dropped
    connection would. ``lose_ack``: commit the next write, then fail it anyway."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.url, self.table = inner.url, inner.table
        self.down = False
        self.lose_ack = 0

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def write(self, records: list[SpendRecord]) -> None:
        if self.down:
            raise ConnectionRefusedError("store is down")
        await self.inner.write(records)
        if self.lose_ack:
            self.lose_ack -= 1
            raise ConnectionResetError("connection lost after commit")

    async def query(self, group_by: str | None, where: list[tuple[str, str, Any]]) -> Any:
        return await self.inner.query(group_by, where)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Switch:
    if request.param == "sqlite":
        return Switch(open_store(f"sqlite:///{tmp_path / 'spend.db'}"))
    return Switch(open_store(POSTGRES_URL, request.getfixturevalue("pg_table")))


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


def journal_ids(path: Path) -> list[str]:
    return [orjson.loads(line)["request_id"] for line in path.read_bytes().splitlines()] if path.exists() else []


async def stored(store: Store) -> int:
    _, total = await store.query(None, [])
    return int(total["requests"])


def test_outage_goes_to_the_journal_then_to_the_store_once(store: Switch, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"

    async def go() -> dict[str, Any]:
        writer = SpendWriter(store, batch_size=8, flush_interval_s=0.01, retry_base_s=0.05, journal_path=str(journal))
        writer.start()
        await writer.put(rec(0))
        await until(lambda: writer.stats["written"] == 1)
        store.down = True
        for i in range(1, 41):
            await writer.put(rec(i))
        # on disk within a flush interval of the outage, not held in memory until the store is back
        # (the file can show all 40 a moment before the writer drops them from memory)
        await until(lambda: len(journal_ids(journal)) == 40 and not writer.buffer)
        store.down = False
        await until(lambda: not writer._backlog)
        assert journal.read_bytes() == b""
        assert await stored(store) == 41
        stats = writer.describe()
        await writer.close()
        return stats

    stats = asyncio.run(go())
    assert stats["journaled"] == 40 and stats["replayed"] == 40 and stats["pending"] == 0
    assert stats["dropped"] == stats["spilled"] == stats["rejected"] == 0


def test_a_batch_both_committed_and_journaled_counts_once(store: Switch, tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"

    async def go() -> tuple[int, dict[str, Any]]:
        writer = SpendWriter(store, flush_interval_s=60, journal_path=str(journal))
        for i in range(10):
            await writer.put(rec(i))
        store.lose_ack = 1
        assert not await writer.flush()  # committed, but the writer cannot know: journaled
        assert len(journal_ids(journal)) == 10
        assert await writer.flush()  # replays the journal: ON CONFLICT, nothing twice
        count = await stored(store)
        await writer.close()
        return count, writer.describe()

    count, stats = asyncio.run(go())
    assert count == 10 and stats["journaled"] == 10 and stats["replayed"] == 10


def test_memory_stays_bounded_through_a_long_outage(store: Switch, tmp_path: Path) -> None:
    """A buffer of 5 takes 200 records while the store is down: each full buffer goes to
    the journal instead of waiting for the store; nothing is dropped."""
    journal = tmp_path / "journal.jsonl"

    async def go() -> dict[str, Any]:
        store.down = True
        writer = SpendWriter(
            store, max_buffer=5, flush_interval_s=60, retry_base_s=60, full_wait_s=5, journal_path=str(journal)
        )
        writer.start()
        peak = 0
        for i in range(200):
            await writer.put(rec(i))
            peak = max(peak, len(writer.buffer))
        assert peak <= 5
        await until(lambda: len(journal_ids(journal)) >= 195)
        stats = writer.describe()
        writer.shutdown_timeout_s = 0
        await writer.close()  # the last few go to the journal too
        return stats

    stats = asyncio.run(go())
    assert stats["dropped"] == 0
    assert journal_ids(journal) == [f"req_{i:06d}" for i in range(200)]


def test_next_start_replays_the_journal_and_skips_a_torn_line(store: Switch, tmp_path: Path) -> None:
    """What a killed process left: whole records, then half a line. The next append
    starts on a fresh line; the next start writes every whole record and empties it."""
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.append([rec(0), rec(1)])
    with path.open("ab") as f:
        f.write(orjson.dumps(rec(2).as_dict())[:40])  # killed mid-write
    journal.append([rec(3)])
    old = orjson.loads(path.read_bytes().splitlines()[-1])
    old.pop("usage_source"), old.pop("unpriced_reason")  # a line from before these fields
    journal.append([old | {"request_id": "req_000004"}])

    async def go() -> tuple[int, dict[str, Any]]:
        writer = SpendWriter(store, flush_interval_s=60, journal_path=str(path))
        writer.start()  # replays at once, not after a flush interval
        await until(lambda: not writer._backlog)
        count = await stored(store)
        await writer.close()
        return count, writer.describe()

    with capture_logs() as logs:
        count, stats = asyncio.run(go())
    assert count == 4 and stats["replayed"] == 4 and stats["rejected"] == 1
    assert [e["line"][:20] for e in logs if e["event"] == "spend.journal_line_unreadable"] == ['{"request_id":"req_0']
    assert path.read_bytes() == b""


def test_graceful_stop_with_the_store_down_leaves_records_in_the_journal(tmp_path: Path) -> None:
    journal = tmp_path / "journal.jsonl"
    spill = tmp_path / "spill.jsonl"

    async def go() -> dict[str, Any]:
        store = open_store("postgresql://postgres@127.0.0.1:1/nowhere")
        writer = SpendWriter(
            store,
            flush_interval_s=60,
            shutdown_timeout_s=0.1,
            retry_base_s=0.05,
            spill_path=str(spill),
            journal_path=str(journal),
        )
        for i in range(3):
            await writer.put(rec(i))
        await writer.close()
        return writer.describe()

    stats = asyncio.run(go())
    assert stats["journaled"] == 3 and stats["spilled"] == 0 and stats["dropped"] == 0
    assert journal_ids(journal) == ["req_000000", "req_000001", "req_000002"] and not spill.exists()
