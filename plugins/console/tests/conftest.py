"""Console test fixtures: the console's gateway config on the test kit's fakes, a
gateway served by ``proxy-core serve`` in a subprocess, and Debian's chromium driven by
playwright (never a browser that playwright downloads)."""

from __future__ import annotations

import gc
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from console_helpers import console_config
from starlette.applications import Starlette
from starlette.routing import Mount

from proxy_core import Gateway
from proxy_core.testing import BackgroundLoop, FakeUpstream, ServedApp
from proxy_core.testing.subprocess_gateway import served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def served_console(
    tmp_path_factory: pytest.TempPathFactory, _fake_openai_server: FakeUpstream, _fake_anthropic_server: FakeUpstream
) -> Iterator[tuple[str, Path]]:
    """(base URL, state dir) of a gateway with the console, in its own process."""
    state = tmp_path_factory.mktemp("console")
    config = console_config(_fake_openai_server.url, _fake_anthropic_server.url, state)
    with served(state, config, grace_s=2) as (_, url):
        yield url, state


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()
    gc.collect()  # what the driver left behind is collected here, not in some later test


@pytest.fixture
def screenshots(tmp_path: Path) -> Callable[[Any, str], Path]:
    """``shot(page, name)`` writes ``<tmp_path>/screenshots/<name>.png`` (full page)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()

    def shot(page: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shot


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(width=1280, height=800)``: a page in a fresh context (fresh session
    storage), console messages and page errors collected on ``page.problems``."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 860) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
        page.on("console", lambda m: m.type == "error" and page.problems.append(f"console: {m.text}"))
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def mounted(  # the gateway mounted at /llm in a host app; yields the host's URL
    proxy_core_loop: BackgroundLoop, fake_openai: FakeUpstream, fake_anthropic: FakeUpstream, tmp_path: Path
) -> Iterator[str]:
    gw = Gateway(console_config(fake_openai.url, fake_anthropic.url, tmp_path))
    host = Starlette(routes=[Mount("/llm", app=gw.app)], lifespan=lambda app: gw.lifespan())
    served = ServedApp(host, proxy_core_loop).start()
    yield served.url
    served.stop()
