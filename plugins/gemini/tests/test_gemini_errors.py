"""Gemini's error classes mapped to the client's shape, and the key kept out of sight."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai
import pytest
from gemini_helpers import gemini_config

from proxy_core.testing import RunningGateway
from proxy_core.testing.fake_gemini import GEMINI_KEY, FakeGemini, google_error


@pytest.mark.parametrize(
    ("status", "name", "error_class", "client_status"),
    [
        (400, "INVALID_ARGUMENT", openai.BadRequestError, 400),
        (429, "RESOURCE_EXHAUSTED", openai.RateLimitError, 429),
        (503, "UNAVAILABLE", openai.InternalServerError, 503),
        (500, "INTERNAL", openai.InternalServerError, 500),
    ],
)
def test_error_classes_in_openai_shape(
    openai_client: openai.OpenAI, gemini: FakeGemini, status: int, name: str, error_class: type, client_status: int
) -> None:
    gemini.queue(google_error(status, name, f"upstream says {name.lower()}"))
    with pytest.raises(error_class) as err:
        openai_client.chat.completions.create(
            model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}]
        )
    assert err.value.status_code == client_status
    body: Any = err.value.body
    assert body["message"] == f"upstream says {name.lower()}" and body["code"] == name


def test_permission_denied_is_the_accounts_problem(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    gemini.queue(google_error(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers."))
    with pytest.raises(openai.APIStatusError) as err:
        openai_client.chat.completions.create(
            model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}]
        )
    assert err.value.status_code == 502
    assert err.value.body["code"] == "upstream_credentials_rejected"  # type: ignore[index]


def test_a_rejected_key_is_a_502_and_never_echoed(
    gateway_factory: Callable[..., RunningGateway],
    openai_for: Callable[..., openai.OpenAI],
    gemini: FakeGemini,
    fake_anthropic: Any,
) -> None:
    config = gemini_config(gemini.url, fake_anthropic.url)
    config["providers"]["gemini-main"]["api_key"] = "AIza-wrong-key-0123456789"
    client = openai_for(gateway_factory(config))
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}])
    assert err.value.status_code == 502
    assert "API_KEY_INVALID" in err.value.message and "AIza-wrong" not in str(err.value.body)
    assert gemini.last.headers["x-goog-api-key"] == "AIza-wrong-key-0123456789"
    assert "key=" not in gemini.last.path and GEMINI_KEY not in gemini.last.path


def test_in_stream_error_event(openai_client: openai.OpenAI, gemini: FakeGemini) -> None:
    from proxy_core.testing import Reply

    error = {"error": {"code": 503, "message": "overloaded mid-stream", "status": "UNAVAILABLE"}}
    gemini.queue(Reply.sse([{"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}}]}, error]))
    stream = openai_client.chat.completions.create(
        model="gemini-main/gemini-2.5-pro", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    with pytest.raises(openai.APIError) as err:
        for _ in stream:
            pass
    assert "overloaded mid-stream" in str(err.value)


def test_config_errors_name_the_path(gateway_factory: Callable[..., RunningGateway], gemini: FakeGemini) -> None:
    from proxy_core.config import ConfigError

    config = gemini_config(gemini.url, "http://127.0.0.1:9")
    config["providers"]["gemini-main"]["region"] = "us"
    with pytest.raises(ConfigError) as err:
        gateway_factory(config)
    assert "providers.gemini-main.region" in str(err.value)
