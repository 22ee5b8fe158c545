"""Credentials and the operator's AWS identifiers out of upstream error text.

Clients get placeholders (``<arn>``, ``<account-id>``, ``<workspace-id>``) and the
action to take; the operator's log gets the identifiers (credentials still scrubbed).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

# AWS access key ids (long-term AKIA..., temporary ASIA...), whosever they are.
KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` without the given secrets and without anything shaped like an access key id."""
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return KEY_ID.sub("[redacted]", text)


# The operator's identifiers: ARNs (IAM principals, roles, resources), 12-digit AWS
# account ids, workspace ids. An ARN ends before trailing sentence punctuation.
_ARN = re.compile(r"\barn:aws[a-z-]*:[\w:/+=,.@*-]*[\w/+=@*-]")
_WORKSPACE_ID = re.compile(r"\bwrkspc_[A-Za-z0-9]+")
_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")


def redact_identifiers(text: str) -> str:
    """``text`` with AWS account ids, ARNs and workspace ids replaced by placeholders."""
    text = _ARN.sub("<arn>", text)
    text = _WORKSPACE_ID.sub("<workspace-id>", text)
    return _ACCOUNT_ID.sub("<account-id>", text)


def _redact_json(value: Any) -> Any:
    if isinstance(value, str):
        return redact_identifiers(value)
    if isinstance(value, dict):
        return {redact_identifiers(str(k)): _redact_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and _ACCOUNT_ID.fullmatch(str(value)):
        return "<account-id>"
    return value


def redact_body(body: bytes) -> bytes:
    """A raw error body for native clients, identifiers redacted and JSON kept valid."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return redact_identifiers(body.decode("utf-8", "replace")).encode()
    return orjson.dumps(_redact_json(data))


def aws_message(body: bytes) -> str | None:
    """The ``message`` (or ``Message``) of an AWS JSON error body."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    for key in ("message", "Message"):
        if isinstance(data.get(key), str):
            return str(data[key])
    return None
