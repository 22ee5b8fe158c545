"""Account settings of the ``bedrock`` provider type.

```yaml
providers:
  bedrock-main:
    type: bedrock
    region: us-east-1
    auth: {type: access_key, access_key_id: ..., secret_access_key: ..., session_token: ...}
    # auth: {type: assume_role, role_arn: arn:aws:iam::123456789012:role/x, external_id: ...}
    # auth: {type: api_key, api_key: ...}          # a Bedrock API key, sent as a bearer token
    base_url: https://bedrock-runtime.us-east-1.amazonaws.com    # optional
    models: {anthropic.claude-sonnet-4-5-20250929-v1:0: {}, us.amazon.nova-pro-v1:0: {}}
```
"""

from __future__ import annotations

from typing import Any

from proxy_core_aws.config import REGION_PATTERN, AuthConfig
from pydantic import Field, model_validator

from proxy_core.config import ProviderConfig

SERVICE = "bedrock"  # SigV4 signing name of bedrock-runtime


class BedrockConfig(ProviderConfig):
    region: str = Field(pattern=REGION_PATTERN)
    auth: AuthConfig

    @model_validator(mode="before")
    @classmethod
    def _no_top_level_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("api_key") is not None:
            raise ValueError("api_key: put a Bedrock API key under auth: {type: api_key, api_key: ...}")
        return data
