"""AWS event streams (``application/vnd.amazon.eventstream``) as SSE events.

ConverseStream and InvokeModelWithResponseStream answer in AWS's binary event-stream
framing (prelude, typed headers, payload, CRCs), not SSE. The core's stream reader cuts
SSE events, so the provider's ``stream_bytes`` re-frames each binary message as one SSE event:
frames are decoded by botocore's own parser (:class:`botocore.eventstream.
EventStreamBuffer`, CRCs checked), and each becomes ``event: <:event-type>`` with the
payload as ``data``. Exceptions (``:message-type`` ``exception`` or ``error``) become
``event: exception`` with ``{"type": <exception type>, "message": ...}``; a corrupt
frame or bytes left over at the end become one such event too, so the translator fails
the attempt cleanly instead of the read raising inside the core.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson

from proxy_core.upstream import UpstreamResponse

CONTENT_TYPE = "application/vnd.amazon.eventstream"
EXCEPTION = "exception"


def sse(name: str, payload: bytes) -> bytes:
    """One SSE event; a payload with line breaks (JSON whitespace) keeps them as data lines."""
    lines = payload.replace(b"\r", b"").split(b"\n")
    return b"event: " + name.encode() + b"\n" + b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"


def _exception(kind: str, message: str) -> bytes:
    return sse(EXCEPTION, orjson.dumps({"type": kind, "message": message}))


def _message_text(payload: bytes) -> str:
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return payload.decode("utf-8", "replace")
    if isinstance(data, dict):
        for key in ("message", "Message"):
            if isinstance(data.get(key), str):
                return str(data[key])
    return ""


def frame_to_sse(headers: dict[str, object], payload: bytes) -> bytes:
    kind = headers.get(":message-type")
    if kind == "event":
        return sse(str(headers.get(":event-type", "")), payload)
    if kind == "exception":
        return _exception(str(headers.get(":exception-type", "unknownException")), _message_text(payload))
    return _exception(str(headers.get(":error-code", "error")), str(headers.get(":error-message", "")))


async def event_stream_as_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Binary event-stream bytes in, SSE bytes out."""
    from botocore.eventstream import EventStreamBuffer, ParserError  # botocore only where Bedrock streams

    buffer = EventStreamBuffer()
    pending = 0  # bytes fed but not yet part of a whole frame
    async for chunk in chunks:
        buffer.add_data(chunk)
        pending += len(chunk)
        out = []
        try:
            for message in buffer:
                pending -= message.prelude.total_length
                out.append(frame_to_sse(message.headers, message.payload))
        except ParserError as e:
            yield b"".join(out) + _exception("malformedEventStream", f"a corrupt event-stream frame ({e})")
            return
        if out:
            yield b"".join(out)
    if pending:
        yield _exception("malformedEventStream", "the event stream ended in the middle of a frame")


def is_event_stream(response: UpstreamResponse) -> bool:
    return response.headers.get("content-type", "").startswith(CONTENT_TYPE)
