"""The console's files, shipped in the package and served from memory.

Files are read once (importlib.resources) when the gateway is built; a request looks its
name up in that table, so no path from a URL ever reaches the file system. Every answer
carries a Content-Security-Policy that allows only the gateway's own origin, and an
ETag: browsers revalidate (``no-cache``) and get a 304 while the file is unchanged, so an
upgraded gateway never serves a stale script beside a new page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}

# Only the gateway's own origin: no inline script or style, no third-party anything.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    content_type: str
    etag: str


def load_assets(package: str = "proxy_core_console") -> dict[str, Asset]:
    """Every file of the package's ``static/`` folder with a known type, by name."""
    assets: dict[str, Asset] = {}
    for entry in resources.files(package).joinpath("static").iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if not entry.is_file() or suffix not in CONTENT_TYPES:
            continue
        body = entry.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        assets[entry.name] = Asset(body, CONTENT_TYPES[suffix], etag)
    return assets


class ConsoleFiles:
    """``GET /ui`` (redirect), ``/ui/`` (the page) and ``/ui/{name}`` (its files)."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        self.assets = assets

    async def redirect(self, request: Request) -> Response:
        # Relative, so it stays right under any mount prefix (/llm/ui -> /llm/ui/).
        return RedirectResponse("ui/", status_code=308, headers=SECURITY_HEADERS)

    async def file(self, request: Request) -> Response:
        name = request.path_params.get("name") or "index.html"
        asset = self.assets.get(name)
        if asset is None:
            return Response("not found\n", 404, media_type="text/plain", headers=SECURITY_HEADERS)
        headers = {**SECURITY_HEADERS, "etag": asset.etag, "cache-control": "no-cache"}
        if asset.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(asset.body, headers={**headers, "content-type": asset.content_type})


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
