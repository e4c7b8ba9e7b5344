"""The owner's daily digest (06:00 Canberra): yesterday's lessons and takings, today's schedule,
new leads, messages that could not be sent, and the heads of the audit hash chains.

Days are Canberra days (midnight to midnight, Australia/Sydney), whatever the
server's zone. Money is integer cents. The chain heads travel out of the
database in the e-mail, so a later rewrite of a chain's tail can be caught
against them (docs/decisions/0002-hash-chains.md); the nightly integrity job also checks the
latest digest's copy.

Definitions (what the owner reads):

* lessons yesterday: bookings scheduled that day; "taught" = confirmed, in
  progress or completed (a confirmed lesson whose day has passed went ahead
  unless it was marked a no-show), plus no-shows and cancellations;
* takings: payments made that day (created that day, now completed, partially
  refunded or refunded), package-credit bookings excluded (that money came in
  when the package was bought); refunds are counted on the day they were made;
* new leads: contacts first recorded that day;
* failed messages: outbox messages that were given up on that day, and how
  many are failed in all;
* the assistant (web chat, SMS, phone): conversations started that day by channel, the
  conversations handed over to a person that day (a handoff or a complaint), calls the voice
  agent answered that day, and how many are waiting now — threads still needing a reply and
  callbacks not yet made (the owner's inbox, ``/admin/inbox``).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.services.messaging import admin_alerts
from nexdrive.services.messaging import message_templates
from nexdrive.services.core import audit
from nexdrive.formats import BUSINESS_TZ, au_date, au_time, au_when, aud

UTC = timezone.utc
TAUGHT = ("confirmed", "in_progress", "completed")
TAKINGS_STATUSES = ("completed", "partially_refunded", "refunded")
MAX_ITEMS = 50


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[midnight, next midnight) of a Canberra day, as UTC instants (midnight always exists in Sydney)."""
    start = datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BUSINESS_TZ)
    return start.astimezone(UTC), end.astimezone(UTC)


def canberra_today(session: Session, now: datetime | None = None) -> date:
    now = now or session.execute(sa.text("SELECT now()")).scalar_one()
    return now.astimezone(BUSINESS_TZ).date()


_LEARNER = """COALESCE(NULLIF(TRIM(sp.first_name || ' ' || sp.last_name), ''),
                       NULLIF(TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')), ''), 'Unnamed')"""
_BOOKINGS = f"""
    SELECT b.id, b.start_time, b.end_time, b.status, b.amount_cents, b.duration_minutes, b.suburb,
           sv.name AS service, {_LEARNER} AS learner,
           TRIM(ip.first_name || ' ' || ip.last_name) AS instructor
    FROM bookings b
    JOIN services sv ON sv.id = b.service_id
    JOIN instructors i ON i.id = b.instructor_id JOIN profiles ip ON ip.id = i.profile_id
    LEFT JOIN students s ON s.id = b.student_id LEFT JOIN profiles sp ON sp.id = s.profile_id
    LEFT JOIN contacts c ON c.id = b.contact_id
    WHERE b.scheduled_date = :day AND b.status = ANY(:statuses)
    ORDER BY b.start_time, b.id"""


def _lesson_rows(session: Session, day: date, statuses: tuple[str, ...]) -> list[dict]:
    rows = session.execute(sa.text(_BOOKINGS), {"day": day, "statuses": list(statuses)}).all()
    return [{"booking_id": str(r.id), "start_at": r.start_time.astimezone(UTC).isoformat(),
             "time": f"{au_time(r.start_time)} – {au_time(r.end_time)}", "status": r.status,
             "learner": r.learner, "service": r.service, "instructor": r.instructor, "suburb": r.suburb or "",
             "duration_minutes": r.duration_minutes, "amount_cents": r.amount_cents} for r in rows]


def build_daily_digest(session: Session, day: date) -> dict:
    """The digest sent on the morning of ``day`` (a Canberra date): it reports on the day before."""
    yesterday = day - timedelta(days=1)
    y_start, y_end = day_bounds(yesterday)
    params = {"a": y_start, "b": y_end}

    lessons = _lesson_rows(session, yesterday, TAUGHT + ("no_show", "cancelled"))
    taught = [r for r in lessons if r["status"] in TAUGHT]

    money = session.execute(sa.text("""
        SELECT count(*) AS n, COALESCE(sum(amount_cents), 0) AS received FROM payments
        WHERE COALESCE(completed_at, created_at) >= :a AND COALESCE(completed_at, created_at) < :b
          AND status = ANY(:st) AND payment_method <> 'package_credit'"""),
        {**params, "st": list(TAKINGS_STATUSES)}).one()
    refunds = session.execute(sa.text("""
        SELECT count(*) AS n, COALESCE(sum(refund_amount_cents), 0) AS refunded FROM payments
        WHERE refunded_at >= :a AND refunded_at < :b AND refund_amount_cents > 0
          AND payment_method <> 'package_credit'"""), params).one()
    received, refunded = int(money.received), int(refunds.refunded)

    leads = session.execute(sa.text("""
        SELECT id, TRIM(COALESCE(first_name, '') || ' ' || COALESCE(last_name, '')) AS name, phone, email,
               source, lifecycle_stage, created_at
        FROM contacts WHERE created_at >= :a AND created_at < :b AND deleted_at IS NULL
        ORDER BY created_at, id"""), params).all()

    failed = session.execute(sa.text("""
        SELECT id, channel, recipient, template, subject, last_error, attempts, created_at FROM outbox_messages
        WHERE status = 'failed' AND updated_at >= :a AND updated_at < :b ORDER BY updated_at, id"""), params).all()
    failed_total = session.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE status = 'failed'")).scalar()

    assistant = _assistant_counts(session, params)

    return {
        "day": day.isoformat(),
        "day_label": au_date(day),
        "yesterday": yesterday.isoformat(),
        "yesterday_label": au_date(yesterday),
        "lessons": {
            "taught": len(taught),
            "taught_minutes": sum(r["duration_minutes"] for r in taught),
            "no_shows": sum(r["status"] == "no_show" for r in lessons),
            "cancelled": sum(r["status"] == "cancelled" for r in lessons),
            "items": lessons[:MAX_ITEMS],
        },
        "takings": {
            "payments": int(money.n),
            "received_cents": received,
            "refunds": int(refunds.n),
            "refunded_cents": refunded,
            "net_cents": received - refunded,
            "received": aud(received),
            "refunded": aud(refunded),
            "net": aud(received - refunded),
        },
        "today": _lesson_rows(session, day, TAUGHT),
        "new_leads": [{"contact_id": str(r.id), "name": r.name or "Unnamed", "phone": r.phone or "",
                       "email": r.email or "", "source": r.source or "", "stage": r.lifecycle_stage}
                      for r in leads],
        "failed_messages": {
            "count": len(failed),
            "total_failed": int(failed_total or 0),
            "items": [{"id": str(r.id), "channel": r.channel, "recipient": r.recipient, "template": r.template or "",
                       "error": r.last_error or "", "attempts": r.attempts,
                       "queued": au_when(r.created_at)} for r in failed[:MAX_ITEMS]],
        },
        "assistant": assistant,
        "chain_heads": audit.export_chain_heads(session),
    }


def _assistant_counts(session: Session, params: dict) -> dict:
    """Yesterday's conversations (by channel), handoffs and calls; threads and callbacks waiting now."""
    by_channel = dict(session.execute(sa.text(
        "SELECT channel, count(*) FROM conversations WHERE started_at >= :a AND started_at < :b GROUP BY channel"),
        params).all())
    handoffs = session.execute(sa.text("""
        SELECT count(DISTINCT related_id) FROM outbox_messages
        WHERE template IN ('assistant_handoff', 'assistant_complaint')
          AND created_at >= :a AND created_at < :b"""), params).scalar_one()
    calls = session.execute(sa.text(
        "SELECT count(*) FROM call_logs WHERE external_call_id IS NOT NULL AND started_at >= :a AND started_at < :b"),
        params).scalar_one()
    waiting = session.execute(sa.text("SELECT count(*) FROM conversations WHERE status = 'handoff_requested'")
                              ).scalar_one()
    callbacks = session.execute(sa.text(
        "SELECT count(*) FROM call_logs WHERE requires_callback AND callback_completed_at IS NULL")).scalar_one()
    return {"conversations": sum(int(v) for v in by_channel.values()),
            "web_chat": int(by_channel.get("web_chat", 0)), "sms": int(by_channel.get("sms", 0)),
            "voice": int(by_channel.get("voice", 0)), "handoffs": int(handoffs), "calls": int(calls),
            "waiting": int(waiting), "open_callbacks": int(callbacks)}


def digest_summary(d: dict) -> str:
    """One paragraph for the in-app bell (the words: message_templates.digest_summary)."""
    return message_templates.digest_summary(d)


def render_digest(d: dict) -> tuple[str, str]:
    """(subject, plain-text e-mail body) (the words: message_templates.digest_email)."""
    return message_templates.digest_email(d)


def send_daily_digest(session: Session, day: date | None = None, now: datetime | None = None) -> dict:
    """Build the digest for ``day`` (default: today in Canberra) and send it to the administrators once."""
    day = day or canberra_today(session, now)
    d = build_daily_digest(session, day)
    d["messages_queued"] = admin_alerts.alert_admins(
        session, key=f"daily_digest:{day.isoformat()}", notification_type="daily_digest", data=d,
        template_data={"day": d["day"], "chain_heads": d["chain_heads"]})
    return d
