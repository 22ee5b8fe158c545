"""A fake Claude Platform on AWS and a fake STS on 127.0.0.1, both checking SigV4 with botocore.

:class:`FakePlatform` is the kit's Anthropic fake (same scripting, same recording) with a
gate in front: every request must carry the workspace header, and either a SigV4
signature that botocore recomputes from the known test credentials (service
``aws-external-anthropic``, the fake's region, the security token of STS credentials,
workspace header signed, no ``x-api-key``; a signed ``x-amz-content-sha256`` must be
the body's SHA-256 or ``UNSIGNED-PAYLOAD``, which botocore then puts in the canonical
request in place of the body's hash), or a known API key as ``Authorization: Bearer``.
A request that fails the gate gets a 403 in the AWS gateway's shape and never reaches
the script; ``rejections`` records why.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RecordedRequest, Reply
from proxy_core.testing.aws_sigv4 import verify_sigv4 as _verify_sigv4

WORKSPACE = "wrkspc_01AbCdEf23GhIj"
REGION = "us-west-2"
SERVICE = "aws-external-anthropic"
ACCESS_KEY_ID = "AKIATESTCANARY000001"
SECRET_KEY = "canary-secret-access-key-0123456789abcdef"
BASE_KEY_ID = "AKIATESTCANARYBASE002"
BASE_SECRET = "canary-base-secret-key-0123456789abcdef"
API_KEY = "sk-ant-aws-canary-api-key-0123456789"
EXTERNAL_ID = "canary-external-id-42"
ROLE_ARN = "arn:aws:iam::123456789012:role/proxy-core-claude"


def verify_sigv4(
    request: RecordedRequest, known: dict[str, tuple[str, str | None]], region: str, service: str
) -> str | None:
    """None when botocore, recomputing from ``known`` credentials, gets the same signature."""
    must_sign = ("anthropic-workspace-id",) if service == SERVICE else ()
    return _verify_sigv4(request, known, region, service, must_sign)


def _reject(message: str, kind: str = "InvalidSignatureException") -> Reply:
    return Reply.json({"message": message}, status=403, headers={"x-amzn-errortype": kind})


class FakePlatform(FakeUpstream):
    def __init__(self, region: str = REGION, workspace: str = WORKSPACE) -> None:
        super().__init__("anthropic")
        self.region = region
        self.workspace = workspace
        self.known: dict[str, tuple[str, str | None]] = {ACCESS_KEY_ID: (SECRET_KEY, None)}
        self.api_keys = {API_KEY}
        self.rejections: list[str] = []
        self._lock = threading.Lock()

    def reset(self) -> None:
        super().reset()
        self.rejections.clear()

    def gate(self, request: RecordedRequest) -> str | None:
        h = request.headers
        if h.get("anthropic-workspace-id") != self.workspace:
            return "anthropic-workspace-id header is missing or names another workspace"
        auth = h.get("authorization", "")
        if auth.startswith("Bearer "):
            if auth[7:] not in self.api_keys:
                return "invalid API key"
            if any(name.startswith("x-amz-") for name in h) or "x-api-key" in h:
                return "an API-key request carries other credentials"
            return None
        if "x-api-key" in h:
            return "a SigV4 request carries x-api-key"
        with self._lock:
            known = dict(self.known)
        return verify_sigv4(request, known, self.region, SERVICE)

    def _next_reply(self, request: RecordedRequest) -> Reply:
        problem = self.gate(request)
        if problem is None:
            return super()._next_reply(request)
        with self._cond:
            self.requests.append(request)
            self.rejections.append(problem)
            self._cond.notify_all()
        return _reject(problem)


_STS_OK = """<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser><Arn>{arn}/proxy-core</Arn><AssumedRoleId>AROATEST:proxy-core</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{key}</AccessKeyId>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <SessionToken>{token}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>"""

STS_DENIED = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
  <Message>User: arn:aws:iam::123456789012:user/gw is not authorized to perform: sts:AssumeRole
  on resource: {arn}</Message>
  </Error><RequestId>1</RequestId></ErrorResponse>"""


class FakeSTS(FakeUpstream):
    """AssumeRole only: checks the base credentials' signature, the role and the external id,
    then issues fresh credentials (registered with ``platform``) valid for ``lifetime_s``."""

    def __init__(self, platform: FakePlatform, region: str = REGION) -> None:
        super().__init__("sts")
        self.platform = platform
        self.region = region
        self.lifetime_s = 3600.0
        self.issued: list[tuple[str, str, str]] = []

    def reset(self) -> None:
        super().reset()
        self.issued.clear()
        self.lifetime_s = 3600.0

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._cond:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None
            self._cond.notify_all()
        if scripted is not None:
            return scripted(request) if callable(scripted) else scripted
        problem = verify_sigv4(request, {BASE_KEY_ID: (BASE_SECRET, None)}, self.region, "sts")
        form: dict[str, Any] = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if problem is None and (form.get("Action") != "AssumeRole" or form.get("RoleArn") != ROLE_ARN):
            problem = "unexpected AssumeRole parameters"
        if problem is None and form.get("ExternalId") != EXTERNAL_ID:
            return Reply.raw(STS_DENIED.format(arn=ROLE_ARN).encode(), status=403, content_type="text/xml")
        if problem is not None:
            return Reply.raw(
                f"<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>{problem}</Message></Error></ErrorResponse>".encode(),
                status=403,
                content_type="text/xml",
            )
        n = len(self.issued) + 1
        creds = (
            f"ASIATESTCANARY{n:06d}",
            f"canary-sts-secret-{n}-abcdef0123456789",
            f"canary-sts-token-{n}-FwoGZXIvYXdzE",
        )
        self.issued.append(creds)
        with self.platform._lock:
            self.platform.known[creds[0]] = (creds[1], creds[2])
        expiration = datetime.fromtimestamp(time.time() + self.lifetime_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        xml = _STS_OK.format(arn=ROLE_ARN, key=creds[0], secret=creds[1], token=creds[2], expiration=expiration)
        return Reply.raw(xml.encode(), content_type="text/xml")


MODEL = "claude-sonnet-4-6"
BEDROCK_ID = "anthropic.claude-sonnet-4-5-20250929-v1:0"
ACCOUNTS = ("aws-key", "aws-role", "aws-apikey")


def platform_config(platform_url: str, sts_url: str) -> dict[str, Any]:
    base = {"type": "aws-claude-platform", "workspace_id": WORKSPACE, "region": REGION, "base_url": platform_url}
    models = {MODEL: {}, "claude-opus-4-6": {}}
    key_auth = {"type": "access_key", "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_KEY}
    role_auth = {
        "type": "assume_role",
        "role_arn": ROLE_ARN,
        "external_id": EXTERNAL_ID,
        "sts_endpoint": sts_url,
        "access_key_id": BASE_KEY_ID,
        "secret_access_key": BASE_SECRET,
    }
    return {
        "auth": {"keys": [{"name": "test", "key": GATEWAY_KEY, "user": "tester"}]},
        "providers": {
            "aws-key": {**base, "auth": key_auth, "models": {**models, BEDROCK_ID: {}}},
            "aws-role": {**base, "auth": role_auth, "models": models},
            "aws-apikey": {**base, "auth": {"type": "api_key", "api_key": API_KEY}, "models": models},
            "aws-east": {**base, "region": "us-east-1", "auth": key_auth, "models": models},
        },
        # The translators' tests are not about the fallback plugin's retry policy.
        "plugins": {"disabled": ["fallback"]},
    }


def assert_authenticated(platform: FakePlatform, account: str) -> None:
    """What the fake received: workspace header, the account's credentials and nothing else."""
    assert platform.rejections == []
    assert platform.requests, "no upstream request"
    for request in platform.requests:
        h = request.headers
        assert h["anthropic-workspace-id"] == WORKSPACE
        assert "x-api-key" not in h
        if account == "aws-apikey":
            assert h["authorization"] == f"Bearer {API_KEY}"
            assert not [name for name in h if name.startswith("x-amz-")]
        else:
            assert h["authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
            assert "/us-west-2/aws-external-anthropic/aws4_request" in h["authorization"]
            if account == "aws-key":
                assert ACCESS_KEY_ID in h["authorization"] and "x-amz-security-token" not in h
            else:
                assert "ASIATESTCANARY" in h["authorization"] and h["x-amz-security-token"]
