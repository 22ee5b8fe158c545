"""The Redis store on its own: settlements are not awaited, yet none is lost at close."""

from __future__ import annotations

import asyncio
from typing import Any

from limits_helpers import RedisServer
from proxy_core_limits.rules import CONCURRENCY, TPM, Limit
from proxy_core_limits.store import Check, RedisStore, StoreUnavailable, settlement


def test_close_applies_every_settlement_handed_over(redis_server: RedisServer, redis_db: Any) -> None:
    tpm = Limit(TPM, 1_000_000, "t:tpm", "rule")
    slots = Limit(CONCURRENCY, 100, "t:conc", "rule")
    outcomes: list[StoreUnavailable | None] = []

    async def run() -> None:
        store = RedisStore(redis_server.url, timeout_s=2, lease_ms=30_000)
        await store.start()
        checks = {f"r{i}": [Check(tpm, 500), Check(slots, 1)] for i in range(50)}
        decisions = await asyncio.gather(*(store.admit(rid, c) for rid, c in checks.items()))
        assert all(d.admitted for d in decisions)
        for (rid, c), decision in zip(checks.items(), decisions, strict=True):
            store.settle(rid, settlement(c, decision, 20, 0), outcomes.append)
        await store.close()  # at once: nothing awaited the settlements

    asyncio.run(run())
    assert outcomes == [None] * 50
    assert int(redis_db.get("t:tpm:t")) == 50 * 20
    assert redis_db.zcard("t:conc") == 0
