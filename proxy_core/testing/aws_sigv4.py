"""SigV4 verification for fake AWS upstreams: botocore recomputes the signature.

Used by the kit's Bedrock fake and the Claude Platform on AWS fakes: a request passes
when botocore, from the known test credentials, computes the same signature over the
headers the request says it signed, and the scope (service, region, date) is right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime

from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
from botocore.credentials import ReadOnlyCredentials  # type: ignore[import-untyped]

from .fake_upstream import RecordedRequest

_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


def verify_sigv4(
    request: RecordedRequest,
    known: dict[str, tuple[str, str | None]],
    region: str,
    service: str,
    must_sign: Iterable[str] = (),
) -> str | None:
    """None when the signature is valid; else the reason, worded like AWS's answers.

    ``known``: access key id -> (secret, session token or None).
    """
    h = request.headers
    m = _AUTH.match(h.get("authorization", ""))
    if m is None:
        return "missing or malformed SigV4 Authorization header"
    if m["service"] != service:
        return f"Credential should be scoped to correct service: '{service}'."
    if m["region"] != region:
        return f"Credential should be scoped to a valid region, not '{m['region']}'."
    if m["key"] not in known:
        return "The security token included in the request is invalid."
    secret, token = known[m["key"]]
    if token is not None and h.get("x-amz-security-token") != token:
        return "The security token included in the request is invalid (x-amz-security-token)."
    amz_date = h.get("x-amz-date", "")
    try:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "missing x-amz-date"
    if abs(time.time() - when.timestamp()) > 300 or amz_date[:8] != m["date"]:
        return "Signature expired or credential date mismatch."
    signed = m["signed"].split(";")
    for needed in ("host", "x-amz-date", *must_sign):
        if needed not in signed:
            return f"header {needed} is not signed"
    if token is not None and "x-amz-security-token" not in signed:
        return "x-amz-security-token is not signed"
    payload = h.get("x-amz-content-sha256")
    if payload is not None:
        if "x-amz-content-sha256" not in signed:
            return "x-amz-content-sha256 is not signed"
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(request.body).hexdigest():
            return "The provided 'x-amz-content-sha256' header does not match what was computed."
    headers = {name: h[name] for name in signed if name in h}
    aws = AWSRequest(method=request.method, url=f"http://{h['host']}{request.path}", data=request.body, headers=headers)
    aws.context["timestamp"] = amz_date
    signer = SigV4Auth(ReadOnlyCredentials(m["key"], secret, token), service, region)
    expected = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
    if not hmac.compare_digest(expected, m["sig"]):
        return "The request signature we calculated does not match the signature you provided."
    return None
