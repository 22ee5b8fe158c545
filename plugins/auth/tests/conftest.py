"""The auth plugin's test fixtures: a fresh PostgreSQL database per session."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from auth_helpers import POSTGRES, admin_sql


@pytest.fixture(scope="session")
def postgres_store() -> Iterator[str]:
    """A PostgreSQL database of its own for this session, dropped at the end."""
    name = "proxy_core_auth_" + uuid.uuid4().hex[:12]
    asyncio.run(admin_sql(POSTGRES, f"CREATE DATABASE {name}"))
    base, _, _ = POSTGRES.rpartition("/")
    yield f"{base}/{name}"
    asyncio.run(admin_sql(POSTGRES, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
