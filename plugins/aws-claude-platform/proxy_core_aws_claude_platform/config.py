"""Account settings of the ``aws-claude-platform`` provider type.

```yaml
providers:
  aws-claude:
    type: aws-claude-platform
    workspace_id: wrkspc_01AbCdEf23GhIj        # sent as anthropic-workspace-id
    region: us-west-2                          # must be the workspace's region
    auth: {type: access_key, access_key_id: ..., secret_access_key: ..., session_token: ...}
    # auth: {type: assume_role, role_arn: arn:aws:iam::123456789012:role/x, external_id: ...}
    # auth: {type: api_key, api_key: ...}
    models: {claude-sonnet-4-6: {}}
```

Every credential is a ``SecretStr``: validation errors name the path, never the value.
"""

from __future__ import annotations

from typing import Any

from proxy_core_aws.config import REGION_PATTERN, AccessKeyAuth, ApiKeyAuth, AssumeRoleAuth, AuthConfig
from pydantic import Field, SecretStr, model_validator

from proxy_core.config import ProviderConfig

SERVICE = "aws-external-anthropic"
WORKSPACE_HEADER = "anthropic-workspace-id"
WORKSPACE_PATTERN = r"^wrkspc_[A-Za-z0-9]+$"


__all__ = ["REGION_PATTERN", "AccessKeyAuth", "ApiKeyAuth", "AssumeRoleAuth", "AwsClaudePlatformConfig"]


class AwsClaudePlatformConfig(ProviderConfig):
    workspace_id: str = Field(pattern=WORKSPACE_PATTERN)
    region: str = Field(pattern=REGION_PATTERN)
    auth: AuthConfig

    @model_validator(mode="before")
    @classmethod
    def _no_top_level_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("api_key") is not None:
            raise ValueError("api_key: put the key under auth: {type: api_key, api_key: ...}")
        return data

    def secrets(self) -> list[str]:
        """Every credential value of this account (for scrubbing upstream error text)."""
        values = [
            getattr(self.auth, name, None)
            for name in ("access_key_id", "secret_access_key", "session_token", "external_id", "api_key")
        ]
        return [v.get_secret_value() for v in values if isinstance(v, SecretStr) and v.get_secret_value()]
