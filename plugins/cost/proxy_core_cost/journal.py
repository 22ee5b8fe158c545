"""The spend journal: records the store could not take, kept on local disk until it can.

A JSON-lines file (one :meth:`SpendRecord.as_dict` per line, the spill file's format).
Every method blocks (file I/O, ``fsync``, ``flock``): the writer calls them through
``asyncio.to_thread``.

* ``append`` writes a whole batch and fsyncs once: a crash (SIGKILL, OOM kill) after it
  returns loses none of it.
* Several processes may share one journal (``proxy-core serve --workers N``): appends
  and replays hold an exclusive ``flock``, so no process truncates lines another one
  appended while it was replaying.
* A line torn by a crash in the middle of a write is skipped on replay (and logged),
  and the next append starts on a fresh line, so it cannot corrupt the next record.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

import orjson


class Journal:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def has_records(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def append(self, records: list[Any]) -> None:
        """Append the records (dicts or dataclasses) and fsync once. An OSError means
        the batch is not safely on disk (the caller keeps it)."""
        data = b"".join(orjson.dumps(r) + b"\n" for r in records)
        created = not self.path.exists()
        if created:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                data = b"\n" + data  # a torn last line: keep it apart from this batch
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        if created:
            _fsync_dir(self.path.parent)

    def open_for_replay(self) -> Replay | None:
        """Lock the journal for reading its records; None when there is none."""
        try:
            f = self.path.open("r+b")
        except FileNotFoundError:
            return None
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # waits for another process's replay or append
        return Replay(f)


class Replay:
    """A locked journal being replayed: read batches, then ``finish`` (empty it) or
    ``abandon`` (keep it for the next try). Either releases the lock."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.unreadable: list[bytes] = []  # torn or corrupt lines met while reading

    def batch(self, size: int) -> list[dict[str, Any]]:
        """Up to ``size`` records; an empty list at the end of the journal."""
        out: list[dict[str, Any]] = []
        while len(out) < size:
            line = self.f.readline()
            if not line:
                break
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                record = None
            if isinstance(record, dict):
                out.append(record)
            else:
                self.unreadable.append(line)
        return out

    def finish(self) -> None:
        """Every record is in the store: empty the journal."""
        try:
            self.f.truncate(0)
            os.fsync(self.f.fileno())
        finally:
            self.f.close()

    def abandon(self) -> None:
        self.f.close()


def _fsync_dir(path: Path) -> None:
    """Make a new file's directory entry durable too (a power cut, not just a crash)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
