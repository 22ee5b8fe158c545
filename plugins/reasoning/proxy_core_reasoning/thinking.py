"""reasoning_effort -> Anthropic thinking parameters, and the rules thinking imposes.

Pure functions of the canonical (OpenAI chat) body and the target's model info; they
return the names of the parameters they dropped. See the README for the policies.
"""

from __future__ import annotations

from typing import Any

from proxy_core.errors import InvalidRequestError

from .settings import MIN_BUDGET, Settings

NATIVE_EFFORTS = ("low", "medium", "high", "xhigh", "max")  # output_config.effort values
_THINKING_ON = frozenset({"enabled", "adaptive"})


def apply_effort(body: dict[str, Any], effort: Any, info: dict[str, Any], settings: Settings) -> list[str]:
    """Turn ``effort`` into thinking parameters in ``body`` (Anthropic-wire target)."""
    mode = info.get("thinking", "budget")
    if effort == "none":
        return []
    native = mode in ("adaptive", "effort")
    allowed = NATIVE_EFFORTS if native else settings.ratios
    if effort not in allowed:
        raise InvalidRequestError(
            f"'reasoning_effort' must be one of {', '.join(allowed)} for this model", param="reasoning_effort"
        )
    if body.get("thinking") is not None or mode == "none":
        return ["reasoning_effort"]  # the client's own `thinking` wins; a model that cannot think
    if native:
        output_config = body.get("output_config")
        body["output_config"] = {**(output_config if isinstance(output_config, dict) else {}), "effort": effort}
        if mode == "adaptive":
            body["thinking"] = {"type": "adaptive"}
        return []
    if settings.ratios[effort] == 0:
        return []
    body["thinking"] = {"type": "enabled", "budget_tokens": budget(body, effort, info, settings)}
    return []


def budget(body: dict[str, Any], effort: str, info: dict[str, Any], settings: Settings) -> int:
    """ratio x max_tokens, at least 1024 and below max_tokens; sets ``max_tokens`` when
    the client sent none (the model's ``max_tokens`` in config, else the plugin's
    ``default_max_tokens``)."""
    max_tokens = body.get("max_completion_tokens")
    if max_tokens is None:  # not `or`: a client's 0 is the adapter's 400, never replaced
        max_tokens = body.get("max_tokens")
    if max_tokens is None:
        configured = info.get("max_tokens")
        max_tokens = configured if isinstance(configured, int) and configured > MIN_BUDGET else None
        body["max_tokens"] = max_tokens = max_tokens or settings.default_max_tokens
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        return MIN_BUDGET  # not ours to validate: the provider rejects it with a clear 400
    tokens = max(MIN_BUDGET, int(settings.ratios[effort] * max_tokens))
    if tokens >= max_tokens:
        raise InvalidRequestError(
            f"reasoning_effort '{effort}' needs max_tokens above {MIN_BUDGET} on this model: Anthropic's "
            f"smallest thinking budget is {MIN_BUDGET} tokens and it must stay below max_tokens "
            f"(got max_tokens={max_tokens})",
            param="max_tokens",
        )
    return tokens


def thinking_on(body: dict[str, Any]) -> bool:
    thinking = body.get("thinking")
    return isinstance(thinking, dict) and thinking.get("type") in _THINKING_ON


def enforce_thinking_rules(body: dict[str, Any]) -> list[str]:
    """Thinking takes no temperature but 1, no top_k, top_p only from 0.95, and no forced
    tool choice: such parameters are dropped (and reported), never sent."""
    dropped = []
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        dropped.append("temperature")
    if body.get("top_k") is not None:
        dropped.append("top_k")
    top_p = body.get("top_p")
    if isinstance(top_p, int | float) and top_p < 0.95:
        dropped.append("top_p")
    choice = body.get("tool_choice")
    if choice == "required" or isinstance(choice, dict):
        dropped.append("tool_choice")
    for name in dropped:
        del body[name]
    return dropped
