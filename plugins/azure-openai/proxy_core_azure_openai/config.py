"""Account settings of the ``azure-openai`` provider type.

```yaml
providers:
  azure-main:
    type: azure-openai
    base_url: https://my-resource.openai.azure.com     # the resource endpoint
    api_key: ${AZURE_OPENAI_API_KEY}                   # sent as the api-key header
    # auth: {type: entra_token, token: ${AZURE_OPENAI_AD_TOKEN}}   # or a Microsoft Entra ID token
    api_version: "2024-10-21"
    models: {gpt-4o: {deployment: gpt4o-prod}, gpt-4o-mini: {}}   # deployment: the model name
```

Errors name the path (``providers.azure-main.models.gpt-4o.deployment: ...``) and never
the value; secrets are ``SecretStr``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, model_validator
from typing_extensions import TypedDict

from proxy_core.config import ProviderConfig

DEFAULT_API_VERSION = "2024-10-21"  # the latest GA data-plane version of the deployment API
_DEPLOYMENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def _deployment_name(value: str) -> str:
    if not 2 <= len(value) <= 64 or not set(value) <= _DEPLOYMENT_CHARS:
        raise ValueError(
            "must be an Azure deployment name: 2 to 64 letters, digits, '.', '_' or '-' "
            "(when not given it is the model name, which then must be one)"
        )
    return value


class AzureModel(TypedDict, total=False):
    """A model entry: its deployment, and any model info (prices, capabilities)."""

    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    deployment: Annotated[str, AfterValidator(_deployment_name)]


class EntraTokenAuth(BaseModel):
    """A Microsoft Entra ID access token (scope https://cognitiveservices.azure.com/.default),
    sent as ``Authorization: Bearer``. Static: the operator refreshes it (about hourly)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["entra_token"]
    token: SecretStr


class AzureOpenAIConfig(ProviderConfig):
    base_url: str = Field(pattern=r"^https?://[^/\s?#]+(/[^\s?#]*)?$")
    api_version: str = Field(DEFAULT_API_VERSION, pattern=r"^\d{4}-\d{2}-\d{2}(-preview)?$")
    auth: EntraTokenAuth | None = None
    models: dict[str, AzureModel] = {}  # type: ignore[assignment]

    @model_validator(mode="before")
    @classmethod
    def _deployments_and_credentials(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        models = data.get("models")
        if isinstance(models, dict):  # the deployment defaults to the model name
            data["models"] = {
                k: {"deployment": str(k), **m} if isinstance(m, dict) else ({"deployment": str(k)} if m is None else m)
                for k, m in models.items()
            }
        elif isinstance(models, list):
            data["models"] = {str(k): {"deployment": str(k)} for k in models}
        has_key, has_auth = data.get("api_key") is not None, data.get("auth") is not None
        if has_key == has_auth:
            raise ValueError(
                "api_key: give api_key (sent as the api-key header) or auth: {type: entra_token, token: ...}, "
                "exactly one of them"
            )
        return data
