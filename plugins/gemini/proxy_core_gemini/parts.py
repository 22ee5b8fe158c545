"""OpenAI content parts -> Gemini ``parts``: text, images, audio, video, PDF and other files.

Media travel inline (``inlineData``: a ``data:`` URI's base64, unchanged) or by reference
(``fileData``: a URI the provider reads itself). The gateway never fetches a URL: which
URIs may be referenced is the provider's :class:`UriPolicy` (the Gemini API reads its own
Files API and YouTube; Vertex AI also reads ``gs://`` and public ``https://`` URLs); any
other URL is a 400 asking for a ``data:`` URI. ``fileData`` needs a media type: the
part's ``mime_type`` (or ``format``), else a guess from the URL's file extension.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

from proxy_core.errors import InvalidRequestError

Part = dict[str, Any]

# Media families Gemini reads inline.
_INLINE_PREFIXES = ("image/", "audio/", "video/", "text/")
_INLINE_TYPES = frozenset({"application/pdf", "application/json"})
_AUDIO_FORMATS = {"wav": "audio/wav", "mp3": "audio/mp3", "flac": "audio/flac", "aac": "audio/aac",
                  "ogg": "audio/ogg", "aiff": "audio/aiff", "pcm16": "audio/pcm"}  # fmt: skip
_PDF_B64 = "JVBERi"  # base64 of "%PDF-"
# image_url.detail -> generationConfig.mediaResolution (auto: the model decides)
MEDIA_RESOLUTION = {"low": "MEDIA_RESOLUTION_LOW", "high": "MEDIA_RESOLUTION_HIGH"}


@dataclass(frozen=True, slots=True)
class UriPolicy:
    """Which URIs a provider reads by itself (``fileData``)."""

    prefixes: tuple[str, ...]
    hint: str  # what to say when a URL is refused

    def allows(self, url: str) -> bool:
        return url.startswith(self.prefixes)


class PartContext:
    """Per request: the URI policy, and the highest image ``detail`` seen."""

    __slots__ = ("detail", "policy")

    def __init__(self, policy: UriPolicy) -> None:
        self.policy = policy
        self.detail: str | None = None

    def note_detail(self, detail: Any, where: str) -> None:
        if detail is None or detail == "auto":
            return
        if detail not in MEDIA_RESOLUTION:
            raise InvalidRequestError(f"{where}.image_url.detail must be auto, low or high", param=where)
        if self.detail != "high":
            self.detail = detail


def user_part(part: Any, where: str, ctx: PartContext) -> Part:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise InvalidRequestError(f"{where}.text must be a string", param=where)
        return {"text": part["text"]}
    if kind == "image_url":
        image = part.get("image_url")
        if isinstance(image, dict):
            ctx.note_detail(image.get("detail"), where)
        return _url_part(image, where, ctx)
    if kind == "input_audio":
        return _audio_part(part.get("input_audio"), where)
    if kind == "file":
        return _file_part(part.get("file"), where, ctx)
    raise InvalidRequestError(
        f"{where}: content part type {kind!r} is not supported by Gemini models "
        "(use text, image_url, input_audio or file)",
        param=where,
    )


def _url_part(image: Any, where: str, ctx: PartContext) -> Part:
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise InvalidRequestError(f"{where}.image_url.url must be a non-empty string", param=where)
    if url.startswith("data:"):
        return inline(*parse_data_uri(url, where), where)
    mime = image.get("mime_type") or image.get("format") if isinstance(image, dict) else None
    return _file_uri(url, mime, where, ctx)


def _file_uri(url: str, mime: Any, where: str, ctx: PartContext) -> Part:
    if not ctx.policy.allows(url):
        raise InvalidRequestError(
            f"{where}: this provider cannot read {url.split(':', 1)[0]} URLs of this kind and the gateway does not "
            f"fetch URLs: send the content inline as a data: URI ({ctx.policy.hint})",
            param=where,
        )
    if not isinstance(mime, str) or "/" not in mime:
        mime = mimetypes.guess_type(url.split("?", 1)[0])[0]
        if mime is None and ("youtube.com/" in url or "youtu.be/" in url):
            mime = "video/mp4"
    if not mime:
        raise InvalidRequestError(f"{where}: give the media type of {url!r} as mime_type", param=where)
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def inline(mime: str, data: str, where: str) -> Part:
    if not (mime.startswith(_INLINE_PREFIXES) or mime in _INLINE_TYPES):
        raise InvalidRequestError(
            f"{where}: media type {mime!r} is not supported by Gemini models "
            "(images, audio, video, text and application/pdf are)",
            param=where,
        )
    return {"inlineData": {"mimeType": mime, "data": data}}


def _audio_part(audio: Any, where: str) -> Part:
    if not isinstance(audio, dict) or not isinstance(audio.get("data"), str) or not audio["data"]:
        raise InvalidRequestError(f"{where}.input_audio must be {{data: <base64>, format}}", param=where)
    fmt = audio.get("format")
    mime = _AUDIO_FORMATS.get(fmt) if isinstance(fmt, str) else None
    if mime is None:
        raise InvalidRequestError(f"{where}.input_audio.format must be one of {', '.join(_AUDIO_FORMATS)}", param=where)
    return {"inlineData": {"mimeType": mime, "data": audio["data"]}}


def _file_part(file: Any, where: str, ctx: PartContext) -> Part:
    if not isinstance(file, dict):
        raise InvalidRequestError(f"{where}.file must be an object", param=where)
    mime = file.get("mime_type") or file.get("format")
    file_id = file.get("file_id")
    if isinstance(file_id, str) and file_id:
        return _file_uri(file_id, mime, where, ctx)
    data = file.get("file_data")
    if not isinstance(data, str) or not data:
        raise InvalidRequestError(
            f"{where}.file needs 'file_data' as a data: URI (data:application/pdf;base64,...) or a 'file_id' URI",
            param=where,
        )
    if data.startswith("data:"):
        return inline(*parse_data_uri(data, where), where)
    if not isinstance(mime, str):
        mime = "application/pdf" if data.startswith(_PDF_B64) else ""
    if not mime:
        raise InvalidRequestError(f"{where}.file: give mime_type for bare base64 file_data", param=where)
    return inline(mime, data, where)


def parse_data_uri(uri: str, where: str) -> tuple[str, str]:
    """``data:<media type>;base64,<data>`` -> (media type, data)."""
    head, sep, data = uri.partition(",")
    if not sep or not head.endswith(";base64") or not data:
        raise InvalidRequestError(
            f"{where}: expected a base64 data: URI (data:<media type>;base64,<data>)", param=where
        )
    return head[5:-7].split(";", 1)[0].strip().lower(), data
