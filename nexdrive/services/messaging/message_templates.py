"""The words of every notification (architecture §4.2.12), in the school's voice.

Each type renders from plain data into an SMS text, an email subject and a
plain-text email body; the HTML part of an email is made from that text at
send time (:func:`email_html`), so the two never disagree and a secret link
removed from the stored body after sending is gone from both. Messages are
factual and always name the sender (docs/decisions/0009-messages-and-consent.md).

``NOTIFICATION_TYPES`` says which channels each type uses and whether a person
may turn it off (``services/preferences.py``). ``TEMPLATES`` is every message
there is, by name: those types and the rest (account emails, payment refunds,
replies to the school's SMS number, alerts to the administrators, in-app
notices). Services never write a message's words themselves: they call
``notify.queue_message`` (or :func:`render`) with a template name and plain data
(tests/unit/test_message_catalogue.py checks it), so the SMS assistant and the
voice agent can say the same things.
"""
from __future__ import annotations

import html
import re
from collections.abc import Callable
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
    in_app: str | None = None  # the in-app notice (the bell), when the type has one
    in_app_subject: str | None = None  # its title; the email subject when None


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


def _canberra(d: dict) -> str:
    """How the account emails sign off."""
    return f"\u2014 {_sender(d)}, Canberra"


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
        in_app_subject="Lesson booked",
        in_app=(f"Your {d['service_name']} with {d['instructor_name']} is booked for {d['when']}. "
                f"Reference {d['reference']}."),
    )


def booking_rescheduled(d: dict) -> Rendered:
    return Rendered(
        sms=f"{_sender(d)}: your lesson has moved from {d.get('previous', '')} to {d['when']}. Ref {d['reference']}.",
        subject=f"Lesson moved to {d['when']}",
        text=(f"{_hello(d)}\n\nYour {d['service_name']} has moved.\n\nWas: {d.get('previous', '')}\n"
              f"Now: {d['when']} (Canberra time)\nPick-up: {_where(d)}\nReference: {d['reference']}\n{_sign(d)}"),
        in_app_subject="Lesson moved",
        in_app=(f"Your {d['service_name']} has moved from {d.get('previous', '')} to {d['when']}. "
                f"Reference {d['reference']}."),
    )


def booking_cancelled(d: dict) -> Rendered:
    fee = d.get("fee")
    cost = f" A late-cancellation fee of {fee} applies." if fee else " There is no charge."
    return Rendered(
        sms=f"{_sender(d)}: your lesson on {d['when']} is cancelled.{cost} Ref {d['reference']}.",
        subject=f"Lesson cancelled: {d['when']}",
        text=(f"{_hello(d)}\n\nYour {d['service_name']} on {d['when']} is cancelled.{cost}\n"
              f"Reference: {d['reference']}\n\nTo book another time: {d.get('book_url', '')}\n{_sign(d)}"),
        in_app_subject="Lesson cancelled",
        in_app=f"Your {d['service_name']} on {d['when']} is cancelled.{cost} Reference {d['reference']}.",
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


def _what(d: dict) -> str:
    return d.get("description") or "your lesson"


def _test_note(d: dict) -> str:
    return ("\n\nTest mode: this was a test payment through the offline gateway. No money was taken."
            if d.get("test_mode") else "")


def _amount(d: dict) -> str:
    words = f" ({d['amount_words']})" if d.get("amount_words") else ""
    return f"{d['amount_display']}{words}"


def payment_received(d: dict) -> Rendered:
    discount = f"\nVoucher discount: {d['discount_display']}" if d.get("discount_display") else ""
    return Rendered(
        sms=None,
        subject=f"Payment received: {d['amount_display']}",
        text=(f"{_hello(d)}\n\n{_sender(d)} has received your payment.\n\n"
              f"Amount: {_amount(d)}{discount}\nFor: {_what(d)}\n"
              f"Date: {d.get('paid_on', '')}\nPayment reference: {d.get('reference', '')}\n\n"
              f"Your receipt is in your account under Payments.{_test_note(d)}\n{_sign(d)}"),
    )


def payment_failed(d: dict) -> Rendered:
    retry = d.get("retry_url", "")
    held = f" Your time is held until {d['held_until']}." if d.get("held_until") else ""
    error = d.get("error")
    return Rendered(
        sms=(f"{_sender(d)}: your card payment of {d['amount_display']} for {_what(d)} didn't go through."
             f"{held} To try again: {retry}"),
        subject="Your card payment didn't go through",
        text=(f"{_hello(d)}\n\nYour card payment of {d['amount_display']} to {_sender(d)} for {_what(d)} "
              f"didn't go through{': ' + error if error else '.'}\n{held.strip()}\n\n"
              f"You can try again with the same or another card: {retry}\n{_sign(d)}"),
    )


def payment_refunded(d: dict) -> Rendered:
    return Rendered(
        sms=None,
        subject=f"Refund of {d['refund_display']}",
        text=(f"{_hello(d)}\n\n{_sender(d)} has refunded {d['refund_display']} of your payment of "
              f"{d['amount_display']} for {_what(d)}.\nReason: {d.get('reason', '')}\n\n"
              f"Banks usually show a card refund within 5-10 business days.{_test_note(d)}\n{_sign(d)}"),
    )


def payment_refunded_lapsed_hold(d: dict) -> Rendered:
    test = " (test mode: no money was taken)" if d.get("test_mode") else ""
    book = d.get("book_url", "")
    return Rendered(
        sms=(f"{_sender(d)}: your payment of {d['amount_display']} for the lesson on {d['when']} arrived after "
             f"the time had gone, so we have refunded it in full{test}. Book another time: {book}"),
        subject="Your payment has been refunded",
        text=(f"{_hello(d)}\n\nYour payment of {d['amount_display']} to {_sender(d)} for the lesson on "
              f"{d['when']} arrived after the hold on that time had lapsed, and the time had been booked by someone "
              f"else (or the lesson was no longer booked). We have refunded the full {d['amount_display']} to your "
              f"card{test}; banks usually show it within 5-10 business days.\n\n"
              f"To book another time: {book}\n{_sign(d)}"),
    )


def package_purchased(d: dict) -> Rendered:
    expiry = f"Use them by {d['expires_on']}." if d.get("expires_on") else "They don't expire."
    return Rendered(
        sms=None,
        subject=f"Your {d['package_name']} package",
        text=(f"{_hello(d)}\n\nThank you for buying the {d['package_name']} package from {_sender(d)}.\n\n"
              f"Lessons: {d['credits']}\nPaid: {_amount(d)}\n{expiry}\n\n"
              f"Choose 'Use a package lesson' when you book: {d.get('book_url', '')}{_test_note(d)}\n{_sign(d)}"),
    )


def package_low_credits(d: dict) -> Rendered:
    left = int(d["credits_remaining"])
    lessons = f"{left} lesson{'s' if left != 1 else ''}" if left else "no lessons"
    expiry = f" It expires on {d['expires_on']}." if d.get("expires_on") else ""
    used = (f" ({d['credits_used']} of {d['credits_total']} used)"
            if d.get("credits_total") is not None and d.get("credits_used") is not None else "")
    buy = d.get("buy_url", "")
    return Rendered(
        sms=f"{_sender(d)}: you have {lessons} left in your {d['package_name']} package.{expiry} More lessons: {buy}",
        subject=f"{lessons[0].upper() + lessons[1:]} left in your package",
        text=(f"{_hello(d)}\n\nYou have {lessons} left in your {d['package_name']} package{used}.{expiry}\n\n"
              f"To keep booking with a package, you can buy another at {buy}\n{_sign(d)}"),
    )


def parent_invitation(d: dict) -> Rendered:
    days = d.get("expires_days", 7)
    return Rendered(
        sms=(f"{_sender(d)}: {d['learner_name']} invited you to follow their driving lessons. "
             f"Accept within {days} days: {d.get('accept_url', '')}"),
        subject=f"{d['learner_name']} invited you to follow their driving lessons",
        text=(f"Hi,\n\n{d['learner_name']} has invited you to follow their driving lessons with {_sender(d)}"
              f"{(' as their ' + d['relationship']) if d.get('relationship') else ''}. Accept within {days} days:"
              f"\n\n{d.get('accept_url', '')}\n\n{_canberra(d)}"),
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
    book = d.get("book_url", "")
    what = (f"a {d['service_name']} time you asked for is free: {d['when']}." if d.get("service_name")
            else f"a lesson time has opened up on {d['when']}.")
    hello = f"Hi {d['first_name']},\n\n" if d.get("first_name") else ""
    return Rendered(
        sms=f"{_sender(d)}: {what} Book it at {book} - first in gets it.",
        subject=f"A lesson time has opened up: {d['when']}",
        text=(f"{hello}You asked to hear when a time like this frees up. {d.get('service_name') or 'A lesson'} on "
              f"{d['when']} (Canberra time) is free now.\n\nBook it at {book} - the first person to book it "
              f"gets it.\n{_sign(d)}"),
    )


def booking_reminder(d: dict) -> Rendered:
    """The reminder SMS the day before (``booking_reminder_24h``) and two hours before (``_2h``)."""
    where = ", ".join(p for p in (d.get("pickup_address"), d.get("suburb")) if p)
    pickup = f" Pick-up: {where}." if where else ""
    lesson, who = d.get("service_name") or "driving lesson", d["instructor_name"]
    if d.get("kind") == "booking_reminder_2h":
        head = f"{_sender(d)}: your {lesson} starts at {d['time']} on {d['date']} with {who}."
    else:
        head = f"{_sender(d)}: reminder of your {lesson} on {d['date']} at {d['time']} (Canberra time) with {who}."
    return Rendered(sms=f"{head}{pickup} Reply Y to confirm. Ref {d['reference']}.", subject=None, text=None)


def booking_new(d: dict) -> Rendered:
    """To the instructor and the administrators, in the app: someone booked online."""
    where = ", ".join(p for p in (d.get("pickup_address"), d.get("suburb")) if p)
    return Rendered(sms=None, subject="New online booking", text=None,
                    in_app=(f"{d['booker']} booked a {d['service_name']} for {d['when']} "
                            f"with {d['instructor_name']}" + (f", pick-up {where}" if where else "")
                            + f". Reference {d['reference']}."))


# ── Accounts (identity): emails only; links are secret and never stored beside the message ──

def sign_up_welcome(d: dict) -> Rendered:
    s = _sender(d)
    return Rendered(
        sms=None,
        subject=f"Welcome to {s}: confirm your email",
        text=(f"Hi {d['first_name']},\n\nThanks for creating your {s} learner account. Use this link to "
              f"confirm your email and sign in (it works once, within 24 hours):\n\n"
              f"{d['link']}\n\nYou can also sign in with your email and password at "
              f"{d['sign_in_url']}.\n\nIf you didn't sign up, you can ignore this email.\n\n{_canberra(d)}"),
    )


def sign_up_existing_account(d: dict) -> Rendered:
    return Rendered(
        sms=None,
        subject="Someone tried to sign up with your email",
        text=(f"Hi,\n\nSomeone (hopefully you) just tried to create a {_sender(d)} account with this "
              "email address, but you already have one. Nothing has changed.\n\n"
              f"Sign in: {d['sign_in_url']}\n"
              f"Forgotten your password? Reset it: {d['forgot_url']}\n"
              "You can also sign in with a link sent to your email from the sign-in page.\n\n"
              f"If it wasn't you, you can ignore this email.\n\n{_canberra(d)}"),
    )


def magic_link(d: dict) -> Rendered:
    s = _sender(d)
    return Rendered(
        sms=None,
        subject=f"Your {s} sign-in link",
        text=(f"Hi,\n\nUse this link to sign in to {s}. It works once and expires in "
              f"{d['minutes']} minutes:\n\n{d['link']}\n\nIf you didn't ask for it, you can ignore this email."
              f"\n\n{_canberra(d)}"),
    )


def password_reset(d: dict) -> Rendered:
    s = _sender(d)
    return Rendered(
        sms=None,
        subject=f"Reset your {s} password",
        text=(f"Hi,\n\nSomeone (hopefully you) asked to reset your {s} password. This link "
              f"works once and expires in {d['minutes']} minutes:\n\n{d['link']}\n\nIf it wasn't you, ignore this "
              f"email: your password stays the same.\n\n{_canberra(d)}"),
    )


def staff_invite(d: dict) -> Rendered:
    s = _sender(d)
    return Rendered(
        sms=None,
        subject=f"Your {s} staff account",
        text=(f"Hi {d['first_name']},\n\nAn account has been created for you at {s} "
              f"({'instructor' if d.get('role') == 'instructor' else 'administrator'}). Set your password here "
              f"(the link works once and expires in {d['hours']} hours):"
              f"\n\n{d['link']}\n\n{_canberra(d)}"),
    )


def student_invite(d: dict) -> Rendered:
    """A prospect the office enrolled: their learner account, and a link to choose a password."""
    s = _sender(d)
    return Rendered(
        sms=None,
        subject=f"Your {s} learner account",
        text=(f"Hi {d['first_name']},\n\nWelcome to {s}. We've set up your learner account, where you can "
              f"book lessons and follow your progress. Choose your password here (the link works once and "
              f"expires in {d['hours']} hours):\n\n{d['link']}\n\n{_canberra(d)}"),
    )


# ── The CRM: the website's enquiry form, replies to the school's SMS number ──

def enquiry_received(d: dict) -> Rendered:
    """To the school's address: an enquiry from the website."""
    same = f"\nPossibly the same person as {d['possible_matches']}.\n" if d.get("possible_matches") else ""
    return Rendered(
        sms=None,
        subject=f"New enquiry from {d['name']}",
        text=(f"{d['name']} sent an enquiry through the website.\n\nPhone: {d.get('phone') or ''}\n"
              f"Email: {d.get('email') or '-'}\n{same}\n{d['message']}\n"),
    )


def _sms_help(d: dict) -> str:
    phone, email, web = d.get("school_phone"), d.get("school_email"), d.get("website")
    contact = " or ".join(p for p in (f"call {phone}" if phone else "", f"email {email}" if email else "") if p)
    return (f"{_sender(d)}, driving lessons in Canberra. For help {contact or 'reply to this message'}"
            f"{(', ' + web) if web else ''}. Reply STOP to stop offers.")


def sms_reply(d: dict) -> Rendered:
    """The automatic answer to a text to the school's number; ``reply`` says which (DESIGN §3.10: STOP at once)."""
    s, reply = _sender(d), d["reply"]
    name = f" {d['first_name']}" if d.get("first_name") else ""
    phone = d.get("school_phone")
    texts = {
        "stop": (f"{s}: you won't get offers or news from us by SMS any more. Messages about your lessons "
                 "(confirmations and reminders) still come. Reply START to get offers again."),
        "start_already": f"{s}: you're already getting our offers by SMS. Reply STOP to opt out.",
        "start_not_needed": (f"{s}: you'll keep getting messages about your lessons. We only send offers to people "
                             "who ask for them when booking."),
        "start_again": f"{s}: you'll get our offers by SMS again. Reply STOP to opt out.",
        "confirmed": f"{s}: thanks{name}, your lesson on {d.get('when', '')} is confirmed. See you then.",
        "no_booking": (f"{s}: we couldn't find a lesson for this number in the next two days. "
                       f"We'll get back to you{(' - or call ' + phone) if phone else ''}."),
        "received": f"{s}: thanks for your message. We'll reply as soon as we can.",
    }
    if reply == "help":
        return Rendered(sms=_sms_help(d), subject=None, text=None)
    if reply not in texts:
        raise KeyError("reply")
    return Rendered(sms=texts[reply], subject=None, text=None)


def sms_handoff(d: dict) -> Rendered:
    """In the app, to each administrator: an SMS thread needs a person."""
    why = {"no_lesson": "Replied YES but has no lesson in the next 48 hours.",
           "needs_reply": f"SMS from {d['who']} needs a reply."}[d.get("why", "needs_reply")]
    return Rendered(sms=None, subject=f"SMS from {d['who']}", text=None, in_app=why)


# ── The assistant (web chat, SMS, voice): everything it says that is not quoted from the knowledge base ──

def _numbered(items: list[str]) -> str:
    return " ".join(f"{i}) {t}" for i, t in enumerate(items, 1))


def assistant_reply(d: dict) -> Rendered:
    """What the assistant says; ``say`` picks the line. ``in_app`` is the chat's words, ``sms`` names the sender."""
    s, say = _sender(d), d.get("say", "unsure")
    phone = d.get("business_phone") or d.get("school_phone")
    call = f" or call {phone}" if phone else ""
    times = d.get("times") or []
    service = d.get("service_name") or "a lesson"
    when = f" {d['when_text']}" if d.get("when_text") else ""
    lines = {
        "answer": d.get("answer", ""),
        "unsure": (f"I'm not sure about that one, so I've passed your question on to {s}. "
                   f"A person will get back to you soon{call}."),
        "out_of_scope": (f"I can help with driving lessons, prices, bookings and ACT learner licence questions. "
                         f"For anything else, please contact {s}{call}."),
        "greeting": ("Hi! Ask me about lessons, prices, ACT learner licence rules or CBT&A, or ask for a lesson "
                     "time and I'll find one."),
        "offer": (f"Free times for {service}{when}: "
                  f"{_numbered(times)}. Reply 1, 2 or 3 to hold one."),
        "no_times": (f"Sorry, there are no free times for {service}{when}. Try another day, or ask for the next "
                     "free time."),
        "pick_one": "Please reply 1, 2 or 3 to choose one of the times, or ask for another day.",
        "held": (f"{d.get('when', '')} is held for you for {d.get('minutes', '')} minutes. "
                 f"Confirm it (and pay if you like) here: {d.get('link', '')}"),
        "taken": "Sorry, that time has just been taken.",
        "your_bookings": (f"Your upcoming lessons: {_numbered(times)}. Reply CANCEL 1 to cancel one or MOVE 1 to "
                          "move one."),
        "no_bookings": (f"I couldn't find an upcoming lesson for you. Text from the mobile number you booked with, "
                        f"or sign in{call}."),
        "cancel_check": (f"Cancel your lesson on {d.get('when', '')}? "
                         + (f"It's free to cancel until {d.get('free_until', '')}. " if d.get("free") else
                            f"A late-cancellation fee of {d.get('fee', '')} applies. ")
                         + "Reply YES to cancel it, or NO to keep it."),
        "confirmed": f"Booked: your lesson on {d.get('when', '')} is confirmed. A confirmation is on its way.",
        "cancelled": f"Your lesson on {d.get('when', '')} is cancelled. {d.get('outcome', '')}",
        "kept": "No problem, your lesson stays as it is.",
        "moved": f"Done: your lesson is moved to {d.get('when', '')}.",
        "move_pick": f"Which new time? {_numbered(times)}. Reply 1, 2 or 3.",
        "handoff": f"Thanks, I've passed this on to {s}. A person will reply to you soon{call}.",
        "complaint": (f"I'm sorry to hear that. I've passed your message straight to the owner of {s}, "
                      "who will contact you personally."),
        "too_long": f"That message is a bit long for me: please keep it under {d.get('limit', 500)} characters.",
        "slow_down": f"You've sent a lot of messages in a short time. Please wait a few minutes{call}.",
        "need_details": ("To hold a time I need your name, email and pick-up suburb: tap 'Book this time' or "
                         "use the booking page."),
        "details_missing": "Please fill in your name, email, mobile, pick-up address and suburb.",
    }
    text = lines.get(say, lines["unsure"])
    return Rendered(sms=f"{s}: {text}", subject=None, text=None, in_app=text)


def assistant_complaint(d: dict) -> Rendered:
    """To the administrators at once: a complaint came in through the assistant."""
    where = {"sms": "SMS", "web_chat": "web chat", "voice": "phone"}.get(d.get("channel", ""), "the assistant")
    body = f"Complaint from {d.get('who') or 'a member of the public'} by {where}: {d.get('message', '')}"
    return _to_admin(d, f"Complaint by {where} from {d.get('who') or 'a member of the public'}", body)


def assistant_handoff(d: dict) -> Rendered:
    """In the app, to each administrator: a conversation needs a person."""
    where = {"sms": "SMS", "web_chat": "web chat", "voice": "phone"}.get(d.get("channel", ""), "chat")
    body = f"{where} from {d.get('who') or 'a visitor'} needs a reply: {d.get('message', '')}"
    return Rendered(sms=None, subject=f"{where} needs a reply", text=None, in_app=body)


def owner_reply(d: dict) -> Rendered:
    """The owner's own reply from the inbox to a conversation (SMS or email), in the owner's words."""
    text = d["reply"]
    return Rendered(sms=f"{_sender(d)}: {text}", subject=f"A reply from {_sender(d)}",
                    text=f"{_hello(d)}\n\n{text}\n{_sign(d)}")


# ── To the school's administrators: email (with a greeting) and a notice in the app ──

def _to_admin(d: dict, subject: str, body: str, email_body: str | None = None) -> Rendered:
    hello = f"Hi {d['first_name']},\n\n" if d.get("first_name") else ""
    return Rendered(sms=None, subject=subject, text=f"{hello}{email_body or body}\n\n{_sender(d)}\n", in_app=body)


def callback_followup(d: dict) -> Rendered:
    lines = []
    for c in d["calls"]:
        line = f"{c['caller']} ({c['phone']}), called {c['called']}"
        if c.get("reason"):
            line += f": {c['reason']}"
        if c.get("call_back_at"):
            line += f". Asked to be called at {c['call_back_at']}"
        lines.append(line)
    n = len(lines)
    subject = f"{n} caller{'s' if n != 1 else ''} waiting for a call back"
    return _to_admin(d, subject, f"{subject}:\n" + "\n".join(f"- {line}" for line in lines))


def integrity_alert(d: dict) -> Rendered:
    broken = d["broken"]
    names = ", ".join(f"{r['chain']} (record #{r['seq']})" for r in broken)
    body = ("The nightly integrity check found a break in the tamper-evident records: "
            + "; ".join(f"{r['chain']}: first broken record #{r['seq']} - {r['reason']}" for r in broken)
            + ". Records may have been changed or deleted outside the app. Please investigate before relying "
              "on these records, and keep the recent daily digests: they hold the chain heads.")
    return _to_admin(d, f"Integrity check failed: {names}", body)


def lesson_disputed(d: dict) -> Rendered:
    body = (f"{d['learner']} disputes lesson {d['lesson_number']} of {d['lesson_date']} with {d['instructor']}: "
            f"\"{d['reason']}\". The lesson is marked disputed until a correction signed by the instructor and "
            "the learner resolves it.")
    return _to_admin(d, f"Lesson {d['lesson_number']} of {d['learner']} is disputed", body)


def refund_declined(d: dict) -> Rendered:
    body = (f"The payment provider declined the refund of {d['amount']} for {d['description']} (payment reference "
            f"{d['reference']}; reason given: {d['reason']}). {d['declined']} Nothing was refunded and the amount "
            "can be refunded again from Payments. The customer may already have been told the refund is on its "
            "way, so please contact them.")
    return _to_admin(d, f"A refund of {d['amount']} was declined", body)


def refund_unsent(d: dict) -> Rendered:
    body = (f"A refund of {d['amount']} (payment reference {d['reference']}) was recorded but the payment provider "
            "never confirmed it. Please check the payment in the provider's dashboard before refunding it again.")
    return _to_admin(d, f"A refund of {d['amount']} could not be confirmed", body)


def digest_email(d: dict) -> tuple[str, str]:
    """The daily digest: (subject, plain-text e-mail body)."""
    lines = [f"Daily summary for {d['day_label']} (Canberra time)", ""]
    lessons = d["lessons"]
    lines.append(f"YESTERDAY ({d['yesterday_label']})")
    lines.append(f"Lessons taught: {lessons['taught']} ({lessons['taught_minutes'] / 60:g} h); "
                 f"no-shows: {lessons['no_shows']}; cancelled: {lessons['cancelled']}")
    for r in lessons["items"]:
        lines.append(f"  {r['time']}  {r['learner']} - {r['service']} with {r['instructor']} [{r['status']}]")
    t = d["takings"]
    lines.append(f"Takings: {t['received']} from {t['payments']} payment(s); refunds {t['refunded']}; "
                 f"net {t['net']}")
    lines += ["", f"TODAY ({d['day_label']}): {len(d['today'])} lesson(s)"]
    for r in d["today"]:
        where = f", {r['suburb']}" if r["suburb"] else ""
        lines.append(f"  {r['time']}  {r['learner']} - {r['service']} with {r['instructor']}{where}")
    lines += ["", f"NEW LEADS: {len(d['new_leads'])}"]
    for lead in d["new_leads"]:
        reach = ", ".join(x for x in (lead["phone"], lead["email"]) if x)
        lines.append(f"  {lead['name']} ({lead['source'] or 'unknown source'}){' - ' + reach if reach else ''}")
    f = d["failed_messages"]
    lines += ["", f"MESSAGES NOT SENT: {f['count']} yesterday, {f['total_failed']} failed in all"]
    for m in f["items"]:
        lines.append(f"  {m['channel']} to {m['recipient']} ({m['template']}): {m['error']}")
    a = d.get("assistant")
    if a:
        lines += ["", f"ASSISTANT: {a['conversations']} conversation(s) yesterday (web chat {a['web_chat']}, "
                      f"SMS {a['sms']}, phone {a['voice']}); {a['handoffs']} handed over to you; {a['calls']} call(s)",
                  f"Waiting now: {a['waiting']} conversation(s) need a reply, {a['open_callbacks']} callback(s) "
                  "to make (Admin > Inbox)"]
    lines += ["", "AUDIT-CHAIN HEADS (keep this e-mail: it lets an auditor prove no record was rewritten later)"]
    for h in d["chain_heads"]:
        lines.append(f"  {h['chain']}  #{h['seq']}  {h['hash']}")
    return f"Daily summary for {d['day_label']}", "\n".join(lines)


def digest_summary(d: dict) -> str:
    """The daily digest in one paragraph, for the in-app bell."""
    t = d["takings"]
    return (f"Yesterday: {d['lessons']['taught']} lesson(s) taught, {d['lessons']['no_shows']} no-show(s), "
            f"{d['lessons']['cancelled']} cancelled; takings {t['received']} (refunds {t['refunded']}, "
            f"net {t['net']}). Today: {len(d['today'])} lesson(s). New leads: {len(d['new_leads'])}. "
            f"Failed messages: {d['failed_messages']['count']} yesterday, {d['failed_messages']['total_failed']} "
            "in all." + _assistant_summary(d.get("assistant")))


def _assistant_summary(a: dict | None) -> str:
    if not a:
        return ""
    return (f" Assistant: {a['conversations']} conversation(s), {a['handoffs']} handoff(s), {a['calls']} call(s); "
            f"{a['waiting']} waiting for a reply, {a['open_callbacks']} callback(s) open.")


def daily_digest(d: dict) -> Rendered:
    subject, email = digest_email(d)
    return _to_admin(d, subject, digest_summary(d), email_body=email)


def delivery_failed(d: dict) -> Rendered:
    """A message could not be delivered: to the school's address and each administrator's bell."""
    what, to = d["what"], d["recipient"]
    channel = "SMS" if d["channel"] == "sms" else d["channel"]
    body = (f"{_sender(d)} could not send a {channel} ({what}) to {to}.\n\nReason: {d['reason']}\n\n"
            f"Open the Outbox in the admin area to send it again, or contact them another way.\n")
    return Rendered(sms=None, subject=f"Message not delivered: {what} to {to}", text=body, in_app=body)


def _days(n: int) -> str:
    return "today" if n == 0 else ("tomorrow" if n == 1 else f"in {n} days")


def accreditation_expiring(d: dict) -> Rendered:
    """To an instructor: their ACT accreditation certificate lapses soon (60, 30 and 7 days before)."""
    s = _sender(d)
    body = (f"Your ACT driving instructor accreditation (certificate {d['number']}) expires on {d['expiry']}, "
            f"{_days(int(d['days_left']))}. Please renew it with Access Canberra and send {s} the new expiry date: "
            "after it lapses the booking system stops offering your lesson times.")
    return Rendered(sms=None, subject=f"Your accreditation expires on {d['expiry']}",
                    text=f"{_hello(d)}\n\n{body}\n\n{s}\n", in_app=body, in_app_subject="Accreditation expiring")


def accreditation_expiring_admin(d: dict) -> Rendered:
    body = (f"The ACT accreditation of {d['instructor']} (certificate {d['number']}) expires on {d['expiry']}, "
            f"{_days(int(d['days_left']))}. After that the booking system stops offering their lesson times.")
    return _to_admin(d, f"{d['instructor']}'s accreditation expires on {d['expiry']}", body)


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


@dataclass(frozen=True)
class MessageTemplate:
    """One named message: the channels it goes out on, who it is for, and how it renders from plain data."""
    name: str
    channels: tuple[str, ...]
    render: Callable[[dict], Rendered]
    audience: str = "customer"  # 'customer' (names the sender) | 'staff' (the school's own people)


_OTHER_TEMPLATES = (
    MessageTemplate("booking_reminder_24h", ("sms",), booking_reminder),
    MessageTemplate("booking_reminder_2h", ("sms",), booking_reminder),
    MessageTemplate("payment_refunded", ("email",), payment_refunded),
    MessageTemplate("payment_refunded_lapsed_hold", ("sms", "email"), payment_refunded_lapsed_hold),
    MessageTemplate("sign_up_welcome", ("email",), sign_up_welcome),
    MessageTemplate("sign_up_existing_account", ("email",), sign_up_existing_account),
    MessageTemplate("magic_link", ("email",), magic_link),
    MessageTemplate("password_reset", ("email",), password_reset),
    MessageTemplate("staff_invite", ("email",), staff_invite),
    MessageTemplate("student_invite", ("email",), student_invite),
    MessageTemplate("sms_reply", ("sms",), sms_reply),
    MessageTemplate("enquiry_received", ("email",), enquiry_received, "staff"),
    MessageTemplate("booking_new", ("in_app",), booking_new, "staff"),
    MessageTemplate("sms_handoff", ("in_app",), sms_handoff, "staff"),
    MessageTemplate("assistant_reply", ("sms",), assistant_reply),
    MessageTemplate("assistant_complaint", ("email", "in_app"), assistant_complaint, "staff"),
    MessageTemplate("assistant_handoff", ("in_app",), assistant_handoff, "staff"),
    MessageTemplate("owner_reply", ("sms", "email"), owner_reply),
    MessageTemplate("callback_followup", ("email", "in_app"), callback_followup, "staff"),
    MessageTemplate("integrity_alert", ("email", "in_app"), integrity_alert, "staff"),
    MessageTemplate("daily_digest", ("email", "in_app"), daily_digest, "staff"),
    MessageTemplate("delivery_failed", ("email", "in_app"), delivery_failed, "staff"),
    MessageTemplate("refund_declined", ("email", "in_app"), refund_declined, "staff"),
    MessageTemplate("refund_unsent", ("email", "in_app"), refund_unsent, "staff"),
    MessageTemplate("lesson_disputed", ("email", "in_app"), lesson_disputed, "staff"),
    MessageTemplate("accreditation_expiring", ("email", "in_app"), accreditation_expiring, "staff"),
    MessageTemplate("accreditation_expiring_admin", ("email", "in_app"), accreditation_expiring_admin, "staff"),
)

# Every message there is, by name: the notification types above and the rest (accounts, replies, alerts).
TEMPLATES: dict[str, MessageTemplate] = {
    **{k: MessageTemplate(k, NOTIFICATION_TYPES[k].channels, fn) for k, fn in RENDERERS.items()},
    **{t.name: t for t in _OTHER_TEMPLATES},
}


def render(kind: str, data: dict) -> Rendered:
    """The one way a message's words are made: template ``kind`` filled with ``data``."""
    template = TEMPLATES.get(kind)
    if template is None:
        raise ValueError(f"no template for {kind!r}")
    try:
        return template.render({**data, "kind": kind})
    except KeyError as exc:
        raise ValueError(f"template {kind!r} needs {exc.args[0]!r}") from None


def with_unsubscribe(text: str, *, sender: str, link: str) -> str:
    """A marketing email's text with its opt-out (added when it is sent: the link is the recipient's own)."""
    return (f"{text.rstrip()}\n\nYou are receiving this because you agreed to hear about offers from {sender}. "
            f"Unsubscribe: {link}\n")


def default_subject(sender: str) -> str:
    """The subject of an email queued without one."""
    return f"A message from {sender}"


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
