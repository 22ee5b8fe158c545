"""A fast fake upstream for `make bench`: fixed OpenAI and Anthropic answers, HTTP/1.1
keep-alive, minimal parsing, so the gateway and not the fake is what gets measured.

Run as ``python -m proxy_core.devtools.bench_upstream PORT``.
"""

from __future__ import annotations

import asyncio
import sys

import orjson

MARKER = "BENCH_EOS"
WORDS = ("Load testing a gateway means comparing it with the upstream called directly " + MARKER).split(" ")
PIECES = [w if i == 0 else " " + w for i, w in enumerate(WORDS)] * 4  # 52 pieces
TEXT = "".join(PIECES)


def _openai_json() -> bytes:
    return orjson.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 25, "completion_tokens": len(PIECES), "total_tokens": 25 + len(PIECES)},
        }
    )


def _openai_sse() -> bytes:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-mini"}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}]
    events += [{**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in PIECES]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 25, "completion_tokens": len(PIECES), "total_tokens": 25 + len(PIECES)}
    events.append({**base, "choices": [], "usage": usage})
    return b"".join(b"data: " + orjson.dumps(e) + b"\n\n" for e in events) + b"data: [DONE]\n\n"


def _anthropic_json() -> bytes:
    return orjson.dumps(
        {
            "id": "msg_bench",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": [{"type": "text", "text": TEXT}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 25, "output_tokens": len(PIECES)},
        }
    )


def _anthropic_sse() -> bytes:
    def ev(name: str, data: dict[str, object]) -> bytes:
        return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    message = orjson.loads(_anthropic_json())
    message.update(content=[], stop_reason=None, usage={"input_tokens": 25, "output_tokens": 1})
    out = [ev("message_start", {"type": "message_start", "message": message})]
    out.append(
        ev(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        )
    )
    out.append(ev("ping", {"type": "ping"}))
    for p in PIECES:
        delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}
        out.append(ev("content_block_delta", delta))
    out.append(ev("content_block_stop", {"type": "content_block_stop", "index": 0}))
    out.append(
        ev(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": len(PIECES)},
            },
        )
    )
    out.append(ev("message_stop", {"type": "message_stop"}))
    return b"".join(out)


def _response(body: bytes, content_type: bytes) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: "
        + content_type
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


ANSWERS = {
    (b"/v1/chat/completions", False): _response(_openai_json(), b"application/json"),
    (b"/v1/chat/completions", True): _response(_openai_sse(), b"text/event-stream"),
    (b"/v1/messages", False): _response(_anthropic_json(), b"application/json"),
    (b"/v1/messages", True): _response(_anthropic_sse(), b"text/event-stream"),
}
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"


class FakeProtocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].lower()
            i = head.find(b"content-length:")
            length = int(head[i + 15 : head.find(b"\r\n", i) if head.find(b"\r\n", i) > 0 else None]) if i >= 0 else 0
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            path = head.split(b" ", 2)[1]
            stream = b'"stream":true' in body.replace(b" ", b"")
            assert self.transport is not None
            self.transport.write(ANSWERS.get((path, stream), NOT_FOUND))


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeProtocol, "127.0.0.1", port, backlog=2048)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    import uvloop

    uvloop.run(serve(int(sys.argv[1])))
