"""proxy-core's Claude Platform on AWS provider: Anthropic's wire format, AWS auth."""

from .provider import AwsClaudePlatformProvider

__all__ = ["AwsClaudePlatformProvider"]
