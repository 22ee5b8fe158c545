"""response_format through the official openai SDK (seeds 000 and 004), both ends checked."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from proxy_core_structured_output.plugin import MODE_HEADER, REMOVED_HEADER
from pydantic import BaseModel, ConfigDict, Field

from proxy_core.testing import FakeUpstream, Reply
from proxy_core.testing.fake_answers import anthropic_message
from proxy_core.testing.fake_answers import anthropic_stream as events_reply

PERSON_SCHEMA: dict[str, Any] = {
    "name": "person",
    "schema": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "hobbies": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "age", "hobbies"],
        "additionalProperties": False,
    },
    "strict": True,
}
PERSON = {"name": "Ada Quill", "age": 34, "hobbies": ["rowing", "chess", "baking"]}
PROMPT = "Invent a fictional person with name, age, and three hobbies."
OLD = "anthropic-main/claude-sonnet-4-20250514"  # tool conversion
NEW = "anthropic-main/claude-sonnet-4-5"  # native structured output
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def message_reply(model: str, content: list[dict[str, Any]], **kw: Any) -> Reply:
    return Reply.json(anthropic_message(model, content, **kw))


def test_seed_000_person_through_a_tool(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": "person", "input": PERSON}
    fake_anthropic.queue(message_reply("claude-sonnet-4-20250514", [tool_use], stop_reason="tool_use"))
    raw = openai_client.chat.completions.with_raw_response.create(
        model=OLD,
        messages=[{"role": "user", "content": PROMPT}],
        response_format={"type": "json_schema", "json_schema": PERSON_SCHEMA},  # type: ignore[typeddict-item]
    )
    response = raw.parse()
    message = response.choices[0].message
    assert getattr(message, "refusal", None) is None
    assert message.content and json.loads(message.content) == PERSON
    assert message.tool_calls is None
    assert response.choices[0].finish_reason == "stop"
    assert raw.headers[MODE_HEADER] == "tool"
    assert "x-proxy-core-dropped-params" not in raw.headers and REMOVED_HEADER not in raw.headers

    upstream = fake_anthropic.last.json()
    assert upstream["tools"] == [
        {
            "name": "person",
            "input_schema": PERSON_SCHEMA["schema"],
            "description": "Give the final answer (person) as this tool's input: it must match the schema.",
        }
    ]
    assert upstream["tool_choice"] == {"type": "tool", "name": "person"}
    assert "output_config" not in upstream and "response_format" not in upstream


def test_seed_000_person_through_a_tool_streamed(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": "person", "input": PERSON}
    fake_anthropic.queue(events_reply("claude-sonnet-4-20250514", [tool_use], stop_reason="tool_use"))
    stream = openai_client.chat.completions.create(
        model=OLD,
        messages=[{"role": "user", "content": PROMPT}],
        response_format={"type": "json_schema", "json_schema": PERSON_SCHEMA},  # type: ignore[typeddict-item]
        stream=True,
    )
    chunks = [c for c in stream if c.choices]
    assert json.loads("".join(c.choices[0].delta.content or "" for c in chunks)) == PERSON
    assert all(c.choices[0].delta.tool_calls is None for c in chunks)
    assert [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason] == ["stop"]
    assert fake_anthropic.last.json()["tool_choice"] == {"type": "tool", "name": "person"}


@pytest.mark.parametrize("stream", [False, True])
def test_seed_000_person_native(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, stream: bool) -> None:
    text = [{"type": "text", "text": json.dumps(PERSON)}]
    fake_anthropic.queue(
        events_reply("claude-sonnet-4-5", text) if stream else message_reply("claude-sonnet-4-5", text)
    )
    raw = openai_client.chat.completions.with_raw_response.create(
        model=NEW,
        messages=[{"role": "user", "content": PROMPT}],
        response_format={"type": "json_schema", "json_schema": PERSON_SCHEMA},  # type: ignore[typeddict-item]
        stream=stream,
    )
    if stream:
        content = "".join(c.choices[0].delta.content or "" for c in raw.parse() if c.choices)
    else:
        content = raw.parse().choices[0].message.content or ""
    assert json.loads(content) == PERSON
    assert raw.headers[MODE_HEADER] == "native"
    upstream = fake_anthropic.last.json()
    assert upstream["output_config"] == {"format": {"type": "json_schema", "schema": PERSON_SCHEMA["schema"]}}
    assert "tools" not in upstream and "tool_choice" not in upstream and "response_format" not in upstream


class UserInfo(BaseModel):
    name: str = Field(description="Full name of the user")
    age: int = Field(ge=0, description="Age in years")
    occupation: str = Field(description="Job title or profession")
    location: str = Field(description="City or location")
    skills: list[str] = Field(description="List of professional skills")
    model_config = ConfigDict(extra="forbid")


MIKE = {
    "name": "Mike Chen",
    "age": 32,
    "occupation": "software architect",
    "location": "Seattle",
    "skills": ["cloud computing", "microservices", "Kubernetes"],
}
MIKE_PROMPT = (
    "Hi, I'm Mike Chen, a 32-year-old software architect from Seattle. "
    "I specialize in cloud computing, microservices, and Kubernetes."
)


@pytest.mark.parametrize(("model", "mode"), [(NEW, "native"), (OLD, "tool")])
def test_seed_004_pydantic_constraints_removed_for_anthropic(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, model: str, mode: str
) -> None:
    if mode == "tool":
        tool_use = {"type": "tool_use", "id": "toolu_1", "name": "user_info", "input": MIKE}
        fake_anthropic.queue(message_reply("claude-sonnet-4-20250514", [tool_use], stop_reason="tool_use"))
    else:
        fake_anthropic.queue(message_reply("claude-sonnet-4-5", [{"type": "text", "text": json.dumps(MIKE)}]))
    raw = openai_client.chat.completions.with_raw_response.create(
        model=model,
        messages=[
            {"role": "system", "content": "Extract user information and respond according to the provided schema."},
            {"role": "user", "content": MIKE_PROMPT},
        ],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "user_info", "schema": UserInfo.model_json_schema(), "strict": True},
        },
    )
    user = UserInfo.model_validate_json(raw.parse().choices[0].message.content or "")
    assert user.age == 32
    assert raw.headers[REMOVED_HEADER] == "/properties/age/minimum"
    assert raw.headers[MODE_HEADER] == mode
    upstream = fake_anthropic.last.json()
    sent = upstream["output_config"]["format"]["schema"] if mode == "native" else upstream["tools"][0]["input_schema"]
    assert sent["properties"]["age"] == {"type": "integer", "title": "Age", "description": "Age in years"}
    assert sent["required"] == ["name", "age", "occupation", "location", "skills"]


def test_seed_004_beta_parse_api(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    class Person(BaseModel):
        name: str
        age: int = Field(ge=0)
        location: str | None = None

    alex = {"name": "Alex Rodriguez", "age": 29, "location": "Austin"}
    fake_anthropic.queue(message_reply("claude-sonnet-4-5", [{"type": "text", "text": json.dumps(alex)}]))
    completion = openai_client.chat.completions.parse(
        model=NEW,
        messages=[{"role": "user", "content": "Hello, I'm Alex Rodriguez, a 29-year-old product manager from Austin."}],
        response_format=Person,
    )
    assert completion.choices[0].message.parsed == Person(name="Alex Rodriguez", age=29, location="Austin")
    schema = fake_anthropic.last.json()["output_config"]["format"]["schema"]
    assert "minimum" not in schema["properties"]["age"]
    assert schema["additionalProperties"] is False


def test_seed_004_openai_passthrough(openai_client: openai.OpenAI, fake_openai: FakeUpstream) -> None:
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": "user_info", "schema": UserInfo.model_json_schema(), "strict": True},
    }
    raw = openai_client.chat.completions.with_raw_response.create(
        model="openai-main/gpt-4o",
        messages=[{"role": "user", "content": MIKE_PROMPT}],
        response_format=response_format,  # type: ignore[arg-type]
    )
    assert fake_openai.last.json()["response_format"] == response_format  # untouched: minimum included
    assert raw.headers[MODE_HEADER] == "passthrough"
    assert REMOVED_HEADER not in raw.headers


@pytest.mark.parametrize("model", [OLD, NEW, "openai-main/gpt-4o"])
def test_strict_with_properties_missing_from_required_is_a_400(
    openai_client: openai.OpenAI, fake_anthropic: FakeUpstream, fake_openai: FakeUpstream, model: str
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"type": "string"}}},
        },
        "required": ["name", "address"],
        "additionalProperties": False,
    }
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": "hi"}],
            response_format={"type": "json_schema", "json_schema": {"name": "p", "schema": schema, "strict": True}},
        )
    assert "missing: age, address.city, address.zip" in str(err.value)
    assert fake_anthropic.requests == [] and fake_openai.requests == []


def test_json_object_through_a_tool(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": "json_output", "input": {"ok": True}}
    fake_anthropic.queue(message_reply("claude-sonnet-4-5", [tool_use], stop_reason="tool_use"))
    response = openai_client.chat.completions.create(
        model=NEW, messages=[{"role": "user", "content": "Reply in JSON"}], response_format={"type": "json_object"}
    )
    assert json.loads(response.choices[0].message.content or "") == {"ok": True}
    upstream = fake_anthropic.last.json()
    assert upstream["tools"][0]["name"] == "json_output" and upstream["tools"][0]["input_schema"] == {"type": "object"}
    assert upstream["tool_choice"] == {"type": "tool", "name": "json_output"}


def test_with_client_tools_the_model_must_call_one(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    tool_use = {"type": "tool_use", "id": "toolu_w", "name": "get_weather", "input": {"city": "Paris"}}
    fake_anthropic.queue(message_reply("claude-sonnet-4-20250514", [tool_use], stop_reason="tool_use"))
    response = openai_client.chat.completions.create(
        model=OLD,
        messages=[{"role": "user", "content": PROMPT}],
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        response_format={"type": "json_schema", "json_schema": PERSON_SCHEMA},  # type: ignore[typeddict-item]
    )
    assert response.choices[0].finish_reason == "tool_calls"
    calls = response.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather"]  # type: ignore[union-attr]
    upstream = fake_anthropic.last.json()
    assert [t["name"] for t in upstream["tools"]] == ["get_weather", "person"]
    assert upstream["tool_choice"] == {"type": "any"}


def test_thinking_with_a_tool_conversion_is_a_400(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model=OLD,
            messages=[{"role": "user", "content": PROMPT}],
            reasoning_effort="high",
            max_tokens=8000,
            response_format={"type": "json_schema", "json_schema": PERSON_SCHEMA},  # type: ignore[typeddict-item]
        )
    assert "thinking" in str(err.value) and err.value.param == "response_format"
    assert fake_anthropic.requests == []


def test_thinking_with_native_output(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    openai_client.chat.completions.create(
        model=NEW,
        messages=[{"role": "user", "content": PROMPT}],
        reasoning_effort="high",
        max_tokens=8000,
        response_format={"type": "json_schema", "json_schema": PERSON_SCHEMA},  # type: ignore[typeddict-item]
    )
    upstream = fake_anthropic.last.json()
    assert upstream["thinking"] == {"type": "enabled", "budget_tokens": 7200}
    assert upstream["output_config"]["format"]["type"] == "json_schema"


def test_schema_name_clashing_with_a_tool_is_a_400(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        openai_client.chat.completions.create(
            model=OLD,
            messages=[{"role": "user", "content": "hi"}],
            tools=[WEATHER_TOOL],  # type: ignore[list-item]
            response_format={"type": "json_schema", "json_schema": {**PERSON_SCHEMA, "name": "get_weather"}},  # type: ignore[typeddict-item]
        )
    assert "get_weather" in str(err.value)
    assert fake_anthropic.requests == []


def test_malformed_response_format_is_a_400(openai_client: openai.OpenAI, fake_anthropic: FakeUpstream) -> None:
    with pytest.raises(openai.BadRequestError):
        openai_client.chat.completions.create(
            model=OLD,
            messages=[{"role": "user", "content": "hi"}],
            response_format={"type": "json_schema", "json_schema": {"name": "x"}},  # type: ignore[typeddict-item]
        )
    assert fake_anthropic.requests == []
