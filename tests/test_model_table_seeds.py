"""Every model the product documents name (../shared/seeds) is in the shipped model table,
and seed 002's newest models get native structured output beside reasoning."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest

from proxy_core.models import shipped_info
from proxy_core.testing import GATEWAY_KEY, FakeUpstream, default_config

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
# A model id of the families the seeds use, standing alone or after "account/".
MODEL_ID = re.compile(
    r"(?<![\w.-])((?:claude|gpt|grok|gemini)-[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|o[134](?:-mini)?)(?![\w-])"
)
# Names that are families, not models: seed 004's "(e.g. gpt-4o, gpt-5, gpt-4.1, o3, o4)".
NOT_MODELS = {"o4"}


def seed_texts() -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    assert texts, f"the product documents were not found in {SEEDS}"
    return texts


def model_id_tables(text: str) -> set[str]:
    """The ``Model ID`` column of the seeds' markdown tables (seed 002's model list).
    Columns count from the right: a table may start on a line of prose."""
    ids: set[str] = set()
    column: int | None = None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "|" not in line:
            column = None
        elif "Model ID" in cells:
            column = cells.index("Model ID") - len(cells)
        elif column is not None and len(cells) >= -column and not set(cells[column]) <= {"-", ":"}:
            ids.add(cells[column].strip("`"))
    return ids


def test_the_seeds_model_tables_are_read() -> None:
    tables = set().union(*(model_id_tables(t) for t in seed_texts()))
    assert {"claude-opus-4-8", "claude-fable-5", "claude-sonnet-4-5"} <= tables


def test_every_model_the_seeds_name_is_in_the_table() -> None:
    texts = seed_texts()
    named = set().union(*(model_id_tables(t) for t in texts))
    for text in texts:
        named |= set(MODEL_ID.findall(text))
    named -= NOT_MODELS
    missing = sorted(m for m in named if not shipped_info(m))
    assert missing == [], f"add these to proxy_core/data/models.yaml: {missing}"


@pytest.mark.parametrize("model", ["claude-opus-4-8", "claude-fable-5"])
def test_seed_002_models_take_reasoning_effort_with_response_format(
    model: str, gateway_factory: Callable[..., Any], fake_anthropic: FakeUpstream
) -> None:
    config = default_config(anthropic_url=fake_anthropic.url)
    config["providers"]["anthropic-main"]["models"] = {model: {}}
    gw = gateway_factory(config)
    schema = {
        "type": "object",
        "properties": {"x": {"type": "integer"}},
        "required": ["x"],
        "additionalProperties": False,
    }
    with openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_KEY, max_retries=0, timeout=10) as client:
        client.chat.completions.create(
            model=f"anthropic-main/{model}",
            messages=[{"role": "user", "content": "x?"}],
            reasoning_effort="low",
            response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
        )
    sent = fake_anthropic.last.json()
    assert sent["output_config"]["format"]["type"] == "json_schema"  # native, not a forced tool
    assert "tools" not in sent and "tool_choice" not in sent
    assert sent["thinking"]["type"] == "enabled"
