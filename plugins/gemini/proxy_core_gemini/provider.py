"""The ``gemini`` provider type: the Gemini API's ``generateContent`` at
generativelanguage.googleapis.com.

One operation, ``chat`` (OpenAI clients), translated by :mod:`.params` / :mod:`.request`
/ :mod:`.parts` (request), :mod:`.response` and :mod:`.stream` (answers). The key goes
in ``x-goog-api-key``, never in the URL. Providers of the same wire format (Gemini
models on Vertex AI) subclass this and override :meth:`model_path`,
:meth:`auth_headers` and :attr:`uri_policy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

from proxy_core import Attempt, Provider, RequestContext, UpstreamRequest
from proxy_core.errors import UpstreamError
from proxy_core.provider import StreamTranslator

from .errors import error_from_body
from .native_output import NOTE
from .params import Thinking, chat_to_gemini
from .parts import PartContext, UriPolicy
from .response import gemini_to_chat
from .stream import GeminiChatStream
from .thinking import ratios_and_default

DROPPED_HEADER = "x-proxy-core-dropped-params"
GEMINI_URIS = UriPolicy(
    ("https://generativelanguage.googleapis.com/", "https://www.youtube.com/", "https://youtu.be/"),
    "the Gemini API reads only its Files API URIs and YouTube URLs",
)


class GeminiProvider(Provider):
    type_name = "gemini"
    default_base_url = "https://generativelanguage.googleapis.com"
    operations = frozenset({"chat"})
    # response_format_no_tools: native JSON output when the request has no tools (the
    # structured-output plugin converts it into a forced function otherwise).
    capabilities = frozenset({"vision", "pdf", "audio", "tools", "response_format_no_tools"})
    uri_policy: ClassVar[UriPolicy] = GEMINI_URIS

    def model_path(self, model: str, stream: bool) -> str:
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return f"v1beta/models/{quote(model.removeprefix('models/'), safe='@.-_')}:{method}"

    def auth_headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.api_key}

    def build_request(self, ctx: RequestContext, attempt: Attempt) -> UpstreamRequest:
        target = attempt.target
        ratios, default_max = ratios_and_default(ctx.gateway)
        native = attempt.notes.get(NOTE)
        if native is not None:  # taken out of the body by the plugin's prepare_request
            attempt.body["response_format"] = native
        body, dropped = chat_to_gemini(
            attempt.body, target.info, PartContext(self.uri_policy), Thinking(ratios, default_max)
        )
        if dropped:
            attempt.response_headers[DROPPED_HEADER] = ",".join(dropped)
        headers = {**self.settings.headers, **self.auth_headers()}
        if ctx.stream:
            headers["accept"] = "text/event-stream"
        return UpstreamRequest("POST", self.model_path(target.model, ctx.stream), headers, json=body, stream=ctx.stream)

    def parse_response(self, ctx: RequestContext, attempt: Attempt, data: Any) -> dict[str, Any]:
        return gemini_to_chat(data)

    def stream_translator(self, ctx: RequestContext, attempt: Attempt) -> StreamTranslator:
        options = attempt.body.get("stream_options")
        return GeminiChatStream(include_usage=isinstance(options, dict) and options.get("include_usage") is True)

    def parse_error(self, status: int, body: bytes, headers: Mapping[str, str]) -> UpstreamError:
        retry_after = headers.get("retry-after")
        return error_from_body(status, body, {"retry-after": retry_after} if retry_after else {}, self.name)
