"""`proxy-core spend` (the core CLI delegating to this plugin) reads the spend store."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import orjson
import yaml
from cost_helpers import rec
from proxy_core_cost.store import open_store
from proxy_core_cost.writer import SpendWriter


def test_proxy_core_spend_reports_from_the_store(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'spend.db'}"

    async def fill() -> None:
        writer = SpendWriter(open_store(store))
        for i, user in enumerate(["ann", "ann", "bob"]):
            await writer.put(rec(i, user_name=user, cost_usd=0.25))
        await writer.put(
            rec(3, user_name="bob", model="my-finetune", cost_usd=None, unpriced_reason="model has no price")
        )
        await writer.close()

    asyncio.run(fill())
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump({"plugins": {"cost": {"store": store}}}))
    exe = str(Path(sys.executable).parent / "proxy-core")
    out = subprocess.run(
        [exe, "spend", "--config", str(config), "--group-by", "user"], capture_output=True, check=True, timeout=30
    )
    report = orjson.loads(out.stdout)
    assert [(r["user"], r["requests"], r["cost_usd"], r["unpriced_requests"]) for r in report["rows"]] == [
        ("ann", 2, 0.5, 0),
        ("bob", 2, 0.25, 1),
    ]
    assert report["total"]["cost_usd"] == 0.75  # the unpriced row adds nothing, and is reported apart
    assert [(u["model"], u["reason"], u["requests"]) for u in report["unpriced"]["by_model"]] == [
        ("my-finetune", "model has no price", 1)
    ]
    table = subprocess.run([exe, "spend", "--config", str(config), "--table"], capture_output=True, timeout=30)
    assert table.returncode == 0 and b"TOTAL" in table.stdout and b"0.75" in table.stdout
    assert b"no cost recorded" in table.stdout and b"my-finetune  model has no price" in table.stdout
    bad = subprocess.run([exe, "spend", "--config", str(config), "--since", "soon"], capture_output=True, timeout=30)
    assert bad.returncode == 2 and b"since" in bad.stderr
