"""Helpers shared by the cost plugin's tests."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
from proxy_core_cost.record import SpendRecord

from proxy_core.testing import default_config

ADMIN_KEY = "sk-proxy-core-admin-key"
POSTGRES_URL = os.environ.get("PROXY_CORE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


def cost_config(openai_url: str, store: str, **cost: Any) -> dict[str, Any]:
    cfg = default_config(openai_url=openai_url)
    cfg["auth"]["keys"].append({"name": "ops", "key": ADMIN_KEY, "user": "root", "teams": ["ops", "qa"], "admin": True})
    cfg["auth"]["keys"].append({"name": "other", "key": "sk-other-key", "user": "bob", "teams": ["ml"]})
    # one try per target (the fallback plugin would retry a 503 on the same target first)
    cfg["plugins"] = {
        "cost": {"store": store, "flush_interval_s": 0.05, **cost},
        "fallback": {"retry": {"attempts": 1}},
    }
    return cfg


def spend(url: str, api_key: str = ADMIN_KEY, **params: str) -> httpx.Response:
    return httpx.get(url + "/admin/spend", params=params, headers={"authorization": f"Bearer {api_key}"}, timeout=10)


def wait_for_spend(url: str, requests: int, **params: str) -> dict[str, Any]:
    """The spend report once it counts ``requests`` (records are written just after the response)."""
    deadline = time.monotonic() + 5
    while True:
        report: dict[str, Any] = spend(url, **params).json()
        if report["total"]["requests"] >= requests or time.monotonic() > deadline:
            return report
        time.sleep(0.02)


def rec(i: int, **kw: Any) -> SpendRecord:
    fields: dict[str, Any] = {
        "request_id": f"req_{i:06d}",
        "ts": time.time(),
        "day": time.strftime("%Y-%m-%d", time.gmtime()),
        "key_name": "test",
        "user_name": "tester",
        "teams": "qa",
        "account": "openai-main",
        "model": "gpt-4o-mini",
        "route": "openai-main/gpt-4o-mini",
        "requested_model": "openai-main/gpt-4o-mini",
        "operation": "chat",
        "stream": False,
        "status": 200,
        "outcome": "completed",
        "input_tokens": 10,
        "output_tokens": 5,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "cost_usd": 0.001,
        "latency_ms": 12.5,
        "ttft_ms": None,
        "attempts": 1,
        **kw,
    }
    return SpendRecord(**fields)
