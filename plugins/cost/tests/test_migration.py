"""A spend table made by an older version (cost_usd NOT NULL, no usage_source or
unpriced_reason) is migrated on open: old rows stay, NULL costs and new columns go in."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
from cost_helpers import POSTGRES_URL, rec
from proxy_core_cost.store import open_store

OLD_COLUMNS = (
    "request_id TEXT NOT NULL UNIQUE, ts {real} NOT NULL, day TEXT NOT NULL, key_name TEXT, user_name TEXT, "
    "teams TEXT, account TEXT, model TEXT, route TEXT, requested_model TEXT, operation TEXT, stream {bool}, "
    "status INTEGER, outcome TEXT, input_tokens {int}, output_tokens {int}, cache_read_tokens {int}, "
    "cache_write_tokens {int}, reasoning_tokens {int}, cost_usd {real}{cost_constraint}, latency_ms {real}, "
    "ttft_ms {real}, attempts INTEGER"
)
OLD_ROW = rec(1, cost_usd=0.5)
OLD_VALUES = OLD_ROW.values()[:-2]  # without usage_source, unpriced_reason


async def write_new_rows_and_check(url: str, table: str) -> None:
    store = open_store(url, table)
    try:
        await store.write([rec(2, cost_usd=None, unpriced_reason="usage unknown"), rec(3, usage_source="estimated")])
        _, total = await store.query(None, [])
        unpriced = await store.unpriced([])
    finally:
        await store.close()
    assert int(total["requests"]) == 3 and int(total["unpriced_requests"]) == 1
    assert int(total["estimated_requests"]) == 1
    assert float(total["cost_usd"]) == 0.501
    assert [(u["model"], u["reason"], int(u["requests"])) for u in unpriced] == [("gpt-4o-mini", "usage unknown", 1)]


def test_sqlite_table_with_not_null_cost_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        cols = OLD_COLUMNS.format(real="REAL", int="INTEGER", bool="INTEGER", cost_constraint=" NOT NULL")
        db.execute(f"CREATE TABLE spend (id INTEGER PRIMARY KEY AUTOINCREMENT, {cols})")
        db.execute("CREATE INDEX spend_ts ON spend (ts)")
        db.execute(f"INSERT INTO spend VALUES (7, {', '.join('?' for _ in OLD_VALUES)})", OLD_VALUES)
    url = f"sqlite:///{path}"
    asyncio.run(write_new_rows_and_check(url, "spend"))
    asyncio.run(write_new_rows_and_check(url, "spend"))  # a second open changes nothing
    with sqlite3.connect(path) as db:
        got = db.execute("SELECT id, request_id, cost_usd, usage_source FROM spend ORDER BY id").fetchall()
        notnull = {r[1]: r[3] for r in db.execute("PRAGMA table_info(spend)")}
        indexes = [r[1] for r in db.execute("PRAGMA index_list(spend)")]
    assert got[0] == (7, "req_000001", 0.5, None)  # the old row, its id kept
    assert [g[1:] for g in got[1:]] == [("req_000002", None, None), ("req_000003", 0.001, "estimated")]
    assert notnull["cost_usd"] == 0 and "spend_ts" in indexes


def test_sqlite_table_without_the_new_columns_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        cols = OLD_COLUMNS.format(real="REAL", int="INTEGER", bool="INTEGER", cost_constraint="")
        db.execute(f"CREATE TABLE spend (id INTEGER PRIMARY KEY AUTOINCREMENT, {cols})")
        db.execute(f"INSERT INTO spend VALUES (1, {', '.join('?' for _ in OLD_VALUES)})", OLD_VALUES)
    asyncio.run(write_new_rows_and_check(f"sqlite:///{path}", "spend"))


def test_postgres_table_with_not_null_cost_is_migrated(pg_table: str) -> None:
    async def make_old() -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            cols = OLD_COLUMNS.format(
                real="DOUBLE PRECISION", int="BIGINT", bool="BOOLEAN", cost_constraint=" NOT NULL"
            )
            await conn.execute(f"CREATE TABLE {pg_table} (id BIGINT GENERATED ALWAYS AS IDENTITY, {cols})")
            marks = ", ".join(f"${i + 1}" for i in range(len(OLD_VALUES)))
            await conn.execute(f"INSERT INTO {pg_table} VALUES (DEFAULT, {marks})", *OLD_VALUES)
        finally:
            await conn.close()

    async def read() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            got = await conn.fetch(f"SELECT request_id, cost_usd, unpriced_reason FROM {pg_table} ORDER BY id")
        finally:
            await conn.close()
        return [tuple(r) for r in got]

    asyncio.run(make_old())
    asyncio.run(write_new_rows_and_check(POSTGRES_URL, pg_table))
    asyncio.run(write_new_rows_and_check(POSTGRES_URL, pg_table))  # idempotent
    assert asyncio.run(read()) == [
        ("req_000001", 0.5, None),
        ("req_000002", None, "usage unknown"),
        ("req_000003", 0.001, None),
    ]
