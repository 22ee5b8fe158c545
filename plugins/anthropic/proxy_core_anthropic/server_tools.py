"""Server tools (web search) and citations of a Messages stream, as chat deltas.

``server_tool_use`` blocks stream their input as ``input_json_delta``: the whole block
goes out when it stops; ``*_tool_result`` blocks come whole in ``content_block_start``.
Both reach the client in ``delta.server_tool_blocks``. A text block's ``citations_delta``
events become ``delta.annotations`` (OpenAI ``url_citation``) when the block stops,
spanning the block's text. Streamed entries carry an ``index`` (their position in the
message's list), so the openai SDK's stream helper can accumulate them.
"""

from __future__ import annotations

from typing import Any

import orjson

from .response import SERVER_TOOL_BLOCKS, url_citations


def is_server_block(kind: Any) -> bool:
    return kind == "server_tool_use" or (isinstance(kind, str) and kind.endswith("_tool_result"))


class ServerToolStream:
    """One stream's server-tool state; created at its first server block or citation."""

    __slots__ = ("_annotations", "_blocks", "_citations", "_inputs", "_sent")

    def __init__(self) -> None:
        self._inputs: dict[int, tuple[dict[str, Any], list[str]]] = {}  # block index -> (block, json pieces)
        self._citations: dict[int, list[Any]] = {}
        self._sent = 0  # server blocks sent so far
        self._annotations = 0  # annotations sent so far

    def start(self, index: int, block: dict[str, Any]) -> dict[str, Any] | None:
        """The delta for a starting server block, or None until it is complete."""
        if block.get("type") == "server_tool_use":
            self._inputs[index] = (block, [])
            return None
        return self._block(block)

    def input(self, index: int, fragment: str) -> bool:
        """Keep an input fragment of a server block; False when ``index`` is not one."""
        entry = self._inputs.get(index)
        if entry is None:
            return False
        entry[1].append(fragment)
        return True

    def cite(self, index: int, citation: Any) -> None:
        self._citations.setdefault(index, []).append(citation)

    def stop(self, index: int, start: int, end: int) -> dict[str, Any] | None:
        """The delta for a block that stops (a server block, or a cited text block that
        spans ``start``..``end`` of the content), or None."""
        entry = self._inputs.pop(index, None)
        if entry is not None:
            block, pieces = entry
            if pieces:
                block = {**block, "input": orjson.loads("".join(pieces))}
            return self._block(block)
        citations = self._citations.pop(index, None)
        annotations = url_citations(citations, start, end)
        if not annotations:
            return None
        for annotation in annotations:
            annotation["index"] = self._annotations
            self._annotations += 1
        return {"annotations": annotations}

    def _block(self, block: dict[str, Any]) -> dict[str, Any]:
        entry = {**block, "index": self._sent}
        self._sent += 1
        return {SERVER_TOOL_BLOCKS: [entry]}
