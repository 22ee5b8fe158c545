"""The ``x-proxy-core-first-token-timeout`` header: honoured only for the keys the config
allows, never looser than the operator's limit, and an attempt that hits the client's
own deadline ends that request (504) without touching passive health or the retry budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest

from proxy_core.testing import FakeUpstream, Reply, RunningGateway
from proxy_core.testing.fake_answers import OPENAI_TEXT, openai_chunks

MSG = [{"role": "user", "content": "hi"}]
HEADER = "x-proxy-core-first-token-timeout"
TIGHT_KEY = "sk-proxy-core-tight-key"
PRIMARY = "openai-main/gpt-4o-mini"  # route "main" of conftest: this, then openai-backup/gpt-4o


@pytest.fixture
def gw(gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]) -> RunningGateway:
    gateway_config["auth"]["keys"].append({"name": "tight", "key": TIGHT_KEY, "user": "bob"})
    gateway_config["plugins"]["fallback"].update(
        {
            # one failure cools a target down; one retry token, never refilled
            "health": {"failures": 1, "window_s": 60, "cooldown_s": 60},
            "retry_budget": {"ratio": 0, "min_per_s": 0},
            "client_first_token_timeout": {"allow": True, "keys": ["tight"], "min_s": 0.05},
        }
    )
    gateway_config["plugins"]["fallback"]["timeouts"]["first_token"] = 0.4
    return gateway_factory(gateway_config)


def slow(seconds: float) -> Reply:
    return Reply.sse(openai_chunks("gpt-4o-mini", OPENAI_TEXT), delay_before=seconds)


def stream_text(client: openai.OpenAI, model: str = "main", **headers: str) -> str:
    stream = client.chat.completions.create(model=model, messages=MSG, stream=True, extra_headers=headers)
    return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)


def models(fake: FakeUpstream) -> list[str]:
    return [r.json()["model"] for r in fake.requests]


def shared_state(gw: RunningGateway) -> tuple[float | None, float]:
    state = gw.gateway.state["fallback"]
    return state.health.cooling_until(PRIMARY), state.budget.tokens


def test_a_key_not_allowed_cannot_set_the_limit(
    gw: RunningGateway, openai_for: Callable[..., openai.OpenAI], fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(slow(0.2))
    assert stream_text(openai_for(gw), **{HEADER: "0.000001"}) == OPENAI_TEXT
    assert models(fake_openai) == ["gpt-4o-mini"], "served by the primary, no timeout, no retry"
    assert not fake_openai.disconnects
    assert shared_state(gw) == (None, 1.0)


def test_an_allowed_key_times_out_only_its_own_request(
    gw: RunningGateway, openai_for: Callable[..., openai.OpenAI], fake_openai: FakeUpstream
) -> None:
    tight = openai_for(gw, TIGHT_KEY)
    fake_openai.queue(slow(0.3))
    with pytest.raises(openai.APIStatusError) as info:
        stream_text(tight, **{HEADER: "0.000001"})  # raised to min_s, 0.05 s
    assert info.value.status_code == 504
    assert models(fake_openai) == ["gpt-4o-mini"], "no retry, no fallback for the client's own deadline"
    assert fake_openai.wait_for_disconnect() is not None, "the upstream request was cancelled"
    assert shared_state(gw) == (None, 1.0), "the target stays healthy and the retry budget is untouched"

    # The next request of another key: the primary is still tried, and its one 500 is
    # retried with the budget's only token.
    fake_openai.queue(Reply.json({"error": {"message": "boom", "type": "server_error"}}, status=500))
    assert stream_text(openai_for(gw)) == OPENAI_TEXT
    assert models(fake_openai)[1:] == ["gpt-4o-mini", "gpt-4o-mini"]


def test_the_header_never_loosens_the_operators_limit(
    gw: RunningGateway, openai_for: Callable[..., openai.OpenAI], fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(slow(0.8), slow(0.8))  # under the idle limit (1 s), over the operator's 0.4 s
    assert stream_text(openai_for(gw, TIGHT_KEY), **{HEADER: "30"}) == OPENAI_TEXT
    # The operator's 0.4 s held: the primary timed out (a retry, then the backup served),
    # counted as the operator's timeout (the primary cools down, a retry token spent).
    assert models(fake_openai) == ["gpt-4o-mini", "gpt-4o-mini", "gpt-4o"]
    cooling, tokens = shared_state(gw)
    assert cooling is not None and tokens == 0.0


def test_an_allowed_key_tightens_within_the_operators_limit(
    gw: RunningGateway, openai_for: Callable[..., openai.OpenAI], fake_openai: FakeUpstream
) -> None:
    fake_openai.queue(slow(0.1))
    assert stream_text(openai_for(gw, TIGHT_KEY), **{HEADER: "0.3"}) == OPENAI_TEXT
    assert models(fake_openai) == ["gpt-4o-mini"]


def test_an_allowed_key_with_a_malformed_header_gets_a_400(
    gw: RunningGateway, openai_for: Callable[..., openai.OpenAI], fake_openai: FakeUpstream
) -> None:
    for bad in ("soon", "0", "-1", "601", "nan"):
        with pytest.raises(openai.BadRequestError) as info:
            stream_text(openai_for(gw, TIGHT_KEY), **{HEADER: bad})
        assert HEADER in info.value.message
    assert fake_openai.requests == []
    assert stream_text(openai_for(gw), **{HEADER: "soon"}) == OPENAI_TEXT  # not this key's to set: ignored


def test_the_header_is_ignored_by_default(
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    openai_for: Callable[..., openai.OpenAI],
    fake_openai: FakeUpstream,
) -> None:
    gw = gateway_factory(gateway_config)  # no client_first_token_timeout section
    fake_openai.queue(slow(0.2))
    assert stream_text(openai_for(gw), **{HEADER: "0.01"}) == OPENAI_TEXT
    assert models(fake_openai) == ["gpt-4o-mini"]
