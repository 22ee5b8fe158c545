"""conf/google.example.yaml starts without any Google variable set: its accounts answer
503 naming the variable to set."""

from __future__ import annotations

from pathlib import Path

from proxy_core import config
from proxy_core.gateway import Gateway

EXAMPLE = Path(__file__).parents[3] / "conf" / "google.example.yaml"


def test_the_example_config_is_valid_without_credentials() -> None:
    gateway = Gateway(config.load(EXAMPLE, env={}))
    vertex = gateway.providers["vertex-main"]
    assert vertex.base_url == "https://us-east5-aiplatform.googleapis.com"
    assert "VERTEX_ACCESS_TOKEN" in (vertex.unavailable_reason or "")
    assert "GEMINI_API_KEY" in (gateway.providers["gemini-main"].unavailable_reason or "")
    route = gateway.route_table["claude-default"]
    assert [t.provider.type_name for t in route.targets] == ["anthropic", "vertex"]
    assert route.targets[1].info.get("native_structured_output") is True  # found without "@date"
