"""The chat button in Chromium on a phone: a visitor asks a price question, then books through the chat."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


def _sql(url, query, **params):
    engine = nxdb.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as s:
            return s.execute(sa.text(query), params).all()
    finally:
        engine.dispose()


def ask(page, text: str) -> None:
    page.locator("#chat-input").fill(text)
    page.locator("#chat-send").click()


def test_a_visitor_asks_a_price_and_books_through_the_chat_on_a_phone(app_server, e2e_db_url, phone_page):
    page = phone_page
    page.goto(app_server + "/")
    page.locator("#chat-button").click()
    page.locator("#chat-panel").wait_for(timeout=30_000)
    ask(page, "How much is a 60 minute lesson?")
    prices = {f"${cents / 100:,.2f}" for (cents,) in _sql(e2e_db_url, "SELECT price_cents FROM services "
                                                                     "WHERE is_active")}
    answer = page.locator(".chat-message").nth(2)  # welcome, the question, the answer
    answer.wait_for(timeout=30_000)
    assert any(p in answer.inner_text() for p in prices), answer.inner_text()
    assert "Sources:" in answer.inner_text()
    page.screenshot(path=str(ARTIFACTS / "chat-1-price.png"))

    ask(page, "Any free times next week?")
    first = page.locator("#chat-action-0")
    first.wait_for(timeout=30_000)
    assert page.locator(".chat-action").count() <= 3
    first.click()
    page.locator("#chat-name").wait_for(timeout=30_000)
    page.locator("#chat-name").fill("Chloe Chat")
    page.locator("#chat-email").fill("chloe.chat@example.com")
    page.locator("#chat-phone").fill("0412 555 303")
    page.locator("#chat-pickup_address").fill("5 Chat Street")
    page.locator("#chat-suburb").fill("Gungahlin")
    page.locator("#chat-hold").click()
    page.get_by_text("is held for you").wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "chat-2-held.png"))
    page.locator("#chat-action-0").click()  # Confirm (pay at the lesson)
    page.get_by_text("is confirmed").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "chat-3-booked.png"))
    rows = _sql(e2e_db_url, """SELECT b.status, b.booked_via, b.pickup_address FROM bookings b
                               WHERE b.booker_email = 'chloe.chat@example.com'""")
    assert rows == [("confirmed", "website", "5 Chat Street")]
