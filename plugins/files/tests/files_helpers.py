"""Helpers of the files plugin's tests: config, SDK clients, Anthropic file metadata, multipart."""

from __future__ import annotations

from typing import Any

import openai

from proxy_core.testing import GATEWAY_KEY, RecordedRequest, RunningGateway, default_config

OPENAI_ONLY_KEY = "sk-proxy-core-openai-only"
ALICE_KEY = "sk-proxy-core-alice"  # two tenants of the same accounts, not admins
BOB_KEY = "sk-proxy-core-bob"
UPLOAD_LIMIT = 64 * 1024  # small, so the oversize tests stay fast
FILES_BETA = "files-api-2025-04-14"


def files_config(anthropic_url: str, openai_url: str, store: str) -> dict[str, Any]:
    """The test key is an admin (it sees every file, so the translation tests need not
    upload first); ``alice`` and ``bob`` are tenants. Owners go to the spend store ``store``."""
    config = default_config(anthropic_url=anthropic_url, openai_url=openai_url)
    keys = config["auth"]["keys"]
    keys[0]["admin"] = True
    keys.append({"name": "openai-only", "key": OPENAI_ONLY_KEY, "models": ["openai-main/*"]})
    tenant_models = ["anthropic-main/*", "openai-main/*"]
    keys.append({"name": "alice", "key": ALICE_KEY, "user": "alice", "teams": ["ml"], "models": tenant_models})
    keys.append({"name": "bob", "key": BOB_KEY, "user": "bob", "teams": ["ml"], "models": tenant_models})
    config["plugins"] = {
        "disabled": ["fallback"],
        "files": {"max_upload_bytes": UPLOAD_LIMIT},
        "cost": {"store": store, "flush_interval_s": 0.05},
    }
    return config


def sdk(gateway: RunningGateway | str, key: str = GATEWAY_KEY, **headers: str) -> openai.OpenAI:
    """The openai SDK on a gateway (or a gateway's URL), with these default headers."""
    url = gateway if isinstance(gateway, str) else gateway.url
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=10, default_headers=headers or None)


def anthropic_file(
    file_id: str = "file_011CNha8iCJcU1wXNR6q4V8w",
    filename: str = "document.txt",
    size: int = 11,
    downloadable: bool = False,
    mime_type: str = "text/plain",
) -> dict[str, Any]:
    """File metadata as Anthropic's Files API returns it."""
    return {
        "id": file_id,
        "type": "file",
        "filename": filename,
        "mime_type": mime_type,
        "size_bytes": size,
        "created_at": "2025-04-15T18:37:24.100435Z",
        "downloadable": downloadable,
    }


CREATED_AT = 1744742244  # 2025-04-15T18:37:24Z


def multipart_parts(request: RecordedRequest) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a recorded multipart request: (headers, data)."""
    ctype = request.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary="), ctype
    boundary = ctype.split("boundary=", 1)[1].strip('"').encode()
    body = request.body
    assert body.endswith(b"--" + boundary + b"--\r\n"), body[-80:]
    parts = []
    for chunk in body.split(b"--" + boundary)[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        headers = {}
        for line in head.split(b"\r\n"):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, data))
    return parts
