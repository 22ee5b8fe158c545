"""SigV4 signing of an ``httpx.Request`` with botocore's signer, over the exact bytes sent.

A streamed body (a file upload) is not read to be signed: it is sent with
``x-amz-content-sha256: UNSIGNED-PAYLOAD``, which SigV4 puts in the canonical request in
place of the body's hash (S3's scheme; botocore computes the signature the same way for
any service), so the gateway never holds the file. Everything else is signed as before.

Signed headers: ``host``, the ``x-amz-*`` headers the signer adds, and the request's
``content-type`` and ``anthropic-*`` headers. Hop-by-hop and transport headers
(``accept-encoding``, ``connection``, ``content-length``, ``user-agent``) are left out of
the signature so a transport that rewrites them cannot break it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from botocore.credentials import ReadOnlyCredentials

# botocore logs the canonical request (with X-Amz-Security-Token) at DEBUG: never let it.
logging.getLogger("botocore.auth").setLevel(logging.INFO)

_SIGNED_PREFIXES = ("anthropic-", "x-amz-")
_SIGNED_NAMES = frozenset({"content-type", "host"})
_ADDED = ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
CONTENT_SHA256 = "x-amz-content-sha256"


def sign(request: httpx.Request, creds: ReadOnlyCredentials, service: str, region: str) -> None:
    """Add ``Authorization``, ``X-Amz-Date`` (and ``X-Amz-Security-Token``) to ``request``;
    a body not read yet (a stream) is signed as ``UNSIGNED-PAYLOAD``."""
    # Imported here: botocore (~12 MiB) only in processes with a signing account.
    from botocore.auth import UNSIGNED_PAYLOAD, SigV4Auth
    from botocore.awsrequest import AWSRequest

    for name in _ADDED:
        request.headers.pop(name, None)
    try:
        body = request.content
        request.headers.pop(CONTENT_SHA256, None)
    except httpx.RequestNotRead:
        body = b""
        request.headers[CONTENT_SHA256] = UNSIGNED_PAYLOAD
    headers = {
        name: value
        for name, value in request.headers.items()
        if name in _SIGNED_NAMES or name.startswith(_SIGNED_PREFIXES)
    }
    aws = AWSRequest(method=request.method, url=str(request.url), data=body, headers=headers)
    SigV4Auth(creds, service, region).add_auth(aws)
    for name in _ADDED:
        value = aws.headers.get(name)
        if value is not None:
            request.headers[name] = value
