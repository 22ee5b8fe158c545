"""Chat Completions parameters -> ``generationConfig`` / ``tools`` / ``toolConfig``, and
the policy for the rest.

Translated: ``max_tokens`` / ``max_completion_tokens`` (``maxOutputTokens``), ``stop``
(``stopSequences``, at most 5), ``temperature``, ``top_p``, ``top_k`` (an extension),
``seed``, ``presence_penalty``, ``frequency_penalty``, ``tools``, ``tool_choice``,
``reasoning_effort`` (:mod:`.thinking`), ``response_format`` (native JSON output, only
when the request has no tools: Gemini rejects a JSON response type together with
function calling; with tools the structured-output plugin has already turned it into a
forced function), image ``detail`` (``mediaResolution``). ``n`` above 1 is a 400.
Every other parameter is dropped, never forwarded, and named in
``x-proxy-core-dropped-params``.
"""

from __future__ import annotations

from typing import Any

from proxy_core.canonical import max_output_tokens
from proxy_core.errors import InvalidRequestError

from .parts import MEDIA_RESOLUTION, PartContext
from .request import translate_messages, translate_tool_choice, translate_tools
from .thinking import thinking_config

MAX_STOP_SEQUENCES = 5
_NUMBERS = {"temperature": "temperature", "top_p": "topP", "presence_penalty": "presencePenalty",
            "frequency_penalty": "frequencyPenalty"}  # fmt: skip
_INTEGERS = {"top_k": "topK", "seed": "seed"}
_TRANSLATED = frozenset(
    {"model", "messages", "max_tokens", "max_completion_tokens", "stop", "n", "tools", "tool_choice", "stream",
     "stream_options", "reasoning_effort", "response_format", *_NUMBERS, *_INTEGERS}
)  # fmt: skip
# Values that ask for nothing: not reported as dropped.
_NO_OP: dict[str, Any] = {"logprobs": False, "store": False, "parallel_tool_calls": True}


class Thinking:
    """What :func:`chat_to_gemini` needs to think: the ratios, the default max_tokens."""

    __slots__ = ("default_max", "ratios")

    def __init__(self, ratios: dict[str, float], default_max: int) -> None:
        self.ratios = ratios
        self.default_max = default_max


def chat_to_gemini(
    body: dict[str, Any], info: dict[str, Any], parts: PartContext, thinking: Thinking
) -> tuple[dict[str, Any], list[str]]:
    """The generateContent body for a chat body, and the dropped parameter names."""
    system, contents = translate_messages(body["messages"], parts)
    out: dict[str, Any] = {"contents": contents}
    if system is not None:
        out["systemInstruction"] = system
    dropped: list[str] = []
    tools = body.get("tools")
    if tools:
        out["tools"] = translate_tools(tools)
        choice = translate_tool_choice(body.get("tool_choice"))
        if choice is not None and any("functionDeclarations" in t for t in out["tools"]):
            out["toolConfig"] = choice
    config = _generation_config(body, info, thinking, dropped, has_tools=bool(tools))
    if parts.detail is not None:
        config["mediaResolution"] = MEDIA_RESOLUTION[parts.detail]
    if config:
        out["generationConfig"] = config
    dropped.extend(
        name
        for name, value in body.items()
        if name not in _TRANSLATED and value is not None and _NO_OP.get(name) != value
    )
    return out, dropped


def _generation_config(
    body: dict[str, Any], info: dict[str, Any], thinking: Thinking, dropped: list[str], *, has_tools: bool
) -> dict[str, Any]:
    config: dict[str, Any] = {}
    n = body.get("n")
    if n is not None and n != 1:
        raise InvalidRequestError("'n' must be 1: the gateway returns one choice from Gemini models", param="n")
    max_tokens = max_output_tokens(body)
    if max_tokens is not None:
        config["maxOutputTokens"] = max_tokens
    stop = _stop_sequences(body.get("stop"))
    if stop:
        config["stopSequences"] = stop
    for name, wire in _NUMBERS.items():
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidRequestError(f"'{name}' must be a number", param=name)
            config[wire] = value
    for name, wire in _INTEGERS.items():
        value = body.get(name)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidRequestError(f"'{name}' must be an integer", param=name)
            config[wire] = value
    effort = body.get("reasoning_effort")
    if effort is not None:
        config["thinkingConfig"] = thinking_config(effort, body, info, thinking.ratios, thinking.default_max)
    response_format = body.get("response_format")
    if response_format is not None:
        _response_format(response_format, config, dropped, has_tools)
    return config


def _stop_sequences(stop: Any) -> list[str]:
    if stop is None:
        return []
    sequences = [stop] if isinstance(stop, str) else stop
    if not isinstance(sequences, list) or not all(isinstance(s, str) for s in sequences):
        raise InvalidRequestError("'stop' must be a string or an array of strings", param="stop")
    if len(sequences) > MAX_STOP_SEQUENCES:
        raise InvalidRequestError(f"'stop' takes at most {MAX_STOP_SEQUENCES} sequences on Gemini", param="stop")
    return sequences


def _response_format(response_format: Any, config: dict[str, Any], dropped: list[str], has_tools: bool) -> None:
    if not isinstance(response_format, dict):
        raise InvalidRequestError("'response_format' must be an object", param="response_format")
    kind = response_format.get("type")
    if kind == "text":
        return
    if has_tools:  # never a JSON response type with tools (the structured-output plugin uses a tool instead)
        dropped.append("response_format")
        return
    if kind == "json_object":
        config["responseMimeType"] = "application/json"
        return
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if kind != "json_schema" or not isinstance(schema, dict):
        raise InvalidRequestError(
            "'response_format' must be {type: text | json_object | json_schema, json_schema: {name, schema}}",
            param="response_format",
        )
    config["responseMimeType"] = "application/json"
    config["responseJsonSchema"] = schema
