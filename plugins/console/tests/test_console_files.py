"""The console's HTTP side, without a browser: its files (types, CSP, caching, nothing
outside the package), the mount prefix, and the read-only accounts view."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from console_helpers import ADMIN_KEY, CLAUDE_MODEL, MANAGER_KEY, USER_KEY, console_config
from proxy_core_console.static import CSP, load_assets

from proxy_core import Gateway
from proxy_core.config import ConfigError
from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.server import RunningGateway

TYPES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css", "icon.svg": "image/svg+xml"}


@pytest.fixture
def console(
    gateway_factory: Callable[..., RunningGateway],
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    tmp_path: Path,
) -> RunningGateway:
    return gateway_factory(console_config(fake_openai.url, fake_anthropic.url, tmp_path))


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_files_have_their_types_a_strict_csp_and_revalidate(console: RunningGateway) -> None:
    with httpx.Client(base_url=console.url) as http:
        redirect = http.get("/ui")
        assert redirect.status_code == 308 and redirect.headers["location"] == "ui/"  # relative: any prefix
        for name, kind in TYPES.items():
            r = http.get("/ui/" + ("" if name == "index.html" else name))
            assert r.status_code == 200 and r.headers["content-type"].startswith(kind), name
            assert r.headers["content-security-policy"] == CSP
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["cache-control"] == "no-cache"
            again = http.get(r.url, headers={"if-none-match": r.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
        assert http.get("/ui/app.js", headers={"if-none-match": '"stale"'}).status_code == 200
    # only the gateway's own origin: no host, scheme or inline allowance anywhere
    assert "http" not in CSP and "unsafe" not in CSP and "*" not in CSP
    assert "default-src 'self'" in CSP and "frame-ancestors 'none'" in CSP


@pytest.mark.parametrize("path", ["/ui/plugin.py", "/ui/nope.js", "/ui/..%2Fplugin.py", "/ui/%2e%2e/static.py"])
def test_nothing_outside_the_shipped_files_is_served(console: RunningGateway, path: str) -> None:
    r = httpx.get(console.url + path)
    assert r.status_code == 404
    assert b"import" not in r.content


def test_pages_use_only_their_own_relative_files_and_no_inline_code() -> None:
    assets = load_assets()
    html = assets["index.html"].body.decode()
    refs = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert refs and all(ref in assets for ref in refs), refs  # relative names of shipped files
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script (the CSP forbids it)
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)  # no inline style or handlers
    for name, asset in assets.items():
        if name.endswith(".js"):
            text = asset.body.decode().replace('"http://www.w3.org/2000/svg"', "")  # a namespace, not a fetch
            for imported in re.findall(r'from "([^"]+)"', text):
                assert imported.startswith("./") and imported[2:] in assets, (name, imported)
            assert "localStorage" not in text and "eval(" not in text and "http://" not in text


def test_served_under_a_mount_prefix(mounted: str) -> None:
    with httpx.Client(base_url=mounted) as http:
        r = http.get("/llm/ui", follow_redirects=True)
        assert str(r.url) == mounted + "/llm/ui/" and r.headers["content-type"].startswith("text/html")
        assert http.get("/llm/ui/app.js").status_code == 200
        me = http.get("/llm/admin/console/accounts", headers=auth(USER_KEY)).json()
        assert me["principal"]["name"] == "dev"


def test_accounts_view_by_role_without_secrets(console: RunningGateway) -> None:
    with httpx.Client(base_url=console.url) as http:
        assert http.get("/admin/console/accounts").status_code == 401
        assert http.get("/admin/console/accounts", headers=auth("sk-wrong")).status_code == 401
        admin = http.get("/admin/console/accounts", headers=auth(ADMIN_KEY))
        manager = http.get("/admin/console/accounts", headers=auth(MANAGER_KEY)).json()
        user = http.get("/v1/admin/console/accounts", headers=auth(USER_KEY)).json()
    assert admin.headers["cache-control"] == "no-store"
    report = admin.json()
    assert report["principal"] == {"name": "ops", "user": "ops", "teams": [], "admin": True}
    assert [a["account"] for a in report["accounts"]] == ["anthropic-main", "openai-main"]
    openai_main = report["accounts"][1]
    assert [m["name"] for m in openai_main["models"]] == ["gpt-4o-mini", "gpt-limited", "mystery-model"]
    assert openai_main["configured"] is True and openai_main["collaborators"] is None
    assert [a["account"] for a in manager["accounts"]] == ["anthropic-main"]  # bob manages it
    assert user["accounts"] == [] and user["principal"]["admin"] is False
    assert "secret" not in admin.text and "upstream" not in admin.text


def test_accounts_view_shows_a_cooling_target(console: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    failure = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake_anthropic.queue(Reply.json(failure, status=529))
    client = openai.OpenAI(base_url=console.url + "/v1", api_key=ADMIN_KEY, max_retries=0)
    with client, pytest.raises(openai.APIStatusError):
        client.chat.completions.create(model=CLAUDE_MODEL, messages=[{"role": "user", "content": "hi"}])
    assert len(fake_anthropic.requests) == 1
    report = httpx.get(console.url + "/admin/console/accounts", headers=auth(ADMIN_KEY)).json()
    model: dict[str, Any] = report["accounts"][0]["models"][0]
    assert model["target"] == CLAUDE_MODEL and model["cooling_down"] is True
    assert 0 < model["cooling_for_s"] <= 300


def test_unknown_console_settings_name_their_path(fake_openai: FakeUpstream, tmp_path: Path) -> None:
    config = console_config(fake_openai.url, fake_openai.url, tmp_path)
    config["plugins"]["console"] = {"theme": "dark"}
    with pytest.raises(ConfigError) as e:
        Gateway(config)
    assert "plugins.console.theme: unknown setting" in str(e.value)
