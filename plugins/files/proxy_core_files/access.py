"""Files belong to the key that uploaded them: checks and the caller's view of a list.

Admin keys (``admin: true``) see and may use every file. Any other key sees only the
files it uploaded through the gateway; another key's file, and a file the gateway has
no owner for (uploaded around the gateway, or created by Claude), is a 404 exactly like
a file that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from proxy_core.errors import NotFoundError

from .upstream import FilesCall

# How many upstream pages one list request may scan for the caller's files.
MAX_SCAN_PAGES = 10


def file_not_found(file_id: str) -> NotFoundError:
    return NotFoundError(f"No such file: {file_id!r}", param="file_id", code="file_not_found")


def sees_all(call: FilesCall) -> bool:
    return call.principal.admin


async def check_owner(call: FilesCall) -> None:
    """404 unless the caller owns ``call.file_id`` on this account (admins own everything)."""
    if sees_all(call):
        return
    owners = await call.owners.owners([call.account], [call.file_id])
    if call.principal.name not in owners.get(call.file_id, ()):
        raise file_not_found(call.file_id)


async def record_owner(call: FilesCall, file_id: str) -> None:
    await call.owners.record(call.account, file_id, call.principal)


async def owned_ids(call: FilesCall, ids: list[str]) -> set[str]:
    if sees_all(call):
        return set(ids)
    owners = await call.owners.owners([call.account], ids)
    return {i for i in ids if call.principal.name in owners.get(i, ())}


@dataclass(slots=True)
class Page:
    items: list[dict[str, Any]]  # objects with a string "id", in the upstream's order
    has_more: bool
    scanned: str | None = None  # the last upstream id looked at (a cursor for an empty page)


async def scan(
    call: FilesCall,
    fetch: Callable[[str | None], Awaitable[Page]],
    want: int,
    cursor: str | None,
    keep: Callable[[dict[str, Any]], bool] = lambda item: True,
    backward: bool = False,
) -> Page:
    """Upstream pages from ``cursor`` on, filtered to the caller's files (and ``keep``),
    until ``want`` are found or the list ends. ``has_more`` is true when the caller may
    have more files: a client continues after the last file it got (or, ``backward``,
    before the first), which rescans at most what this call skipped.

    The scan stops after ``MAX_SCAN_PAGES`` pages; when it found nothing by then it answers
    an empty page with ``has_more`` (the upstream's ``last_id`` goes back as the cursor)."""
    found: list[dict[str, Any]] = []
    for _ in range(MAX_SCAN_PAGES):
        page = await fetch(cursor)
        items = [i for i in page.items if isinstance(i, dict) and isinstance(i.get("id"), str)]
        mine = await owned_ids(call, [i["id"] for i in items])
        chosen = [i for i in items if i["id"] in mine and keep(i)]
        found = chosen + found if backward else found + chosen
        if len(found) > want:
            return Page(found[-want:] if backward else found[:want], True)
        if len(found) == want or not page.has_more or not items:
            return Page(found, page.has_more and bool(items))
        cursor = items[0]["id"] if backward else items[-1]["id"]
    return Page(found, True, cursor)


def page_ids(page: Page) -> tuple[str | None, str | None]:
    """(first_id, last_id) of a page, as both APIs report them."""
    if not page.items:
        return page.scanned, page.scanned
    return page.items[0]["id"], page.items[-1]["id"]
