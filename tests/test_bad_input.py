"""Bad input gets the right status in the client's shape, makes no upstream call, and the
gateway keeps serving."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import openai
import pytest

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway
from proxy_core.testing.fake_answers import OPENAI_TEXT

AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
GOOD = {"model": "openai-main/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def small_gateway(gateway_factory: Callable[..., RunningGateway], gateway_config: dict[str, Any]) -> RunningGateway:
    gateway_config["server"] = {"max_body_bytes": 2048}
    return gateway_factory(gateway_config)


@pytest.fixture
def http(small_gateway: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small_gateway.url, timeout=5) as client:
        yield client


def openai_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["type"], str)
    return dict(body["error"])


def assert_still_serving(client: httpx.Client, fake: FakeUpstream) -> None:
    ok = client.post("/v1/chat/completions", json=GOOD, headers=AUTH)
    assert ok.status_code == 200, ok.text
    assert ok.json()["choices"][0]["message"]["content"] == OPENAI_TEXT
    assert len(fake.requests) == 1, "only the good request reached the upstream"


@pytest.mark.parametrize(
    ("content", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "JSON object"),
        (b"", 400, "empty"),
        (b'{"messages": [{"role": "user", "content": "x"}]}', 400, "'model'"),
        (b'{"model": "openai-main/gpt-4o-mini"}', 400, "'messages'"),
        (b'{"model": "openai-main/gpt-4o-mini", "messages": []}', 400, "'messages'"),
        (b'{"model": "openai-main/gpt-4o-mini", "messages": ["hi"]}', 400, "messages[0]"),
        (b'{"model": 7, "messages": [{"role": "user", "content": "x"}]}', 400, "'model'"),
        (b'{"model": "nope/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}', 404, "nope"),
        (b'{"model": "openai-main/gpt-9", "messages": [{"role": "user", "content": "x"}]}', 404, "gpt-9"),
        (b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}', 404, "route alias"),
    ],
)
def test_bad_bodies(http: httpx.Client, fake_openai: FakeUpstream, content: bytes, status: int, needle: str) -> None:
    r = http.post("/v1/chat/completions", content=content, headers={**AUTH, "content-type": "application/json"})
    assert needle in openai_error(r, status)["message"]
    assert_still_serving(http, fake_openai)


def test_body_over_limit_with_content_length(http: httpx.Client, fake_openai: FakeUpstream) -> None:
    body = {**GOOD, "messages": [{"role": "user", "content": "x" * 4000}]}
    r = http.post("/v1/chat/completions", json=body, headers=AUTH)
    err = openai_error(r, 413)
    assert "2048" in err["message"]
    assert_still_serving(http, fake_openai)


def test_body_over_limit_chunked(http: httpx.Client, fake_openai: FakeUpstream) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 500

    r = http.post("/v1/chat/completions", content=chunks(), headers={**AUTH, "content-type": "application/json"})
    assert "transfer-encoding" not in r.request.headers or r.request.headers["transfer-encoding"] == "chunked"
    openai_error(r, 413)
    assert_still_serving(http, fake_openai)


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer sk-wrong"}, {"x-api-key": "sk-wrong"}, {"authorization": "Basic abc"}],
)
def test_missing_or_wrong_key(http: httpx.Client, fake_openai: FakeUpstream, headers: dict[str, str]) -> None:
    r = http.post("/v1/chat/completions", json=GOOD, headers=headers)
    err = openai_error(r, 401)
    assert err["type"] == "authentication_error"
    assert "sk-wrong" not in r.text
    assert_still_serving(http, fake_openai)


def test_x_api_key_is_accepted(http: httpx.Client, fake_openai: FakeUpstream) -> None:
    r = http.post("/v1/chat/completions", json=GOOD, headers={"x-api-key": GATEWAY_KEY})
    assert r.status_code == 200
    assert GATEWAY_KEY not in repr(fake_openai.last.headers)


def test_sdk_sees_typed_errors(openai_client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.chat.completions.create(model="openai-main/nope", messages=[{"role": "user", "content": "x"}])
    assert "nope" in info.value.message
    bad = openai.OpenAI(base_url=openai_client.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="openai-main/gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    bad.close()
    assert fake_openai.requests == []


def test_anthropic_route_errors_have_anthropic_shape(http: httpx.Client, fake_openai: FakeUpstream) -> None:
    r = http.post("/v1/messages", json={"model": "openai-main/gpt-4o-mini", "max_tokens": 5, "messages": []})
    assert r.status_code == 401
    assert r.json() == {
        "type": "error",
        "error": {"type": "authentication_error", "message": r.json()["error"]["message"]},
    }
    r = http.post("/v1/messages", content=b"{", headers=AUTH)
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert fake_openai.requests == []


def test_unknown_path_is_json_404(http: httpx.Client) -> None:
    r = http.get("/v1/nothing-here")
    assert r.status_code == 404
    assert "error" in r.json()


def test_missing_provider_key_is_503_naming_the_variable(
    gateway_factory: Callable[..., RunningGateway],
    gateway_config: dict[str, Any],
    fake_openai: FakeUpstream,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROXY_CORE_TEST_UNSET_KEY", raising=False)
    gateway_config["providers"]["openai-main"]["api_key"] = "${PROXY_CORE_TEST_UNSET_KEY}"
    gw = gateway_factory(gateway_config)
    r = httpx.post(gw.url + "/v1/chat/completions", json=GOOD, headers=AUTH)
    err = openai_error(r, 503)
    assert "PROXY_CORE_TEST_UNSET_KEY" in err["message"]
    assert fake_openai.requests == []
