"""A fake for the OpenAI-compatible family that rejects what each real provider rejects.

One server, one path prefix per provider (``/groq/v1/chat/completions``...). Before the
kit's scripted or default answer, every request passes the provider's gate, built from
the same documents as the plugins (their READMEs name them): its key as ``Authorization:
Bearer`` (none for a keyless local server), the parameters it rejects (Groq's logprobs,
xAI reasoning models' penalties and stop, Mistral's unknown fields...), the message
fields it rejects, ``n`` above 1, ``reasoning_effort`` on models without it. A request
that fails the gate gets the provider's 400 (Mistral: 422) and ``rejections`` says why.
Streams end the provider's way: Mistral puts usage in its last chunk and takes no
``stream_options``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RecordedRequest, Reply
from proxy_core.testing.fake_answers import OPENAI_TEXT, openai_chunks

REASONING_MODEL_PARAMS = frozenset({"presence_penalty", "frequency_penalty", "stop"})


@dataclass(frozen=True)
class Rules:
    key: str | None
    rejected: frozenset[str] = frozenset()
    accepted: frozenset[str] | None = None  # unknown fields are an error (Mistral)
    message_fields: frozenset[str] = frozenset()
    single_choice: bool = False
    stream_options: bool = True
    per_model: dict[str, frozenset[str]] = field(default_factory=dict)
    effort_models: frozenset[str] = frozenset()  # models taking reasoning_effort


_MISTRAL = frozenset(
    {"model", "messages", "temperature", "top_p", "max_tokens", "stop", "random_seed", "response_format", "tools"}
    | {"tool_choice", "presence_penalty", "frequency_penalty", "n", "prediction", "parallel_tool_calls", "stream"}
    | {"safe_prompt", "prompt_mode"}
)
_ANTHROPIC_ONLY = frozenset({"thinking_blocks", "cache_control"})

RULES: dict[str, Rules] = {
    "groq": Rules(
        "gsk-groq-upstream",
        rejected=frozenset({"logprobs", "top_logprobs", "logit_bias", "prompt_cache_key"}),
        message_fields=frozenset({"name"}),
        single_choice=True,
        effort_models=frozenset({"openai/gpt-oss-120b", "openai/gpt-oss-20b"}),
    ),
    "xai": Rules(
        "xai-upstream-key",
        rejected=frozenset({"prompt_cache_key"}),  # Chat Completions routes caches by x-grok-conv-id
        per_model={"grok-3-mini": REASONING_MODEL_PARAMS, "grok-4": REASONING_MODEL_PARAMS},
        effort_models=frozenset({"grok-3-mini"}),
    ),
    "mistral": Rules(
        "mistral-upstream-key",
        accepted=_MISTRAL,
        message_fields=frozenset({"reasoning_content", "refusal"}),
        stream_options=False,
    ),
    "deepseek": Rules(
        "sk-deepseek-upstream",
        message_fields=frozenset({"reasoning_content"}),
        per_model={"deepseek-reasoner": frozenset({"logprobs", "top_logprobs"})},
    ),
    "openrouter": Rules("sk-or-upstream"),
    "together": Rules("together-upstream-key"),
    "fireworks": Rules("fw-upstream-key"),
    "vllm": Rules(None),
    "ollama": Rules(None, rejected=frozenset({"logit_bias", "user"}), single_choice=True),
}


class FamilyFake(FakeUpstream):
    def __init__(self) -> None:
        super().__init__("openai")
        self.rejections: list[str] = []

    def reset(self) -> None:
        super().reset()
        self.rejections.clear()

    @staticmethod
    def provider_of(request: RecordedRequest) -> str:
        return request.path.split("/")[1]

    def gate(self, request: RecordedRequest) -> tuple[str, int] | None:
        """(problem, status) when the provider would refuse the request, else None."""
        rules = RULES[self.provider_of(request)]
        auth = request.headers.get("authorization")
        if rules.key is not None and auth != "Bearer " + rules.key:
            return "invalid API key", 401
        if rules.key is None and auth is not None:
            return "a keyless server got an Authorization header", 400
        body = request.json()
        model = body.get("model")
        rejected = rules.rejected | rules.per_model.get(str(model), frozenset())
        for name in body:
            if name in rejected:
                return f"parameter '{name}' is not supported", 400
            if rules.accepted is not None and name not in rules.accepted:
                return f"extra_forbidden: body.{name}", 422
        if "stream_options" in body and not rules.stream_options:
            return "extra_forbidden: body.stream_options", 422
        if body.get("reasoning_effort") is not None and model not in rules.effort_models:
            return f"Model {model} does not support parameter reasoningEffort", 400
        if rules.single_choice and body.get("n") not in (None, 1):
            return "'n' : number must be at most 1", 400
        for i, message in enumerate(body.get("messages") or ()):
            for name in (rules.message_fields | _ANTHROPIC_ONLY) & set(message):
                return f"messages[{i}].{name} is not supported", 400
            content = message.get("content")
            for part in content if isinstance(content, list) else ():
                if "cache_control" in part:
                    return f"messages[{i}].content.cache_control is not supported", 400
        for tool in body.get("tools") or ():
            if "cache_control" in tool or "cache_control" in (tool.get("function") or {}):
                return "tools.cache_control is not supported", 400
        return None

    def _next_reply(self, request: RecordedRequest) -> Reply:
        refusal = self.gate(request)
        if refusal is None:
            provider = self.provider_of(request)
            body = request.json()
            with self._cond:
                scripted = bool(self._script)
            if provider == "mistral" and body.get("stream") and not scripted:
                with self._cond:
                    self.requests.append(request)
                    self._cond.notify_all()
                return Reply.sse(mistral_chunks(str(body.get("model")), OPENAI_TEXT))
            return super()._next_reply(request)
        problem, status = refusal
        with self._cond:
            self.requests.append(request)
            self.rejections.append(problem)
            self._cond.notify_all()
        if status == 422:
            return Reply.json(
                {"object": "error", "message": {"detail": [{"msg": problem}]}, "type": "invalid_request_error"},
                status=422,
            )
        return Reply.json({"error": {"message": problem, "type": "invalid_request_error", "code": None}}, status=status)


def mistral_chunks(model: str, text: str) -> list[Any]:
    """Mistral's stream: usage on the finishing chunk, no usage-only chunk."""
    chunks = openai_chunks(model, text)
    chunks[-2]["usage"] = {"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}
    return chunks


# provider type -> the model its parametrized tests use
MODELS = {
    "groq": "llama-3.3-70b-versatile",
    "xai": "grok-3-mini",
    "mistral": "mistral-large-latest",
    "deepseek": "deepseek-chat",
    "openrouter": "anthropic/claude-sonnet-4.5",
    "together": "meta-llama/Llama-3.3-70B-Instruct-Turbo",
    "fireworks": "accounts/fireworks/models/llama-v3p3-70b-instruct",
    "vllm": "Qwen/Qwen3-8B",
    "ollama": "llama3.2",
}
EXTRA_MODELS = {
    "groq": {"openai/gpt-oss-120b": {}},
    "xai": {"grok-4": {}},
    "deepseek": {"deepseek-reasoner": {}},
}


def family_config(family_url: str, anthropic_url: str) -> dict[str, Any]:
    providers: dict[str, Any] = {}
    for name, model in MODELS.items():
        account: dict[str, Any] = {
            "type": name,
            "base_url": f"{family_url}/{name}" + ("" if name == "deepseek" else "/v1"),
            "models": {model: {}, **EXTRA_MODELS.get(name, {})},
        }
        if RULES[name].key is not None:
            account["api_key"] = RULES[name].key
        providers[f"{name}-main"] = account
    providers["anthropic-main"] = {
        "type": "anthropic",
        "api_key": "sk-ant-upstream-secret",
        "base_url": anthropic_url,
        "models": {"claude-sonnet-4-5": {}},
    }
    return {
        "auth": {"keys": [{"name": "test", "key": GATEWAY_KEY, "user": "tester"}]},
        "providers": providers,
        # one try per target (the tests script one error), no target benched by passive health
        "plugins": {"fallback": {"retry": {"attempts": 1}, "health": {"failures": 1000}}},
        "routes": {
            "family-fallback": {"targets": ["groq-main/llama-3.3-70b-versatile", "xai-main/grok-4"]},
            "claude-then-groq": {"targets": ["anthropic-main/claude-sonnet-4-5", "groq-main/openai/gpt-oss-120b"]},
        },
    }
