"""The words of every notification (architecture §4.2.12), in the school's voice.

Each type renders from plain data into an SMS text, an email subject and a
plain-text email body; the HTML part of an email is made from that text at
send time (:func:`email_html`), so the two never disagree and a secret link
removed from the stored body after sending is gone from both. Messages are
factual and always name the sender (docs/decisions/0009-messages-and-consent.md).

``NOTIFICATION_TYPES`` says which channels each type uses and whether a person
may turn it off (``services/preferences.py``). The reminders' wording lives
with the reminder job (``services/reminders.py``); they are listed here so
preferences and the dispatcher know them.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass

from nexdrive.adapters.delivery import URL_PATTERN, LINK_REMOVED, has_secret_link, redact_secret_links  # noqa: F401

SENDER = "NexDrive Academy"


@dataclass(frozen=True)
class NotificationType:
    key: str
    label: str  # how the account settings page names it
    channels: tuple[str, ...]
    optional: bool  # may the person turn it off? (never for what they must know: bookings, payments, security)


NOTIFICATION_TYPES: dict[str, NotificationType] = {t.key: t for t in (
    NotificationType("booking_confirmation", "Booking confirmations", ("sms", "email"), False),
    NotificationType("booking_reminder_24h", "Reminder the day before a lesson", ("sms",), True),
    NotificationType("booking_reminder_2h", "Reminder two hours before a lesson", ("sms",), True),
    NotificationType("booking_cancelled", "Cancellations", ("sms", "email"), False),
    NotificationType("booking_rescheduled", "Changes of lesson time", ("sms", "email"), False),
    NotificationType("lesson_completed", "Lesson summaries after each lesson", ("email",), True),
    NotificationType("bridge_form_ready", "Notes for your supervising driver", ("sms", "email"), True),
    NotificationType("payment_received", "Payment receipts", ("email",), False),
    NotificationType("payment_failed", "Failed payments", ("sms", "email"), False),
    NotificationType("package_purchased", "Package purchases", ("email",), False),
    NotificationType("package_low_credits", "When your package is running low", ("sms", "email"), True),
    NotificationType("parent_invitation", "Invitations to follow a learner", ("sms", "email"), False),
    NotificationType("callback_scheduled", "Call-back times", ("sms",), False),
    NotificationType("competency_achieved", "Each competency you achieve", ("email",), True),
    NotificationType("certificate_ready", "Your certificate", ("sms", "email"), False),
    NotificationType("waitlist_available", "Waitlist openings", ("sms", "email"), True),
)}


@dataclass(frozen=True)
class Rendered:
    sms: str | None
    subject: str | None
    text: str | None


def _hello(d: dict) -> str:
    name = d.get("learner_first_name") or d.get("first_name")
    return f"Hi {name}," if name else "Hello,"


def _where(d: dict) -> str:
    return ", ".join(p for p in (d.get("pickup_address"), d.get("suburb")) if p) or "to be confirmed"


def _sender(d: dict) -> str:
    """The business name from the settings (``notify`` passes it in as ``business_name``)."""
    return d.get("business_name") or SENDER


def _sign(d: dict) -> str:
    phone = f"{d['business_phone']}\n" if d.get("business_phone") else ""
    return f"\n{_sender(d)}\n{phone}"


# ─────────────────────────────────────────────────────────────────────────────
# One function per type: data (plain dict) -> Rendered
# ─────────────────────────────────────────────────────────────────────────────

def booking_confirmation(d: dict) -> Rendered:
    manage = d.get("manage_url", "")
    return Rendered(
        sms=(f"{_sender(d)}: your {d['service_name']} is booked for {d['when']} with {d['instructor_name']}. "
             f"Pick-up: {_where(d)}. Ref {d['reference']}. Change or cancel: {manage}"),
        subject=f"Lesson booked: {d['when']}",
        text=(f"{_hello(d)}\n\nYour lesson with {_sender(d)} is booked.\n\n"
              f"Lesson: {d['service_name']} ({d['duration_minutes']} min, {d['price_display']})\n"
              f"When: {d['when']} (Canberra time)\nInstructor: {d['instructor_name']}\nPick-up: {_where(d)}\n"
              f"Reference: {d['reference']}\n\nTo reschedule or cancel: {manage}\n"
              f"Please bring your learner licence.\n{_sign(d)}"),
    )


def booking_rescheduled(d: dict) -> Rendered:
    return Rendered(
        sms=f"{_sender(d)}: your lesson has moved from {d.get('previous', '')} to {d['when']}. Ref {d['reference']}.",
        subject=f"Lesson moved to {d['when']}",
        text=(f"{_hello(d)}\n\nYour {d['service_name']} has moved.\n\nWas: {d.get('previous', '')}\n"
              f"Now: {d['when']} (Canberra time)\nPick-up: {_where(d)}\nReference: {d['reference']}\n{_sign(d)}"),
    )


def booking_cancelled(d: dict) -> Rendered:
    fee = d.get("fee")
    cost = f" A late-cancellation fee of {fee} applies." if fee else " There is no charge."
    return Rendered(
        sms=f"{_sender(d)}: your lesson on {d['when']} is cancelled.{cost} Ref {d['reference']}.",
        subject=f"Lesson cancelled: {d['when']}",
        text=(f"{_hello(d)}\n\nYour {d['service_name']} on {d['when']} is cancelled.{cost}\n"
              f"Reference: {d['reference']}\n\nTo book another time: {d.get('book_url', '')}\n{_sign(d)}"),
    )


def lesson_completed(d: dict) -> Rendered:
    minutes = d.get("minutes")
    logged = f"{minutes} minutes are recorded in your logbook.\n" if minutes else ""
    covered = f"\nWhat we covered: {d['covered']}\n" if d.get("covered") else ""
    return Rendered(
        sms=None,
        subject=f"Your lesson on {d['when']}",
        text=(f"{_hello(d)}\n\nYour lesson on {d['when']} with {d.get('instructor_name') or 'your instructor'} "
              f"has been signed off.\n{logged}{covered}\nSee your progress: {d.get('progress_url', '')}\n{_sign(d)}"),
    )


def bridge_form_ready(d: dict) -> Rendered:
    return Rendered(
        sms=(f"{_sender(d)}: notes from your lesson on {d['when']} for your supervising driver are ready: "
             f"{d.get('url', '')}"),
        subject=f"Notes for your supervising driver: lesson on {d['when']}",
        text=(f"{_hello(d)}\n\nAfter your lesson on {d['when']}, your instructor has written notes for the "
              f"person who supervises your practice drives: what you worked on and what to practise next.\n\n"
              f"Read or print them: {d.get('url', '')}\n{_sign(d)}"),
    )


def payment_received(d: dict) -> Rendered:
    invoice = f"\nInvoice: {d['invoice_number']}" if d.get("invoice_number") else ""
    link = f"\n\nYour invoice: {d['invoice_url']}" if d.get("invoice_url") else ""
    return Rendered(
        sms=None,
        subject=f"Payment received: {d['amount_display']}",
        text=(f"{_hello(d)}\n\nThank you. {_sender(d)} received your payment of {d['amount_display']} "
              f"for {d.get('description') or 'driving lessons'}.\n\nPaid: {d.get('paid_on', '')}"
              f"{invoice}\nReference: {d.get('reference', '')}{link}\n{_sign(d)}"),
    )


def payment_failed(d: dict) -> Rendered:
    retry = d.get("retry_url", "")
    return Rendered(
        sms=(f"{_sender(d)}: your payment of {d['amount_display']} for {d.get('description') or 'your lesson'} "
             f"didn't go through. Nothing was charged. Try again: {retry}"),
        subject=f"Payment didn't go through: {d['amount_display']}",
        text=(f"{_hello(d)}\n\nYour payment of {d['amount_display']} for {d.get('description') or 'your lesson'} "
              f"didn't go through, so nothing was charged.\n"
              f"{('Reason given by the bank: ' + d['reason'] + chr(10)) if d.get('reason') else ''}"
              f"\nTo try again: {retry}\n\nIf it keeps failing, reply to this email or call us.\n{_sign(d)}"),
    )


def package_purchased(d: dict) -> Rendered:
    expires = f"\nUse them by: {d['expires_on']}" if d.get("expires_on") else ""
    return Rendered(
        sms=None,
        subject=f"Your {d['package_name']} package",
        text=(f"{_hello(d)}\n\nThank you for buying the {d['package_name']} package from {_sender(d)}.\n\n"
              f"Lessons included: {d['credits']}\nPaid: {d['amount_display']}{expires}\n\n"
              f"Book your lessons: {d.get('book_url', '')}\n{_sign(d)}"),
    )


def package_low_credits(d: dict) -> Rendered:
    left = int(d["credits_remaining"])
    lessons = "1 lesson" if left == 1 else f"{left} lessons"
    return Rendered(
        sms=(f"{_sender(d)}: you have {lessons} left in your {d['package_name']} package. "
             f"Top up: {d.get('buy_url', '')}"),
        subject=f"{lessons.capitalize()} left in your package",
        text=(f"{_hello(d)}\n\nYou have {lessons} left in your {d['package_name']} package.\n\n"
              f"To keep booking at the package price: {d.get('buy_url', '')}\n{_sign(d)}"),
    )


def parent_invitation(d: dict) -> Rendered:
    days = d.get("expires_days", 7)
    return Rendered(
        sms=(f"{_sender(d)}: {d['learner_name']} invited you to follow their driving lessons. "
             f"Accept within {days} days: {d.get('accept_url', '')}"),
        subject=f"{d['learner_name']} invited you to follow their driving lessons",
        text=(f"Hello,\n\n{d['learner_name']} has invited you to follow their driving lessons with {_sender(d)}"
              f"{(' as their ' + d['relationship']) if d.get('relationship') else ''}.\n\n"
              f"Accept within {days} days: {d.get('accept_url', '')}\n{_sign(d)}"),
    )


def callback_scheduled(d: dict) -> Rendered:
    when = f" {d['when']}" if d.get("when") else " as soon as we can"
    return Rendered(
        sms=(f"{_sender(d)}: thanks for calling. {d.get('staff_name') or 'We'} will call you back{when}"
             f"{(' about ' + d['reason']) if d.get('reason') else ''}."),
        subject=None,
        text=None,
    )


def competency_achieved(d: dict) -> Rendered:
    progress = (f"\nYou have now achieved {d['achieved']} of {d['total']} competencies.\n"
                if d.get("achieved") and d.get("total") else "")
    return Rendered(
        sms=None,
        subject=f"Competency achieved: {d['task_name']}",
        text=(f"{_hello(d)}\n\nWell done. Your instructor has signed off task {d['task_number']}, "
              f"{d['task_name']}, as competent on {d.get('on', '')}.\n{progress}\n"
              f"See your progress: {d.get('progress_url', '')}\n{_sign(d)}"),
    )


def certificate_ready(d: dict) -> Rendered:
    return Rendered(
        sms=(f"{_sender(d)}: congratulations, you have completed every CBT&A task. Your certificate is ready: "
             f"{d.get('url', '')}"),
        subject="Your CBT&A certificate is ready",
        text=(f"{_hello(d)}\n\nCongratulations: you have been assessed competent in every task of the ACT "
              f"Competency Based Training and Assessment course with {_sender(d)}.\n\n"
              f"Your certificate: {d.get('url', '')}\n\nTake it with you when you apply for your provisional "
              f"licence.\n{_sign(d)}"),
    )


def waitlist_available(d: dict) -> Rendered:
    return Rendered(
        sms=(f"{_sender(d)}: a lesson time has opened up on {d['when']}. Book it at {d.get('book_url', '')} "
             "- first in gets it."),
        subject=f"A lesson time opened up: {d['when']}",
        text=(f"{_hello(d)}\n\nA lesson time you were waiting for has opened up: {d['when']} (Canberra time).\n\n"
              f"Book it here: {d.get('book_url', '')}\n\nOthers on the waitlist have been told too; "
              f"the first to book gets it.\n{_sign(d)}"),
    )


RENDERERS = {
    "booking_confirmation": booking_confirmation,
    "booking_cancelled": booking_cancelled,
    "booking_rescheduled": booking_rescheduled,
    "lesson_completed": lesson_completed,
    "bridge_form_ready": bridge_form_ready,
    "payment_received": payment_received,
    "payment_failed": payment_failed,
    "package_purchased": package_purchased,
    "package_low_credits": package_low_credits,
    "parent_invitation": parent_invitation,
    "callback_scheduled": callback_scheduled,
    "competency_achieved": competency_achieved,
    "certificate_ready": certificate_ready,
    "waitlist_available": waitlist_available,
}


def render(kind: str, data: dict) -> Rendered:
    try:
        return RENDERERS[kind](data)
    except KeyError as exc:
        if kind not in RENDERERS:
            raise ValueError(f"no template for {kind!r}") from None
        raise ValueError(f"template {kind!r} needs {exc.args[0]!r}") from None


# ─────────────────────────────────────────────────────────────────────────────
# Secret links and HTML
# ─────────────────────────────────────────────────────────────────────────────

# A URL carrying a long random secret (our tokens are 43 URL-safe characters): sign-in, password reset,
# invitations, "manage your booking". Record ids (UUIDs) and ordinary paths stay.


def _linkify(escaped_line: str) -> str:
    def link(m: re.Match) -> str:
        url = m.group(0).rstrip(".,;)")
        tail = m.group(0)[len(url):]
        return (f'<a href="{url}" style="color:#0b5cad;text-decoration:underline;word-break:break-all">'
                f"{url}</a>{tail}")
    return URL_PATTERN.sub(link, escaped_line)


def email_html(subject: str, text: str, *, footer: str | None = None, sender: str | None = None) -> str:
    """A simple, inline-styled HTML version of a plain-text email (every value escaped)."""
    sender = sender or SENDER
    paragraphs = [p for p in re.split(r"\n\s*\n", (text or "").strip()) if p.strip()]
    body = "\n".join(
        '<p style="margin:0 0 16px 0">' + "<br>\n".join(_linkify(html.escape(line)) for line in p.split("\n"))
        + "</p>"
        for p in paragraphs
    )
    foot = (f'<p style="margin:24px 0 0 0;font-size:12px;color:#666666">'
            f"{'<br>'.join(_linkify(html.escape(line)) for line in footer.split(chr(10)))}</p>") if footer else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en-AU\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(subject or sender)}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f4f5f7">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7">'
        '<tr><td align="center" style="padding:24px 12px">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="max-width:560px;background:#ffffff;border-radius:8px">'
        '<tr><td style="padding:20px 24px;border-bottom:3px solid #0b5cad;font-family:Arial,Helvetica,sans-serif;'
        f'font-size:18px;font-weight:bold;color:#0b5cad">{html.escape(sender)}</td></tr>\n'
        '<tr><td style="padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;'
        f'color:#1a1a1a">\n{body}\n{foot}\n</td></tr></table>\n'
        "</td></tr></table>\n</body></html>\n"
    )
