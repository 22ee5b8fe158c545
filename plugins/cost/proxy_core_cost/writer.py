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
* ``close()`` (on ``gateway_stopping``) writes everything left, retrying until
  ``shutdown_timeout_s``; what still cannot be written is appended as JSON lines to
  ``spill_path`` when configured, and logged in full at error level either way.
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

from .record import SpendRecord
from .store import DataError, Store

log = structlog.get_logger("proxy_core.cost")


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
        self.buffer: deque[SpendRecord] = deque()
        self.stats = {"written": 0, "rejected": 0, "dropped": 0, "spilled": 0, "retries": 0}
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._closed = False
        self._failures = 0

    # --- producers -------------------------------------------------------------------

    def submit(self, record: SpendRecord) -> bool:
        """Buffer a record; False when the buffer is full."""
        if len(self.buffer) >= self.max_buffer:
            return False
        self.buffer.append(record)
        if len(self.buffer) >= self.batch_size:
            self._wake.set()
        return True

    async def put(self, record: SpendRecord) -> None:
        if self._closed:  # a request that outlived the shutdown grace period
            self.buffer.append(record)
            self._spill()
            return
        if self.submit(record):
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

    async def _run(self) -> None:
        while not self._closing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval_s)
            self._wake.clear()
            if self._closing:
                return
            try:
                ok = await self.flush()
            except Exception:  # never let the writer die
                log.exception("spend.writer_error")
                ok = False
            if not ok:
                await asyncio.sleep(self._backoff())

    def _backoff(self) -> float:
        return float(min(self.retry_max_s, self.retry_base_s * 2 ** min(self._failures, 16)))

    async def flush(self) -> bool:
        """Write everything buffered now. False after a transient failure (retry later)."""
        async with self._lock:
            while self.buffer:
                batch = [self.buffer[i] for i in range(min(self.batch_size, len(self.buffer)))]
                try:
                    await self.store.write(batch)
                except DataError:
                    if not await self._write_one_by_one(batch):
                        return False
                except Exception as e:
                    self._failures += 1
                    self.stats["retries"] += 1
                    log.warning(
                        "spend.write_failed",
                        error=f"{type(e).__name__}: {e}"[:300],
                        pending=len(self.buffer),
                        attempt=self._failures,
                    )
                    return False
                else:
                    self._done(len(batch))
            return True

    async def _write_one_by_one(self, batch: list[SpendRecord]) -> bool:
        for record in batch:
            try:
                await self.store.write([record])
            except DataError as e:
                self.stats["rejected"] += 1
                log.error("spend.record_rejected", error=str(e)[:300], record=record.as_dict())
                self.buffer.popleft()
                self._room.set()
            except Exception as e:
                self._failures += 1
                self.stats["retries"] += 1
                log.warning("spend.write_failed", error=f"{type(e).__name__}: {e}"[:300], pending=len(self.buffer))
                return False
            else:
                self._done(1)
        return True

    def _done(self, n: int) -> None:
        for _ in range(n):
            self.buffer.popleft()
        self.stats["written"] += n
        self._failures = 0
        self._room.set()

    # --- shutdown --------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the task, write everything left (retrying), spill or log what cannot be."""
        self._closing = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        deadline = time.monotonic() + self.shutdown_timeout_s
        while self.buffer and not await self.flush():
            delay = self._backoff()
            if time.monotonic() + delay > deadline:
                break
            await asyncio.sleep(delay)
        if self.buffer:
            self._spill()
        self._closed = True
        await self.store.close()

    def _spill(self) -> None:
        left = list(self.buffer)
        self.buffer.clear()
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
