"""The ``auth`` section of an AWS provider account, and the region rule.

```yaml
auth: {type: access_key, access_key_id: ..., secret_access_key: ..., session_token: ...}
auth: {type: assume_role, role_arn: arn:aws:iam::123456789012:role/x, external_id: ...}
auth: {type: api_key, api_key: ...}
```

Every credential is a ``SecretStr``: validation errors name the path, never the value.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

REGION_PATTERN = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"


class _Auth(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccessKeyAuth(_Auth):
    """Static AWS credentials of an IAM user (or a session), signed with SigV4."""

    type: Literal["access_key"]
    access_key_id: SecretStr
    secret_access_key: SecretStr
    session_token: SecretStr | None = None


class AssumeRoleAuth(_Auth):
    """Credentials from STS AssumeRole, cached and refreshed before they expire.

    The base credentials that call STS come from ``access_key_id`` /
    ``secret_access_key`` when given, else from the standard AWS credential chain
    (``AWS_ACCESS_KEY_ID``..., shared files, container or instance roles).
    """

    type: Literal["assume_role"]
    role_arn: str = Field(pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]+$")
    external_id: SecretStr | None = None
    session_name: str = Field("proxy-core", pattern=r"^[\w+=,.@-]{2,64}$")
    duration_seconds: int = Field(3600, ge=900, le=43200)
    # Refresh this long before the credentials expire.
    refresh_before_s: float = Field(300.0, ge=0)
    # STS endpoint; default https://sts.{region}.amazonaws.com (tests point it at a fake).
    sts_endpoint: str | None = None
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> AssumeRoleAuth:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("give both access_key_id and secret_access_key, or neither (standard AWS chain)")
        return self


class ApiKeyAuth(_Auth):
    """A service API key (Claude Platform on AWS, Bedrock), sent as ``Authorization: Bearer``."""

    type: Literal["api_key"]
    api_key: SecretStr


AuthConfig = Annotated[AccessKeyAuth | AssumeRoleAuth | ApiKeyAuth, Field(discriminator="type")]
