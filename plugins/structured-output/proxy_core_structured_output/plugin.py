"""The ``structured-output`` feature plugin: ``response_format`` for every target.

* Providers declaring ``response_format`` (OpenAI-wire): passed through natively.
* Providers declaring ``json_object`` / ``json_schema`` (OpenAI-compatible, Azure): JSON
  mode natively; a schema natively where the model's info says ``native_structured_output``.
* Providers declaring ``output_config`` (Anthropic-wire) whose model's info says
  ``native_structured_output``: ``output_config.format = {type: json_schema, schema}``.
* Everything else: one forced tool whose input schema is the schema (:mod:`.convert`).

Schemas for Anthropic-wire targets lose the keywords Anthropic rejects
(:mod:`.schema`); the removed JSON pointers are named in a response header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from proxy_core import Attempt, RequestContext, hookimpl
from proxy_core.errors import InvalidRequestError

from .convert import DEFAULT_TOOL, add_output_tool, stream_unwrapper, unwrap_response
from .schema import anthropic_schema, strict_missing

MODE_HEADER = "x-proxy-core-structured-output"  # native | tool | passthrough
REMOVED_HEADER = "x-proxy-core-schema-removed"
_TOOL = "structured_output.tool"
_THINKING_ON = ("enabled", "adaptive")


def _spec(response_format: dict[str, Any]) -> tuple[str, dict[str, Any] | None]:
    """(name, schema) of a response_format; 400 for a malformed one."""
    kind = response_format.get("type")
    if kind == "json_object":
        return DEFAULT_TOOL, None
    if kind != "json_schema":
        raise InvalidRequestError(
            "'response_format.type' must be text, json_object or json_schema", param="response_format"
        )
    spec = response_format.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(spec, dict) or not isinstance(schema, dict):
        raise InvalidRequestError(
            "'response_format.json_schema' must be {name, schema: {...}, strict}", param="response_format"
        )
    name = spec.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidRequestError("'response_format.json_schema.name' must be a string", param="response_format")
    if spec.get("strict") is True:
        missing = strict_missing(schema)
        if missing:
            raise InvalidRequestError(
                "response_format.json_schema: with strict true every property must be in 'required'; "
                f"missing: {', '.join(missing)}",
                param="response_format",
            )
    return name or DEFAULT_TOOL, schema


@hookimpl
def prepare_request(ctx: RequestContext, attempt: Attempt) -> None:
    if ctx.operation.name != "chat":
        return
    response_format = attempt.body.get("response_format")
    if response_format is None:
        return
    if not isinstance(response_format, dict):
        raise InvalidRequestError(
            "'response_format' must be an object ({type: text | json_object | json_schema})", param="response_format"
        )
    if response_format.get("type") == "text":
        return
    try:
        _apply(attempt, response_format)
    except RecursionError:  # the schema walks recurse: a schema nested deeper than the stack
        raise InvalidRequestError("'response_format' schema is nested too deeply", param="response_format") from None


def _apply(attempt: Attempt, response_format: dict[str, Any]) -> None:
    """Pass ``response_format`` through, or make it native output or a forced tool."""
    body = attempt.body
    name, schema = _spec(response_format)
    target = attempt.target
    capabilities = target.provider.capabilities
    if "response_format" in capabilities or _native_by_model(capabilities, schema, target.info):
        attempt.response_headers[MODE_HEADER] = "passthrough"
        return
    del body["response_format"]
    anthropic_wire = "output_config" in capabilities
    native = anthropic_wire and schema is not None and target.info.get("native_structured_output") is True
    schema = schema if schema is not None else {"type": "object"}
    if anthropic_wire:
        schema, removed = anthropic_schema(schema, native=native)
        if removed:
            attempt.response_headers[REMOVED_HEADER] = ",".join(removed)
    if native:
        output_config = body.get("output_config")
        base = output_config if isinstance(output_config, dict) else {}
        body["output_config"] = {**base, "format": {"type": "json_schema", "schema": schema}}
        attempt.response_headers[MODE_HEADER] = "native"
        return
    thinking = body.get("thinking")
    add_output_tool(body, name, schema, isinstance(thinking, dict) and thinking.get("type") in _THINKING_ON)
    attempt.response_headers[MODE_HEADER] = "tool"
    attempt.notes[_TOOL] = name


def _native_by_model(capabilities: frozenset[str], schema: dict[str, Any] | None, info: dict[str, Any]) -> bool:
    """OpenAI-wire providers whose support varies (the compatible family, Azure): JSON mode
    where they declare ``json_object``; a schema where they declare ``json_schema`` and
    the model's info says ``native_structured_output``."""
    if schema is None:
        return "json_object" in capabilities
    return "json_schema" in capabilities and info.get("native_structured_output") is True


@hookimpl
def transform_response(ctx: RequestContext, attempt: Attempt, response: dict[str, Any]) -> None:
    name = attempt.notes.get(_TOOL)
    if name is not None:
        unwrap_response(response, name)


@hookimpl
def stream_transformer(ctx: RequestContext, attempt: Attempt) -> Callable[[Any], list[Any]] | None:
    name = attempt.notes.get(_TOOL)
    return stream_unwrapper(name) if name is not None else None
