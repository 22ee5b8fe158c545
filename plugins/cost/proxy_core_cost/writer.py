"""The batched spend writer: requests hand records over, a background task writes them.

* Off the hot path: ``submit`` appends to an in-memory buffer; a task writes batches of
  up to ``batch_size`` every ``flush_interval_s`` (sooner when a batch is full).
* Bounded: the buffer holds at most ``max_buffer`` records. When it is full, ``put``
  waits up to ``full_wait_s`` for room; a record that still finds no room is logged in
  full at error level (``spend.record_dropped``, with every field) and counted in
  ``stats["dropped"]``: never silently dropped.
* Retried: a transient store error keeps the batch at the head of the buffer and the
  writer retries with exponential backoff (``retry_base_s`` .. ``retry_max_s``).
* One bad record does not sink its batch: on a data error the batch is written row by
  row; rows the store refuses are logged in full (``spend.record_rejected``) and
  counted in ``stats["rejected"]``.
* No double counting: rows are keyed by request id and inserted with ON CONFLICT DO
  NOTHING, so re-sending a batch whose commit went through is harmless.
* Journaled (``journal_path``): while the store is down, buffered records are appended
  to a local journal (JSON lines, one fsync per batch) within ``flush_interval_s``, and
  leave memory, so an outage of any length holds at most one interval of records in
  memory, and a crash (SIGKILL, OOM kill) loses none that reached the journal. Once the
  store answers again (and on start), the journal is written to the store in batches
  and emptied; ON CONFLICT makes a record that was both written and journaled count once.
* ``close()`` (on ``gateway_stopping``) writes everything left, retrying until
  ``shutdown_timeout_s``; what still cannot be written stays in (or goes to) the
  journal, else is appended as JSON lines to ``spill_path`` when configured, and is
  logged in full at error level otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from pathlib import Path
from typing import Any

import orjson
import structlog

from proxy_core.tasks import spawn

from .journal import Journal, Replay
from .record import SpendRecord
from .store import DataError, Store

log = structlog.get_logger("proxy_core.cost")

_FIELDS = frozenset(SpendRecord.__dataclass_fields__)


class SpendWriter:
    def __init__(
        self,
        store: Store,
        *,
        batch_size: int = 500,
        flush_interval_s: float = 0.5,
        max_buffer: int = 100_000,
        full_wait_s: float = 2.0,
        retry_base_s: float = 0.2,
        retry_max_s: float = 10.0,
        shutdown_timeout_s: float = 15.0,
        spill_path: str | None = None,
        journal_path: str | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.flush_interval_s = flush_interval_s
        self.max_buffer = max_buffer
        self.full_wait_s = full_wait_s
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.shutdown_timeout_s = shutdown_timeout_s
        self.spill_path = spill_path
        self.journal = Journal(journal_path) if journal_path else None
        self.buffer: deque[SpendRecord] = deque()
        self.stats = {
            "written": 0,
            "rejected": 0,
            "dropped": 0,
            "spilled": 0,
            "retries": 0,
            "journaled": 0,
            "replayed": 0,
        }
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False
        self._failures = 0
        self._retry_at = 0.0  # no store write before this (monotonic) after a failure
        # The journal holds records the store has not taken (from an earlier run, too).
        self._backlog = self.journal is not None and self.journal.has_records()

    # --- producers -------------------------------------------------------------------

    def submit(self, record: SpendRecord) -> bool:
        """Buffer a record; False when the buffer is full."""
        if len(self.buffer) >= self.max_buffer:
            return False
        self.buffer.append(record)
        if len(self.buffer) >= self.batch_size:
            self._wake.set()
        return True

    def put_nowait(self, record: SpendRecord) -> bool:
        """Hand a record over without waiting; False when the buffer is full (then ``put``
        waits for room). Requests take this path: no coroutine per record."""
        if self._closed:  # a request that outlived the shutdown grace period
            self.buffer.append(record)
            self._park()
            return True
        return self.submit(record)

    async def put(self, record: SpendRecord) -> None:
        if self.put_nowait(record):
            return
        deadline = time.monotonic() + self.full_wait_s
        while time.monotonic() < deadline:
            self._room.clear()
            self._wake.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), deadline - time.monotonic())
            if self.submit(record):
                return
        self.stats["dropped"] += 1
        log.error("spend.record_dropped", reason="spend buffer full", record=record.as_dict())

    # --- the background task ---------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = spawn(self._run(), name="proxy-core-spend-writer")
            if self._backlog:
                self._wake.set()  # replay what an earlier run journaled now

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval_s)
            self._wake.clear()
            if self._closing:
                return
            try:
                if time.monotonic() < self._retry_at:
                    # The store is down: new records go to disk now, not at the next retry.
                    async with self._lock:
                        await self._journal_buffer()
                    continue
                ok = await self.flush()
            except Exception:  # never let the writer die
                log.exception("spend.writer_error")
                ok = False
            if not ok:
                self._retry_at = time.monotonic() + self._backoff()

    def _backoff(self) -> float:
        return float(min(self.retry_max_s, self.retry_base_s * 2 ** min(self._failures, 16)))

    async def flush(self) -> bool:
        """Write the journal's records, then everything buffered now. False after a
        transient failure (retry later); the buffer is journaled then, when there is one."""
        async with self._lock:
            ok = (not self._backlog or await self._replay()) and await self._write_buffer()
            if not ok:
                await self._journal_buffer()
            return ok

    async def _write_buffer(self) -> bool:
        while self.buffer:
            batch = [self.buffer[i] for i in range(min(self.batch_size, len(self.buffer)))]
            done, ok = await self._write(batch, "written")
            for _ in range(done):
                self.buffer.popleft()
            if done:
                self._room.set()
            if not ok:
                return False
        return True

    async def _write(self, batch: list[SpendRecord], counter: str) -> tuple[int, bool]:
        """Store a batch. Returns how many of its leading records are done (written, or
        rejected by the store and logged), and False on a transient failure."""
        try:
            await self.store.write(batch)
        except DataError:
            return await self._write_one_by_one(batch, counter)
        except Exception as e:
            self._failed(e)
            return 0, False
        self.stats[counter] += len(batch)
        self._failures = 0
        return len(batch), True

    async def _write_one_by_one(self, batch: list[SpendRecord], counter: str) -> tuple[int, bool]:
        for i, record in enumerate(batch):
            try:
                await self.store.write([record])
            except DataError as e:
                self.stats["rejected"] += 1
                log.error("spend.record_rejected", error=str(e)[:300], record=record.as_dict())
            except Exception as e:
                self._failed(e)
                return i, False
            else:
                self.stats[counter] += 1
        self._failures = 0
        return len(batch), True

    def _failed(self, e: Exception) -> None:
        self._failures += 1
        self.stats["retries"] += 1
        log.warning(
            "spend.write_failed",
            error=f"{type(e).__name__}: {e}"[:300],
            pending=len(self.buffer),
            attempt=self._failures,
        )

    # --- the journal -----------------------------------------------------------------

    async def _journal_buffer(self) -> None:
        """Move the buffered records to the journal: one append, one fsync."""
        if self.journal is None or not self.buffer:
            return
        records = list(self.buffer)
        try:
            await asyncio.to_thread(self.journal.append, records)
        except OSError as e:  # they stay in memory (bounded) and are tried again
            log.error("spend.journal_failed", error=str(e)[:300], path=str(self.journal.path), pending=len(records))
            return
        for _ in records:  # put() may have appended more meanwhile
            self.buffer.popleft()
        self.stats["journaled"] += len(records)
        self._backlog = True
        self._room.set()
        log.warning("spend.journaled", records=len(records), path=str(self.journal.path))

    async def _replay(self) -> bool:
        """Write the journal's records to the store and empty it; False on a transient
        failure (the journal is kept whole: rewriting its first rows is harmless)."""
        assert self.journal is not None
        replay = await _locked_for_replay(self.journal)
        if replay is None:
            self._backlog = False
            return True
        replayed = self.stats["replayed"]
        try:
            while batch := replay.batch(self.batch_size):  # a local file: reads are quick
                records = [r for r in map(self._from_journal, batch) if r is not None]
                if records and not (await self._write(records, "replayed"))[1]:
                    return False
                if len(self.buffer) >= self.batch_size:  # keep new records moving during a long replay
                    head = [self.buffer[i] for i in range(self.batch_size)]
                    done, ok = await self._write(head, "written")
                    for _ in range(done):
                        self.buffer.popleft()
                    self._room.set()
                    if not ok:
                        return False
            for line in replay.unreadable:
                self.stats["rejected"] += 1
                log.error("spend.journal_line_unreadable", line=line[:4096].decode(errors="replace"))
            await asyncio.to_thread(replay.finish)
        finally:
            replay.abandon()  # closes the file and releases the lock (a no-op after finish)
        self._backlog = False
        log.info("spend.journal_replayed", records=self.stats["replayed"] - replayed, path=str(self.journal.path))
        return True

    def _from_journal(self, fields: dict[str, Any]) -> SpendRecord | None:
        try:
            return SpendRecord(**{k: fields[k] for k in _FIELDS if k in fields})
        except TypeError as e:  # a required field is missing
            self.stats["rejected"] += 1
            log.error("spend.record_rejected", error=str(e)[:300], record=fields)
            return None

    # --- shutdown --------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the task, write everything left (retrying); journal, spill or log the rest."""
        self._closing = True
        self._wake.set()
        deadline = time.monotonic() + self.shutdown_timeout_s
        if self._task is not None:
            # Let a write in progress end (it is bounded by the store's timeouts); cancel
            # only a task stuck past the deadline.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), self.shutdown_timeout_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while (self.buffer or self._backlog) and not await self.flush():
            delay = self._backoff()
            if time.monotonic() + delay > deadline:
                break
            await asyncio.sleep(delay)
        if self.buffer:
            self._park()
        self._closed = True
        await self.store.close()

    def _park(self) -> None:
        """Records the store cannot take at shutdown: to the journal (replayed on the
        next start), else to ``spill_path``, else logged in full. Blocking, and brief."""
        left = list(self.buffer)
        self.buffer.clear()
        if self.journal is not None:
            try:
                self.journal.append(left)
                self.stats["journaled"] += len(left)
                log.error("spend.journaled", records=len(left), path=str(self.journal.path))
                return
            except OSError as e:
                log.error("spend.journal_failed", error=str(e)[:300], path=str(self.journal.path))
        if self.spill_path:
            try:
                path = Path(self.spill_path)
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("ab") as f:
                    f.writelines(orjson.dumps(r.as_dict()) + b"\n" for r in left)
                self.stats["spilled"] += len(left)
                log.error("spend.spilled", records=len(left), path=str(path))
                return
            except OSError as e:
                log.error("spend.spill_failed", error=str(e), path=self.spill_path)
        self.stats["dropped"] += len(left)
        for record in left:
            log.error("spend.record_unwritten", reason="store unreachable at shutdown", record=record.as_dict())

    def describe(self) -> dict[str, Any]:
        return {"pending": len(self.buffer), **self.stats}


async def _locked_for_replay(journal: Journal) -> Replay | None:
    """Wait (in a thread) for the journal's lock. A caller cancelled meanwhile must not
    leave the lock held by a Replay nobody will close: it is released when it arrives."""
    pending = asyncio.ensure_future(asyncio.to_thread(journal.open_for_replay))
    try:
        return await asyncio.shield(pending)
    except asyncio.CancelledError:
        pending.add_done_callback(_release_orphan)
        raise


def _release_orphan(done: asyncio.Future[Replay | None]) -> None:
    if not done.cancelled() and done.exception() is None and (replay := done.result()) is not None:
        replay.abandon()
