"""Who uploaded each file: a ``file_owners`` table in the spend store's database.

The database is the one named by ``plugins.cost.store`` (SQLite via aiosqlite, or
PostgreSQL via asyncpg, the same URL forms and default as the cost plugin), so owners
survive a restart and every replica sharing that database sees the same owners.
``plugins.files.store`` may name another database.

A file belongs to the key that uploaded it (the key's name; its user and teams are kept
for audit). Rows are keyed by (account, file id): provider accounts issue their own ids.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from proxy_core_cost.plugin import DEFAULT_STORE
from proxy_core_cost.plugin import NAME as COST

from proxy_core import Principal
from proxy_core.errors import ServiceUnavailableError

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway

log = structlog.get_logger("proxy_core.files")

TABLE = "file_owners"  # default name; ``plugins.files.table`` may name another
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_BATCH = 500  # ids per query (SQLite's parameter limit is 999 on old builds)

_CREATE = (
    "CREATE TABLE IF NOT EXISTS {table} (account TEXT NOT NULL, file_id TEXT NOT NULL, "
    "key_name TEXT NOT NULL, user_name TEXT, teams TEXT NOT NULL, created_at {real} NOT NULL, "
    "PRIMARY KEY (account, file_id))"
)
# A provider never reuses a live id: a second upload under an id replaces the old owner.
_UPSERT = (
    "INSERT INTO {table} (account, file_id, key_name, user_name, teams, created_at) VALUES ({ph}) "
    "ON CONFLICT (account, file_id) DO UPDATE SET key_name = excluded.key_name, "
    "user_name = excluded.user_name, teams = excluded.teams, created_at = excluded.created_at"
)


def store_url(gateway: Gateway, section: dict[str, Any]) -> str:
    """``plugins.files.store``, else the spend store's URL, resolved as the cost plugin does."""
    url = section.get("store") or gateway.config.plugin_section(COST).get("store") or DEFAULT_STORE
    return str(url)


def unavailable() -> ServiceUnavailableError:
    return ServiceUnavailableError(
        "the gateway cannot check file ownership right now (its database is unreachable); try again later",
        code="file_owners_unavailable",
    )


class OwnerStore:
    """Owners of uploaded files; every method raises ``ServiceUnavailableError`` when the
    database cannot answer (ownership fails closed)."""

    url: str
    table: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def record(self, account: str, file_id: str, principal: Principal) -> None:
        await self._guard(self._record(account, file_id, principal))

    async def forget(self, account: str, file_id: str) -> None:
        await self._guard(self._forget(account, file_id))

    async def owners(self, accounts: Sequence[str], file_ids: Iterable[str]) -> dict[str, set[str]]:
        """file id -> names of the keys that own a file with that id on one of ``accounts``."""
        ids = list(dict.fromkeys(file_ids))
        found: dict[str, set[str]] = {}
        for i in range(0, len(ids), _BATCH):
            for file_id, key in await self._guard(self._select(list(accounts), ids[i : i + _BATCH])):
                found.setdefault(file_id, set()).add(key)
        return found

    async def _guard(self, work: Any) -> Any:
        try:
            await self.open()
            return await work
        except ServiceUnavailableError:
            raise
        except Exception as e:
            work.close()
            log.error("files.owners_unavailable", error=f"{type(e).__name__}: {e}"[:300])
            await self.close()  # reconnect on the next call
            raise unavailable() from None

    async def _record(self, account: str, file_id: str, principal: Principal) -> None:
        raise NotImplementedError

    async def _forget(self, account: str, file_id: str) -> None:
        raise NotImplementedError

    async def _select(self, accounts: list[str], ids: list[str]) -> list[tuple[str, str]]:
        raise NotImplementedError


def _row(account: str, file_id: str, principal: Principal) -> tuple[Any, ...]:
    return (account, file_id, principal.name, principal.user, ",".join(principal.teams), time.time())


class SQLiteOwners(OwnerStore):
    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self.path = url[len("sqlite:///") :] or ":memory:"
        self._db: Any = None
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        async with self._opening:
            if self._db is None:
                self._db = await self._connect()

    async def _connect(self) -> Any:
        import aiosqlite

        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self.path, timeout=5.0)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute(_CREATE.format(table=self.table, real="REAL"))
            await db.commit()
        except BaseException:
            await db.close()
            raise
        return db

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    async def _record(self, account: str, file_id: str, principal: Principal) -> None:
        await self._db.execute(
            _UPSERT.format(table=self.table, ph="?, ?, ?, ?, ?, ?"), _row(account, file_id, principal)
        )
        await self._db.commit()

    async def _forget(self, account: str, file_id: str) -> None:
        await self._db.execute(f"DELETE FROM {self.table} WHERE account = ? AND file_id = ?", (account, file_id))
        await self._db.commit()

    async def _select(self, accounts: list[str], ids: list[str]) -> list[tuple[str, str]]:
        sql = (
            f"SELECT file_id, key_name FROM {self.table} WHERE account IN ({', '.join('?' * len(accounts))}) "
            f"AND file_id IN ({', '.join('?' * len(ids))})"
        )
        async with self._db.execute(sql, [*accounts, *ids]) as cursor:
            return [(r[0], r[1]) for r in await cursor.fetchall()]


class PostgresOwners(OwnerStore):
    def __init__(self, url: str, table: str) -> None:
        self.url = url
        self.table = table
        self._pool: Any = None
        self._opening = asyncio.Lock()

    async def open(self) -> None:
        async with self._opening:
            if self._pool is None:
                self._pool = await self._connect()

    async def _connect(self) -> Any:
        import asyncpg

        pool = await asyncpg.create_pool(self.url, min_size=1, max_size=2, timeout=5.0, command_timeout=10.0)
        try:
            async with pool.acquire() as conn:
                await conn.execute(_CREATE.format(table=self.table, real="DOUBLE PRECISION"))
        except BaseException:
            await pool.close()
            raise
        return pool

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def _record(self, account: str, file_id: str, principal: Principal) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(
                _UPSERT.format(table=self.table, ph="$1, $2, $3, $4, $5, $6"), *_row(account, file_id, principal)
            )

    async def _forget(self, account: str, file_id: str) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute(f"DELETE FROM {self.table} WHERE account = $1 AND file_id = $2", account, file_id)

    async def _select(self, accounts: list[str], ids: list[str]) -> list[tuple[str, str]]:
        sql = (
            f"SELECT file_id, key_name FROM {self.table} WHERE account = ANY($1::text[]) AND file_id = ANY($2::text[])"
        )
        async with self._pool.acquire() as conn:
            return [(r["file_id"], r["key_name"]) for r in await conn.fetch(sql, accounts, ids)]


def open_owners(url: str, table: str = TABLE) -> OwnerStore:
    if not _NAME.match(table):
        raise ValueError(f"{table!r} is not a valid table name")
    if url.startswith("sqlite:///"):
        return SQLiteOwners(url, table)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresOwners(url, table)
    raise ValueError("expected 'sqlite:///path' or 'postgresql://...'")
