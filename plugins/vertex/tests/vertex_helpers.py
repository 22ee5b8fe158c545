"""The vertex suite's accounts: a service-account key (an RSA key made for the session,
its token_uri on the fake token endpoint), a static token on the global endpoint, and
the kit's fake Anthropic for fallback routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from proxy_core.testing import default_config

PROJECT = "proxy-core-test"
REGION = "us-east5"
CLIENT_EMAIL = "gateway@proxy-core-test.iam.gserviceaccount.com"
STATIC_TOKEN = "ya29.static-canary-token-0123456789"
CLAUDE = "claude-sonnet-4-5@20250929"
MODELS = {"gemini-2.5-pro": {}, "gemini-3-pro-preview": {}, CLAUDE: {}, "claude-opus-4-1@20250805": {}}


def service_account_file(directory: Path, token_url: str) -> tuple[Path, bytes]:
    """A service-account key file and the PEM public key the fake token endpoint checks."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path = directory / "sa.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": PROJECT,
                "private_key_id": "test-key-1",
                "private_key": private,
                "client_email": CLIENT_EMAIL,
                "client_id": "1234567890",
                "token_uri": token_url + "/token",
            }
        )
    )
    return path, public


def vertex_config(vertex_url: str, anthropic_url: str, sa_path: Path) -> dict[str, Any]:
    config = default_config(anthropic_url=anthropic_url)
    base = {"type": "vertex", "project": PROJECT, "base_url": vertex_url}
    config["providers"]["vertex-sa"] = {
        **base,
        "region": REGION,
        "auth": {"type": "service_account", "credentials_file": str(sa_path)},
        "models": MODELS,
    }
    config["providers"]["vertex-global"] = {
        **base,
        "region": "global",
        "auth": {"type": "access_token", "token": STATIC_TOKEN},
        "models": MODELS,
    }
    config["routes"] = {
        "claude-anthropic-first": {"targets": ["anthropic-main/claude-sonnet-4-5", f"vertex-sa/{CLAUDE}"]},
        "claude-vertex-first": {"targets": [f"vertex-sa/{CLAUDE}", "anthropic-main/claude-sonnet-4-5"]},
        "gemini-then-claude": {"targets": ["vertex-sa/gemini-2.5-pro", f"vertex-global/{CLAUDE}"]},
    }
    config["plugins"] = {"disabled": ["fallback"]}  # the core's default fallback (429/5xx/529) stays
    return config
