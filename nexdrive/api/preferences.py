"""The marketing unsubscribe link in emails: GET shows one button (a link checker must not unsubscribe
anyone), POST unsubscribes (also the RFC 8058 one-click target)."""
from __future__ import annotations

import html

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from nexdrive.db import session_scope
from nexdrive.errors import NotFound
from nexdrive.services.messaging import preferences

router = APIRouter(tags=["preferences"])
UNSUBSCRIBE_PATH = "/marketing/unsubscribe"


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(status_code=status_code, content=(
        f'<!DOCTYPE html><html lang="en-AU"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width, initial-scale=1"><title>{html.escape(title)} | NexDrive Academy</title></head>'
        f'<body style="font-family:Arial,Helvetica,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">'
        f"<h1 style=\"font-size:1.4rem\">{html.escape(title)}</h1>{body}</body></html>"))


@router.get(UNSUBSCRIBE_PATH)
async def unsubscribe_form(token: str = ""):
    """The link in a marketing email: one button (a link checker's GET must not unsubscribe anyone)."""
    return _page("Unsubscribe from NexDrive Academy offers",
                 '<p>Press the button to stop news and offers from NexDrive Academy by email. Messages about '
                 'your lessons and payments still come.</p>'
                 f'<form method="post" action="/api/v1{UNSUBSCRIBE_PATH}?token={html.escape(token, quote=True)}">'
                 '<button type="submit" style="font-size:1rem;padding:.6rem 1.2rem">Unsubscribe</button></form>')


@router.post(UNSUBSCRIBE_PATH)
def unsubscribe(token: str = ""):
    """Also the RFC 8058 one-click target (List-Unsubscribe-Post). A plain def: FastAPI runs it off the loop."""
    try:
        with session_scope() as session:
            preferences.unsubscribe_by_token(session, token)
    except NotFound:
        return _page("Link not valid", "<p>That unsubscribe link is not valid. Reply to any of our emails and "
                                       "we will take you off the list.</p>", 404)
    return _page("You're unsubscribed", "<p>You won't get news or offers from NexDrive Academy by email any "
                                        "more. Messages about your lessons and payments still come.</p>")
