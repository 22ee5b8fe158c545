"""A fake Amazon Bedrock runtime on 127.0.0.1: SigV4 checked by botocore, real event streams.

:class:`FakeBedrock` is a :class:`FakeUpstream` (same scripting and recording) with the
checks the real service makes before a model runs:

* auth: a SigV4 signature botocore recomputes from the known test credentials (service
  ``bedrock``, the fake's region), or a known Bedrock API key as ``Authorization:
  Bearer``; else a 403 ``UnrecognizedClientException`` / ``InvalidSignatureException``;
* paths ``/model/{modelId}/converse``, ``/converse-stream``, ``/invoke``,
  ``/invoke-with-response-stream`` (model id URL-encoded); else a 404;
* bodies validated like the service validates them (:func:`converse_problem`,
  :func:`invoke_problem`): a 400 ``ValidationException`` naming the problem.

Default answers: a Converse response, a ConverseStream in AWS's binary event-stream
framing (:func:`encode_frame`, checked against botocore's parser), and for InvokeModel
Anthropic's message and events (base64 in ``chunk.bytes`` frames).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import threading
from typing import Any
from urllib.parse import unquote

import orjson

from .aws_sigv4 import verify_sigv4
from .fake_answers import anthropic_events, anthropic_message
from .fake_upstream import FakeUpstream, RecordedRequest, Reply

REGION = "us-east-1"
ACCESS_KEY_ID = "AKIATESTBEDROCK00001"
SECRET_KEY = "bedrock-canary-secret-0123456789abcdef"
API_KEY = "ABSKbedrock-canary-api-key-0123456789"
TEXT = "Hello from the fake Bedrock upstream."
EVENT_STREAM = "application/vnd.amazon.eventstream"
_PATH = re.compile(r"^/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream|invoke|invoke-with-response-stream)$")


# --- event-stream framing (AWS's spec: prelude, string headers, payload, CRC32s) --------------


def encode_frame(headers: dict[str, str], payload: bytes) -> bytes:
    head = b"".join(
        struct.pack(">B", len(name)) + name.encode() + struct.pack(">BH", 7, len(value.encode())) + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(head) + len(payload) + 4
    prelude = struct.pack(">II", total, len(head))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + head + payload
    return message + struct.pack(">I", binascii.crc32(message))


def event_frame(event_type: str, payload: Any) -> bytes:
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_frame(headers, orjson.dumps(payload))


def exception_frame(exception_type: str, message: str) -> bytes:
    headers = {":exception-type": exception_type, ":content-type": "application/json", ":message-type": "exception"}
    return encode_frame(headers, orjson.dumps({"message": message}))


def event_stream(frames: list[bytes], **kw: Any) -> Reply:
    """A streamed answer, one frame per write (``kw``: Reply's cut/reset/delay options)."""
    return Reply(200, {"content-type": EVENT_STREAM}, events=frames, **kw)


def aws_error(kind: str, message: str, status: int) -> Reply:
    return Reply.json(
        {"message": message},
        status=status,
        headers={"x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
    )


# --- default answers ------------------------------------------------------------------------


def converse_response(
    content: list[dict[str, Any]] | None = None, stop_reason: str = "end_turn", usage: dict[str, int] | None = None
) -> dict[str, Any]:
    usage = usage or {"inputTokens": 12, "outputTokens": 8}
    usage = {**usage, "totalTokens": sum(v for k, v in usage.items() if k != "totalTokens")}
    return {
        "output": {"message": {"role": "assistant", "content": content or [{"text": TEXT}]}},
        "stopReason": stop_reason,
        "usage": usage,
        "metrics": {"latencyMs": 42},
    }


def converse_stream_frames(
    blocks: list[dict[str, Any]] | None = None, stop_reason: str = "end_turn", usage: dict[str, int] | None = None
) -> list[bytes]:
    """ConverseStream frames for ``blocks`` (``{"text"}``, ``{"toolUse": {toolUseId, name,
    input}}``, ``{"reasoningContent": {"reasoningText": {text, signature}}}``)."""
    frames = [event_frame("messageStart", {"role": "assistant"})]
    for i, block in enumerate(blocks or [{"text": TEXT}]):
        if "text" in block:
            text = block["text"]
            half = len(text) // 2
            frames += [
                event_frame("contentBlockDelta", {"contentBlockIndex": i, "delta": {"text": t}})
                for t in (text[:half], text[half:])
            ]
        elif "toolUse" in block:
            use = block["toolUse"]
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            frames.append(event_frame("contentBlockStart", {"contentBlockIndex": i, "start": start}))
            args = orjson.dumps(use["input"]).decode()
            frames += [
                event_frame("contentBlockDelta", {"contentBlockIndex": i, "delta": {"toolUse": {"input": a}}})
                for a in (args[:5], args[5:])
            ]
        elif "reasoningContent" in block:
            reasoning = block["reasoningContent"]
            if "redactedContent" in reasoning:
                deltas = [{"redactedContent": reasoning["redactedContent"]}]
            else:
                text = reasoning["reasoningText"]
                deltas = [{"text": text["text"]}, {"signature": text["signature"]}]
            frames += [
                event_frame("contentBlockDelta", {"contentBlockIndex": i, "delta": {"reasoningContent": d}})
                for d in deltas
            ]
        frames.append(event_frame("contentBlockStop", {"contentBlockIndex": i}))
    frames.append(event_frame("messageStop", {"stopReason": stop_reason}))
    usage = usage or {"inputTokens": 12, "outputTokens": 8}
    usage = {**usage, "totalTokens": sum(v for k, v in usage.items() if k != "totalTokens")}
    frames.append(event_frame("metadata", {"usage": usage, "metrics": {"latencyMs": 42}}))
    return frames


def invoke_stream_frames(events: list[dict[str, Any]]) -> list[bytes]:
    """InvokeModelWithResponseStream frames: each Anthropic event base64 in ``chunk.bytes``."""
    return [event_frame("chunk", {"bytes": base64.b64encode(orjson.dumps(e)).decode()}) for e in events]


def default_reply(request: RecordedRequest, model: str, op: str) -> Reply:
    if op == "converse":
        return Reply.json(converse_response())
    if op == "converse-stream":
        return event_stream(converse_stream_frames())
    claude = model.split("anthropic.", 1)[-1].rsplit("-v", 1)[0]
    if op == "invoke":
        return Reply.json(anthropic_message(claude, [{"type": "text", "text": TEXT}]))
    return event_stream(invoke_stream_frames(anthropic_events(claude, TEXT)))


# --- request validation (the service's ValidationException cases this gateway can hit) -------

_CONVERSE_KEYS = frozenset(
    {
        "messages",
        "system",
        "inferenceConfig",
        "toolConfig",
        "guardrailConfig",
        "additionalModelRequestFields",
        "promptVariables",
        "additionalModelResponseFieldPaths",
        "requestMetadata",
        "performanceConfig",
        "serviceTier",
        "outputConfig",
    }
)
_BLOCK_KEYS = frozenset({"text", "image", "document", "toolUse", "toolResult", "cachePoint", "reasoningContent"})
_INFERENCE_KEYS = frozenset({"maxTokens", "temperature", "topP", "stopSequences"})
_IMAGE_FORMATS = frozenset({"png", "jpeg", "gif", "webp"})
_DOC_FORMATS = frozenset({"pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"})
_DOC_NAME = re.compile(r"^[A-Za-z0-9\-()\[\]]+( [A-Za-z0-9\-()\[\]]+)*$")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _b64(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(value) and bool(base64.b64decode(value, validate=True))
    except binascii.Error:
        return False


def _cache_point(value: Any, where: str) -> str | None:
    if not isinstance(value, dict) or value.get("type") != "default" or set(value) - {"type", "ttl"}:
        return f"{where}.cachePoint: type must be 'default'"
    if "ttl" in value and value["ttl"] not in ("5m", "1h"):
        return f"{where}.cachePoint.ttl: must be 5m or 1h"
    return None


def _block_problem(block: Any, where: str, docs: set[str]) -> str | None:
    if not isinstance(block, dict) or len(block) != 1 or next(iter(block)) not in _BLOCK_KEYS:
        return f"{where}: a content block must have exactly one of {', '.join(sorted(_BLOCK_KEYS))}"
    kind, value = next(iter(block.items()))
    if kind == "text":
        if isinstance(value, str) and value.strip():
            return None
        return (
            f"The text field in the ContentBlock object at {where} is blank. Add text to the text field, and try again."
        )
    if kind == "cachePoint":
        return _cache_point(value, where)
    if kind == "image":
        if value.get("format") not in _IMAGE_FORMATS or not _b64((value.get("source") or {}).get("bytes")):
            return f"{where}.image: format must be png, jpeg, gif or webp and source.bytes base64"
    elif kind == "document":
        name = value.get("name")
        if not isinstance(name, str) or not _DOC_NAME.match(name) or name in docs:
            return (
                f"{where}.document.name: names hold letters, digits, single spaces, hyphens, parentheses "
                "and brackets, and are unique"
            )
        docs.add(name)
        if value.get("format") not in _DOC_FORMATS or not _b64((value.get("source") or {}).get("bytes")):
            return f"{where}.document: unsupported format or source.bytes not base64"
    elif kind == "toolUse":
        if (
            not isinstance(value.get("toolUseId"), str)
            or not isinstance(value.get("name"), str)
            or not isinstance(value.get("input"), dict)
        ):
            return f"{where}.toolUse: toolUseId, name and input (an object) are required"
    elif kind == "toolResult":
        content = value.get("content")
        if not isinstance(value.get("toolUseId"), str) or not isinstance(content, list):
            return f"{where}.toolResult: toolUseId and content are required"
        for k, part in enumerate(content):
            if (
                not isinstance(part, dict)
                or len(part) != 1
                or next(iter(part)) not in ("text", "json", "image", "document")
            ):
                return f"{where}.toolResult.content.{k}: one of text, json, image, document"
    elif kind == "reasoningContent":
        text = value.get("reasoningText") if isinstance(value, dict) else None
        if not (isinstance(text, dict) and isinstance(text.get("text"), str)) and not _b64(
            (value or {}).get("redactedContent")
        ):
            return f"{where}.reasoningContent: reasoningText.text or redactedContent (base64) is required"
    return None


def converse_problem(body: Any, model: str) -> str | None:
    """The ValidationException message the service would answer, or None."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object"
    for key in body:
        if key not in _CONVERSE_KEYS:
            return f"extraneous key [{key}] is not permitted"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    docs: set[str] = set()
    tool_blocks = False
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant") or not isinstance(message.get("content"), list) or not message["content"]:
            return f"messages.{i}: role must be user or assistant and content a non-empty list"
        if (role == "user") != (i % 2 == 0):
            return (
                "A conversation must start with a user message and alternate between user and assistant roles. "
                "Try again."
            )
        for j, block in enumerate(message["content"]):
            problem = _block_problem(block, f"messages.{i}.content.{j}", docs)
            if problem:
                return problem
            tool_blocks = tool_blocks or "toolUse" in block or "toolResult" in block
    for j, block in enumerate(body.get("system") or []):
        if not isinstance(block, dict) or len(block) != 1 or next(iter(block)) not in ("text", "cachePoint"):
            return f"system.{j}: one of text, cachePoint"
        if "cachePoint" in block and (problem := _cache_point(block["cachePoint"], f"system.{j}")):
            return problem
    config = body.get("inferenceConfig") or {}
    if set(config) - _INFERENCE_KEYS:
        return f"extraneous key [inferenceConfig.{sorted(set(config) - _INFERENCE_KEYS)[0]}] is not permitted"
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        return "inferenceConfig.maxTokens: must be at least 1"
    tools = body.get("toolConfig")
    if tools is None:
        if tool_blocks:
            return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    elif problem := _tool_config_problem(tools, model):
        return problem
    thinking = (body.get("additionalModelRequestFields") or {}).get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or budget < 1024 or max_tokens is None or budget >= max_tokens:
            return "The model returned the following errors: `max_tokens` must be greater than `thinking.budget_tokens`"
    return None


def _tool_config_problem(config: Any, model: str) -> str | None:
    tools = config.get("tools") if isinstance(config, dict) else None
    if not isinstance(tools, list) or not tools:
        return "toolConfig.tools: at least one tool is required"
    for k, tool in enumerate(tools):
        if not isinstance(tool, dict) or len(tool) != 1 or next(iter(tool)) not in ("toolSpec", "cachePoint"):
            return f"toolConfig.tools.{k}: one of toolSpec, cachePoint"
        if "cachePoint" in tool:
            if ".amazon." in f".{model}" or model.startswith("amazon."):
                return "This model doesn't support the toolConfig.tools.cachePoint field. Remove it and try again."
            if problem := _cache_point(tool["cachePoint"], f"toolConfig.tools.{k}"):
                return problem
            continue
        spec = tool["toolSpec"]
        if not _TOOL_NAME.match(str(spec.get("name"))) or not isinstance(
            (spec.get("inputSchema") or {}).get("json"), dict
        ):
            return f"toolConfig.tools.{k}.toolSpec: name ([a-zA-Z0-9_-]{{1,64}}) and inputSchema.json are required"
    choice = config.get("toolChoice")
    if choice is not None and (
        not isinstance(choice, dict) or len(choice) != 1 or next(iter(choice)) not in ("auto", "any", "tool")
    ):
        return "toolConfig.toolChoice: exactly one of auto, any, tool"
    return None


def invoke_problem(body: Any) -> str | None:
    """InvokeModel with an Anthropic body: ``anthropic_version``, no ``model`` or ``stream``."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object"
    if body.get("anthropic_version") != "bedrock-2023-05-31":
        return "anthropic_version: must be bedrock-2023-05-31"
    for key in ("model", "stream"):
        if key in body:
            return f"extraneous key [{key}] is not permitted"
    if not isinstance(body.get("max_tokens"), int) or not isinstance(body.get("messages"), list):
        return "max_tokens and messages are required"
    return None


class FakeBedrock(FakeUpstream):
    def __init__(self, region: str = REGION) -> None:
        super().__init__("bedrock")
        self.region = region
        self.known: dict[str, tuple[str, str | None]] = {ACCESS_KEY_ID: (SECRET_KEY, None)}
        self.api_keys = {API_KEY}
        self.rejections: list[str] = []
        self.lock = threading.Lock()

    def reset(self) -> None:
        super().reset()
        self.rejections.clear()

    def route(self, request: RecordedRequest) -> tuple[str, str]:
        """(model id, operation) of a request path; ("", "") when it is no runtime path."""
        m = _PATH.match(request.path)
        return (unquote(m["model"]), m["op"]) if m else ("", "")

    def gate(self, request: RecordedRequest) -> Reply | None:
        auth = request.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            if auth[7:] not in self.api_keys or any(n.startswith("x-amz-") for n in request.headers):
                return aws_error(
                    "UnrecognizedClientException", "The security token included in the request is invalid.", 403
                )
        else:
            with self.lock:
                known = dict(self.known)
            problem = verify_sigv4(request, known, self.region, "bedrock")
            if problem:
                return aws_error("InvalidSignatureException", problem, 403)
        model, op = self.route(request)
        if not op or request.method != "POST":
            return aws_error("UnknownOperationException", f"no operation at {request.method} {request.path}", 404)
        try:
            body = orjson.loads(request.body)
        except orjson.JSONDecodeError:
            return aws_error(
                "ValidationException", "Malformed input request, please reformat your input and try again.", 400
            )
        problem = converse_problem(body, model) if op.startswith("converse") else invoke_problem(body)
        return aws_error("ValidationException", problem, 400) if problem else None

    def _next_reply(self, request: RecordedRequest) -> Reply:
        refused = self.gate(request)
        with self._cond:
            self.requests.append(request)
            if refused is not None:
                self.rejections.append(orjson.loads(refused.body)["message"])
                self._cond.notify_all()
                return refused
            item = self._script.popleft() if self._script else None
            self._cond.notify_all()
        if item is not None:
            return item(request) if callable(item) else item
        return default_reply(request, *self.route(request))
