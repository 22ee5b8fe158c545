"""Spend stores: a SQLite file (``sqlite:///path``) or PostgreSQL (``postgresql://...``).

SQLite URLs follow SQLAlchemy: ``sqlite:///relative.db``, ``sqlite:////absolute/path.db``.

One table (default name ``spend``), one row per client request, ``request_id`` unique:
a batch that is written again after a lost acknowledgement inserts nothing twice
(``INSERT ... ON CONFLICT (request_id) DO NOTHING``). Errors are sorted into
*transient* (the store is unreachable or busy: retry the batch later) and *data* (this
row cannot be stored: write the batch's rows one by one and reject only the bad ones).

Opening a store migrates a table made by an older version in place: missing columns
are added (nullable), and a ``cost_usd NOT NULL`` constraint is dropped (PostgreSQL:
``ALTER COLUMN ... DROP NOT NULL``; SQLite cannot drop a constraint, so the table is
rebuilt in one transaction). Every step is idempotent, so replicas starting together
are safe.
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
    "SUM(CASE WHEN cost_usd IS NULL THEN 1 ELSE 0 END) AS unpriced_requests, "
    "SUM(CASE WHEN usage_source = 'estimated' THEN 1 ELSE 0 END) AS estimated_requests"
)
# Rows without a cost, by model and reason: what the totals' cost_usd leaves out.
_UNPRICED = (
    "SELECT account, model, unpriced_reason AS reason, COUNT(*) AS requests, "
    "SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, "
    "SUM(cache_read_tokens) AS cache_read_tokens, SUM(cache_write_tokens) AS cache_write_tokens, "
    "SUM(reasoning_tokens) AS reasoning_tokens FROM {table} WHERE cost_usd IS NULL{cond} "
    "GROUP BY account, model, unpriced_reason ORDER BY account, model, unpriced_reason"
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class DataError(Exception):
    """A row the store refuses: rejecting it must not hold back the others."""


def _column_types(int_type: str, real_type: str, bool_type: str) -> dict[str, str]:
    types = {
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
    return {c: types.get(c, int_type if c.endswith("_tokens") else "TEXT") for c in COLUMNS}


def _schema(table: str, int_type: str, real_type: str, bool_type: str, id_col: str) -> list[str]:
    cols = _column_types(int_type, real_type, bool_type)
    body = ", ".join([id_col] + [f"{c} {t}" for c, t in cols.items()])
    return [
        f"CREATE TABLE IF NOT EXISTS {table} ({body})",
        f"CREATE INDEX IF NOT EXISTS {table}_ts ON {table} (ts)",
    ]


def _added_columns(existing: set[str], int_type: str, real_type: str, bool_type: str) -> list[tuple[str, str]]:
    """Columns of this version that an older table lacks (added nullable, no default)."""
    types = _column_types(int_type, real_type, bool_type)
    return [(c, types[c].replace(" NOT NULL", "").replace(" UNIQUE", "")) for c in COLUMNS if c not in existing]


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

    async def unpriced(self, where: list[tuple[str, str, Any]]) -> list[dict[str, Any]]:
        """Rows with no cost, summed by account, model and reason."""
        raise NotImplementedError

    @staticmethod
    def _where(where: list[tuple[str, str, Any]], ph: Any) -> tuple[list[str], list[Any]]:
        clauses, args = [], []
        for i, (col, op, value) in enumerate(where):
            clauses.append(f"{col} {op} {ph(i + 1)}")
            args.append(value)
        return clauses, args

    def _select(self, group_by: str | None, where: list[tuple[str, str, Any]], ph: Any) -> tuple[str, list[Any]]:
        clauses, args = self._where(where, ph)
        cond = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        if group_by is None:
            return f"SELECT {_SUMS} FROM {self.table}{cond}", args
        col = GROUPS[group_by]
        return f"SELECT {col} AS grp, {_SUMS} FROM {self.table}{cond} GROUP BY {col} ORDER BY {col}", args

    def _select_unpriced(self, where: list[tuple[str, str, Any]], ph: Any) -> tuple[str, list[Any]]:
        clauses, args = self._where(where, ph)
        cond = "".join(" AND " + c for c in clauses)
        return _UNPRICED.format(table=self.table, cond=cond), args


def open_store(url: str, table: str = "spend") -> Store:
    if not _NAME.match(table):
        raise ValueError(f"plugins.cost.table: {table!r} is not a valid table name")
    if url.startswith("sqlite:///"):
        return SQLiteStore(url, table)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, table)
    raise ValueError("plugins.cost.store: expected 'sqlite:///path' or 'postgresql://...'")


_SQLITE_ID = "id INTEGER PRIMARY KEY AUTOINCREMENT"
_PG_ID = "id BIGINT GENERATED ALWAYS AS IDENTITY"


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
            # One write transaction: replicas starting together migrate one after the other.
            await db.execute("BEGIN IMMEDIATE")
            for stmt in _schema(self.table, "INTEGER", "REAL", "INTEGER", _SQLITE_ID):
                await db.execute(stmt)
            await self._migrate(db)
            await db.commit()
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def _migrate(self, db: Any) -> None:
        """Bring a table made by an older version up to this one (inside the open transaction)."""
        async with db.execute(f"PRAGMA table_info({self.table})") as cur:
            info = {row[1]: row for row in await cur.fetchall()}  # name -> (cid, name, type, notnull, ...)
        if info["cost_usd"][3]:  # NOT NULL: SQLite cannot drop it, so copy into a new table
            common = ", ".join(c for c in ("id", *COLUMNS) if c in info)
            new = f"{self.table}__migrating"
            await db.execute(f"DROP TABLE IF EXISTS {new}")
            await db.execute(_schema(new, "INTEGER", "REAL", "INTEGER", _SQLITE_ID)[0])
            await db.execute(f"INSERT INTO {new} ({common}) SELECT {common} FROM {self.table}")
            await db.execute(f"DROP TABLE {self.table}")
            await db.execute(f"ALTER TABLE {new} RENAME TO {self.table}")
            await db.execute(_schema(self.table, "INTEGER", "REAL", "INTEGER", _SQLITE_ID)[1])
            return
        for col, kind in _added_columns(set(info), "INTEGER", "REAL", "INTEGER"):
            await db.execute(f"ALTER TABLE {self.table} ADD COLUMN {col} {kind}")

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

    async def unpriced(self, where: list[tuple[str, str, Any]]) -> list[dict[str, Any]]:
        await self.open()
        db = self._db
        db.row_factory = sqlite3.Row
        sql, args = self._select_unpriced(where, lambda i: "?")
        async with db.execute(sql, args) as cur:
            return [dict(r) for r in await cur.fetchall()]


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
                for stmt in _schema(self.table, "BIGINT", "DOUBLE PRECISION", "BOOLEAN", _PG_ID):
                    await conn.execute(stmt)
                await self._migrate(conn)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def _migrate(self, conn: Any) -> None:
        """Bring a table made by an older version up to this one; each step is idempotent."""
        rows = await conn.fetch(
            "SELECT column_name, is_nullable FROM information_schema.columns "
            "WHERE table_name = $1 AND table_schema = current_schema()",
            self.table.lower(),  # unquoted names are folded to lower case
        )
        info = {r["column_name"]: r["is_nullable"] for r in rows}
        for col, kind in _added_columns(set(info), "BIGINT", "DOUBLE PRECISION", "BOOLEAN"):
            await conn.execute(f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS {col} {kind}")
        if info.get("cost_usd") == "NO":
            await conn.execute(f"ALTER TABLE {self.table} ALTER COLUMN cost_usd DROP NOT NULL")

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

    async def unpriced(self, where: list[tuple[str, str, Any]]) -> list[dict[str, Any]]:
        await self.open()
        async with self._pool.acquire() as conn:
            sql, args = self._select_unpriced(where, lambda i: f"${i}")
            return [dict(r) for r in await conn.fetch(sql, *args)]
