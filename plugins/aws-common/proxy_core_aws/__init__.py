"""AWS plumbing shared by proxy-core's AWS provider plugins (``aws-claude-platform``,
``bedrock``): a library, no hooks.

* :mod:`.config`: the ``auth`` section (access key, assumed role, API key) and the region rule;
* :mod:`.sts`: credential sources, STS AssumeRole cached and refreshed;
* :mod:`.signing`: SigV4 over an ``httpx.Request`` with botocore's signer;
* :mod:`.redact`: credentials and the operator's AWS identifiers out of error text.
"""

from .config import REGION_PATTERN, AccessKeyAuth, ApiKeyAuth, AssumeRoleAuth, AuthConfig
from .redact import redact_body, redact_identifiers, scrub
from .signing import sign
from .sts import AssumedRoleCredentials, CredentialSource, StaticCredentials, credential_source

__all__ = [
    "REGION_PATTERN",
    "AccessKeyAuth",
    "ApiKeyAuth",
    "AssumeRoleAuth",
    "AssumedRoleCredentials",
    "AuthConfig",
    "CredentialSource",
    "StaticCredentials",
    "credential_source",
    "redact_body",
    "redact_identifiers",
    "scrub",
    "sign",
]
