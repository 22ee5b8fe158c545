"""The console in a real browser (Debian's chromium, driven by playwright) against a
gateway served in its own process with the test kit's fake upstreams.

Screenshots of every view are written under each test's tmp dir (``screenshots/``).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import openai
from console_helpers import (
    ADMIN_KEY,
    CLAUDE_MODEL,
    LIMITED_MODEL,
    OPENAI_MODEL,
    UNPRICED_MODEL,
    USER_KEY,
)

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import anthropic_stream, openai_chunks

Page = Any
PIECES = ["one ", "two ", "three ", "four ", "five"]

# Records every text the last answer showed, in order (the page's own MutationObserver).
WATCH_ANSWER = """() => {
  window.answerSeen = [];
  new MutationObserver(() => {
    const answers = document.querySelectorAll('#pg-transcript .answer');
    const text = answers.length ? answers[answers.length - 1].textContent : '';
    if (text && text !== window.answerSeen.at(-1)) window.answerSeen.push(text);
  }).observe(document.getElementById('pg-transcript'), {childList: true, subtree: true, characterData: true});
}"""


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(url + "/ui")
    assert page.url == url + "/ui/"  # the relative redirect
    page.get_by_label("Gateway key", exact=True).fill(key)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#nav").wait_for()
    page.locator("#pg-model option").first.wait_for(state="attached")  # the playground loaded /models


def no_page_errors(page: Page) -> None:
    bad = [p for p in page.problems if p.startswith("page error") or "Content Security Policy" in p]
    assert not bad, bad


def last_meta(page: Page) -> str:
    meta = page.locator("#pg-transcript .msg.assistant .meta").last
    meta.filter(has_text=re.compile(r"\S")).wait_for()
    return str(meta.inner_text())


def test_sign_in_pick_a_model_and_watch_the_stream_arrive_in_order(
    served_console: tuple[str, Path], new_page: Callable[..., Page], fake_openai: FakeUpstream, screenshots: Any
) -> None:
    url, state = served_console
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url + "/ui/")
    screenshots(page, "signin")
    sign_in(page, url, USER_KEY)
    # the picker holds what this key may use: its allow-list is openai-main/*
    options = page.locator("#pg-model option").all_inner_texts()
    assert OPENAI_MODEL in options and UNPRICED_MODEL in options
    assert CLAUDE_MODEL not in options
    assert "Key dev (alice)" in page.locator("#who").inner_text()

    chunks = openai_chunks("gpt-4o-mini", "", include_usage=True, pieces=1)
    body = [c for c in chunks if not (isinstance(c, dict) and c["choices"] and "content" in c["choices"][0]["delta"])]
    pieces = [
        {**chunks[0], "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}], "usage": None}
        for p in PIECES
    ]
    fake_openai.queue(Reply.sse([chunks[0], *pieces, *body[1:]], delay_between=0.12))
    page.evaluate(WATCH_ANSWER)
    page.get_by_label("Model", exact=True).select_option(OPENAI_MODEL)
    page.get_by_label("System prompt", exact=True).fill("Answer in numbers.")
    page.get_by_label("Temperature", exact=True).fill("0.3")
    page.get_by_label("Max tokens", exact=True).fill("50")
    page.get_by_label("Message", exact=True).fill("Count to five")
    page.get_by_label("Message", exact=True).press("Control+Enter")  # the keyboard sends
    meta = last_meta(page)

    seen = page.evaluate("window.answerSeen")
    assert seen[-1] == "".join(PIECES)
    assert len(seen) >= 4, seen  # it grew piece by piece, not all at once
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(seen)), seen
    assert "12 in · 8 out tokens" in meta and OPENAI_MODEL in meta
    sent = fake_openai.last.json()
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["temperature"] == 0.3 and sent["max_tokens"] == 50
    assert sent["messages"] == [
        {"role": "system", "content": "Answer in numbers."},
        {"role": "user", "content": "Count to five"},
    ]
    # the key travels in a header only: never in an address, never in the gateway's log
    assert USER_KEY not in fake_openai.last.headers.get("authorization", "")
    assert requested and not [u for u in requested if USER_KEY in u]
    assert USER_KEY not in (state / "gateway.log").read_text()
    assert page.evaluate("Object.keys(localStorage).length") == 0
    assert page.evaluate("sessionStorage.getItem('proxy-core.gateway-key')") == USER_KEY
    screenshots(page, "playground")
    no_page_errors(page)


def test_thinking_collapsed_tool_calls_shown_and_answered(
    served_console: tuple[str, Path],
    new_page: Callable[..., Page],
    fake_anthropic: FakeUpstream,
    screenshots: Any,
) -> None:
    url, _ = served_console
    page = new_page()
    sign_in(page, url, ADMIN_KEY)
    content = [
        {"type": "thinking", "thinking": "The user wants the weather.", "signature": "sig-1"},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
    ]
    fake_anthropic.queue(anthropic_stream("claude-sonnet-4-5", content, stop_reason="tool_use"))
    page.get_by_label("Model", exact=True).select_option(CLAUDE_MODEL)
    page.get_by_label("Reasoning effort", exact=True).select_option("low")
    page.get_by_label("Max tokens", exact=True).fill("2048")
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    page.get_by_label("Tools (JSON list, optional)", exact=True).fill(json.dumps([tool]))
    page.get_by_label("Message", exact=True).fill("Weather in Paris?")
    page.get_by_role("button", name="Send").click()
    meta = last_meta(page)
    assert "finish: tool_calls" in meta

    thinking = page.locator("#pg-transcript details.thinking").last
    assert thinking.is_visible() and thinking.get_attribute("open") is None  # collapsed
    assert not page.get_by_text("The user wants the weather.").is_visible()
    thinking.locator("summary").click()
    assert page.get_by_text("The user wants the weather.").is_visible()
    call = page.locator(".tool-call").last
    assert "Tool call: get_weather" in call.inner_text() and '"city": "Paris"' in call.inner_text()
    sent = fake_anthropic.last.json()
    assert sent["thinking"]["type"] == "enabled" and sent["tools"][0]["name"] == "get_weather"

    page.get_by_label("Result to send back with your next message", exact=True).fill('{"temp_c": 21}')
    page.get_by_label("Message", exact=True).fill("Thanks")
    page.get_by_role("button", name="Send").click()
    page.locator("#pg-transcript .msg.assistant").nth(1).locator(".meta").filter(has_text="tokens").wait_for()
    turn = fake_anthropic.last.json()["messages"]
    results = [b for m in turn for b in (m["content"] if isinstance(m["content"], list) else [])]
    assert {"type": "tool_result", "tool_use_id": "toolu_01", "content": '{"temp_c": 21}'}.items() <= next(
        b for b in results if b["type"] == "tool_result"
    ).items()
    screenshots(page, "thinking-and-tools")
    no_page_errors(page)


def test_code_button_shows_each_sdk_and_the_python_one_runs(
    served_console: tuple[str, Path],
    new_page: Callable[..., Page],
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    screenshots: Any,
    tmp_path: Path,
) -> None:
    url, _ = served_console
    page = new_page()
    sign_in(page, url, USER_KEY)
    page.get_by_label("Model", exact=True).select_option(OPENAI_MODEL)
    page.get_by_label("System prompt", exact=True).fill("Be brief.")
    page.get_by_label("Temperature", exact=True).fill("0.5")
    page.get_by_label("Stream the answer", exact=True).uncheck()
    page.get_by_label("Message", exact=True).fill("Say hi")
    page.get_by_role("button", name="Code").click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible()
    snippets = {}
    for name in ("openai (Python)", "anthropic (Python)", "curl"):
        page.get_by_role("tab", name=name).click()
        assert page.get_by_role("tab", name=name).get_attribute("aria-selected") == "true"
        snippets[name] = page.locator("#code-text").inner_text()
        assert OPENAI_MODEL in snippets[name] and USER_KEY not in snippets[name]
    screenshots(page, "code-dialog")
    # keyboard: arrows move between the tabs, Escape closes the dialog
    page.get_by_role("tab", name="curl").press("ArrowRight")
    assert page.get_by_role("tab", name="openai (Python)").get_attribute("aria-selected") == "true"
    page.keyboard.press("Escape")
    assert not dialog.is_visible()

    assert f'base_url="{url}/v1"' in snippets["openai (Python)"]
    assert f'base_url="{url}"' in snippets["anthropic (Python)"]
    assert f"curl {url}/v1/chat/completions" in snippets["curl"]
    assert "$PROXY_CORE_API_KEY" in snippets["curl"]
    env = {**os.environ, "PROXY_CORE_API_KEY": USER_KEY}
    for name, fake, text in (
        ("openai (Python)", fake_openai, "Hello from the fake OpenAI upstream."),
        ("anthropic (Python)", fake_openai, "Hello from the fake OpenAI upstream."),
    ):
        script = tmp_path / "snippet.py"
        script.write_text(snippets[name])
        out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == text
        sent = fake.last.json()
        assert sent["model"] == "gpt-4o-mini" and sent["temperature"] == 0.5
        assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    no_page_errors(page)


def test_refusals_are_shown_in_plain_words(
    served_console: tuple[str, Path], new_page: Callable[..., Page], fake_openai: FakeUpstream, screenshots: Any
) -> None:
    url, _ = served_console
    page = new_page()
    sign_in(page, url, USER_KEY)
    page.get_by_label("Model", exact=True).select_option(LIMITED_MODEL)
    page.get_by_label("Message", exact=True).fill("Hello?")
    page.get_by_role("button", name="Send").click()
    alert = page.locator("#pg-transcript .msg.failed [role=alert]")
    alert.filter(has_text="rate limit").wait_for()
    text = alert.inner_text()
    assert text.startswith("A rate limit or budget was reached, so the request was refused.")
    assert "Try again in" in text and "rpm" in text
    assert page.get_by_label("Message", exact=True).input_value() == "Hello?"  # kept, to retry
    assert not fake_openai.requests  # refused before any upstream call
    screenshots(page, "error-429")

    page.get_by_role("link", name="Spend").click()  # a key that is not an admin key
    page.locator("#spend-error").filter(has_text="not allowed").wait_for()
    assert "This key is not allowed to do that." in page.locator("#spend-error").inner_text()
    assert "not an admin key" in page.locator("#spend-error").inner_text()
    screenshots(page, "error-403")
    no_page_errors(page)


def test_spend_charts_and_table_after_a_few_requests(
    served_console: tuple[str, Path], new_page: Callable[..., Page], fake_openai: FakeUpstream, screenshots: Any
) -> None:
    url, _ = served_console
    with openai.OpenAI(base_url=url + "/v1", api_key=USER_KEY, max_retries=0) as client:
        for model in (OPENAI_MODEL, OPENAI_MODEL, UNPRICED_MODEL):
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    page = new_page()
    sign_in(page, url, ADMIN_KEY)
    page.get_by_role("link", name="Spend").click()
    page.locator("#spend-result").wait_for()
    page.get_by_label("Per", exact=True).select_option("model")
    page.locator("#chart-cost-title", has_text="per model").wait_for()
    bars = page.locator("#chart-cost svg rect title").evaluate_all("els => els.map(e => e.textContent)")
    assert any(t.startswith("gpt-4o-mini: cost $") for t in bars), bars
    rows = page.locator("#spend-table tbody tr")
    by_model = {r.locator("td").first.inner_text(): r for r in rows.all()}
    assert "gpt-4o-mini" in by_model and "mystery-model" in by_model
    assert "unpriced" in (by_model["mystery-model"].get_attribute("class") or "")
    assert "unpriced" not in (by_model["gpt-4o-mini"].get_attribute("class") or "")
    warning = page.locator("#spend-unpriced")
    assert warning.is_visible() and "openai-main/mystery-model" in warning.inner_text()
    assert page.locator("#chart-tokens .legend").inner_text().split() == ["input", "output"]
    screenshots(page, "spend-per-model")
    page.get_by_label("Per", exact=True).select_option("day")
    page.locator("#chart-cost-title", has_text="per day").wait_for()
    assert page.locator("#chart-cost svg g.row").count() == 7  # the last 7 days, zero-filled
    screenshots(page, "spend-per-day")
    page.get_by_label("From", exact=True).fill("2020-01-01")  # a range without requests
    page.get_by_label("To (inclusive)", exact=True).fill("2020-01-03")
    page.get_by_role("button", name="Show").click()
    page.locator("#spend-total", has_text="2020-01-01 to 2020-01-03").wait_for()
    assert page.locator("#spend-total").inner_text().startswith("$0 over 0 requests")
    assert page.locator("#spend-table tbody tr").all_inner_texts()[0].split() == [
        "2020-01-01",
        *["0", "0", "0", "0.000000", "0"],
    ]
    assert not page.locator("#spend-unpriced").is_visible()
    no_page_errors(page)


def test_admin_accounts_health_keys_and_models(
    served_console: tuple[str, Path],
    new_page: Callable[..., Page],
    fake_anthropic: FakeUpstream,
    screenshots: Any,
) -> None:
    url, _ = served_console
    failure = {"type": "error", "error": {"type": "api_error", "message": "boom"}}
    fake_anthropic.queue(Reply.json(failure, status=500))
    with openai.OpenAI(base_url=url + "/v1", api_key=ADMIN_KEY, max_retries=0) as client:
        try:
            client.chat.completions.create(model=CLAUDE_MODEL, messages=[{"role": "user", "content": "hi"}])
        except openai.APIStatusError as e:
            assert e.status_code == 500
    page = new_page()
    page.on("dialog", lambda d: d.accept())  # the confirm() before a revoke or a removal
    sign_in(page, url, ADMIN_KEY)
    page.get_by_role("link", name="Admin").click()
    account = page.get_by_role("region", name="Provider account anthropic-main")
    account.get_by_text("cooling down").wait_for()
    assert "user:bob (manager)" in account.inner_text()
    assert "healthy" in page.get_by_role("region", name="Provider account openai-main").inner_text()

    page.get_by_label("Name", exact=True).fill("ci-bot")
    page.get_by_label("Teams (comma-separated)", exact=True).fill("ml, qa")
    page.get_by_label("Requests per minute", exact=True).fill("30")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#key-secret")
    secret.filter(has_text="pc-").wait_for()
    new_key = secret.inner_text()
    assert httpx.get(url + "/v1/models", headers={"authorization": f"Bearer {new_key}"}).status_code == 200
    row = page.locator("#keys-table tbody tr", has_text="ci-bot")
    assert "ml, qa" in row.inner_text() and "30 rpm" in row.inner_text()
    screenshots(page, "admin")
    row.get_by_role("button", name="Revoke key ci-bot").click()
    row.wait_for(state="detached")
    assert httpx.get(url + "/v1/models", headers={"authorization": f"Bearer {new_key}"}).status_code == 401

    account.get_by_label("Model to add", exact=True).fill("claude-haiku-4-5")
    account.get_by_label("Input USD / M tokens", exact=True).fill("1")
    account.get_by_label("Output USD / M tokens", exact=True).fill("5")
    account.get_by_role("button", name="Add model").click()
    account.get_by_text("claude-haiku-4-5").wait_for()
    listed = httpx.get(url + "/v1/models", headers={"authorization": f"Bearer {ADMIN_KEY}"}).json()["data"]
    assert "anthropic-main/claude-haiku-4-5" in [m["id"] for m in listed]
    account.get_by_role("button", name="Remove claude-haiku-4-5 from anthropic-main").click()
    account.get_by_text("claude-haiku-4-5").wait_for(state="detached")
    no_page_errors(page)


def test_readable_on_a_phone(
    served_console: tuple[str, Path], new_page: Callable[..., Page], fake_openai: FakeUpstream, screenshots: Any
) -> None:
    url, _ = served_console
    page = new_page(width=390, height=844)
    sign_in(page, url, ADMIN_KEY)
    page.get_by_label("Model", exact=True).select_option(OPENAI_MODEL)
    page.get_by_label("Message", exact=True).fill("Hello from a phone")
    page.get_by_role("button", name="Send").click()
    last_meta(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
    screenshots(page, "phone-playground")
    page.get_by_role("link", name="Spend").click()
    page.locator("#spend-result").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshots(page, "phone-spend")
    no_page_errors(page)


def test_works_mounted_under_a_prefix(
    mounted: str, new_page: Callable[..., Page], fake_openai: FakeUpstream, screenshots: Any
) -> None:
    page = new_page()
    sign_in(page, mounted + "/llm", USER_KEY)
    page.get_by_label("Model", exact=True).select_option(OPENAI_MODEL)
    page.get_by_label("Stream the answer", exact=True).uncheck()
    page.get_by_label("Response format", exact=True).select_option("json_object")
    page.get_by_label("Message", exact=True).fill("Under a prefix")
    page.get_by_role("button", name="Send").click()
    meta = last_meta(page)
    assert re.search(r"\$0\.0000\d\d", meta), meta  # a non-streamed answer's cost, from its header
    sent = fake_openai.last.json()
    assert sent["messages"] == [{"role": "user", "content": "Under a prefix"}]
    assert sent["response_format"] == {"type": "json_object"}
    assert sent.get("stream") in (None, False)
    page.get_by_role("button", name="Code").click()
    assert f'base_url="{mounted}/llm/v1"' in page.locator("#code-text").inner_text()
    screenshots(page, "mounted")
    no_page_errors(page)
