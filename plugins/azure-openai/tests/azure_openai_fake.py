"""A fake Azure OpenAI resource on 127.0.0.1 that checks requests like the real one.

The gate, before the kit's scripted or default answer: the path must be
``/openai/deployments/{deployment}/chat/completions`` of a known deployment (else 404
``DeploymentNotFound``), ``api-version`` a known version (else 404 like Azure), the
credential an ``api-key`` header or an Entra ID ``Authorization: Bearer`` token (else
401), and the body free of what the deployment's model rejects (``Unrecognized request
argument supplied: ...`` 400s: ``prompt_cache_key`` before GPT-5.6, ``reasoning_effort``
on non-reasoning models, json_schema on gpt-35-turbo, ``cache_control``, ``model``
mismatches). Default answers carry Azure's content-filter annotations
(``prompt_filter_results`` first, ``content_filter_results`` per choice / chunk).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RecordedRequest, Reply
from proxy_core.testing.fake_answers import OPENAI_TEXT, openai_chunks, openai_completion

API_KEY = "azure-upstream-api-key-0123456789"
ENTRA_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-test-token"
API_VERSIONS = {"2024-10-21", "2025-04-01-preview"}
DEPLOYMENTS = {"gpt4o-prod": "gpt-4o", "gpt-4o-mini": "gpt-4o-mini", "o4-mini": "o4-mini", "gpt56": "gpt-5.6"}
DEPLOYMENTS["legacy35"] = "gpt-35-turbo"
REASONING = {"o4-mini", "gpt-5.6"}
SAFE = {"filtered": False, "severity": "safe"}
FILTERS = {"hate": SAFE, "self_harm": SAFE, "sexual": SAFE, "violence": SAFE}
PROMPT_FILTERS = [
    {"prompt_index": 0, "content_filter_results": {**FILTERS, "jailbreak": {"filtered": False, "detected": False}}}
]


def filtered_prompt_error() -> Reply:
    """Azure's 400 for a prompt its filter refused (shape from Azure's answers)."""
    return Reply.json(
        {
            "error": {
                "message": "The response was filtered due to the prompt triggering Azure OpenAI's content "
                "management policy. Please modify your prompt and retry.",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
                "innererror": {
                    "code": "ResponsibleAIPolicyViolation",
                    "content_filter_result": {
                        **FILTERS,
                        "violence": {"filtered": True, "severity": "high"},
                        "jailbreak": {"filtered": True, "detected": True},
                    },
                },
            }
        },
        status=400,
    )


class AzureFake(FakeUpstream):
    def __init__(self) -> None:
        super().__init__("openai")
        self.rejections: list[str] = []

    def reset(self) -> None:
        super().reset()
        self.rejections.clear()

    def gate(self, request: RecordedRequest) -> Reply | None:
        url = urlsplit(request.path)
        parts = url.path.split("/")
        if len(parts) != 6 or parts[1:3] != ["openai", "deployments"] or parts[4:] != ["chat", "completions"]:
            return _error(404, "404", "Resource not found")
        if parse_qs(url.query).get("api-version", [""])[0] not in API_VERSIONS:
            return _error(404, "404", "Resource not found")
        h = request.headers
        if not (h.get("api-key") == API_KEY or h.get("authorization") == "Bearer " + ENTRA_TOKEN):
            return _error(401, "401", "Access denied due to invalid subscription key or wrong API endpoint.")
        if "api-key" in h and "authorization" in h:
            return _error(400, "BadRequest", "send one credential")
        model = DEPLOYMENTS.get(parts[3])
        if model is None:
            return _error(404, "DeploymentNotFound", "The API deployment for this resource does not exist.")
        body = request.json()
        unrecognized = {"cache_control", "thinking_blocks", "reasoning_content"} & _keys(body)
        if "prompt_cache_key" in body and model != "gpt-5.6":
            unrecognized.add("prompt_cache_key")
        if "reasoning_effort" in body and model not in REASONING:
            unrecognized.add("reasoning_effort")
        if unrecognized:
            return _error(400, None, f"Unrecognized request argument supplied: {sorted(unrecognized)[0]}")
        if body.get("model") not in (None, parts[3]):
            return _error(400, "OperationNotSupported", "model does not match the deployment")
        kind = (body.get("response_format") or {}).get("type")
        if kind == "json_schema" and model == "gpt-35-turbo":
            return _error(400, None, "response_format value as json_schema is enabled only for api versions ...")
        return None

    def _next_reply(self, request: RecordedRequest) -> Reply:
        refusal = self.gate(request)
        if refusal is not None:
            with self._cond:
                self.requests.append(request)
                self.rejections.append(refusal.body.decode())
                self._cond.notify_all()
            return refusal
        with self._cond:
            scripted = bool(self._script)
        if scripted:
            return super()._next_reply(request)
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()
        body = request.json()
        model = DEPLOYMENTS[urlsplit(request.path).path.split("/")[3]]
        if body.get("stream"):
            usage = (body.get("stream_options") or {}).get("include_usage") is True
            return Reply.sse(azure_chunks(model, OPENAI_TEXT, include_usage=usage))
        return Reply.json(azure_completion(model, OPENAI_TEXT))


def _keys(node: Any) -> set[str]:
    """Every object key anywhere in a JSON value."""
    if isinstance(node, dict):
        return set(node).union(*(_keys(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(v) for v in node))
    return set()


def _error(status: int, code: str | None, message: str) -> Reply:
    return Reply.json({"error": {"code": code, "message": message}}, status=status)


def azure_completion(model: str, text: str | None, finish_reason: str = "stop", **kw: Any) -> dict[str, Any]:
    answer = openai_completion(model, text, finish_reason=finish_reason, **kw)
    answer["prompt_filter_results"] = PROMPT_FILTERS
    answer["choices"][0]["content_filter_results"] = FILTERS
    return answer


def azure_chunks(model: str, text: str, *, include_usage: bool = False, finish_reason: str = "stop") -> list[Any]:
    """Azure's stream: a prompt-filter chunk with no choices first, then chunks with results."""
    chunks = openai_chunks(model, text, include_usage=include_usage)
    first = {"id": "", "object": "", "created": 0, "model": "", "choices": [], "prompt_filter_results": PROMPT_FILTERS}
    for chunk in chunks:
        if isinstance(chunk, dict) and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
            chunk["choices"][0]["content_filter_results"] = FILTERS
    finishing = next(c for c in chunks if isinstance(c, dict) and c["choices"] and c["choices"][0]["finish_reason"])
    finishing["choices"][0]["finish_reason"] = finish_reason
    if finish_reason == "content_filter":
        finishing["choices"][0]["content_filter_results"] = {
            **FILTERS,
            "violence": {"filtered": True, "severity": "medium"},
        }
    return [first, *chunks]


def azure_config(azure_url: str, openai_url: str) -> dict[str, Any]:
    models = {
        "gpt-4o": {"deployment": "gpt4o-prod"},
        "gpt-4o-mini": {},  # deployment: the model name
        "o4-mini": {},
        "gpt-5.6": {"deployment": "gpt56"},
        "gpt-35-turbo": {"deployment": "legacy35"},
        "gpt-4.1": {"deployment": "not-deployed"},
    }
    return {
        "auth": {"keys": [{"name": "test", "key": GATEWAY_KEY, "user": "tester"}]},
        "providers": {
            "azure-main": {"type": "azure-openai", "base_url": azure_url, "api_key": API_KEY, "models": models},
            "azure-entra": {
                "type": "azure-openai",
                "base_url": azure_url + "/openai/",  # the endpoint however written
                "api_version": "2025-04-01-preview",
                "auth": {"type": "entra_token", "token": ENTRA_TOKEN},
                "models": {"gpt-4o": {"deployment": "gpt4o-prod"}},
            },
            "openai-main": {
                "type": "openai",
                "api_key": "sk-upstream-openai-secret",
                "base_url": openai_url + "/v1",
                "models": {"gpt-4o-mini": {}},
            },
        },
        "plugins": {"fallback": {"retry": {"attempts": 1}, "health": {"failures": 1000}}},
        "routes": {"azure-then-openai": {"targets": ["azure-main/gpt-4o", "openai-main/gpt-4o-mini"]}},
    }
