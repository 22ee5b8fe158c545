"""Cost and spend records through the official openai SDK, over real HTTP, on SQLite."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest
from cost_helpers import ADMIN_KEY, cost_config, spend, wait_for_spend

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, Reply
from proxy_core.testing.fake_answers import openai_chunks, openai_completion

MODEL = "openai-main/gpt-4o-mini"
# gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per million tokens.
CACHED_USAGE = {
    "prompt_tokens": 2000,
    "completion_tokens": 300,
    "total_tokens": 2300,
    "prompt_tokens_details": {"cached_tokens": 1500},
    "completion_tokens_details": {"reasoning_tokens": 120},
}
CACHED_COST = (500 * 0.15 + 1500 * 0.075 + 300 * 0.60) / 1e6


def completion(usage: dict[str, Any], model: str = "gpt-4o-mini") -> Reply:
    body = openai_completion(model, "ok")
    body["usage"] = usage
    return Reply.json(body)


def stream_reply(usage: dict[str, Any], **kw: Any) -> Reply:
    chunks = openai_chunks("gpt-4o-mini", "streamed answer", include_usage=True)
    chunks[-2]["usage"] = usage
    return Reply.sse(chunks, **kw)


def test_non_stream_cost_header_and_spend_row(openai_for: Any, cost_gateway: Any, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(completion(CACHED_USAGE))
    raw = openai_for(cost_gateway.url).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-proxy-core-target"] == MODEL
    assert float(raw.headers["x-proxy-core-cost-usd"]) == pytest.approx(CACHED_COST, abs=1e-12)
    assert raw.parse().usage.prompt_tokens_details.cached_tokens == 1500

    report = wait_for_spend(cost_gateway.url, 1, group_by="model")
    assert report["total"]["requests"] == 1
    assert report["total"]["cost_usd"] == pytest.approx(CACHED_COST, abs=1e-12)
    assert report["total"]["input_tokens"] == 2000
    assert report["total"]["cache_read_tokens"] == 1500
    assert report["total"]["output_tokens"] == 300
    assert report["total"]["reasoning_tokens"] == 120
    assert report["rows"] == [{**report["total"], "model": "gpt-4o-mini"}]


def test_stream_is_billed_from_final_usage(openai_for: Any, cost_gateway: Any, fake_openai: FakeUpstream) -> None:
    usage = {"prompt_tokens": 1000, "completion_tokens": 2000, "total_tokens": 3000}
    fake_openai.queue(stream_reply(usage))
    raw = openai_for(cost_gateway.url).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "x-proxy-core-cost-usd" not in raw.headers  # usage is not known yet
    text = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    assert text == "streamed answer"
    total = wait_for_spend(cost_gateway.url, 1)["total"]
    assert total["cost_usd"] == pytest.approx((1000 * 0.15 + 2000 * 0.60) / 1e6, abs=1e-12)
    assert (total["input_tokens"], total["output_tokens"]) == (1000, 2000)


def test_fallback_bills_the_serving_target_only(
    openai_for: Any, gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, sqlite_url: str
) -> None:
    cfg = cost_config(fake_openai.url, sqlite_url)
    cfg["routes"] = {"smart": {"targets": ["openai-main/gpt-4o", "openai-main/gpt-4o-mini"]}}
    gw = gateway_factory(cfg)
    fake_openai.queue(
        Reply.json({"error": {"message": "overloaded", "type": "server_error"}}, status=503),
        completion({"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}),
    )
    raw = openai_for(gw.url).chat.completions.with_raw_response.create(
        model="smart", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-proxy-core-target"] == "openai-main/gpt-4o-mini"
    assert [r.json()["model"] for r in fake_openai.requests] == ["gpt-4o", "gpt-4o-mini"]
    expected = (100 * 0.15 + 10 * 0.60) / 1e6  # gpt-4o-mini's prices, not gpt-4o's
    assert float(raw.headers["x-proxy-core-cost-usd"]) == pytest.approx(expected, abs=1e-12)
    rows = wait_for_spend(gw.url, 1, group_by="route")["rows"]
    assert rows == [pytest.approx({**rows[0], "route": "smart", "cost_usd": expected, "requests": 1})]


def test_config_price_override_wins(
    openai_for: Any, gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, sqlite_url: str
) -> None:
    cfg = cost_config(fake_openai.url, sqlite_url)
    cfg["providers"]["openai-main"]["models"]["gpt-4o-mini"] = {"input_cost_per_mtok": 1.0, "output_cost_per_mtok": 2.0}
    gw = gateway_factory(cfg)
    fake_openai.queue(completion({"prompt_tokens": 1_000_000, "completion_tokens": 500_000, "total_tokens": 1_500_000}))
    raw = openai_for(gw.url).chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-proxy-core-cost-usd"] == "2"


def test_client_disconnect_records_a_499(cost_gateway: Any, fake_openai: FakeUpstream, sqlite_url: str) -> None:
    fake_openai.queue(
        stream_reply({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}, delay_between=0.3)
    )
    with httpx.stream(
        "POST",
        cost_gateway.url + "/v1/chat/completions",
        json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers={"authorization": f"Bearer {GATEWAY_KEY}"},
        timeout=10,
    ) as response:
        for _ in response.iter_bytes():
            break  # first bytes arrived: go away
    assert fake_openai.wait_for_disconnect(3.0) is not None
    total = wait_for_spend(cost_gateway.url, 1)["total"]
    assert total["requests"] == 1
    with sqlite3.connect(sqlite_url[len("sqlite:///") :]) as db:
        row = db.execute("SELECT status, outcome, stream, key_name, account, model FROM spend").fetchone()
    assert row == (499, "failed", 1, "test", "openai-main", "gpt-4o-mini")


def test_spend_groups_and_admin_only(openai_for: Any, cost_gateway: Any, fake_openai: FakeUpstream) -> None:
    usage = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
    one = (1000 * 0.15 + 100 * 0.60) / 1e6
    fake_openai.queue(completion(usage), completion(usage), completion(usage, "gpt-4o"))
    openai_for(cost_gateway.url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "a"}])
    openai_for(cost_gateway.url, "sk-other-key").chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "b"}]
    )
    openai_for(cost_gateway.url, ADMIN_KEY).chat.completions.create(
        model="openai-main/gpt-4o", messages=[{"role": "user", "content": "c"}]
    )
    four_o = (1000 * 2.5 + 100 * 10.0) / 1e6

    wait_for_spend(cost_gateway.url, 3)
    by_user = {r["user"]: r["cost_usd"] for r in spend(cost_gateway.url, group_by="user").json()["rows"]}
    assert by_user == pytest.approx({"tester": one, "bob": one, "root": four_o})
    by_team = {r["team"]: r["requests"] for r in spend(cost_gateway.url, group_by="team").json()["rows"]}
    assert by_team == {"qa": 2, "ml": 1, "ops": 1}
    report = spend(cost_gateway.url, group_by="day").json()
    assert [r["day"] for r in report["rows"]] == [time.strftime("%Y-%m-%d", time.gmtime())]
    assert report["total"]["cost_usd"] == pytest.approx(2 * one + four_o)
    assert spend(cost_gateway.url, user="bob").json()["total"]["requests"] == 1
    assert spend(cost_gateway.url, since="2999-01-01").json()["total"]["requests"] == 0

    assert spend(cost_gateway.url, api_key=GATEWAY_KEY).status_code == 403
    denied = spend(cost_gateway.url, api_key="sk-wrong")
    assert denied.status_code == 401 and "sk-wrong" not in denied.text
    assert spend(cost_gateway.url, group_by="planet").status_code == 400
    assert httpx.get(cost_gateway.url + "/v1/admin/spend", headers={"x-api-key": ADMIN_KEY}).status_code == 200


def test_unauthenticated_requests_write_no_row(openai_for: Any, cost_gateway: Any) -> None:
    with pytest.raises(openai.AuthenticationError):
        openai_for(cost_gateway.url, "sk-nope").chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}]
        )
    openai_for(cost_gateway.url).chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert wait_for_spend(cost_gateway.url, 1)["total"]["requests"] == 1
    assert wait_for_spend(cost_gateway.url, 1, group_by="key")["rows"][0]["key"] == "test"
