"""The owner answers a handed-over SMS from the inbox, on a phone: a signed Twilio inbound webhook posted to the
running app asks for a person (the thread is handed over), the owner signs in, opens /admin/inbox, finds the
thread first in the queue, replies by SMS, and the reply sits in the outbox addressed to the texter."""
from __future__ import annotations

import re
import uuid

import httpx
import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from nexdrive import db as nxdb
from nexdrive.formats import format_au_phone
from nexdrive.models import User
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from tests.e2e.conftest import ARTIFACTS, TWILIO_TOKEN
from tests.e2e.test_auth_flows import sign_in

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "e2e-inbox-owner@example.com"
TEXTER = "+61412" + str(uuid.uuid4().int)[:6]
INBOUND = "/api/v1/sms/inbound"
REPLY = "Hi! Yes, we teach nervous beginners. I'll call you after 5 pm. Olive"


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


@pytest.fixture(scope="module")
def owner(e2e_db_url):
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            inv = accounts.create_staff_account(s, SYSTEM, email=ADMIN_EMAIL, role="admin", first_name="Olive",
                                                last_name="Inbox")
            user = s.get(User, inv.user_id)
            user.password_hash = hash_password(PASSWORD)
            s.add(user)
    finally:
        engine.dispose()


def text_the_school(base: str, body: str) -> httpx.Response:
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "0" * 32, "From": TEXTER,
              "To": "+61480000000", "Body": body, "NumSegments": "1"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(base + INBOUND, params)
    return httpx.post(base + INBOUND, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)


def test_the_owner_answers_a_handed_over_sms_from_the_inbox(app_server, e2e_db_url, owner, phone_page):
    r = text_the_school(app_server, "Can I talk to a real person about lessons for my nervous son?")
    assert r.status_code == 200, r.text
    engine = _engine(e2e_db_url)
    try:
        with engine.connect() as conn:
            conv = conn.execute(sa.text("SELECT id, status FROM conversations WHERE channel = 'sms' AND "
                                        "channel_identifier = :p"), {"p": TEXTER}).one()
        assert conv.status == "handoff_requested"

        page = phone_page
        sign_in(page, app_server, ADMIN_EMAIL, PASSWORD)
        page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
        page.goto(app_server + "/admin/inbox")
        first = page.locator(".inbox-conversation").first
        first.wait_for(timeout=30_000)
        assert first.get_attribute("data-id") == str(conv.id)  # the handoff queue comes first
        assert "Needs a reply" in first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "inbox-1-queue-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

        first.locator("a").click()
        page.locator("#inbox-thread").wait_for(timeout=30_000)
        assert "real person" in page.locator("#thread-messages").inner_text()
        assert page.locator("#reply-sms").is_checked()
        page.get_by_label("Your reply").fill(REPLY)
        page.locator("#send-reply").click()
        notice = page.locator("#inbox-notice")
        notice.wait_for(timeout=30_000)
        assert "Reply queued by SMS to " + format_au_phone(TEXTER) in notice.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        page.locator(".inbox-message[data-from='staff']").wait_for(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "inbox-2-replied-phone.png"), full_page=True)

        with engine.connect() as conn:
            sent = conn.execute(sa.text("SELECT channel, recipient, body FROM outbox_messages WHERE template = "
                                        "'owner_reply' AND related_id = :c"), {"c": conv.id}).all()
            status = conn.execute(sa.text("SELECT status FROM conversations WHERE id = :c"), {"c": conv.id}).scalar()
        assert [(m.channel, m.recipient) for m in sent] == [("sms", TEXTER)]
        assert sent[0].body.endswith(": " + REPLY) and status == "active"
    finally:
        engine.dispose()
