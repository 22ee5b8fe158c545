"""Each limit kind exact under concurrent load fanned out over three replicas on one Redis."""

from __future__ import annotations

from typing import Any

from limits_helpers import PRICED_MODEL, chat, fan_out, held_streams, wait_until

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import openai_chunks


def _stalled(fake: FakeUpstream, n: int) -> None:
    """The next ``n`` chat streams send their first chunks, then stall until the client leaves."""
    fake.queue(*[Reply.sse(openai_chunks("m", "Hello there, friend.", include_usage=True), stall_after=2)] * n)


def _assert_refused(outcome: Any, *, code: str, kind: str, rule: str) -> None:
    assert outcome.status == 429
    error = outcome.body if "message" in outcome.body else outcome.body["error"]
    assert error["code"] == code
    assert rule in error["message"] and kind in error["message"]
    assert int(outcome.headers["retry-after"]) >= 1


def test_rpm_exact_over_three_replicas(clients_for: Any, fake_openai: FakeUpstream, redis_db: Any) -> None:
    clients = clients_for("k-rpm")
    outcomes = fan_out(60, lambda i: chat(clients[i % 3]))
    ok = [o for o in outcomes if o.ok]
    refused = [o for o in outcomes if not o.ok]
    assert len(ok) == 20 and len(refused) == 40
    assert len(fake_openai.requests) == 20  # refusals never reach the upstream
    for o in refused:
        _assert_refused(o, code="rate_limit_exceeded", kind="rpm", rule="plugins.limits.rules[0] (key=k-rpm)")
        assert o.headers["x-ratelimit-limit-requests"] == "20"
        assert o.headers["x-ratelimit-remaining-requests"] == "0"
        assert o.headers["x-ratelimit-reset-requests"]
    for o in ok:
        assert o.headers["x-ratelimit-limit-requests"] == "20"
        assert 0 <= int(o.headers["x-ratelimit-remaining-requests"]) < 20
    assert sorted(int(o.headers["x-ratelimit-remaining-requests"]) for o in ok) == list(range(20))


def test_tpm_exact_over_three_replicas(clients_for: Any, fake_openai: FakeUpstream, redis_db: Any) -> None:
    # Each stream reserves max_tokens 1000 + ~30 input tokens: 20 fit in 21500, 21 do not.
    _stalled(fake_openai, 60)
    with held_streams(clients_for("k-tpm"), 60, model="openai-main/gpt-4o-mini", max_tokens=1000) as outcomes:
        ok = [o for o in outcomes if o.ok]
        refused = [o for o in outcomes if not o.ok]
        assert len(ok) == 20 and len(refused) == 40
        for o in refused:
            _assert_refused(o, code="rate_limit_exceeded", kind="tpm", rule="plugins.limits.rules[1]")
            assert o.headers["x-ratelimit-limit-tokens"] == "21500"
            assert o.headers["x-ratelimit-remaining-tokens"] == "0"
        assert all(o.headers["x-ratelimit-limit-tokens"] == "21500" for o in ok)


def test_concurrency_exact_over_three_replicas(clients_for: Any, fake_openai: FakeUpstream, redis_db: Any) -> None:
    _stalled(fake_openai, 60)
    clients = clients_for("k-conc")
    with held_streams(clients, 60, model="openai-main/gpt-4o-mini") as outcomes:
        assert sum(o.ok for o in outcomes) == 20
        for o in outcomes:
            if not o.ok:
                _assert_refused(o, code="rate_limit_exceeded", kind="concurrency", rule="plugins.limits.rules[2]")
                assert o.headers["x-ratelimit-limit-requests"] == "20"
                assert o.headers["x-ratelimit-remaining-requests"] == "0"
    fake_openai.reset()  # drop the stalled answers nobody was admitted for
    # The streams ended: every slot is back.
    held = lambda: sum(redis_db.zcard(k) for k in redis_db.keys("proxy-core:limits:rule:2:*"))  # noqa: E731
    wait_until(lambda: held() == 0, what="slots released")
    assert chat(clients[0]).ok


def test_budget_serves_exactly_three(clients_for: Any, fake_openai: FakeUpstream, redis_db: Any) -> None:
    clients = clients_for("k-budget")
    # max_tokens 8 at $31250 per million output tokens: $0.25 reserved, $0.25 spent.
    outcomes = fan_out(60, lambda i: chat(clients[i % 3], model=PRICED_MODEL, max_tokens=8))
    assert sum(o.ok for o in outcomes) == 3
    refused = [o for o in outcomes if not o.ok]
    for o in refused:
        _assert_refused(o, code="budget_exceeded", kind="budget", rule="plugins.limits.rules[3]")
    assert "$0.9 per UTC day" in refused[0].body["message"]
    # Settled on the real cost ($0.75 spent): a fourth is still refused, on any replica.
    wait_until(lambda: _budget_nano(redis_db, 3) == 750_000_000, what="settlement")
    assert not chat(clients[1], model=PRICED_MODEL, max_tokens=8).ok
    # Other models (no rule for them) are not charged to this budget.
    assert chat(clients[2]).ok


def _budget_nano(redis_db: Any, rule: int) -> int:
    found = redis_db.keys(f"proxy-core:limits:rule:{rule}:*:usd:*")
    return sum(int(redis_db.get(k)) for k in found)


def _tpm_total(redis_db: Any, rule: int) -> int:
    found = redis_db.keys(f"proxy-core:limits:rule:{rule}:*:tpm:t")
    return sum(int(redis_db.get(k)) for k in found)


def test_own_reservation_over_tpm_is_refused_at_once(
    clients_for: Any, fake_openai: FakeUpstream, redis_db: Any
) -> None:
    out = chat(clients_for("k-settle")[0], max_tokens=2000)
    _assert_refused(out, code="rate_limit_exceeded", kind="tpm", rule="plugins.limits.rules[4] (key=k-settle)")
    assert "this request alone reserves" in out.body["message"]
    assert fake_openai.requests == []


def test_settlement_on_real_usage_frees_tokens(clients_for: Any, fake_openai: FakeUpstream, redis_db: Any) -> None:
    clients = clients_for("k-settle")
    first = chat(clients[0], max_tokens=900)  # reserves ~910 of 1000; really uses 20
    assert first.ok
    assert 60 <= int(first.headers["x-ratelimit-remaining-tokens"]) <= 100
    wait_until(lambda: _tpm_total(redis_db, 4) == 20, what="settlement to the real usage")
    second = chat(clients[1], max_tokens=900)  # would not fit beside the first's reservation
    assert second.ok
    wait_until(lambda: _tpm_total(redis_db, 4) == 40, what="second settlement")


def test_client_leaving_mid_stream_is_refunded(clients_for: Any, fake_openai: FakeUpstream, redis_db: Any) -> None:
    _stalled(fake_openai, 1)
    with held_streams(clients_for("k-refund"), 1, model=PRICED_MODEL, max_tokens=2000) as outcomes:
        assert outcomes[0].ok
        assert _tpm_total(redis_db, 6) > 2000  # reserved while it runs
        assert _budget_nano(redis_db, 6) == 2000 * 31250 * 1000  # $62.50 reserved
    wait_until(lambda: _tpm_total(redis_db, 6) < 100, what="refund after the client left")
    # What was relayed before the client left is charged (the core's estimate), no more.
    assert 0 < _budget_nano(redis_db, 6) < 10 * 31250 * 1000
    assert fake_openai.wait_for_disconnect() is not None
