"""A cost nobody knows is recorded as NULL with a reason, never as 0.0, and reported apart."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import openai
import pytest
from cost_helpers import cost_config, spend, wait_for_spend

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import openai_chunks, openai_completion

MSG = [{"role": "user", "content": "hi"}]
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
PRICED = (1000 * 0.15 + 100 * 0.60) / 1e6  # gpt-4o-mini


def completion(model: str, usage: dict[str, Any] | None) -> Reply:
    body = openai_completion(model, "ok")
    body.pop("usage", None)
    if usage is not None:
        body["usage"] = usage
    return Reply.json(body)


def rows(sqlite_url: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(sqlite_url[len("sqlite:///") :]) as db:
        return db.execute(
            "SELECT model, status, input_tokens, cost_usd, unpriced_reason, usage_source FROM spend ORDER BY id"
        ).fetchall()


@pytest.fixture
def gw(gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, sqlite_url: str) -> Any:
    cfg = cost_config(fake_openai.url, sqlite_url)
    cfg["providers"]["openai-main"]["models"]["my-finetune"] = {}  # in no price table
    return gateway_factory(cfg)


def test_unpriced_model_and_unknown_usage_are_null_not_zero(
    openai_for: Any, gw: Any, fake_openai: FakeUpstream, sqlite_url: str
) -> None:
    fake_openai.queue(
        completion("gpt-4o-mini", USAGE),
        completion("my-finetune", USAGE),  # usage known, price not
        completion("gpt-4o-mini", None),  # price known, usage not
        Reply.sse(openai_chunks("gpt-4o-mini", "streamed")),  # a stream that never reports usage
    )
    client = openai_for(gw.url)
    priced = client.chat.completions.with_raw_response.create(model="openai-main/gpt-4o-mini", messages=MSG)
    unpriced = client.chat.completions.with_raw_response.create(model="openai-main/my-finetune", messages=MSG)
    no_usage = client.chat.completions.with_raw_response.create(model="openai-main/gpt-4o-mini", messages=MSG)
    streamed = client.chat.completions.create(model="openai-main/gpt-4o-mini", messages=MSG, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "streamed"
    assert [r.json()["model"] for r in fake_openai.requests] == ["gpt-4o-mini", "my-finetune"] + ["gpt-4o-mini"] * 2

    assert float(priced.headers["x-proxy-core-cost-usd"]) == pytest.approx(PRICED, abs=1e-12)
    assert unpriced.parse().usage.prompt_tokens == 1000
    # no header rather than a cost of "" or "0" for an answer nobody can price
    assert "x-proxy-core-cost-usd" not in unpriced.headers
    assert "x-proxy-core-cost-usd" not in no_usage.headers

    report = wait_for_spend(gw.url, 4, group_by="model")
    total = report["total"]
    assert total["requests"] == 4 and total["unpriced_requests"] == 3
    assert total["cost_usd"] == pytest.approx(PRICED, abs=1e-12)  # only the priced row
    by_model = {r["model"]: (r["requests"], r["unpriced_requests"], r["cost_usd"]) for r in report["rows"]}
    assert by_model == {"gpt-4o-mini": (3, 2, pytest.approx(PRICED)), "my-finetune": (1, 1, 0.0)}
    assert report["unpriced"] == {
        "requests": 3,
        "input_tokens": 1000,
        "output_tokens": 100,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "by_model": [
            {"account": "openai-main", "model": "gpt-4o-mini", "reason": "usage unknown", "requests": 2}
            | dict.fromkeys(("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"), 0)
            | {"reasoning_tokens": 0},
            {"account": "openai-main", "model": "my-finetune", "reason": "model has no price", "requests": 1}
            | {"input_tokens": 1000, "output_tokens": 100, "cache_read_tokens": 0, "cache_write_tokens": 0}
            | {"reasoning_tokens": 0},
        ],
    }
    assert rows(sqlite_url) == [
        ("gpt-4o-mini", 200, 1000, pytest.approx(PRICED), None, "upstream"),
        ("my-finetune", 200, 1000, None, "model has no price", "upstream"),
        ("gpt-4o-mini", 200, 0, None, "usage unknown", None),
        ("gpt-4o-mini", 200, 0, None, "usage unknown", None),
    ]


def test_requests_no_upstream_took_cost_zero(
    openai_for: Any, gw: Any, fake_openai: FakeUpstream, sqlite_url: str
) -> None:
    """A model that does not exist (never sent) and an upstream 503 (not billed) cost 0.0, priced."""
    fake_openai.queue(Reply.json({"error": {"message": "overloaded", "type": "server_error"}}, status=503))
    client = openai_for(gw.url)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="openai-main/nope", messages=MSG)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="openai-main/gpt-4o-mini", messages=MSG)
    assert len(fake_openai.requests) == 1
    report = wait_for_spend(gw.url, 2)
    assert report["total"]["unpriced_requests"] == 0 and report["unpriced"]["requests"] == 0
    assert [(r[1], r[3], r[4]) for r in rows(sqlite_url)] == [(404, 0.0, None), (503, 0.0, None)]


def test_spend_filters_apply_to_the_unpriced_summary(openai_for: Any, gw: Any, fake_openai: FakeUpstream) -> None:
    fake_openai.queue(completion("my-finetune", USAGE))
    openai_for(gw.url).chat.completions.create(model="openai-main/my-finetune", messages=MSG)
    assert wait_for_spend(gw.url, 1)["unpriced"]["requests"] == 1
    assert spend(gw.url, user="nobody").json()["unpriced"] == {
        "requests": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "by_model": [],
    }


def test_a_client_that_leaves_before_usage_is_billed_on_an_estimate(
    openai_for: Any, gateway_factory: Callable[..., Any], fake_openai: FakeUpstream, sqlite_url: str
) -> None:
    """The answer reached the client, the usage chunk never came: the row is priced from
    the core's estimate and says so (usage_source "estimated"), not $0."""
    cfg = cost_config(fake_openai.url, sqlite_url)
    cfg["server"] = {"usage_drain_s": 0.2}  # how long the core waits for usage after the client left
    gw = gateway_factory(cfg)
    chunks = openai_chunks("gpt-4o-mini", "the whole answer", include_usage=True)
    fake_openai.queue(Reply.sse(chunks, stall_after=len(chunks) - 2))  # up to finish_reason, then silence
    stream = openai_for(gw.url).chat.completions.create(model="openai-main/gpt-4o-mini", messages=MSG, stream=True)
    text = ""
    for chunk in stream:
        text += chunk.choices[0].delta.content or ""
        if chunk.choices[0].finish_reason:
            break
    stream.close()
    assert text == "the whole answer"
    assert fake_openai.wait_for_disconnect(5.0) is not None

    report = wait_for_spend(gw.url, 1)
    assert report["total"]["estimated_requests"] == 1 and report["total"]["unpriced_requests"] == 0
    ((model, status, input_tokens, cost_usd, reason, source),) = rows(sqlite_url)
    assert (model, status, reason, source) == ("gpt-4o-mini", 499, None, "estimated")
    assert input_tokens > 0 and cost_usd > 0
