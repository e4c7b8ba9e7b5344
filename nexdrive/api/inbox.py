"""/api/v1/me/notifications (architecture §4.2): the caller's own in-app notifications.

Thin: authentication as for every /me endpoint (cookie or bearer, origin check on
cookie writes), then ``nexdrive.services.messaging.inbox``. Someone else's id is 404, like
an id that does not exist.
"""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ConfigDict

from nexdrive.db import session_scope
from nexdrive.services.messaging import inbox
from nexdrive.api.deps import ok
from nexdrive.api.deps import current_actor
from nexdrive.api.edge import StrictInput
from nexdrive.api.envelope import EnvelopeRoute

router = APIRouter(tags=["notifications"], route_class=EnvelopeRoute)


class NotificationPatch(StrictInput):
    model_config = ConfigDict(extra="forbid")
    read: Literal[True]


@router.get("/me/notifications")
def my_notifications(request: Request, unread_only: bool = False, limit: int = Query(20, ge=1, le=100),
                     cursor: str | None = None) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        page = inbox.list_notifications(session, actor, unread_only=unread_only, limit=limit, cursor=cursor)
        page["unread_count"] = inbox.unread_count(session, actor)
        return ok(page)


@router.patch("/me/notifications/{notification_id}")
def mark_my_notification(notification_id: str, body: NotificationPatch, request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok(inbox.mark_read(session, actor, notification_id))


@router.post("/me/notifications/read-all")
def mark_all_my_notifications(request: Request) -> JSONResponse:
    with session_scope() as session:
        actor, _ = current_actor(session, request)
        return ok({"marked": inbox.mark_all_read(session, actor)})
