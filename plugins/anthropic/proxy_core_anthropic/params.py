"""Chat Completions parameters -> Messages parameters, and the policy for the rest.

Policy for OpenAI-only parameters (one rule, no exceptions but ``n``):

* Parameters with an Anthropic meaning are translated: ``max_tokens`` /
  ``max_completion_tokens``, ``stop``, ``temperature``, ``top_p``, ``user``, ``tools``,
  ``tool_choice``, ``parallel_tool_calls``, ``stream``, ``web_search_options`` (the web
  search server tool). An Anthropic-defined tool given in ``tools`` (a ``type`` ending
  in a version date, e.g. ``web_search_20250305``) is forwarded as it is. Three Anthropic parameters are
  accepted on the chat route as extensions and forwarded as they are: ``top_k``,
  ``thinking`` and ``output_config`` (where feature plugins put effort and formats);
  of the wrong JSON type (or a ``cache_control`` that is not an object), they are a
  400 naming them, their values are Anthropic's to judge.
* ``n`` greater than 1 is a 400: Anthropic returns one choice, and a client asking for
  several would silently get fewer.
* Every other parameter (``seed``, ``frequency_penalty``, ``presence_penalty``,
  ``logit_bias``, ``logprobs``, ``response_format``, ``reasoning_effort``, ``store``,
  ``metadata``, ``service_tier``, unknown names...) is **dropped**: never forwarded as
  an unknown field. The names of dropped parameters that carried a value are returned
  in the ``x-proxy-core-dropped-params`` response header. Feature plugins
  (``reasoning``, ``structured-output``) translate ``reasoning_effort`` and
  ``response_format`` in ``prepare_request``, before this module sees the body.

Default ``max_tokens`` (Anthropic requires one, OpenAI does not): the model's
``max_tokens`` entry in the account's model table (config) wins; otherwise
:data:`DEFAULT_MAX_TOKENS` by model-name prefix, else :data:`FALLBACK_MAX_TOKENS`. When
the client sent a ``thinking`` budget at least as large as that default, the default
becomes budget + default (Anthropic requires ``max_tokens`` > ``budget_tokens``).
"""

from __future__ import annotations

import re
from typing import Any

from proxy_core.canonical import function_tool, max_output_tokens
from proxy_core.errors import InvalidRequestError

# model-name prefix -> default max_tokens; first match wins, so longer prefixes first.
DEFAULT_MAX_TOKENS: tuple[tuple[str, int], ...] = (
    ("claude-3-5", 8192),
    ("claude-3-7", 8192),
    ("claude-3", 4096),  # claude-3 haiku / sonnet / opus: 4096 is their maximum
    ("claude-", 8192),  # claude-*-4 and later
)
FALLBACK_MAX_TOKENS = 4096

# Handled here (translated or consumed); everything else is dropped.
_TRANSLATED = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "temperature",
        "top_p",
        "user",
        "n",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "stream",
        "stream_options",
        "web_search_options",
    }
)
_FORWARDED = ("top_k", "thinking", "output_config")
# Their JSON types (null is absent): the values are Anthropic's to judge.
_FORWARDED_TYPES: dict[str, tuple[type, str]] = {
    "top_k": (int, "an integer"),
    "thinking": (dict, "an object"),
    "output_config": (dict, "an object"),
}
# Values that ask for nothing: not reported as dropped.
_NO_OP: dict[str, Any] = {"logprobs": False, "response_format": {"type": "text"}, "store": False}

_TOOL_CHOICE = {"auto": "auto", "none": "none", "required": "any"}

# Anthropic-defined tools given in chat ``tools`` (``web_search_20250305``,
# ``web_fetch_20250910``, ``code_execution_20250825``...): a type ending in a version date.
SERVER_TOOL = re.compile(r"[a-z][a-z_]*_\d{8}")
WEB_SEARCH_TOOL = "web_search_20250305"


def default_max_tokens(model: str, info: dict[str, Any]) -> int:
    value = info.get("max_tokens")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    for prefix, tokens in DEFAULT_MAX_TOKENS:
        if model.startswith(prefix):
            return tokens
    return FALLBACK_MAX_TOKENS


def translate_params(body: dict[str, Any], out: dict[str, Any], default_max: int) -> list[str]:
    """Write the Messages parameters into ``out``; return the dropped parameter names."""
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidRequestError("'n' must be 1: Anthropic models return one choice", param="n")
    out["max_tokens"] = _max_tokens(body, default_max)
    stop = body.get("stop")
    if isinstance(stop, str):
        out["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        if not all(isinstance(s, str) for s in stop):
            raise InvalidRequestError("'stop' must be a string or an array of strings", param="stop")
        out["stop_sequences"] = stop
    elif stop is not None and stop != []:
        raise InvalidRequestError("'stop' must be a string or an array of strings", param="stop")
    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None:
            out[name] = value
    for name in _FORWARDED:
        value = body.get(name)
        if value is not None:
            kind, what = _FORWARDED_TYPES[name]
            if type(value) is not kind:  # exact: `true` is no integer
                raise InvalidRequestError(f"'{name}' must be {what}", param=name)
            out[name] = value
    user = body.get("user")
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    tools = body.get("tools")
    converted = translate_tools(tools) if tools else []
    search = body.get("web_search_options")
    if search is not None:
        converted.append(web_search_tool(search))
    if converted:
        out["tools"] = converted
        choice = translate_tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            out["tool_choice"] = choice
    if body.get("stream") is True:
        out["stream"] = True
    return [
        name
        for name, value in body.items()
        if name not in _TRANSLATED and name not in _FORWARDED and value is not None and _NO_OP.get(name) != value
    ]


def _max_tokens(body: dict[str, Any], default_max: int) -> int:
    value = max_output_tokens(body)
    if value is not None:
        return value
    thinking = body.get("thinking")
    budget = thinking.get("budget_tokens") if isinstance(thinking, dict) else None
    if isinstance(budget, int) and budget >= default_max:
        return budget + default_max  # the default must leave room for the answer
    return default_max


def translate_tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise InvalidRequestError("'tools' must be an array", param="tools")
    out = []
    for i, tool in enumerate(tools):
        if isinstance(tool, dict) and isinstance(tool.get("type"), str) and SERVER_TOOL.fullmatch(tool["type"]):
            out.append(tool)  # an Anthropic-defined tool (web_search_20250305...): forwarded as it is
            continue
        fn = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            kind = tool.get("type") if isinstance(tool, dict) else None
            raise InvalidRequestError(
                f"tools[{i}]: only function tools with a name are supported (got type {kind!r})",
                param=f"tools[{i}]",
            )
        tool_fn = function_tool(fn, i)
        converted: dict[str, Any] = {
            "name": tool_fn.name,
            "input_schema": tool_fn.parameters
            if tool_fn.parameters is not None
            else {"type": "object", "properties": {}},
        }
        if tool_fn.description:
            converted["description"] = tool_fn.description
        if "cache_control" in tool:
            converted["cache_control"] = cache_control(tool["cache_control"], f"tools[{i}]")
        out.append(converted)
    return out


def web_search_tool(options: Any) -> dict[str, Any]:
    """OpenAI's ``web_search_options`` as Anthropic's web search server tool; the
    approximate ``user_location`` is kept (``search_context_size`` has no equivalent)."""
    if not isinstance(options, dict):
        raise InvalidRequestError("'web_search_options' must be an object", param="web_search_options")
    tool: dict[str, Any] = {"type": WEB_SEARCH_TOOL, "name": "web_search"}
    location = options.get("user_location")
    approximate = location.get("approximate") if isinstance(location, dict) else None
    if isinstance(approximate, dict):
        fields = ("city", "region", "country", "timezone")
        tool["user_location"] = {"type": "approximate", **{k: approximate[k] for k in fields if approximate.get(k)}}
    return tool


def cache_control(mark: Any, where: str) -> Any:
    """A ``cache_control`` mark as it came (its values are Anthropic's to judge), once it
    is an object."""
    if not isinstance(mark, dict):
        raise InvalidRequestError(f"{where}.cache_control must be an object", param=f"{where}.cache_control")
    return mark


def translate_tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None:
        result: dict[str, Any] | None = None
    elif isinstance(choice, str) and choice in _TOOL_CHOICE:
        result = {"type": _TOOL_CHOICE[choice]}
    elif isinstance(choice, dict) and isinstance(function := choice.get("function"), dict):
        if not isinstance(function.get("name"), str):
            raise InvalidRequestError("'tool_choice.function.name' must be a string", param="tool_choice")
        result = {"type": "tool", "name": function["name"]}
    else:
        raise InvalidRequestError(
            "'tool_choice' must be auto, none, required or {type: function, function: {name}}", param="tool_choice"
        )
    if parallel is False:
        if result is None:
            result = {"type": "auto"}
        if result["type"] != "none":
            result["disable_parallel_tool_use"] = True
    return result
