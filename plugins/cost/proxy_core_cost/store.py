"""Spend stores: a SQLite file (``sqlite:///path``) or PostgreSQL (``postgresql://...``).

SQLite URLs follow SQLAlchemy: ``sqlite:///relative.db``, ``sqlite:////absolute/path.db``.

One table (default name ``spend``), one row per client request, ``request_id`` unique:
a batch that is written again after a lost acknowledgement inserts nothing twice
(``INSERT ... ON CONFLICT (request_id) DO NOTHING``). Errors are sorted into
*transient* (the store is unreachable or busy: retry the batch later) and *data* (this
row cannot be stored: write the batch's rows one by one and reject only the bad ones).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from .record import COLUMNS, SpendRecord

GROUPS = {
    "key": "key_name",
    "user": "user_name",
    "team": "teams",
    "model": "model",
    "account": "account",
    "route": "route",
    "day": "day",
}
_SUMS = (
    "COUNT(*) AS requests, SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, "
    "SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_tokens) AS cache_write_tokens, "
    "SUM(reasoning_tokens) AS reasoning_tokens, SUM(cost_usd) AS cost_usd, "
    "SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced_requests"
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class DataError(Exception):
    """A row the store refuses: rejecting it must not hold back the others."""


def _schema(table: str, int_type: str, real_type: str, bool_type: str, id_col: str) -> list[str]:
    cols = {
        "request_id": "TEXT NOT NULL UNIQUE",
        "ts": f"{real_type} NOT NULL",
        "day": "TEXT NOT NULL",
        "stream": bool_type,
        "status": "INTEGER",
        "cost_usd": real_type,
        "latency_ms": real_type,
        "ttft_ms": real_type,
        "attempts": "INTEGER",
    }
    body = ", ".join([id_col] + [f"{c} {cols.get(c, int_type if c.endswith('_tokens') else 'TEXT')}" for c in COLUMNS])
    return [
        f"CREATE TABLE IF NOT EXISTS {table} ({body})",
        f"CREATE INDEX IF NOT EXISTS {table}_ts ON {table} (ts)",
    ]


class Store:
    url: str
    table: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def write(self, records: list[SpendRecord]) -> None:
        """Insert the records in one transaction; raise DataError or a transient error."""
        raise NotImplementedError

    async def query(
        self, group_by: str | None, where: list[tuple[str, str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        raise NotImplementedError

    def _select(self, group_by: str | None, where: list[tuple[str, str, Any]], ph: Any) -> tuple[str, list[Any]]:
        clauses, args = [], []
        for i, (col, op, value) in enumerate(where):
            clauses.append(f"{col} {op} {ph(i + 1)}")
            args.append(value)
        cond = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        if group_by is None:
            return f"SELECT {_SUMS} FROM {self.table}{cond}", args
        col = GROUPS[group_by]
        return f"SELECT {col} AS grp, {_SUMS} FROM {self.table}{cond} GROUP BY {col} ORDER BY {col}", args


def open_store(url: str, table: str = "spend") -> Store:
    if not _NAME.match(table):
        raise ValueError(f"plugins.cost.table: {table!r} is not a valid table name")
    if url.startswith("sqlite:///"):
        return SQLiteStore(url, table)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, table)
    raise ValueError("plugins.cost.store: expected 'sqlite:///path' or 'postgresql://...'")


class SQLiteStore(Store):
    """A SQLite file through aiosqlite (its own thread), WAL mode."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self.path = url[len("sqlite:///") :] or ":memory:"
        self._db: Any = None
        placeholders = ", ".join("?" for _ in COLUMNS)
        self._insert = (
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders}) ON CONFLICT (request_id) DO NOTHING"
        )

    async def open(self) -> None:
        import aiosqlite

        if self._db is not None:
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, timeout=5.0)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            for stmt in _schema(self.table, "INTEGER", "REAL", "INTEGER", "id INTEGER PRIMARY KEY AUTOINCREMENT"):
                await db.execute(stmt)
            await db.commit()
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    async def write(self, records: list[SpendRecord]) -> None:
        await self.open()
        db = self._db
        try:
            await db.executemany(self._insert, [r.values() for r in records])
            await db.commit()
        except (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.ProgrammingError, OverflowError) as e:
            await db.rollback()
            raise DataError(f"{type(e).__name__}: {e}") from None
        except BaseException:
            try:
                await db.rollback()
            except Exception:
                await self.close()
            raise

    async def query(
        self, group_by: str | None, where: list[tuple[str, str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        await self.open()
        db = self._db
        db.row_factory = sqlite3.Row
        sql, args = self._select(None, where, lambda i: "?")
        async with db.execute(sql, args) as cur:
            total = dict(await cur.fetchone())
        rows: list[dict[str, Any]] = []
        if group_by is not None:
            sql, args = self._select(group_by, where, lambda i: "?")
            async with db.execute(sql, args) as cur:
                rows = [dict(r) for r in await cur.fetchall()]
        return rows, total


class PostgresStore(Store):
    """PostgreSQL through an asyncpg pool."""

    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self._pool: Any = None
        placeholders = ", ".join(f"${i + 1}" for i in range(len(COLUMNS)))
        self._insert = (
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({placeholders}) ON CONFLICT (request_id) DO NOTHING"
        )

    async def open(self) -> None:
        import asyncpg

        if self._pool is not None:
            return
        pool = await asyncpg.create_pool(self.url, min_size=1, max_size=2, timeout=5.0, command_timeout=10.0)
        try:
            async with pool.acquire() as conn:
                for stmt in _schema(
                    self.table, "BIGINT", "DOUBLE PRECISION", "BOOLEAN", "id BIGINT GENERATED ALWAYS AS IDENTITY"
                ):
                    await conn.execute(stmt)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def write(self, records: list[SpendRecord]) -> None:
        import asyncpg

        await self.open()
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.executemany(self._insert, [r.values() for r in records])
        except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, OverflowError) as e:
            raise DataError(f"{type(e).__name__}: {e}") from None
        except asyncpg.PostgresError as e:
            if (e.sqlstate or "")[:2] in ("22", "23"):  # data exception, integrity violation
                raise DataError(f"{type(e).__name__}: {e}") from None
            raise

    async def query(
        self, group_by: str | None, where: list[tuple[str, str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        await self.open()
        async with self._pool.acquire() as conn:
            sql, args = self._select(None, where, lambda i: f"${i}")
            total = dict(await conn.fetchrow(sql, *args))
            rows: list[dict[str, Any]] = []
            if group_by is not None:
                sql, args = self._select(group_by, where, lambda i: f"${i}")
                rows = [dict(r) for r in await conn.fetch(sql, *args)]
        return rows, total
