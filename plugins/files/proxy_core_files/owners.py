"""Who uploaded each file: a ``file_owners`` table in the spend store's database.

The database is the one named by ``plugins.cost.store`` (SQLite or PostgreSQL through
``proxy_core.sqlstore``, the same URL forms and default as the cost plugin), so owners
survive a restart and every replica sharing that database sees the same owners.
``plugins.files.store`` may name another database.

A file belongs to the key that uploaded it (the key's name; its user and teams are kept
for audit). Rows are keyed by (account, file id): provider accounts issue their own ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from proxy_core_cost.plugin import DEFAULT_STORE
from proxy_core_cost.plugin import NAME as COST

from proxy_core import Principal
from proxy_core.errors import ServiceUnavailableError
from proxy_core.sqlstore import IDENTIFIER, open_database

if TYPE_CHECKING:
    from proxy_core.gateway import Gateway

log = structlog.get_logger("proxy_core.files")

TABLE = "file_owners"  # default name; ``plugins.files.table`` may name another
_BATCH = 500  # ids per query (SQLite's parameter limit is 999 on old builds)

_CREATE = (
    "CREATE TABLE IF NOT EXISTS {table} (account TEXT NOT NULL, file_id TEXT NOT NULL, "
    "key_name TEXT NOT NULL, user_name TEXT, teams TEXT NOT NULL, created_at {real} NOT NULL, "
    "PRIMARY KEY (account, file_id))"
)
# A provider never reuses a live id: a second upload under an id replaces the old owner.
_UPSERT = (
    "INSERT INTO {table} (account, file_id, key_name, user_name, teams, created_at) VALUES (?, ?, ?, ?, ?, ?) "
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

    def __init__(self, url: str, table: str) -> None:
        if not IDENTIFIER.match(table):
            raise ValueError(f"{table!r} is not a valid table name")
        self.url = url
        self.table = table
        self.db = open_database(url)
        self._ready = False

    async def open(self) -> None:
        if not self._ready:
            await self.db.execute(_CREATE.format(table=self.table, real=self.db.real))
            self._ready = True

    async def close(self) -> None:
        self._ready = False
        await self.db.close()

    async def record(self, account: str, file_id: str, principal: Principal) -> None:
        row = (account, file_id, principal.name, principal.user, ",".join(principal.teams), time.time())
        await self._guard(self.db.execute(_UPSERT.format(table=self.table), *row))

    async def forget(self, account: str, file_id: str) -> None:
        sql = f"DELETE FROM {self.table} WHERE account = ? AND file_id = ?"
        await self._guard(self.db.execute(sql, account, file_id))

    async def owners(self, accounts: Sequence[str], file_ids: Iterable[str]) -> dict[str, set[str]]:
        """file id -> names of the keys that own a file with that id on one of ``accounts``."""
        ids = list(dict.fromkeys(file_ids))
        found: dict[str, set[str]] = {}
        for i in range(0, len(ids), _BATCH):
            batch = ids[i : i + _BATCH]
            sql = (
                f"SELECT file_id, key_name FROM {self.table} WHERE account IN ({', '.join('?' * len(accounts))}) "
                f"AND file_id IN ({', '.join('?' * len(batch))})"
            )
            for row in await self._guard(self.db.fetch(sql, *accounts, *batch)):
                found.setdefault(row["file_id"], set()).add(row["key_name"])
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


def open_owners(url: str, table: str = TABLE) -> OwnerStore:
    return OwnerStore(url, table)
