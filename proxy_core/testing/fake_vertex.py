"""A fake Vertex AI (Gemini and Claude models) and a fake Google OAuth token endpoint.

:class:`FakeGoogleToken` is a service account's ``token_uri``: it checks the JWT
assertion google-auth signs (RS256 with a key registered by the test, audience Google's
token endpoint, the cloud-platform scope) and issues ``ya29.fake-N`` tokens valid for
``lifetime_s``. :class:`FakeVertex` accepts only those tokens (and the static ones in
``tokens``) as ``Authorization: Bearer``, answers a wrong one with Google's 401, and
checks each request like Vertex: the project and location in the path, Gemini bodies
with :func:`fake_gemini.check_request` (``gs://`` and ``https://`` file URIs allowed),
Claude bodies with ``anthropic_version: vertex-2023-10-16``, no ``model`` field, and a
``stream`` flag that matches ``rawPredict`` / ``streamRawPredict``.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import orjson

from . import fake_answers
from .fake_gemini import Invalid, check_request, default_answer, google_error
from .fake_upstream import FakeUpstream, RecordedRequest, Reply

ANTHROPIC_VERSION = "vertex-2023-10-16"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
AUDIENCE = "https://oauth2.googleapis.com/token"  # what Google checks, wherever token_uri points
_PATH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/publishers/(?P<publisher>google|anthropic)"
    r"/models/(?P<model>[^/:]+):(?P<method>[A-Za-z]+)$"
)
_GEMINI_METHODS = {"generateContent": False, "streamGenerateContent": True}
_CLAUDE_METHODS = {"rawPredict": False, "streamRawPredict": True}


class FakeGoogleToken(FakeUpstream):
    def __init__(self) -> None:
        super().__init__("google-token")
        self.public_keys: dict[str, bytes] = {}  # client_email -> PEM public key
        self.lifetime_s = 3600
        self.delay_s = 0.0  # before each answer: lets concurrent requests pile up on a refresh
        self.issued: list[str] = []
        self._tokens_lock = threading.Lock()
        self._expiry: dict[str, float] = {}

    def reset(self) -> None:
        super().reset()
        self.issued.clear()
        self.lifetime_s = 3600
        self.delay_s = 0.0

    def valid(self, token: str) -> bool:
        with self._tokens_lock:
            return self._expiry.get(token, 0.0) > time.time()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        from google.auth import jwt  # the test kit needs google-auth only for this fake

        with self._cond:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None
            self._cond.notify_all()
        if scripted is not None:
            return scripted(request) if callable(scripted) else scripted
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Reply.json({"error": "unsupported_grant_type"}, status=400)
        try:
            claims = jwt.decode(form.get("assertion", ""), verify=False)  # type: ignore[no-untyped-call]
            key = self.public_keys[claims["iss"]]
            claims = jwt.decode(form["assertion"], certs=key, audience=AUDIENCE)  # type: ignore[no-untyped-call]
        except (KeyError, ValueError) as e:
            return Reply.json({"error": "invalid_grant", "error_description": f"Invalid JWT: {e}"}, status=400)
        if SCOPE not in str(claims.get("scope", "")).split():
            return Reply.json({"error": "invalid_scope"}, status=400)
        token = f"ya29.fake-{len(self.issued) + 1}"
        with self._tokens_lock:
            self.issued.append(token)
            self._expiry[token] = time.time() + self.lifetime_s
        answer = {"access_token": token, "expires_in": self.lifetime_s, "token_type": "Bearer"}
        return Reply.json(answer, delay_before=self.delay_s)


class FakeVertex(FakeUpstream):
    def __init__(self, project: str, token_server: FakeGoogleToken | None = None) -> None:
        super().__init__("vertex")
        self.project = project
        self.token_server = token_server
        self.tokens: set[str] = set()  # static tokens accepted as they are
        self.rejections: list[str] = []

    def reset(self) -> None:
        super().reset()
        self.rejections.clear()

    def _token_ok(self, request: RecordedRequest) -> bool:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token in self.tokens:
            return True
        return self.token_server is not None and self.token_server.valid(token)

    def _reject(self, request: RecordedRequest, reply: Reply, why: str) -> Reply:
        with self._cond:
            self.requests.append(request)
            self.rejections.append(why)
            self._cond.notify_all()
        return reply

    def _next_reply(self, request: RecordedRequest) -> Reply:
        path, _, query = request.path.partition("?")
        if not self._token_ok(request) or "x-goog-api-key" in request.headers or "x-api-key" in request.headers:
            message = "Request had invalid authentication credentials. Expected OAuth 2 access token."
            return self._reject(request, google_error(401, "UNAUTHENTICATED", message), "bad credentials")
        m = _PATH.match(path)
        if m is None or m["project"] != self.project:
            return self._reject(request, google_error(404, "NOT_FOUND", f"no route {path}"), f"no route {path}")
        try:
            stream = self._check(m, query, request.body)
        except (Invalid, orjson.JSONDecodeError) as e:
            message = str(e) or "Invalid JSON payload received."
            return self._reject(request, google_error(400, "INVALID_ARGUMENT", message), message)
        with self._cond:
            self.requests.append(request)
            item = self._script.popleft() if self._script else None
            self._cond.notify_all()
        if item is not None:
            return item(request) if callable(item) else item
        if m["publisher"] == "google":
            return default_answer(stream)
        if m["model"] == "count-tokens":
            return Reply.json({"input_tokens": 42})
        model = m["model"].split("@")[0]
        if stream:
            return Reply.sse(fake_answers.anthropic_events(model, fake_answers.ANTHROPIC_TEXT))
        return Reply.json(
            fake_answers.anthropic_message(model, [{"type": "text", "text": fake_answers.ANTHROPIC_TEXT}])
        )

    def _check(self, m: re.Match[str], query: str, raw: bytes) -> bool:
        body: Any = orjson.loads(raw)
        if m["publisher"] == "google":
            if m["method"] not in _GEMINI_METHODS:
                raise Invalid(f"unknown method {m['method']}")
            stream = _GEMINI_METHODS[m["method"]]
            if stream and parse_qs(query).get("alt") != ["sse"]:
                raise Invalid("alt=sse")
            check_request(body, m["model"], file_uris=("gs://", "https://"))
            return stream
        if not isinstance(body, dict) or body.get("anthropic_version") != ANTHROPIC_VERSION:
            raise Invalid("anthropic_version: vertex-2023-10-16 is required in the body")
        if m["model"] == "count-tokens":
            if m["method"] != "rawPredict" or not isinstance(body.get("model"), str):
                raise Invalid("count-tokens:rawPredict needs the model in the body")
            return False
        if m["method"] not in _CLAUDE_METHODS:
            raise Invalid(f"unknown method {m['method']}")
        if "model" in body:
            raise Invalid("model: Extra inputs are not permitted")
        stream = _CLAUDE_METHODS[m["method"]]
        if bool(body.get("stream")) != stream:
            raise Invalid("stream must be true on streamRawPredict and absent on rawPredict")
        if not isinstance(body.get("max_tokens"), int) or not isinstance(body.get("messages"), list):
            raise Invalid("max_tokens and messages are required")
        return stream
