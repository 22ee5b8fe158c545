"""The Bedrock test setup: the kit's :class:`FakeBedrock`, a fake STS that issues
credentials the fake Bedrock then accepts, and one config with an account per auth method."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from proxy_core.testing import GATEWAY_KEY, FakeUpstream, RecordedRequest, Reply
from proxy_core.testing.aws_sigv4 import verify_sigv4
from proxy_core.testing.fake_bedrock import ACCESS_KEY_ID, API_KEY, REGION, SECRET_KEY, FakeBedrock

CLAUDE = "anthropic.claude-sonnet-4-5-20250929-v1:0"
CLAUDE_US = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CLAUDE_GLOBAL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "us.amazon.nova-pro-v1:0"
LLAMA = "meta.llama3-3-70b-instruct-v1:0"
BASE_KEY_ID = "AKIATESTBEDROCKBASE2"
BASE_SECRET = "bedrock-base-secret-0123456789abcdef"
ROLE_ARN = "arn:aws:iam::123456789012:role/proxy-core-bedrock"

_STS_OK = """<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>
<SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>
</AssumeRoleResult></AssumeRoleResponse>"""


class FakeSTS(FakeUpstream):
    """AssumeRole: checks the base credentials' signature and the role, issues credentials
    that ``bedrock`` then knows."""

    def __init__(self, bedrock: FakeBedrock) -> None:
        super().__init__("sts")
        self.bedrock = bedrock
        self.issued: list[tuple[str, str, str]] = []

    def reset(self) -> None:
        super().reset()
        self.issued.clear()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()
        problem = verify_sigv4(request, {BASE_KEY_ID: (BASE_SECRET, None)}, REGION, "sts")
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if problem or form.get("RoleArn") != ROLE_ARN:
            body = f"<ErrorResponse><Error><Code>AccessDenied</Code><Message>{problem}</Message></Error>"
            body += "</ErrorResponse>"
            return Reply.raw(body.encode(), status=403, content_type="text/xml")
        n = len(self.issued) + 1
        creds = (f"ASIATESTBEDROCK{n:05d}", f"bedrock-sts-secret-{n}-abcdef", f"bedrock-sts-token-{n}-FwoGZXIvYXdz")
        self.issued.append(creds)
        with self.bedrock.lock:
            self.bedrock.known[creds[0]] = (creds[1], creds[2])
        expiration = datetime.fromtimestamp(time.time() + 3600, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        xml = _STS_OK.format(key=creds[0], secret=creds[1], token=creds[2], expiration=expiration)
        return Reply.raw(xml.encode(), content_type="text/xml")


def bedrock_config(bedrock_url: str, sts_url: str, anthropic_url: str) -> dict[str, Any]:
    base = {"type": "bedrock", "region": REGION, "base_url": bedrock_url}
    models: dict[str, Any] = {CLAUDE: {}, CLAUDE_US: {}, CLAUDE_GLOBAL: {}, NOVA: {}, LLAMA: {}}
    key_auth = {"type": "access_key", "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_KEY}
    role_auth = {
        "type": "assume_role",
        "role_arn": ROLE_ARN,
        "sts_endpoint": sts_url,
        "access_key_id": BASE_KEY_ID,
        "secret_access_key": BASE_SECRET,
    }
    return {
        "auth": {"keys": [{"name": "test", "key": GATEWAY_KEY, "user": "tester"}]},
        "providers": {
            "bedrock": {**base, "auth": key_auth, "models": models},
            "bedrock-role": {**base, "auth": role_auth, "models": models},
            "bedrock-apikey": {**base, "auth": {"type": "api_key", "api_key": API_KEY}, "models": models},
            "anthropic-main": {
                "type": "anthropic",
                "api_key": "sk-ant-test",
                "base_url": anthropic_url,
                "models": {"claude-sonnet-4-5": {}},
            },
        },
        "routes": {"claude-default": {"targets": ["anthropic-main/claude-sonnet-4-5", f"bedrock/{CLAUDE}"]}},
        # The translators' tests are not about the fallback plugin's retry policy.
        "plugins": {"disabled": ["fallback"]},
    }
