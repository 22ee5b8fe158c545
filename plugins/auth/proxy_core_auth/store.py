"""The auth store (``auth.store``): run-time keys and run-time model changes, shared by
every replica, on SQLite or PostgreSQL (``proxy_core.sqlstore``).

Tables: ``auth_keys`` (a key's SHA-256 digest and settings, never the key), ``auth_models``
(account, model, settings as JSON; NULL settings = a tombstone: the model is removed even
if the config lists it) and ``auth_version`` (one row whose counter every change bumps
after writing, so replicas poll one cheap ``SELECT`` and reload only when it moved).
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from dataclasses import dataclass
from typing import Any

import orjson

from proxy_core.sqlstore import Database, open_database

from .validation import NewKey, limits_of

DEFAULT_STORE = "sqlite:///var/lib/proxy-core/auth.db"  # beside the cost plugin's spend.db


def store_errors() -> tuple[type[BaseException], ...]:
    """What an unreachable or failing store raises (connection refused, timeouts, SQL
    errors). asyncpg's errors only once asyncpg is imported (a PostgreSQL store opened
    it): importing it up front costs every worker ~14 MiB of RSS."""
    errors: tuple[type[BaseException], ...] = (OSError, TimeoutError, sqlite3.Error)
    asyncpg = sys.modules.get("asyncpg")
    if asyncpg is None:
        return errors
    return (*errors, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True, slots=True)
class StoredKey:
    name: str
    digest: bytes
    user: str | None
    teams: tuple[str, ...]
    models: tuple[str, ...] | None
    rpm: int | None
    tpm: int | None
    budget_day: float | None
    budget_month: float | None
    created_at: float

    @property
    def limits(self) -> dict[str, Any] | None:
        return limits_of(self.rpm, self.tpm, self.budget_day, self.budget_month)

    def public(self) -> dict[str, Any]:
        """What the admin API shows: everything but the digest."""
        budget = None
        if self.budget_day is not None or self.budget_month is not None:
            budget = {"day": self.budget_day, "month": self.budget_month}
        return {
            "name": self.name,
            "user": self.user,
            "teams": list(self.teams),
            "models": None if self.models is None else list(self.models),
            "rpm": self.rpm,
            "tpm": self.tpm,
            "budget_usd": budget,
            "admin": False,
            "created_at": int(self.created_at),
            "source": "store",
        }


def _schema(db: Database) -> list[str]:
    real = db.real
    return [
        "CREATE TABLE IF NOT EXISTS auth_keys ("
        " name TEXT PRIMARY KEY, key_sha256 TEXT NOT NULL UNIQUE, user_name TEXT, teams TEXT NOT NULL,"
        f" models TEXT, rpm BIGINT, tpm BIGINT, budget_day {real}, budget_month {real}, created_at {real} NOT NULL)",
        "CREATE TABLE IF NOT EXISTS auth_models ("
        f" account TEXT NOT NULL, model TEXT NOT NULL, settings TEXT, updated_at {real} NOT NULL,"
        " PRIMARY KEY (account, model))",
        "CREATE TABLE IF NOT EXISTS auth_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
        "INSERT INTO auth_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
    ]


class AuthStore:
    def __init__(self, url: str) -> None:
        self.db = open_database(url)
        self._ready = False
        self._lock = asyncio.Lock()

    async def ready(self) -> None:
        """Create the tables once. Replicas starting together may race on PostgreSQL's
        catalog (``CREATE TABLE IF NOT EXISTS`` is not atomic there): retry."""
        if self._ready:
            return
        async with self._lock:
            for attempt in range(5):
                try:
                    for sql in _schema(self.db):
                        await self.db.execute(sql)
                    break
                except (OSError, TimeoutError):  # unreachable: the caller reports it, the poller retries
                    raise
                except Exception:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.1 * (attempt + 1))
            self._ready = True

    async def close(self) -> None:
        await self.db.close()

    async def version(self) -> int:
        await self.ready()
        rows = await self.db.fetch("SELECT version FROM auth_version WHERE id = 1")
        return int(rows[0]["version"]) if rows else 0

    async def _bump(self) -> None:
        await self.db.execute("UPDATE auth_version SET version = version + 1 WHERE id = 1")

    # --- keys ----------------------------------------------------------------------------

    async def create_key(self, key: NewKey, digest: bytes) -> StoredKey | None:
        """The stored key, or None when the name is taken."""
        await self.ready()
        budget = key.budget_usd
        stored = StoredKey(
            name=key.name,
            digest=digest,
            user=key.user,
            teams=tuple(key.teams),
            models=None if key.models is None else tuple(key.models),
            rpm=key.rpm,
            tpm=key.tpm,
            budget_day=budget.day if budget else None,
            budget_month=budget.month if budget else None,
            created_at=time.time(),
        )
        added = await self.db.execute(
            "INSERT INTO auth_keys (name, key_sha256, user_name, teams, models, rpm, tpm, budget_day, budget_month,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
            stored.name,
            digest.hex(),
            stored.user,
            orjson.dumps(list(stored.teams)).decode(),
            None if stored.models is None else orjson.dumps(list(stored.models)).decode(),
            stored.rpm,
            stored.tpm,
            stored.budget_day,
            stored.budget_month,
            stored.created_at,
        )
        if not added:
            return None
        await self._bump()
        return stored

    async def revoke_key(self, name: str) -> bool:
        await self.ready()
        removed = await self.db.execute("DELETE FROM auth_keys WHERE name = ?", name)
        if removed:
            await self._bump()
        return bool(removed)

    async def keys(self) -> list[StoredKey]:
        await self.ready()
        rows = await self.db.fetch("SELECT * FROM auth_keys ORDER BY name")
        return [
            StoredKey(
                name=r["name"],
                digest=bytes.fromhex(r["key_sha256"]),
                user=r["user_name"],
                teams=tuple(orjson.loads(r["teams"])),
                models=None if r["models"] is None else tuple(orjson.loads(r["models"])),
                rpm=r["rpm"],
                tpm=r["tpm"],
                budget_day=r["budget_day"],
                budget_month=r["budget_month"],
                created_at=float(r["created_at"]),
            )
            for r in rows
        ]

    # --- models --------------------------------------------------------------------------

    async def models(self, account: str | None = None) -> dict[str, dict[str, dict[str, Any] | None]]:
        """account -> model -> settings (None = removed)."""
        await self.ready()
        if account is None:
            rows = await self.db.fetch("SELECT account, model, settings FROM auth_models")
        else:
            rows = await self.db.fetch("SELECT account, model, settings FROM auth_models WHERE account = ?", account)
        out: dict[str, dict[str, dict[str, Any] | None]] = {}
        for r in rows:
            settings = None if r["settings"] is None else orjson.loads(r["settings"])
            out.setdefault(r["account"], {})[r["model"]] = settings
        return out

    async def put_model(self, account: str, model: str, settings: dict[str, Any] | None) -> None:
        """Store a model's settings (None: a tombstone)."""
        await self.ready()
        await self.db.execute(
            "INSERT INTO auth_models (account, model, settings, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (account, model) DO UPDATE"
            " SET settings = excluded.settings, updated_at = excluded.updated_at",
            account,
            model,
            None if settings is None else orjson.dumps(settings).decode(),
            time.time(),
        )
        await self._bump()

    async def remove_model(self, account: str, model: str, in_config: bool) -> bool:
        """Tombstone a model; False when it is already absent. Conditional writes, so of two
        concurrent removals exactly one succeeds."""
        await self.ready()
        removed = await self.db.execute(
            "UPDATE auth_models SET settings = NULL, updated_at = ? WHERE account = ? AND model = ?"
            " AND settings IS NOT NULL",
            time.time(),
            account,
            model,
        )
        if not removed and in_config:
            removed = await self.db.execute(
                "INSERT INTO auth_models (account, model, settings, updated_at) VALUES (?, ?, NULL, ?)"
                " ON CONFLICT (account, model) DO NOTHING",
                account,
                model,
                time.time(),
            )
        if removed:
            await self._bump()
        return bool(removed)


def store_url(config_store: str | None) -> str:
    return config_store or DEFAULT_STORE
