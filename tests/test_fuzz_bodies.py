"""Property test: no JSON body makes the gateway answer 5xx (issue 11).

Bodies start from valid requests of each route (``POST /v1/chat/completions`` in OpenAI's
shape, ``POST /v1/messages`` in Anthropic's) and get one to three mutations: a field
anywhere in the body (a top-level parameter, a message, a content part, a tool, a
``cache_control``...) replaced by a value of another type or shape, or removed; plus
arbitrary JSON objects. They go over real HTTP to an in-process gateway whose Anthropic
and OpenAI accounts are fake upstreams that answer 200 to anything.

Every answer must be below 500; a 400 must be in the route's error shape and name a
field of the request. Streams must not end in an internal error event. The run is
derandomized (the same bodies on every run); ``PROXY_CORE_FUZZ_EXAMPLES`` raises the
number of bodies per route for a deeper search::

    PROXY_CORE_FUZZ_EXAMPLES=3000 .venv/bin/python -m pytest -q tests/test_fuzz_bodies.py
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import openai
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RunningGateway, default_config
from proxy_core.testing.pytest_plugin import shared_gateway

EXAMPLES = int(os.environ.get("PROXY_CORE_FUZZ_EXAMPLES", "300"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
AUTH = {"authorization": f"Bearer {GATEWAY_KEY}"}
ANTHROPIC_MODEL = "anthropic-main/claude-sonnet-4-5"
OPENAI_MODEL = "openai-main/gpt-4o-mini"
CHAT, MESSAGES, COUNT_TOKENS = "/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens"
INTERNAL = b"internal gateway error"

# --- valid starting points ---------------------------------------------------------------

PNG = "data:image/png;base64,iVBORw0KGgo="
PDF = "data:application/pdf;base64,JVBERi0xLjQK"
EPHEMERAL = {"type": "ephemeral"}
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

CHAT_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": [{"type": "text", "text": "Be brief.", "cache_control": EPHEMERAL}]},
    {"role": "developer", "content": "Answer in English."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in these?", "cache_control": EPHEMERAL},
            {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            {"type": "file", "file": {"file_data": PDF, "filename": "a.pdf"}},
        ],
    },
    {
        "role": "assistant",
        "content": "Let me look.",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"city": "Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    {"role": "user", "content": "Thanks, and now?"},
]
CHAT_OPTIONAL: dict[str, Any] = {
    "tools": [
        {
            "type": "function",
            "function": {"name": "lookup", "description": "Weather of a city", "parameters": SCHEMA},
            "cache_control": EPHEMERAL,
        }
    ],
    "tool_choice": "auto",
    "parallel_tool_calls": True,
    "reasoning_effort": "low",
    "response_format": {"type": "json_schema", "json_schema": {"name": "out", "schema": SCHEMA, "strict": True}},
    "stream": True,
    "stream_options": {"include_usage": True},
    "max_tokens": 4096,
    "max_completion_tokens": 4096,
    "temperature": 0.7,
    "top_p": 0.9,
    "stop": ["END"],
    "n": 1,
    "metadata": {"team": "qa"},
    "user": "user-1",
    "prompt_cache_key": "conversation-1",
    "seed": 7,
    "top_k": 5,
}
# Pairs a valid request cannot hold together (each is a 400 naming a field, by design).
CHAT_EXCLUSIVE = (("reasoning_effort", "response_format"),)

MESSAGES_MESSAGES: list[dict[str, Any]] = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in these?", "cache_control": EPHEMERAL},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0x"}},
        ],
    },
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Let me see.", "signature": "sig=="},
            {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"city": "Paris"}},
        ],
    },
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]},
]
MESSAGES_OPTIONAL: dict[str, Any] = {
    "system": [{"type": "text", "text": "Be brief.", "cache_control": EPHEMERAL}],
    "tools": [{"name": "lookup", "description": "Weather", "input_schema": SCHEMA, "cache_control": EPHEMERAL}],
    "tool_choice": {"type": "auto"},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "stop_sequences": ["END"],
    "temperature": 1,
    "top_p": 0.99,
    "top_k": 5,
    "metadata": {"user_id": "user-1"},
    "stream": True,
}

# --- values of the wrong type or shape ---------------------------------------------------

PLAUSIBLE_KEYS = [
    *("type", "text", "role", "content", "name", "function", "parameters", "arguments", "id", "image_url", "url"),
    *("detail", "file", "file_id", "file_data", "cache_control", "json_schema", "schema", "strict", "required"),
    *("include_usage", "budget_tokens", "tool_calls", "source", "media_type", "data", "input", "tool_use_id"),
    *("thinking", "signature", "properties", "description"),
]
PLAUSIBLE_STRINGS = [
    *("", " ", "auto", "none", "required", "any", "tool", "low", "medium", "high", "max", "text", "json_object"),
    *("json_schema", "function", "image_url", "image", "file", "document", "ephemeral", "enabled", "adaptive"),
    *("disabled", "user", "assistant", "system", "developer", "base64", "url", "https://example.com/x.png"),
    *("data:image/png;base64,AAAA", "data:application/pdf;base64,JVBERi0x", "data:text/plain;base64,QQ==", "data:,x"),
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64)
    | st.sampled_from([0, 1, -1, 2, 1024, 10**9])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(PLAUSIBLE_STRINGS)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(PLAUSIBLE_KEYS) | st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
REMOVE = object()
# Mostly a scalar of the wrong type (the commonest client bug), else a structure, else removal.
mutations = st.integers(min_value=0, max_value=9).flatmap(
    lambda n: st.just(REMOVE) if n == 0 else scalars if n < 6 else json_values
)


@dataclass
class Case:
    route: str
    body: dict[str, Any]
    mutated: list[str] = field(default_factory=list)  # dotted paths, for the report


def _path(draw: st.DrawFn, body: dict[str, Any], fields: list[str]) -> tuple[Any, ...]:
    """A top-level field (present or not), then a random walk into its value: every
    field is as likely to be hit as any other, however deep its value is."""
    path: tuple[Any, ...] = (draw(st.sampled_from(fields)),)
    node = body.get(path[0])
    while isinstance(node, dict | list) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        path = (*path, key)
        node = node[key]
    return path


def _set(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    parent: Any = body
    for key in path[:-1]:
        parent = parent[key]
    if value is not REMOVE:
        parent[path[-1]] = value
    elif isinstance(parent, dict):
        parent.pop(path[-1], None)
    else:
        del parent[path[-1]]


@st.composite
def mutated(draw: st.DrawFn, route: str) -> Case:
    chat = route == CHAT
    model = draw(st.sampled_from([ANTHROPIC_MODEL, OPENAI_MODEL]) if chat else st.just(ANTHROPIC_MODEL))
    optional = CHAT_OPTIONAL if chat else MESSAGES_OPTIONAL
    names = draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=6))
    if chat:
        names = [n for n in names if not any(n == b and a in names for a, b in CHAT_EXCLUSIVE)]
    body: dict[str, Any] = {"model": model}
    if not chat:
        body["max_tokens"] = 2048
    body["messages"] = copy.deepcopy(draw(st.lists(st.sampled_from(CHAT_MESSAGES if chat else MESSAGES_MESSAGES))))
    if chat and not body["messages"]:
        body["messages"] = [{"role": "user", "content": "Hi"}]
    body.update(copy.deepcopy({n: optional[n] for n in names}))
    case = Case(route, body)
    fields = ["model", "messages", *(["max_tokens"] if not chat else []), *sorted(optional)]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = _path(draw, body, fields)
        value = draw(mutations)
        _set(body, path, value)
        case.mutated.append(".".join(map(str, path)) + (" removed" if value is REMOVE else f" = {value!r:.60}"))
    return case


arbitrary = st.builds(
    Case,
    st.sampled_from([CHAT, MESSAGES, COUNT_TOKENS]),
    st.dictionaries(
        st.sampled_from(["model", "messages", "max_tokens", *CHAT_OPTIONAL, *MESSAGES_OPTIONAL]) | st.text(max_size=5),
        json_values,
        max_size=6,
    ),
)

# --- what an answer must look like -------------------------------------------------------

REQUIRED_FIELDS = ("model", "messages", "max_tokens")


def problem_with(case: Case, response: httpx.Response) -> str | None:
    """Why this answer is wrong, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:200]}"
    if status == 200:
        if INTERNAL in response.content:
            return f"200 stream with an internal error: {response.text[-200:]}"
        return None
    try:
        data = response.json()
    except ValueError:
        return f"{status} with a body that is not JSON: {response.text[:200]}"
    if case.route == CHAT:
        error = data.get("error") if isinstance(data, dict) else None
        if not (isinstance(error, dict) and {"message", "type", "param", "code"} <= set(error)):
            return f"{status} not in OpenAI's error shape: {response.text[:200]}"
        named = f"{error['message']} {error['param']}"
    else:
        error = data.get("error") if isinstance(data, dict) else None
        if not (data.get("type") == "error" and isinstance(error, dict) and {"type", "message"} <= set(error)):
            return f"{status} not in Anthropic's error shape: {response.text[:200]}"
        named = str(error["message"])
    if status == 400 and not any(name in named for name in [*REQUIRED_FIELDS, *case.body]):
        return f"400 naming no field of the request: {named[:200]}"
    return None


@dataclass
class Findings:
    sent: int = 0
    problems: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def check(self, client: httpx.Client, case: Case) -> None:
        # json, not orjson: it writes integers beyond 64 bits too (the gateway reads them as floats).
        response = client.post(case.route, content=json.dumps(case.body), headers=AUTH)
        self.sent += 1
        problem = problem_with(case, response)
        if problem is None:
            return
        model = case.body.get("model")
        account = model.split("/", 1)[0] if isinstance(model, str) else "?"
        fields = sorted({m.split(".", 1)[0].split(" ", 1)[0] for m in case.mutated}) or ["arbitrary"]
        kind = f"{problem.split(':', 1)[0]} on {case.route} ({account}): {', '.join(fields)}"
        self.problems[kind] += 1
        self.examples.setdefault(
            kind, f"{problem}\n    mutated: {'; '.join(case.mutated)}\n    body: {json.dumps(case.body)[:500]}"
        )

    def report(self) -> str:
        server_errors = sum(n for kind, n in self.problems.items() if kind.startswith("5"))
        total = sum(self.problems.values())
        lines = [f"{total} of {self.sent} bodies got a wrong answer ({server_errors} with a 5xx):"]
        lines += [f"  [{self.problems[kind]}x] {kind}\n    {self.examples[kind]}" for kind in sorted(self.problems)]
        return "\n".join(lines)


def _config(anthropic_url: str, openai_url: str) -> dict[str, Any]:
    return default_config(openai_url=openai_url, anthropic_url=anthropic_url)


gateway_config, _shared_gateway, gateway = shared_gateway(_config)


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=10) as http:
        yield http


def run(strategy: st.SearchStrategy[Case], client: httpx.Client) -> Findings:
    """Every body of ``strategy`` is sent; problems are collected (not raised) so one run
    reports each distinct failure with an example body."""
    findings = Findings()

    @SETTINGS
    @given(strategy)
    def send(case: Case) -> None:
        findings.check(client, case)

    send()
    return findings


@pytest.mark.parametrize("route", [CHAT, MESSAGES])
def test_mutated_valid_bodies_never_get_5xx(client: httpx.Client, route: str) -> None:
    findings = run(mutated(route), client)
    assert not findings.problems, findings.report()


def test_arbitrary_json_objects_never_get_5xx(client: httpx.Client) -> None:
    findings = run(arbitrary, client)
    assert not findings.problems, findings.report()


def test_unmutated_bases_are_served(client: httpx.Client, fake_anthropic: FakeUpstream) -> None:
    """The starting points themselves are valid: every optional field at once reaches the
    upstream (for both accounts), so a 400 in the fuzz runs comes from a mutation."""
    chat = {"model": ANTHROPIC_MODEL, "messages": CHAT_MESSAGES, **CHAT_OPTIONAL}
    del chat["reasoning_effort"]
    for model in (ANTHROPIC_MODEL, OPENAI_MODEL):
        r = client.post(CHAT, json={**chat, "model": model}, headers=AUTH)
        assert r.status_code == 200, r.text
        assert INTERNAL not in r.content
    body = {"model": ANTHROPIC_MODEL, "max_tokens": 2048, "messages": MESSAGES_MESSAGES, **MESSAGES_OPTIONAL}
    r = client.post(MESSAGES, json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    assert fake_anthropic.last.json()["messages"] == MESSAGES_MESSAGES


# --- each wrongly typed field the gateway reads: a 400 naming it, no upstream call ------

HI = [{"role": "user", "content": "Hi"}]
TOOL = CHAT_OPTIONAL["tools"][0]
BOTH = (ANTHROPIC_MODEL, OPENAI_MODEL)
# (models, parameters sent with the SDK call, the `param` of the 400)
WRONG_TYPES: list[tuple[tuple[str, ...], dict[str, Any], str]] = [
    (BOTH, {"reasoning_effort": ["low"]}, "reasoning_effort"),
    (BOTH, {"reasoning_effort": {"effort": "low"}}, "reasoning_effort"),
    (BOTH, {"tools": 5}, "tools"),
    (BOTH, {"tools": [5]}, "tools[0]"),
    (BOTH, {"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
    (BOTH, {"messages": [{"role": "user", "content": ["Hi"]}]}, "messages[0].content[0]"),
    (BOTH, {"messages": [{"role": "assistant", "content": "x", "tool_calls": {}}, *HI]}, "messages[0].tool_calls"),
    (BOTH, {"stream": True, "stream_options": [1]}, "stream_options"),
    (BOTH, {"stream": True, "stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
    (BOTH, {"temperature": "hot"}, "temperature"),
    (BOTH, {"top_p": [1]}, "top_p"),
    (BOTH, {"max_tokens": "100"}, "max_tokens"),
    (BOTH, {"max_completion_tokens": 1.5}, "max_completion_tokens"),
    (BOTH, {"n": True}, "n"),
    (BOTH, {"stop": [1]}, "stop"),
    (BOTH, {"stop": {"x": 1}}, "stop"),
    (BOTH, {"tool_choice": 5}, "tool_choice"),
    (BOTH, {"parallel_tool_calls": "yes"}, "parallel_tool_calls"),
    (BOTH, {"metadata": "x"}, "metadata"),
    (BOTH, {"user": 5}, "user"),
    (BOTH, {"response_format": "json"}, "response_format"),
    (
        BOTH,
        {"response_format": {"type": "json_schema", "json_schema": {"name": 5, "schema": SCHEMA}}},
        "response_format",
    ),
    (BOTH, {"prompt_cache_key": 5}, "prompt_cache_key"),
    (
        BOTH,
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": "ephemeral"}]}]},
        "messages[0].content[0].cache_control",
    ),
    (BOTH, {"tools": [{**TOOL, "cache_control": True}]}, "tools[0].cache_control"),
    (
        (ANTHROPIC_MODEL,),  # required holds an object: strict mode's check crashed on it
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "out", "strict": True, "schema": {**SCHEMA, "required": [{"city": 1}]}},
            }
        },
        "response_format",
    ),
    ((ANTHROPIC_MODEL,), {"thinking": "on"}, "thinking"),
    ((ANTHROPIC_MODEL,), {"top_k": "5"}, "top_k"),
    ((ANTHROPIC_MODEL,), {"output_config": ["high"]}, "output_config"),
    ((ANTHROPIC_MODEL,), {"tools": [TOOL], "tool_choice": {"type": "function", "function": "lookup"}}, "tool_choice"),
    (
        (ANTHROPIC_MODEL,),
        {"tools": [{**TOOL, "function": {**TOOL["function"], "parameters": "x"}}]},
        "tools[0].function.parameters",
    ),
    (
        (ANTHROPIC_MODEL,),
        {"tools": [{**TOOL, "function": {**TOOL["function"], "description": ["x"]}}]},
        "tools[0].function.description",
    ),
    (  # the output tool's name check read `function` as an object
        (ANTHROPIC_MODEL,),
        {"response_format": {"type": "json_object"}, "tools": [{"type": "function", "function": "lookup"}]},
        "tools[0]",
    ),
    ((ANTHROPIC_MODEL,), {"reasoning_effort": "low", "max_tokens": 0}, "max_tokens"),  # 0 was replaced by 8192
]


@pytest.mark.parametrize(
    ("model", "params", "param"),
    [(model, params, param) for models, params, param in WRONG_TYPES for model in models],
    ids=lambda v: v if isinstance(v, str) else orjson.dumps(v).decode()[:60],
)
def test_wrongly_typed_field_is_a_400_naming_it(
    openai_for: Callable[..., openai.OpenAI],
    gateway: RunningGateway,
    fake_openai: FakeUpstream,
    fake_anthropic: FakeUpstream,
    model: str,
    params: dict[str, Any],
    param: str,
) -> None:
    client = openai_for(gateway)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=model, messages=HI, extra_body=params)
    assert info.value.status_code == 400
    body = info.value.body
    assert isinstance(body, dict) and body["type"] == "invalid_request_error"
    assert body["param"] == param
    assert param.split("[", 1)[0].split(".", 1)[0] in body["message"]
    assert fake_openai.requests == [] and fake_anthropic.requests == []
    # The gateway keeps serving.
    assert client.chat.completions.create(model=model, messages=HI).choices[0].message.content


def test_messages_route_names_a_wrongly_typed_messages(gateway: RunningGateway, fake_anthropic: FakeUpstream) -> None:
    with anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0) as claude:
        with pytest.raises(anthropic.BadRequestError) as info:
            claude.messages.create(model=ANTHROPIC_MODEL, max_tokens=16, messages="Hi")  # type: ignore[arg-type]
        assert info.value.body == {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "messages: Input should be a valid list"},
        }
        assert fake_anthropic.requests == []
        assert claude.messages.create(model=ANTHROPIC_MODEL, max_tokens=16, messages=HI).content  # type: ignore[arg-type]
