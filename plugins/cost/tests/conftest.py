"""Fixtures for the cost plugin: a gateway with a SQLite spend store, PostgreSQL tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cost_helpers import POSTGRES_URL, cost_config

from proxy_core.testing import FakeUpstream


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'spend.db'}"


@pytest.fixture
def pg_table() -> Iterator[str]:
    """A fresh table name in the test database, dropped afterwards."""
    import asyncio

    import asyncpg

    name = "spend_" + uuid.uuid4().hex[:12]
    yield name

    async def drop() -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute(f"DROP TABLE IF EXISTS {name}")
        finally:
            await conn.close()

    asyncio.run(drop())


@pytest.fixture
def cost_gateway(gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, sqlite_url: str) -> Any:
    return gateway_factory(cost_config(fake_openai.url, sqlite_url))
