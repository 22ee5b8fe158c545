"""Account settings of the ``vertex`` provider type.

```yaml
providers:
  vertex-main:
    type: vertex
    project: my-project
    region: us-east5                  # or global (https://aiplatform.googleapis.com)
    auth: {type: service_account, credentials_file: /etc/gcp/sa.json}
    # auth: {type: adc}                         # application default credentials
    # auth: {type: access_token, token: ...}    # a static OAuth access token
    models: {gemini-2.5-pro: {}, claude-sonnet-4-5@20250929: {}}
```

Every credential is a ``SecretStr``; validation errors name the path, never the value. A
service-account file is read at start-up, so a missing or malformed one fails the start
naming ``providers.<account>.auth.credentials_file``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from proxy_core.config import ProviderConfig

PROJECT_PATTERN = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$"  # Google Cloud project ids
REGION_PATTERN = r"^(global|us|eu|[a-z]+-[a-z]+[0-9]+)$"


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServiceAccountAuth(_Auth):
    """A service-account key file; access tokens from its ``token_uri``, refreshed
    ``refresh_before_s`` before they expire."""

    type: Literal["service_account"]
    credentials_file: str
    refresh_before_s: float = Field(300.0, ge=0)

    @field_validator("credentials_file")
    @classmethod
    def _readable_service_account(cls, value: str) -> str:
        try:
            data = orjson.loads(Path(value).read_bytes())
        except OSError as e:
            raise ValueError(f"cannot read the file ({type(e).__name__})") from None
        except orjson.JSONDecodeError:
            raise ValueError("the file is not JSON") from None
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise ValueError("the file is not a service-account key (type: service_account)")
        missing = [k for k in ("client_email", "private_key", "token_uri") if not data.get(k)]
        if missing:
            raise ValueError(f"the service-account key lacks {', '.join(missing)}")
        return value


class AdcAuth(_Auth):
    """Application default credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's user
    credentials, or the metadata server on Google Cloud), looked up at the first request."""

    type: Literal["adc"]
    refresh_before_s: float = Field(300.0, ge=0)


class AccessTokenAuth(_Auth):
    """A static OAuth access token (it is never refreshed: for short jobs and tests)."""

    type: Literal["access_token"]
    token: SecretStr


AuthConfig = Annotated[ServiceAccountAuth | AdcAuth | AccessTokenAuth, Field(discriminator="type")]


class VertexConfig(ProviderConfig):
    project: str = Field(pattern=PROJECT_PATTERN)
    region: str = Field(pattern=REGION_PATTERN)
    auth: AuthConfig

    @model_validator(mode="before")
    @classmethod
    def _no_api_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("api_key") is not None:
            raise ValueError(
                "api_key: Vertex AI takes OAuth credentials: use auth: {type: service_account | adc | access_token}"
            )
        return data
