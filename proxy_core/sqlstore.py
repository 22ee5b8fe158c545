"""SQL databases named by URL, for plugins that keep state (keys, models, file owners).

``sqlite:///relative.db`` / ``sqlite:////absolute.db`` (SQLAlchemy's form, as the spend
store) open a SQLite file through aiosqlite in WAL mode; ``postgresql://...`` opens an
asyncpg pool. Statements use ``?`` placeholders on both (rewritten to ``$n`` for
PostgreSQL), so a plugin writes its SQL once. Each call is its own transaction.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def check_url(url: str) -> str:
    """``url`` when it names a supported database, else ValueError (without the URL: it may hold a password)."""
    if url.startswith("sqlite:///") or url.startswith(("postgresql://", "postgres://")):
        return url
    raise ValueError("expected 'sqlite:///path' or 'postgresql://...'")


def redact(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


class Database:
    """One database: ``open`` is idempotent and safe under concurrent callers."""

    dialect: str = ""
    # Column types that differ between the dialects.
    real: str = "REAL"

    def __init__(self, url: str) -> None:
        self.url = check_url(url)
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        raise NotImplementedError


class SQLiteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.path = url[len("sqlite:///") :] or ":memory:"
        self._db: Any = None

    async def open(self) -> None:
        import aiosqlite

        async with self._opening:
            if self._db is not None:
                return
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path, timeout=5.0)
            try:
                await db.execute("PRAGMA journal_mode=WAL")
                await db.execute("PRAGMA synchronous=NORMAL")
            except BaseException:
                await db.close()
                raise
            self._db = db

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    async def execute(self, sql: str, *args: Any) -> int:
        await self.open()
        cursor = await self._db.execute(sql, args)
        await self._db.commit()
        return int(cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.open()
        await self._db.executemany(sql, rows)
        await self._db.commit()

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        await self.open()
        async with self._db.execute(sql, args) as cursor:
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


class PostgresDatabase(Database):
    dialect = "postgresql"
    real = "DOUBLE PRECISION"

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._pool: Any = None

    async def open(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.url, min_size=1, max_size=4, timeout=5.0, command_timeout=10.0
                )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def execute(self, sql: str, *args: Any) -> int:
        await self.open()
        async with self._pool.acquire() as conn:
            status: str = await conn.execute(_dollar(sql), *args)
        count = status.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.open()
        async with self._pool.acquire() as conn:
            await conn.executemany(_dollar(sql), list(rows))

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        await self.open()
        async with self._pool.acquire() as conn:
            return [dict(r) for r in await conn.fetch(_dollar(sql), *args)]


@lru_cache(maxsize=256)
def _dollar(sql: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2...`` (our statements hold no ``?`` literals)."""
    parts = sql.split("?")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def open_database(url: str) -> Database:
    """A :class:`Database` for ``url`` (not connected until first used)."""
    if check_url(url).startswith("sqlite:///"):
        return SQLiteDatabase(url)
    return PostgresDatabase(url)
