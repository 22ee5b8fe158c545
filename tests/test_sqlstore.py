"""proxy_core.sqlstore: one SQL API over SQLite and PostgreSQL (the local cluster CI starts)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from proxy_core.sqlstore import open_database, redact

POSTGRES = os.environ.get("PROXY_CORE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def round_trip(url: str) -> None:
    db = open_database(url)
    table = "t_" + uuid.uuid4().hex[:12]
    try:
        await asyncio.gather(db.open(), db.open())  # concurrent opens share one connection
        await db.execute(f"CREATE TABLE {table} (name TEXT PRIMARY KEY, price {db.real}, n INTEGER)")
        await db.executemany(f"INSERT INTO {table} (name, price, n) VALUES (?, ?, ?)", [("a", 1.5, 1), ("b", 2.0, 2)])
        changed = await db.execute(f"UPDATE {table} SET n = n + ? WHERE name = ?", 10, "a")
        assert changed == 1
        rows = await db.fetch(f"SELECT name, price, n FROM {table} WHERE n > ? ORDER BY name", 1)
        assert rows == [{"name": "a", "price": 1.5, "n": 11}, {"name": "b", "price": 2.0, "n": 2}]
        assert await db.execute(f"DELETE FROM {table} WHERE name = ?", "zz") == 0
    finally:
        await db.execute(f"DROP TABLE IF EXISTS {table}")
        await db.close()


def test_sqlite(tmp_path: Path) -> None:
    asyncio.run(round_trip(f"sqlite:///{tmp_path}/sub/dir/x.db"))
    assert (tmp_path / "sub/dir/x.db").exists()


def test_postgresql() -> None:
    asyncio.run(round_trip(POSTGRES))


def test_urls() -> None:
    assert redact("postgresql://u:secret@h/db") == "postgresql://u:***@h/db"
    with pytest.raises(ValueError) as info:
        open_database("mysql://u:secret@h/db")
    assert "secret" not in str(info.value)
