"""A fake Gemini API (``generateContent`` / ``streamGenerateContent?alt=sse``) on 127.0.0.1.

:class:`FakeGemini` is the kit's fake upstream (same scripting and recording) with a
gate in front that answers like the real API, in Google's error shape, before the
script is consulted: a missing or unknown ``x-goog-api-key`` (400 ``API_KEY_INVALID``),
a key in the URL, a stream without ``alt=sse``, and every request body
:func:`check_request` finds wrong (unknown fields, empty parts, tool results that do not
answer the previous turn's calls, a JSON response type together with tools, a thinking
budget outside the model's range, a Gemini 3 function call sent back without its
``thoughtSignature``...). ``rejections`` records why.

Answer builders for scripts: :func:`gemini_answer`, :func:`gemini_events`,
:func:`google_error`.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import parse_qs

import orjson

from .fake_upstream import FakeUpstream, RecordedRequest, Reply

GEMINI_KEY = "AIza-fake-gemini-test-key-0123456789"
GEMINI_TEXT = "Hello from the fake Gemini upstream."
USAGE = {"promptTokenCount": 12, "candidatesTokenCount": 7, "totalTokenCount": 19}

# Thinking rules of the real models (Gemini API docs, thinking guide, read 2026-11-30).
BUDGETS: dict[str, tuple[int, int, bool]] = {  # model prefix -> (min, max, may be 0)
    "gemini-2.5-pro": (128, 32768, False),
    "gemini-2.5-flash-lite": (512, 24576, True),
    "gemini-2.5-flash": (1, 24576, True),
}
LEVELS: dict[str, tuple[str, ...]] = {
    "gemini-3-pro": ("low", "high"),
    "gemini-3-flash": ("minimal", "low", "medium", "high"),
}
_PATH = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$")
_TOP = frozenset({"contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings",
                  "cachedContent", "labels"})  # fmt: skip
_CONFIG = frozenset(
    {"stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "candidateCount",
     "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty", "frequencyPenalty",
     "responseLogprobs", "logprobs", "thinkingConfig", "mediaResolution", "responseModalities"}
)  # fmt: skip
_DATA = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult")
_PART_EXTRA = frozenset({"thought", "thoughtSignature", "videoMetadata", "mediaResolution"})
_TOOL_KINDS = frozenset(
    {"functionDeclarations", "googleSearch", "codeExecution", "urlContext", "googleSearchRetrieval"}
)
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$")
_RESOLUTIONS = frozenset({"MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH"})
GEMINI_FILE_URIS = ("https://generativelanguage.googleapis.com/", "https://www.youtube.com/", "https://youtu.be/")


class Invalid(Exception):
    """What the real API would say with a 400 INVALID_ARGUMENT."""


def _family(model: str, table: dict[str, Any]) -> Any:
    for prefix in sorted(table, key=len, reverse=True):
        if model.startswith(prefix):
            return table[prefix]
    return None


def check_request(body: Any, model: str, file_uris: tuple[str, ...] = GEMINI_FILE_URIS) -> None:
    """Raise :class:`Invalid` for a body the real generateContent rejects."""
    if not isinstance(body, dict):
        raise Invalid("Invalid JSON payload received.")
    for name in body:
        if name not in _TOP:
            raise Invalid(f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.')
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise Invalid("* GenerateContentRequest.contents: contents is not specified")
    system = body.get("systemInstruction")
    if system is not None:
        if not isinstance(system, dict) or not system.get("parts"):
            raise Invalid("* GenerateContentRequest.system_instruction.parts: must not be empty")
        for part in system["parts"]:
            if set(part) != {"text"} or not part["text"]:
                raise Invalid("* GenerateContentRequest.system_instruction: only non-empty text parts")
    calls_pending: list[str] = []
    for i, content in enumerate(contents):
        where = f"contents[{i}]"
        if not isinstance(content, dict) or content.get("role") not in ("user", "model"):
            raise Invalid(f"* GenerateContentRequest.{where}.role: Please use a valid role: user, model.")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise Invalid(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.")
        for j, part in enumerate(parts):
            _check_part(part, f"{where}.parts[{j}]", file_uris)
        calls = [p["functionCall"]["name"] for p in parts if "functionCall" in p]
        answers = [p["functionResponse"]["name"] for p in parts if "functionResponse" in p]
        if content["role"] == "model" and calls and not calls_pending:
            calls_pending = calls
        elif answers:
            if len(answers) != len(calls_pending):
                raise Invalid(
                    "Please ensure that the number of function response parts is equal to the number of function "
                    "call parts of the function call turn."
                )
            if sorted(answers) != sorted(calls_pending):
                raise Invalid("Please ensure that function response names match the function call names.")
            calls_pending = []
    _check_signatures(contents, model)
    tools = body.get("tools") or []
    declared = _check_tools(tools)
    _check_tool_config(body.get("toolConfig"), declared)
    _check_config(body.get("generationConfig"), model, has_functions=bool(declared))


def _check_part(part: Any, where: str, file_uris: tuple[str, ...]) -> None:
    if not isinstance(part, dict):
        raise Invalid(f"* {where}: a part must be an object")
    data = [k for k in part if k in _DATA]
    if len(data) != 1 or any(k not in _DATA and k not in _PART_EXTRA for k in part):
        raise Invalid(f"* {where}: a part must hold exactly one of {', '.join(_DATA)}")
    kind = data[0]
    if kind == "text" and (not isinstance(part["text"], str) or not part["text"]):
        raise Invalid("Unable to submit request because it has an empty text parameter.")
    if kind == "inlineData":
        blob = part["inlineData"]
        if not isinstance(blob, dict) or not blob.get("mimeType") or not isinstance(blob.get("data"), str):
            raise Invalid(f"* {where}.inline_data: mime_type and data are required")
        try:
            base64.b64decode(blob["data"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 decoding failed") from None
    if kind == "fileData":
        ref = part["fileData"]
        if not isinstance(ref, dict) or not ref.get("fileUri") or not ref.get("mimeType"):
            raise Invalid(f"* {where}.file_data: file_uri and mime_type are required")
        if not str(ref["fileUri"]).startswith(file_uris):
            raise Invalid(f"* {where}.file_data.file_uri: Unsupported file uri: {ref['fileUri']}")
    if kind == "functionCall" and (not isinstance(part["functionCall"].get("name"), str)):
        raise Invalid(f"* {where}.function_call.name: must be set")
    if kind == "functionResponse":
        answer = part["functionResponse"]
        if not isinstance(answer.get("name"), str) or not isinstance(answer.get("response"), dict):
            raise Invalid(f"* {where}.function_response: name and an object response are required")


def _check_signatures(contents: list[dict[str, Any]], model: str) -> None:
    """Gemini 3: the function calls of the current turn (since the last user text) must
    come back with the signature of their first call."""
    if _family(model, LEVELS) is None:
        return
    start = 0
    for i, content in enumerate(contents):
        if content["role"] == "user" and any("functionResponse" not in p for p in content["parts"]):
            start = i + 1
    for content in contents[start:]:
        calls = [p for p in content["parts"] if "functionCall" in p]
        if content["role"] == "model" and calls and not calls[0].get("thoughtSignature"):
            raise Invalid(
                "Function call is missing a thought_signature in functionCall parts. This is required for tools "
                "to work correctly, and missing thought_signature may lead to degraded model performance."
            )


def _check_tools(tools: Any) -> list[str]:
    names: list[str] = []
    if not isinstance(tools, list):
        raise Invalid("* GenerateContentRequest.tools: must be a list")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or len(tool) != 1 or next(iter(tool)) not in _TOOL_KINDS:
            raise Invalid(f"* GenerateContentRequest.tools[{i}]: one tool kind per tool")
        for declaration in tool.get("functionDeclarations", []):
            name = declaration.get("name")
            if not isinstance(name, str) or not _NAME.match(name):
                raise Invalid(f"* GenerateContentRequest.tools[{i}].function_declarations: invalid name {name!r}")
            if "parameters" in declaration and "parametersJsonSchema" in declaration:
                raise Invalid("parameters and parametersJsonSchema are mutually exclusive")
            unknown = set(declaration) - {"name", "description", "parameters", "parametersJsonSchema", "response"}
            if unknown:
                raise Invalid(f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}"')
            names.append(name)
    return names


def _check_tool_config(config: Any, declared: list[str]) -> None:
    if config is None:
        return
    calling = config.get("functionCallingConfig") if isinstance(config, dict) else None
    if not isinstance(calling, dict) or calling.get("mode") not in ("AUTO", "ANY", "NONE", "VALIDATED"):
        raise Invalid("* GenerateContentRequest.tool_config.function_calling_config.mode: invalid")
    allowed = calling.get("allowedFunctionNames")
    if allowed is not None and (calling["mode"] != "ANY" or not set(allowed) <= set(declared)):
        raise Invalid("allowed_function_names must name declared functions, with mode ANY")


def _check_config(config: Any, model: str, *, has_functions: bool) -> None:
    if config is None:
        return
    for name in config:
        if name not in _CONFIG:
            raise Invalid(f"Invalid JSON payload received. Unknown name \"{name}\" at 'generation_config'")
    if len(config.get("stopSequences") or []) > 5:
        raise Invalid("* GenerateContentRequest.generation_config.stop_sequences: at most 5")
    if has_functions and config.get("responseMimeType") == "application/json":
        raise Invalid("Function calling with a response mime type: 'application/json' is unsupported")
    if "responseSchema" in config and "responseJsonSchema" in config:
        raise Invalid("responseSchema and responseJsonSchema are mutually exclusive")
    if ("responseSchema" in config or "responseJsonSchema" in config) and config.get("responseMimeType") not in (
        "application/json",
        "text/x.enum",
    ):
        raise Invalid("a response schema needs responseMimeType application/json")
    if "mediaResolution" in config and config["mediaResolution"] not in _RESOLUTIONS:
        raise Invalid("* generation_config.media_resolution: invalid value")
    thinking = config.get("thinkingConfig")
    if thinking is not None:
        _check_thinking(thinking, model)


def _check_thinking(thinking: dict[str, Any], model: str) -> None:
    unknown = set(thinking) - {"thinkingBudget", "includeThoughts", "thinkingLevel"}
    if unknown:
        raise Invalid(f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}" at thinking_config')
    levels = _family(model, LEVELS)
    if "thinkingLevel" in thinking:
        if "thinkingBudget" in thinking:
            raise Invalid("You can only set only one of thinking budget and thinking level.")
        if levels is None or thinking["thinkingLevel"] not in levels:
            raise Invalid(f"Thinking level {thinking['thinkingLevel']!r} is not supported for this model.")
    budget = thinking.get("thinkingBudget")
    span = _family(model, BUDGETS)
    if budget is not None and span is not None and budget != -1:
        low, high, may_off = span
        if not (low <= budget <= high or (budget == 0 and may_off)):
            raise Invalid(f"The thinking budget {budget} is invalid. Please choose a value between {low} and {high}.")


# --- answers ---------------------------------------------------------------------------


def google_error(status: int, name: str, message: str, reason: str | None = None) -> Reply:
    error: dict[str, Any] = {"code": status, "message": message, "status": name}
    if reason:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason}]
    return Reply.json({"error": error}, status=status)


def gemini_answer(
    parts: list[dict[str, Any]] | None = None,
    *,
    finish: str | None = "STOP",
    usage: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A GenerateContentResponse (``extra`` adds candidate fields such as
    ``groundingMetadata`` or ``safetyRatings``; ``promptFeedback=`` goes top level)."""
    feedback = extra.pop("promptFeedback", None)
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts or [{"text": GEMINI_TEXT}]}, **extra}
    if finish:
        candidate["finishReason"] = finish
    answer: dict[str, Any] = {
        "candidates": [candidate],
        "usageMetadata": usage or USAGE,
        "modelVersion": "gemini-fake",
        "responseId": "fake-response-0001",
    }
    if feedback is not None:
        answer["promptFeedback"] = feedback
        answer["candidates"] = []
    return answer


def gemini_events(parts: list[dict[str, Any]], *, finish: str = "STOP", usage: dict[str, Any] | None = None) -> Reply:
    """An SSE stream: one event per part, the last one with finishReason and usage."""
    events: list[Any] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        event = gemini_answer([part], finish=finish if last else None, usage=usage if last else None)
        if not last:
            del event["usageMetadata"]
        events.append(event)
    return Reply.sse(events)


def default_answer(stream: bool) -> Reply:
    if stream:
        words = GEMINI_TEXT.split(" ")
        return gemini_events([{"text": w + (" " if i < len(words) - 1 else "")} for i, w in enumerate(words)])
    return Reply.json(gemini_answer())


class FakeGemini(FakeUpstream):
    def __init__(self) -> None:
        super().__init__("gemini")
        self.api_keys = {GEMINI_KEY}
        self.rejections: list[str] = []

    def reset(self) -> None:
        super().reset()
        self.rejections.clear()

    def _reject(self, request: RecordedRequest, reply: Reply, why: str) -> Reply:
        with self._cond:
            self.requests.append(request)
            self.rejections.append(why)
            self._cond.notify_all()
        return reply

    def _next_reply(self, request: RecordedRequest) -> Reply:
        path, _, query = request.path.partition("?")
        params = parse_qs(query)
        if "key" in params:
            return self._reject(request, google_error(400, "INVALID_ARGUMENT", "key in the URL"), "key in the URL")
        key = request.headers.get("x-goog-api-key")
        if key not in self.api_keys:
            message = "API key not valid. Please pass a valid API key."
            return self._reject(request, google_error(400, "INVALID_ARGUMENT", message, "API_KEY_INVALID"), message)
        m = _PATH.match(path)
        if m is None:
            return self._reject(request, google_error(404, "NOT_FOUND", f"no route {path}"), f"no route {path}")
        stream = m["method"] == "streamGenerateContent"
        if stream and params.get("alt") != ["sse"]:
            return self._reject(request, google_error(400, "INVALID_ARGUMENT", "alt=sse"), "stream without alt=sse")
        try:
            check_request(orjson.loads(request.body), m["model"])
        except (Invalid, orjson.JSONDecodeError) as e:
            message = str(e) or "Invalid JSON payload received."
            return self._reject(request, google_error(400, "INVALID_ARGUMENT", message), message)
        with self._cond:
            self.requests.append(request)
            item = self._script.popleft() if self._script else None
            self._cond.notify_all()
        if item is None:
            return default_answer(stream)
        return item(request) if callable(item) else item
