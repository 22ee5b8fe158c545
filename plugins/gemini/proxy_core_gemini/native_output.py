"""Native structured output on Gemini targets when the request has no tools.

Gemini answers in JSON natively (``responseMimeType`` + ``responseJsonSchema``), but not
together with function calling: with tools, ``response_format`` is left to the
structured-output plugin, which turns it into a forced function. This runs before that
plugin (``tryfirst``) and takes ``response_format`` out of the body when native output
fits, so the plugin leaves it alone; the adapter reads it from ``attempt.notes``.
"""

from __future__ import annotations

from typing import Any

from proxy_core import Attempt
from proxy_core.errors import InvalidRequestError

NOTE = "gemini.response_format"
MODE_HEADER = "x-proxy-core-structured-output"  # the structured-output plugin's header


def take_native(attempt: Attempt) -> None:
    body = attempt.body
    response_format = body.get("response_format")
    if response_format is None or body.get("tools"):
        return
    if not isinstance(response_format, dict):
        raise InvalidRequestError(
            "'response_format' must be an object ({type: text | json_object | json_schema})", param="response_format"
        )
    if response_format.get("type") == "json_schema":
        _check_strict(response_format.get("json_schema"))
    attempt.notes[NOTE] = body.pop("response_format")
    if response_format.get("type") != "text":
        attempt.response_headers[MODE_HEADER] = "native"


def _check_strict(spec: Any) -> None:
    """strict: every property must be required, as on OpenAI (the structured-output
    plugin's rule, when it is installed)."""
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict) or spec.get("strict") is not True:
        return
    try:
        from proxy_core_structured_output.schema import strict_missing
    except ImportError:
        return
    missing = strict_missing(schema)
    if missing:
        raise InvalidRequestError(
            "response_format.json_schema: with strict true every property must be in 'required'; "
            f"missing: {', '.join(missing)}",
            param="response_format",
        )
