"""Config: interpolation, validation errors that name the path and never print a secret."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from proxy_core import ConfigError, Gateway
from proxy_core.config import interpolate, load, parse

SECRET = "sk-canary-7f3a9c"


def test_interpolation() -> None:
    missing: dict[str, str] = {}
    env = {"A": "1", "EMPTY": ""}
    tree = {"x": "${A}", "y": ["${B:-two}", "$${A}"], "z": "pre-${A}-${EMPTY:-d}", "m": "${NOPE}"}
    assert interpolate(tree, env, (), missing) == {"x": "1", "y": ["two", "${A}"], "z": "pre-1-d", "m": ""}
    assert missing == {"m": "NOPE"}


def test_the_shipped_config_is_valid() -> None:
    cfg = load(Path(__file__).parent.parent / "conf" / "gateway.yaml", env={})
    assert cfg.server.port == 8080
    assert "openai-main" in cfg.providers and cfg.providers["anthropic-main"]["type"] == "anthropic"
    assert cfg.missing_env == {
        "providers.openai-main.api_key": "OPENAI_API_KEY",
        "providers.anthropic-main.api_key": "ANTHROPIC_API_KEY",
    }


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ({"server": {"port": "eighty"}}, "server.port"),
        ({"server": {"max_body_bytes": -1}}, "server.max_body_bytes"),
        ({"serverr": {}}, "serverr"),
        ({"auth": {"keys": [{"name": "a", "key": SECRET, "teams": "ml"}]}}, "auth.keys.0.teams"),
        ({"auth": {"keys": [{"name": "a", "key_sha256": SECRET}]}}, "auth.keys.0.key_sha256"),
        ({"auth": {"keys": [{"name": "a"}]}}, "auth.keys.0"),
        ({"providers": {"p": {"api_key": SECRET}}}, "providers.p.type"),
        ({"routes": {"r": {"targets": ["nope/model"]}}}, "routes.r.targets.0"),
        ({"routes": {"r": {"targets": []}}}, "routes.r.targets"),
        ({"server": {"host": "${PROXY_CORE_UNSET_HOST}"}}, "server.host"),
    ],
)
def test_errors_name_the_path_never_the_value(raw: dict[str, object], path: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(raw, env={})
    text = str(info.value)
    assert any(p.startswith(path) for p in info.value.problems), text
    assert SECRET not in text


def test_provider_field_errors_are_prefixed_and_secret_free() -> None:
    raw = {"providers": {"oa": {"type": "openai", "api_key": SECRET, "models": {"m": {}}, "bogus": SECRET}}}
    with pytest.raises(ConfigError) as info:
        Gateway(raw)
    assert "providers.oa.bogus" in str(info.value)
    assert SECRET not in str(info.value)


def test_unknown_provider_type_names_installed_types() -> None:
    with pytest.raises(ConfigError) as info:
        Gateway({"providers": {"x": {"type": "openia", "models": {"m": {}}}}})
    assert "providers.x.type" in str(info.value)
    assert "openai" in str(info.value)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "proxy_core", *args], capture_output=True, text=True, timeout=60)


def test_check_config_cli(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("providers:\n  oa: {type: openai, api_key: x, models: {gpt-4o-mini: {}}}\n")
    result = run_cli("check-config", str(good))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"auth:\n  keys:\n    - {{name: a, key: {SECRET}, admin: maybe}}\n"
        "providers:\n  oa: {type: openai, models: {gpt-4o-mini: {}}, timeout: {connect: -1}}\n"
    )
    result = run_cli("check-config", str(bad))
    assert result.returncode == 2
    assert "auth.keys.0.admin" in result.stderr
    assert SECRET not in result.stderr + result.stdout

    bad.write_text("providers:\n  oa: {type: openai, models: {gpt-4o-mini: {}}, timeout: {connect: -1}}\n")
    result = run_cli("check-config", str(bad))
    assert result.returncode == 2
    assert "providers.oa.timeout.connect" in result.stderr

    broken = tmp_path / "broken.yaml"
    broken.write_text("providers: [\n")
    result = run_cli("check-config", str(broken))
    assert result.returncode == 2 and "YAML syntax error at line" in result.stderr


def test_plugins_cli() -> None:
    result = run_cli("plugins")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert "register_providers" in lines["openai"]
    assert "authenticate" in lines["auth"]


def test_collaborators_are_validated_and_models_can_change_at_run_time() -> None:
    config: dict[str, Any] = {
        "providers": {
            "acct": {
                "type": "openai",
                "api_key": "sk-x",
                "models": {"m1": {}, "m2": {}},
                "collaborators": [{"subject": "team:ml", "role": "manager"}, {"subject": "user:bob"}],
            }
        },
        "routes": {"r": {"targets": ["acct/m1", "acct/m2"]}, "only1": {"targets": ["acct/m1"]}},
    }
    gw = Gateway(config)
    assert [c.role for c in gw.providers["acct"].settings.collaborators or []] == ["manager", "user"]
    gw.set_models("acct", {"m2": {}, "m3": {"input_cost_per_mtok": 1.0}})
    assert "acct/m3" in gw.route_table and "acct/m1" not in gw.route_table
    assert [t.name for t in gw.route_table["r"].targets] == ["acct/m2"]
    assert "only1" not in gw.route_table
    assert ("only1", "proxy-core") not in gw.model_names()
    bad = {**config, "providers": {"acct": {**config["providers"]["acct"], "collaborators": [{"subject": "bob"}]}}}
    with pytest.raises(ConfigError) as info:
        Gateway(bad)
    assert "providers.acct.collaborators.0.subject" in str(info.value)
