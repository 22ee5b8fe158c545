"""The schema walker and the stream unwrapper, on their own."""

from __future__ import annotations

from typing import Any

from proxy_core_structured_output.convert import stream_unwrapper, unwrap_response
from proxy_core_structured_output.schema import anthropic_schema, strict_missing


def test_keywords_removed_structurally() -> None:
    schema = {
        "type": "object",
        "properties": {
            "minimum": {"type": "integer", "minimum": 1, "maximum": 9},  # a property named like the keyword
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "minItems": 2, "maxItems": 4},
            "one": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "choice": {"anyOf": [{"type": "number", "multipleOf": 2}, {"$ref": "#/$defs/Thing"}]},
        },
        "$defs": {"Thing": {"type": "object", "properties": {"x": {"type": "string", "minLength": 1}}}},
        "required": ["minimum"],
    }
    cleaned, removed = anthropic_schema(schema, native=False)
    assert removed == [
        "/properties/minimum/minimum",
        "/properties/minimum/maximum",
        "/properties/tags/items/maxLength",
        "/properties/tags/minItems",
        "/properties/tags/maxItems",
        "/properties/choice/anyOf/0/multipleOf",
        "/$defs/Thing/properties/x/minLength",
    ]
    assert cleaned["properties"]["minimum"] == {"type": "integer"}
    assert cleaned["properties"]["one"]["minItems"] == 1
    assert "additionalProperties" not in cleaned  # tools take open objects
    assert schema["properties"]["minimum"]["minimum"] == 1  # the client's schema is not mutated


def test_native_objects_get_additional_properties_false() -> None:
    schema = {
        "type": "object",
        "properties": {"meta": {"type": "object", "additionalProperties": {"type": "string"}}},
        "additionalProperties": True,
    }
    cleaned, removed = anthropic_schema(schema, native=True)
    assert cleaned["additionalProperties"] is False
    assert cleaned["properties"]["meta"]["additionalProperties"] is False
    assert removed == ["/properties/meta/additionalProperties", "/additionalProperties"]


def test_strict_missing_names_nested_properties() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"b": {}, "c": {}}, "required": ["b"]},
            },
        },
        "required": ["a", "items"],
    }
    assert strict_missing(schema) == ["items.c"]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_stream_unwrapper_reindexes_other_tool_calls() -> None:
    transform = stream_unwrapper("person")
    ours = {"index": 0, "id": "t1", "type": "function", "function": {"name": "person", "arguments": ""}}
    theirs = {"index": 1, "id": "t2", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    out = [
        transform(_chunk({"tool_calls": [ours]})),
        transform(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]})),
        transform(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]})),
        transform(_chunk({"tool_calls": [theirs]})),
        transform(_chunk({}, "tool_calls")),
    ]
    deltas = [o[0]["choices"][0]["delta"] for o in out]
    assert "".join(d.get("content", "") for d in deltas) == '{"a": 1}'
    assert deltas[3]["tool_calls"][0]["index"] == 0 and deltas[3]["tool_calls"][0]["id"] == "t2"
    assert "tool_calls" not in deltas[0]
    assert out[-1][0]["choices"][0]["finish_reason"] == "tool_calls"  # a client tool was called


def test_unwrap_response_keeps_other_calls() -> None:
    calls = [
        {"id": "t1", "type": "function", "function": {"name": "person", "arguments": '{"a": 1}'}},
        {"id": "t2", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}},
    ]
    response = {"choices": [{"message": {"content": None, "tool_calls": calls}, "finish_reason": "tool_calls"}]}
    unwrap_response(response, "person")
    choice = response["choices"][0]
    assert choice["message"] == {"content": '{"a": 1}', "tool_calls": [calls[1]]}
    assert choice["finish_reason"] == "tool_calls"
