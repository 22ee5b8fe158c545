"""The ``prompt-cache`` feature plugin: ``cache_control`` and ``prompt_cache_key`` per target.

* Providers declaring ``cache_control`` (explicit caching: Anthropic-wire) get every
  ``cache_control`` as the client sent it; their adapters put it on the wire (a Bedrock
  provider translates it into ``cachePoint`` through the same capability).
* Other providers (automatic caching: OpenAI, Gemini, Groq, xAI...) never see it.
* ``prompt_cache_key`` reaches providers declaring ``prompt_cache_key`` only, unless the
  model's info says otherwise (``prompt_cache_key: true`` / ``false``).
* A marked prefix surely shorter than the model's ``min_cache_tokens`` (model table)
  gets a warning header; never an error.
"""

from __future__ import annotations

from proxy_core import Attempt, RequestContext, hookimpl
from proxy_core.errors import InvalidRequestError

from .markers import prefix_upper_bound, strip

STRIPPED_HEADER = "x-proxy-core-prompt-cache-stripped"
WARNING_HEADER = "x-proxy-core-prompt-cache-warning"


@hookimpl
def prepare_request(ctx: RequestContext, attempt: Attempt) -> None:
    if ctx.operation.name != "chat":
        return
    body = attempt.body
    key = body.get("prompt_cache_key")
    if key is not None and not isinstance(key, str):
        raise InvalidRequestError("'prompt_cache_key' must be a string", param="prompt_cache_key")
    target = attempt.target
    capabilities = target.provider.capabilities
    stripped = []
    if "cache_control" not in capabilities:
        if strip(body):
            stripped.append("cache_control")
    else:
        minimum = target.info.get("min_cache_tokens")
        if isinstance(minimum, int):
            bound = prefix_upper_bound(body)
            if bound is not None and bound < minimum:
                attempt.response_headers[WARNING_HEADER] = (
                    f"prefix too short: at most {bound} tokens up to the last cache_control, "
                    f"below the {minimum}-token minimum of {target.model}; nothing will be cached"
                )
    # The model's info (table or config) wins over the provider's default: Azure deployments
    # and compatible servers take the key for some models only.
    takes_key = target.info.get("prompt_cache_key", "prompt_cache_key" in capabilities) is True
    if not takes_key and body.pop("prompt_cache_key", None) is not None:
        stripped.append("prompt_cache_key")
    if stripped:
        attempt.response_headers[STRIPPED_HEADER] = ",".join(stripped)
