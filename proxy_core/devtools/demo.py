"""`make demo`: the seeds' client examples, through the official SDKs, against fakes.

Starts a fake OpenAI and a fake Anthropic upstream on 127.0.0.1 and a gateway in front
of them, then runs the examples of ../shared/seeds (chat, streaming, tools with the
tool-result round trip, vision, PDF, the native Messages API, count_tokens) and prints
what each returned. Nothing leaves the machine.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from collections.abc import Callable
from typing import Any

import anthropic
import openai

from proxy_core import Gateway
from proxy_core.testing import GATEWAY_KEY, BackgroundLoop, FakeUpstream, RecordedRequest, Reply, default_config
from proxy_core.testing.fake_answers import anthropic_message
from proxy_core.testing.server import RunningGateway


def weather_tool_reply(request: RecordedRequest) -> Reply:
    """The fake model calls get_weather when told to, and answers from the tool result."""
    body = request.json()
    last = body["messages"][-1]
    if isinstance(last.get("content"), list) and last["content"][0].get("type") == "tool_result":
        result = json.loads(last["content"][0]["content"] if isinstance(last["content"][0]["content"], str) else "{}")
        text = f"It is {result.get('temp_c')} °C and {result.get('summary')} in {result.get('city')}."
        return Reply.json(anthropic_message(body["model"], [{"type": "text", "text": text}]))
    call = {"type": "tool_use", "id": "toolu_demo01", "name": "get_weather", "input": {"city": "Bengaluru"}}
    return Reply.json(anthropic_message(body["model"], [call], stop_reason="tool_use"))


def show(title: str, value: Any) -> None:
    print(f"\n== {title}\n{value}")


def run(examples: list[tuple[str, Callable[[], Any]]]) -> int:
    failures = 0
    for title, example in examples:
        try:
            show(title, example())
        except Exception as e:  # a demo reports and goes on
            failures += 1
            show(title, f"FAILED: {type(e).__name__}: {e}")
    return failures


def main() -> int:
    loop = BackgroundLoop()
    fake_openai, fake_anthropic = FakeUpstream("openai"), FakeUpstream("anthropic")
    loop.run(fake_openai.start())
    loop.run(fake_anthropic.start())
    has_anthropic = importlib.util.find_spec("proxy_core_anthropic") is not None
    config = default_config(openai_url=fake_openai.url, anthropic_url=fake_anthropic.url if has_anthropic else None)
    has_limits = importlib.util.find_spec("proxy_core_limits") is not None
    if has_limits:  # a $0.90 daily budget on a model priced so that each answer costs $0.25
        config["providers"]["openai-main"]["models"]["gpt-budget"] = {
            "input_cost_per_mtok": 0.0,
            "output_cost_per_mtok": 31250.0,
        }
        rule = {"match": {"model": "openai-main/gpt-budget"}, "budget_usd": {"day": 0.9}}
        config["plugins"] = {"limits": {"rules": [rule]}}
    gateway = RunningGateway(Gateway(config), loop).start()
    print(f"gateway on {gateway.url}; fake OpenAI on {fake_openai.url}; fake Anthropic on {fake_anthropic.url}")
    oa = openai.OpenAI(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0)
    an = anthropic.Anthropic(base_url=gateway.url, api_key=GATEWAY_KEY, max_retries=0)
    an_bearer = anthropic.Anthropic(base_url=gateway.url, auth_token=GATEWAY_KEY, max_retries=0)
    claude = "anthropic-main/claude-sonnet-4-20250514"

    def stream_openai() -> str:
        stream = oa.chat.completions.create(
            model="openai-main/gpt-4o-mini", messages=[{"role": "user", "content": "Count from 1 to 5."}], stream=True
        )
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    def tools_round_trip() -> str | None:
        fake_anthropic.queue(weather_tool_reply, weather_tool_reply)
        tools: Any = [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get the current weather for a city.",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                },
            }
        ]
        messages: list[Any] = [{"role": "user", "content": "Weather in Bengaluru?"}]
        first = oa.chat.completions.create(
            model=claude,
            messages=messages,
            tools=tools,
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
        call = (first.choices[0].message.tool_calls or [])[0]
        messages.append(first.choices[0].message)
        result = {"city": "Bengaluru", "temp_c": 28, "summary": "partly cloudy"}
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
        second = oa.chat.completions.create(model=claude, messages=messages)
        return second.choices[0].message.content

    def budget_hit() -> str:
        lines = []
        for i in range(1, 5):
            try:
                oa.chat.completions.create(
                    model="openai-main/gpt-budget", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
                )
                lines.append(f"request {i}: served, $0.25")
            except openai.RateLimitError as e:
                lines.append(f"request {i}: {e.status_code} {e.code}, Retry-After {e.response.headers['retry-after']}s")
                lines.append(f"  {e.body['message'] if isinstance(e.body, dict) else e.message}")
        return "\n".join(lines)

    pdf = base64.b64encode(b"%PDF-1.4 demo").decode()
    examples: list[tuple[str, Callable[[], Any]]] = [
        (
            "openai SDK, chat via an openai account",
            lambda: (
                oa.chat.completions.create(
                    model="openai-main/gpt-4o-mini", messages=[{"role": "user", "content": "What is proxy-core?"}]
                )
                .choices[0]
                .message.content
            ),
        ),
        ("openai SDK, streaming", stream_openai),
        ("models the key may use", lambda: [m.id for m in oa.models.list()]),
    ]
    if has_limits:
        examples.append(("limits: a $0.90 daily budget, answers that cost $0.25 each", budget_hit))
    if has_anthropic:
        examples += [
            (
                "openai SDK -> Anthropic (translated)",
                lambda: (
                    oa.chat.completions.create(
                        model=claude, messages=[{"role": "user", "content": "What is proxy-core in one line?"}]
                    )
                    .choices[0]
                    .message.content
                ),
            ),
            ("openai SDK -> Anthropic, tools + tool result round trip", tools_round_trip),
            (
                "openai SDK -> Anthropic, vision by URL",
                lambda: (
                    oa.chat.completions.create(
                        model=claude,
                        messages=[
                            {
                                "role": "user",
                                "content": [
                                    {"type": "text", "text": "Describe this image in one sentence."},
                                    {"type": "image_url", "image_url": {"url": "https://example.com/boardwalk.jpg"}},
                                ],
                            }
                        ],
                    )
                    .choices[0]
                    .message.content
                ),
            ),
            (
                "openai SDK -> Anthropic, PDF as a file part",
                lambda: (
                    oa.chat.completions.create(
                        model=claude,
                        messages=[
                            {
                                "role": "user",
                                "content": [
                                    {"type": "text", "text": "What text is in this PDF?"},
                                    {
                                        "type": "file",
                                        "file": {
                                            "filename": "sample.pdf",
                                            "file_data": f"data:application/pdf;base64,{pdf}",
                                        },
                                    },
                                ],
                            }
                        ],
                    )
                    .choices[0]
                    .message.content
                ),
            ),
            (
                "anthropic SDK, messages.create (x-api-key)",
                lambda: (
                    an.messages.create(
                        model="anthropic-main/claude-3-5",
                        max_tokens=1024,
                        messages=[{"role": "user", "content": "Hello, Claude! Please explain quantum computing."}],
                    ).content
                ),
            ),
            (
                "anthropic SDK, system prompt (Authorization: Bearer)",
                lambda: (
                    an_bearer.messages.create(
                        model="anthropic-main/claude-3-5",
                        max_tokens=1024,
                        system="You explain complex topics simply.",
                        messages=[{"role": "user", "content": "Explain quantum entanglement."}],
                    ).content
                ),
            ),
            ("anthropic SDK, messages.stream", lambda: _anthropic_stream(an)),
            (
                "anthropic SDK, count_tokens",
                lambda: an.messages.count_tokens(
                    model="@anthropic-main/claude-sonnet-4-5", messages=[{"role": "user", "content": "Hello"}]
                ),
            ),
        ]
    try:
        failures = run(examples)
        _console(gateway.url)
    finally:
        oa.close()
        an.close()
        an_bearer.close()
        gateway.stop()
        loop.run(fake_openai.stop())
        loop.run(fake_anthropic.stop())
        loop.close()
    print(f"\n{len(examples) - failures} of {len(examples)} examples answered")
    return 1 if failures else 0


def _console(url: str) -> None:
    """With the console plugin installed: its URL, and on a terminal, serve until Enter."""
    if importlib.util.find_spec("proxy_core_console") is None:
        return
    print(f"\nconsole: {url}/ui/ (sign in with the key {GATEWAY_KEY})")
    if sys.stdin.isatty():
        try:
            input("the gateway and the fakes keep serving: press Enter to stop ")
        except (EOFError, KeyboardInterrupt):
            pass


def _anthropic_stream(client: anthropic.Anthropic) -> str:
    with client.messages.stream(
        model="anthropic-main/claude-3-5",
        max_tokens=256,
        messages=[{"role": "user", "content": "Write a short poem about AI."}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    return f"{text!r} (stop_reason={final.stop_reason}, usage={final.usage.output_tokens} output tokens)"


if __name__ == "__main__":
    raise SystemExit(main())
