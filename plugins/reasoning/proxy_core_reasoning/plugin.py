"""The ``reasoning`` feature plugin: ``reasoning_effort`` for every target.

* Targets whose provider declares the ``thinking`` capability (Anthropic-wire: Anthropic,
  Claude Platform on AWS): ``reasoning_effort`` becomes ``thinking`` (or, where the
  model's info opts in, adaptive thinking / ``output_config.effort``).
* Other targets: ``reasoning_effort`` is passed through where the model's info says
  ``reasoning_effort: true`` and removed elsewhere.

Responses need nothing from this plugin: provider adapters already return
``reasoning_content``, ``thinking_blocks`` and reasoning tokens in the canonical shape.
"""

from __future__ import annotations

from proxy_core import Attempt, Gateway, RequestContext, hookimpl
from proxy_core.errors import InvalidRequestError

from .settings import settings
from .thinking import apply_effort, enforce_thinking_rules, thinking_on

DROPPED_HEADER = "x-proxy-core-reasoning-dropped"
BUDGET_HEADER = "x-proxy-core-thinking-budget"


@hookimpl
def gateway_started(gateway: Gateway) -> None:
    settings(gateway)  # a bad plugins.reasoning section fails the start, naming the path


@hookimpl(tryfirst=True)  # before structured-output, which must know whether thinking is on
def prepare_request(ctx: RequestContext, attempt: Attempt) -> None:
    if ctx.operation.name != "chat":
        return
    body = attempt.body
    target = attempt.target
    effort = body.pop("reasoning_effort", None)
    if effort is not None and not isinstance(effort, str):
        raise InvalidRequestError(
            "'reasoning_effort' must be a string (none, low, medium or high)", param="reasoning_effort"
        )
    dropped: list[str] = []
    if "thinking" in target.provider.capabilities:
        if effort is not None:
            dropped += apply_effort(body, effort, target.info, settings(ctx.gateway))
        if thinking_on(body):
            dropped += enforce_thinking_rules(body)
            budget = body["thinking"].get("budget_tokens")
            if isinstance(budget, int):
                attempt.response_headers[BUDGET_HEADER] = str(budget)
    elif effort is not None:
        if target.info.get("reasoning_effort") is True:
            body["reasoning_effort"] = effort
        else:
            dropped.append("reasoning_effort")
    if dropped:
        attempt.response_headers[DROPPED_HEADER] = ",".join(dropped)
