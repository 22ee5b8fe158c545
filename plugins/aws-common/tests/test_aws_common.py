"""The shared AWS library: credential sources from config, SigV4 as botocore computes it,
identifier and credential scrubbing. The providers' own suites test it end to end."""

from __future__ import annotations

import asyncio

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from proxy_core_aws import (
    AccessKeyAuth,
    ApiKeyAuth,
    AssumedRoleCredentials,
    AssumeRoleAuth,
    credential_source,
    redact_identifiers,
    scrub,
    sign,
)
from pydantic import SecretStr


def test_credential_source_per_auth_type() -> None:
    key = AccessKeyAuth(type="access_key", access_key_id=SecretStr("AKIAEXAMPLE"), secret_access_key=SecretStr("s"))
    static = credential_source("acct", "us-east-1", key)
    assert static is not None and asyncio.run(static.get()).access_key == "AKIAEXAMPLE"
    role = AssumeRoleAuth(type="assume_role", role_arn="arn:aws:iam::123456789012:role/r")
    assert isinstance(credential_source("acct", "us-east-1", role), AssumedRoleCredentials)
    assert credential_source("acct", "us-east-1", ApiKeyAuth(type="api_key", api_key=SecretStr("k"))) is None


def test_sign_matches_botocore_recomputation() -> None:
    creds = ReadOnlyCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "tok")
    request = httpx.Request(
        "POST",
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/a%3Ab/converse",
        content=b"{}",
        headers={"content-type": "application/json", "user-agent": "x"},
    )
    sign(request, creds, "bedrock", "us-east-1")
    signed = request.headers["authorization"].split("SignedHeaders=")[1].split(",")[0].split(";")
    assert "user-agent" not in signed and {"host", "x-amz-date", "x-amz-security-token"} <= set(signed)
    aws = AWSRequest(
        method="POST", url=str(request.url), data=b"{}", headers={name: request.headers[name] for name in signed}
    )
    aws.context["timestamp"] = request.headers["x-amz-date"]
    signer = SigV4Auth(creds, "bedrock", "us-east-1")
    expected = signer.signature(signer.string_to_sign(aws, signer.canonical_request(aws)), aws)
    assert request.headers["authorization"].endswith(f"Signature={expected}")


def test_scrub_and_redact() -> None:
    text = "User: arn:aws:iam::123456789012:user/gw (key AKIAABCDEFGHIJKLMNOP, secret s3cr3t) in 123456789012."
    out = redact_identifiers(scrub(text, ["s3cr3t"]))
    assert out == "User: <arn> (key [redacted], secret [redacted]) in <account-id>."
