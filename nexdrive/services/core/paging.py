"""Keyset paging, newest first: stable under inserts, unlike OFFSET, so a "next page" link never repeats
or skips a row that arrived meanwhile. The cursor is ``<created_at ISO>|<id>`` of the last row shown."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Callable

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.errors import ValidationFailed

MAX_PAGE = 100


def page_size(limit: int | None, default: int) -> int:
    return max(1, min(int(limit or default), MAX_PAGE))


def newest_first(session: Session, query, model, *, cursor: str | None, limit: int,
                 to_item: Callable[[list], list[dict[str, Any]]]) -> dict[str, Any]:
    """One page of ``query`` over ``model`` (which has ``created_at`` and ``id``) and the cursor of the next."""
    if cursor:
        at, _, rid = cursor.partition("|")
        try:
            at_dt, rid_uuid = datetime.fromisoformat(at), uuid.UUID(rid)
        except ValueError:
            raise ValidationFailed("That page link is not valid.", field="cursor") from None
        query = query.where(sa.tuple_(model.created_at, model.id) < sa.tuple_(sa.literal(at_dt), sa.literal(rid_uuid)))
    rows = list(session.exec(query.order_by(model.created_at.desc(), model.id.desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": to_item(rows),
            "next_cursor": f"{rows[-1].created_at.isoformat()}|{rows[-1].id}" if more else None}
