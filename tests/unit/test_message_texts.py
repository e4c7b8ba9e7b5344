"""Message wording and SMS arithmetic: segments, GSM-7 look-alikes, secret links, templates, backoff."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from nexdrive.adapters.sms import gsm_normalise, sms_segments
from nexdrive.services.messaging.dispatch import backoff
from nexdrive.services.messaging.message_templates import (
    LINK_REMOVED,
    NOTIFICATION_TYPES,
    RENDERERS,
    email_html,
    has_secret_link,
    redact_secret_links,
    render,
)
from nexdrive.services.crm.sms_replies import keyword


@pytest.mark.parametrize("text,encoding,count", [
    ("", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("€" * 80, "GSM-7", 1),  # extension characters take two septets: 160
    ("€" * 81, "GSM-7", 2),
    ("é" * 160, "GSM-7", 1),  # in the basic alphabet
    ("ê" * 70, "UCS-2", 1),  # not in it
    ("ê" * 71, "UCS-2", 2),
    ("ê" * 134, "UCS-2", 2),
    ("ê" * 135, "UCS-2", 3),
    ("🚗" * 35, "UCS-2", 1),  # a surrogate pair is two UCS-2 units
    ("🚗" * 36, "UCS-2", 2),
])
def test_segments(text, encoding, count):
    seg = sms_segments(text)
    assert (seg.encoding, seg.count) == (encoding, count)


def test_typographic_characters_become_gsm_so_a_reminder_stays_cheap():
    text = "NexDrive Academy: Tue 3 March, 9:30 am \u2013 10:30 am. It\u2019s \u201cconfirmed\u201d\u2026"
    assert sms_segments(text).encoding == "UCS-2"
    plain = gsm_normalise(text)
    assert plain == 'NexDrive Academy: Tue 3 March, 9:30 am - 10:30 am. It\'s "confirmed"...'
    assert sms_segments(plain).encoding == "GSM-7"


def test_secret_links_are_found_and_removed_but_ordinary_links_stay():
    token = "Zk3_-" + "q" * 38
    body = (f"Sign in: https://nexdrive.example/sign-in/link?token={token}\n"
            "Book: https://nexdrive.example/book\n"
            "Lesson: https://nexdrive.example/booking/manage?id=8f14e45f-ceea-467f-a0e6-0f6e7b2b1c44\n")
    assert has_secret_link(body)
    out = redact_secret_links(body)
    assert token not in out and out.count(LINK_REMOVED) == 1
    assert "https://nexdrive.example/book\n" in out and "manage?id=8f14e45f" in out
    assert not has_secret_link(out)


SAMPLE = {
    "learner_first_name": "Ava", "service_name": "60-minute lesson", "when": "Tue 3 March 2026, 9:30 am",
    "instructor_name": "Jordan Ellis", "pickup_address": "1 Test St", "suburb": "Belconnen",
    "reference": "NXD-1A2B3C4D", "duration_minutes": 60, "price_display": "$85.00", "manage_url": "https://x/m",
    "previous": "Mon 2 March 2026, 9:30 am", "fee": "$40.00", "book_url": "https://x/book", "minutes": 60,
    "url": "https://x/f", "amount_display": "$85.00", "description": "a 60-minute lesson", "paid_on": "3/3/2026",
    "invoice_number": "NXD-2026-0001", "retry_url": "https://x/pay", "package_name": "5-lesson pack", "credits": 5,
    "credits_remaining": 2, "buy_url": "https://x/buy", "learner_name": "Ava Nguyen", "relationship": "mother",
    "accept_url": "https://x/a", "task_number": 7, "task_name": "Turns", "achieved": 7, "total": 23,
    "progress_url": "https://x/p", "staff_name": "Jordan",
}


@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_every_type_renders_on_its_channels_and_names_the_sender(kind):
    spec = NOTIFICATION_TYPES[kind]
    texts = render(kind, SAMPLE)
    if "sms" in spec.channels:
        assert texts.sms and "NexDrive Academy" in texts.sms
    if "email" in spec.channels:
        assert texts.subject and texts.text and "NexDrive Academy" in texts.text
        html = email_html(texts.subject, texts.text)
        assert html.startswith("<!DOCTYPE html>") and "NexDrive Academy" in html


def test_every_type_in_the_spec_table_has_a_template_except_the_reminder_jobs():
    assert set(NOTIFICATION_TYPES) - set(RENDERERS) == {"booking_reminder_24h", "booking_reminder_2h"}


def test_missing_data_is_a_clear_error():
    with pytest.raises(ValueError, match="needs 'amount_display'"):
        render("payment_received", {})
    with pytest.raises(ValueError, match="no template"):
        render("nonsense", {})


def test_email_html_escapes_and_links():
    html = email_html("<Hi>", 'Dear "Ava" <script>alert(1)</script>\n\nPay: https://x.example/pay?a=1&b=2.')
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;Hi&gt;" in html
    assert '<a href="https://x.example/pay?a=1&amp;b=2"' in html and "</a>." in html


def test_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(7)
    for attempts, full in ((1, 60), (2, 120), (3, 240), (7, 3600), (12, 3600)):
        waits = [backoff(attempts, rng) for _ in range(50)]
        assert all(timedelta(seconds=full / 2) <= w <= timedelta(seconds=full) for w in waits)
        assert len(set(waits)) > 1  # not all the same: retries spread out


@pytest.mark.parametrize("body,word", [("STOP", "STOP"), (" stop. ", "STOP"), ("Y", "Y"), ("yes!", "YES"),
                                       ("please stop", ""), ("", "")])
def test_keywords_are_single_words(body, word):
    assert keyword(body) == word
