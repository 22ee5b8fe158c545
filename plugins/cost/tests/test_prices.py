"""The price table and the usage -> cost arithmetic."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from proxy_core_cost.prices import Price, PriceTable, Tokens, cost_usd, split_usage

from proxy_core.testing import FakeUpstream, default_config

TABLE = PriceTable.shipped()
SEEDS = Path(__file__).resolve().parents[4] / "shared" / "seeds"


def test_anthropic_usage_with_5m_and_1h_cache_writes() -> None:
    # OpenAI-named usage as the Anthropic providers report it: prompt_tokens counts everything.
    usage = {
        "prompt_tokens": 100 + 3000 + 2000 + 1000,
        "completion_tokens": 500,
        "cache_read_input_tokens": 3000,
        "cache_creation_input_tokens": 3000,
        "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 1000},
        "prompt_tokens_details": {"cached_tokens": 3000},
        "completion_tokens_details": {"reasoning_tokens": 200},
    }
    tokens = split_usage(usage)
    assert tokens == Tokens(
        input=100, output=500, cache_read=3000, cache_write_5m=2000, cache_write_1h=1000, reasoning=200
    )
    price = TABLE.price("claude-sonnet-4-5-20250929")
    assert price == Price(3.0, 15.0, 3.75, 6.0, 0.3)
    expected = (100 * 3.0 + 500 * 15.0 + 3000 * 0.3 + 2000 * 3.75 + 1000 * 6.0) / 1e6
    assert cost_usd(tokens, price) == pytest.approx(expected, abs=1e-12)


def test_prompt_tokens_counting_only_uncached_input_is_understood() -> None:
    tokens = split_usage({"prompt_tokens": 10, "completion_tokens": 1, "cache_read_input_tokens": 500})
    assert (tokens.input, tokens.cache_read, tokens.prompt_total) == (10, 500, 510)


def test_garbage_usage_counts_as_zero() -> None:
    assert split_usage({"prompt_tokens": "12", "completion_tokens": -4, "prompt_tokens_details": None}) == Tokens()
    assert split_usage(None) == Tokens()


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-3-7-sonnet-latest", "claude-3-7-sonnet"),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
        ("gpt-4o-mini", "gpt-4o-mini"),
    ],
)
def test_model_ids_are_normalized(model: str, expected: str) -> None:
    assert TABLE.base(model) == TABLE.models[expected]


def test_override_wins_field_by_field_and_cache_prices_never_default_to_zero() -> None:
    price = TABLE.price("claude-haiku-4-5", {"input_cost_per_mtok": 0.5, "cache_read_cost_per_mtok": 0.01})
    assert price == Price(0.5, 5.0, 1.25, 2.0, 0.01)
    private = TABLE.price("my-finetune", {"input_cost_per_mtok": 2, "output_cost_per_mtok": 4})
    assert private == Price(2.0, 4.0, 2.0, 2.0, 2.0)
    assert TABLE.price("unknown-model") is None


def test_table_covers_the_models_named_in_the_seeds() -> None:
    text = " ".join(p.read_text() for p in sorted(SEEDS.glob("*.txt")))
    names = set(re.findall(r"\bclaude-(?:opus|sonnet|haiku|fable)-[0-9][a-z0-9.-]*[0-9]\b", text))
    names |= {"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-5", "o3"}
    assert names, "the seeds were not found"
    missing = sorted(n for n in names if TABLE.base(n) is None)
    assert missing == []


def test_anthropic_native_usage_names() -> None:
    native = {
        "input_tokens": 100,
        "output_tokens": 50,
        "cache_creation_input_tokens": 2000,
        "cache_read_input_tokens": 3000,
        "cache_creation": {"ephemeral_5m_input_tokens": 500, "ephemeral_1h_input_tokens": 1500},
        "output_tokens_details": {"thinking_tokens": 20},
    }
    tokens = split_usage(native)
    assert tokens == Tokens(
        input=100, output=50, cache_read=3000, cache_write_5m=500, cache_write_1h=1500, reasoning=20
    )


def test_a_price_changed_at_run_time_is_never_served_stale() -> None:
    """Model settings are replaced as new dicts (managers change models at run time); a
    freed dict's id may be reused by the next, and must not hit the old cache entry."""
    table = PriceTable.shipped()
    for price in range(1, 200):
        info = {"input_cost_per_mtok": float(price), "output_cost_per_mtok": 1.0}
        found = table.price("my-model", info)
        assert found is not None and found.input == float(price)
        del info


def test_spend_report_is_a_503_while_the_store_is_unreachable(
    gateway_factory: Callable[..., Any], fake_openai: FakeUpstream
) -> None:
    config = default_config(openai_url=fake_openai.url)
    config["auth"]["keys"].append({"name": "ops", "key": "sk-ops-admin", "admin": True})
    config["plugins"] = {"cost": {"store": "postgresql://postgres@127.0.0.1:1/nowhere", "journal": False}}
    gw = gateway_factory(config)
    answer = httpx.get(gw.url + "/admin/spend", headers={"x-api-key": "sk-ops-admin"}, timeout=20)
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["type"] == "api_error" and "nowhere" not in answer.text
    assert httpx.get(gw.url + "/healthz").status_code == 200
