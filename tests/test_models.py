"""The shipped model table and how it becomes ``Target.info``."""

from __future__ import annotations

import pytest

from proxy_core.gateway import Gateway
from proxy_core.models import canonical_id, model_info, model_table, shipped_info
from proxy_core.testing import default_config


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("claude-opus-4-1-20250805", "claude-opus-4-1"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("anthropic.claude-opus-4-6-v1", "claude-opus-4-6"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini", "gpt-4o-mini"),
    ],
)
def test_model_ids_match_their_table_entry(model: str, key: str) -> None:
    assert canonical_id(model) == key
    assert shipped_info(model) == model_table()[key]


def test_seed_004_minimum_cacheable_prefixes() -> None:
    expected = {
        4096: ["claude-mythos-preview", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5", "claude-haiku-4-5"],
        2048: ["claude-sonnet-4-6", "claude-3-5-haiku", "claude-3-haiku"],
        1024: ["claude-sonnet-4-5", "claude-opus-4-1", "claude-opus-4", "claude-sonnet-4", "claude-3-7-sonnet"],
    }
    for tokens, models in expected.items():
        for model in models:
            assert model_table()[model]["min_cache_tokens"] == tokens, model


def test_native_structured_output_is_the_claude_4_5_and_4_6_families() -> None:
    native = {m for m, e in model_table().items() if m.startswith("claude") and e.get("native_structured_output")}
    families = {"claude-sonnet-4-5", "claude-opus-4-5", "claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-6"}
    assert families <= native
    assert not native & {"claude-sonnet-4", "claude-opus-4", "claude-opus-4-1", "claude-3-7-sonnet"}


def test_budget_thinking_is_the_default_for_every_thinking_claude_model() -> None:
    for model in ("claude-3-7-sonnet", "claude-sonnet-4", "claude-opus-4-1", "claude-sonnet-4-5", "claude-opus-4-6"):
        assert model_table()[model]["thinking"] == "budget"


def test_unknown_models_have_no_entry() -> None:
    assert shipped_info("my-finetune") == {}
    assert model_info("my-finetune", {"max_tokens": 10}) == {"max_tokens": 10}


def test_config_entry_wins_key_by_key() -> None:
    info = model_info("claude-opus-4-6", {"thinking": "adaptive", "input_cost_per_mtok": 5.0})
    assert info["thinking"] == "adaptive"
    assert info["min_cache_tokens"] == 4096
    assert info["input_cost_per_mtok"] == 5.0


def test_target_info_merges_table_and_config() -> None:
    config = default_config(anthropic_url="http://127.0.0.1:9", openai_url="http://127.0.0.1:9")
    config["providers"]["anthropic-main"]["models"]["claude-sonnet-4-20250514"] = {"min_cache_tokens": 512}
    gateway = Gateway(config)
    info = gateway.route_table["anthropic-main/claude-sonnet-4-20250514"].targets[0].info
    assert info == {"thinking": "budget", "min_cache_tokens": 512}
    assert gateway.route_table["openai-main/gpt-4o"].targets[0].info == {"native_structured_output": True}
