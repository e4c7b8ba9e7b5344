"""Prices and policies for the office: the business settings (``business_settings``, id = 1), the lesson
types and their prices (``services``), and vouchers.

The administrator's alone (``access.require_admin``). Every change is checked, written in one
transaction and audited with the values before and after; a refused change writes nothing. The
public pages and the booking widget read these rows on each load, so a new price or policy shows
at once (``scheduling.catalogue.list_services`` / ``booking_policy``).
"""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.errors import NotFound, ValidationFailed
from nexdrive.formats import BUSINESS_TZ, au_date, aud
from nexdrive.models import BusinessSettings, Service, Voucher
from nexdrive.models.catalogue import ELIGIBILITY_KINDS, SERVICE_CATEGORIES
from nexdrive.models.payments import VOUCHER_TYPES
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.audit import record_event
from nexdrive.services.crm.contacts import e164_au_phone
from nexdrive.services.money import vouchers as voucher_rules

MAX_PRICE_CENTS = 500_000  # $5,000: anything above is a typo
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


# ─────────────────────────────────────────────────────────────────────────────
# Input helpers
# ─────────────────────────────────────────────────────────────────────────────


def _text(value: Any, field: str, label: str, *, limit: int = 200, required: bool = False) -> str | None:
    text = " ".join(str(value if value is not None else "").split())
    if required and not text:
        raise ValidationFailed(f"Please enter the {label}.", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"Please keep the {label} under {limit} characters.", field=field)
    return text or None


def _int(value: Any, field: str, label: str, lo: int, hi: int) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(f"The {label} must be a whole number.", field=field) from None
    if not lo <= n <= hi:
        raise ValidationFailed(f"The {label} must be between {lo} and {hi}.", field=field)
    return n


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def dollars_to_cents(value: Any, field: str, label: str = "price") -> int:
    """'85', '85.5', '$85.50', '1,085.00' -> cents; refuses negatives, fractions of a cent and silly amounts."""
    if isinstance(value, int) and not isinstance(value, bool):
        cents = value * 100
    else:
        text = str(value if value is not None else "").strip().replace("$", "").replace(",", "")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValidationFailed(f"The {label} should be an amount in dollars, like 85.00.", field=field) from None
        if amount.as_tuple().exponent < -2 or not amount.is_finite():
            raise ValidationFailed(f"The {label} can't have fractions of a cent.", field=field)
        cents = int(amount * 100)
    if not 0 <= cents <= MAX_PRICE_CENTS:
        raise ValidationFailed(f"The {label} must be between $0.00 and {aud(MAX_PRICE_CENTS)}.", field=field)
    return cents


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _apply(row: Any, clean: dict[str, Any]) -> tuple[dict, dict]:
    before, after = {}, {}
    for key, value in clean.items():
        old = getattr(row, key)
        if old != value:
            before[key], after[key] = _plain(old), _plain(value)
            setattr(row, key, value)
    return before, after


# ─────────────────────────────────────────────────────────────────────────────
# Business settings
# ─────────────────────────────────────────────────────────────────────────────

SETTINGS_FIELDS = ("business_name", "abn", "gst_registered", "address", "phone", "email", "website",
                   "cancellation_notice_hours", "late_cancellation_fee_cents", "allow_pay_later",
                   "default_buffer_minutes", "min_booking_notice_hours", "booking_horizon_days", "min_lesson_minutes",
                   "hold_minutes", "review_min_gap_hours", "final_drive_notice_business_days",
                   "accreditation_warning_days")


def _settings_view(row: BusinessSettings) -> dict:
    out = {k: getattr(row, k) for k in SETTINGS_FIELDS}
    out = {k: ("" if v is None else v) for k, v in out.items()}
    out["late_cancellation_fee"] = f"{row.late_cancellation_fee_cents / 100:.2f}"
    return out


def get_settings(session: Session, actor: Actor) -> dict:
    access.require_admin(actor)
    return _settings_view(session.get(BusinessSettings, 1) or BusinessSettings())


def _abn_ok(abn: str) -> bool:
    """The ATO's ABN check: subtract 1 from the first digit, weight, sum, divisible by 89."""
    digits = [int(c) for c in abn]
    digits[0] -= 1
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    return sum(d * w for d, w in zip(digits, weights)) % 89 == 0


def _clean_settings(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - set(SETTINGS_FIELDS) - {"late_cancellation_fee"}
    if unknown:
        raise ValidationFailed(f"Unknown setting {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "business_name":
            out[key] = _text(value, key, "business name", limit=100, required=True)
        elif key == "abn":
            abn = re.sub(r"\s", "", str(value or ""))
            if abn and (not re.fullmatch(r"\d{11}", abn) or not _abn_ok(abn)):
                raise ValidationFailed("That is not a valid ABN (11 digits).", field=key)
            out[key] = f"{abn[:2]} {abn[2:5]} {abn[5:8]} {abn[8:]}" if abn else None
        elif key in ("gst_registered", "allow_pay_later"):
            out[key] = _bool(value)
        elif key == "address":
            out[key] = _text(value, key, "address", limit=200)
        elif key == "phone":
            phone = _text(value, key, "phone", limit=20)
            if phone and not e164_au_phone(phone):
                raise ValidationFailed("Please enter an Australian phone number.", field=key)
            out[key] = phone
        elif key == "email":
            email = _text(value, key, "email", limit=200)
            if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                raise ValidationFailed("Please enter an email address.", field=key)
            out[key] = email
        elif key == "website":
            site = _text(value, key, "website", limit=200)
            if site and not re.fullmatch(r"https?://[^\s]+", site):
                raise ValidationFailed("The website starts with https://.", field=key)
            out[key] = site
        elif key == "late_cancellation_fee":
            out["late_cancellation_fee_cents"] = dollars_to_cents(value, key, "late cancellation fee")
        elif key == "late_cancellation_fee_cents":
            out[key] = _int(value, key, "late cancellation fee (cents)", 0, MAX_PRICE_CENTS)
        elif key == "cancellation_notice_hours":
            out[key] = _int(value, key, "cancellation notice (hours)", 0, 168)
        elif key == "default_buffer_minutes":
            out[key] = _int(value, key, "travel time between lessons", 0, 120)
        elif key == "min_booking_notice_hours":
            out[key] = _int(value, key, "booking notice (hours)", 0, 168)
        elif key == "booking_horizon_days":
            out[key] = _int(value, key, "booking horizon (days)", 1, 365)
        elif key == "min_lesson_minutes":
            out[key] = _int(value, key, "final-drive minimum (minutes)", 15, 240)
        elif key == "hold_minutes":
            # a Stripe Checkout session lives at least 30 minutes (docs/decisions/0001-no-double-booking.md)
            out[key] = _int(value, key, "hold (minutes)", 31, 120)
        elif key == "review_min_gap_hours":
            out[key] = _int(value, key, "gap before a review (hours)", 0, 336)
        elif key == "final_drive_notice_business_days":
            out[key] = _int(value, key, "final-drive notice (business days)", 0, 20)
        elif key == "accreditation_warning_days":
            out[key] = _int(value, key, "accreditation warning (days)", 0, 365)
    if out.get("gst_registered") and "abn" in out and not out["abn"]:
        raise ValidationFailed("A GST-registered business needs its ABN.", field="abn")
    return out


def update_settings(session: Session, actor: Actor, changes: dict[str, Any]) -> dict:
    """Change business settings; returns the new settings and which fields changed. Audited."""
    access.require_admin(actor)
    clean = _clean_settings(dict(changes))
    row = session.get(BusinessSettings, 1, with_for_update=True)
    if row is None:
        row = BusinessSettings(id=1)
        session.add(row)
        session.flush()
    if clean.get("gst_registered") is True and not (clean.get("abn", row.abn)):
        raise ValidationFailed("A GST-registered business needs its ABN.", field="abn")
    before, after = _apply(row, clean)
    if after:
        session.add(row)
        session.flush()
        record_event(session, actor, "SETTINGS_CHANGED", subject_type="business_settings",
                     details={"before": before, "after": after})
    return {"settings": _settings_view(row), "changed": sorted(after)}


# ─────────────────────────────────────────────────────────────────────────────
# Services (lesson types and prices)
# ─────────────────────────────────────────────────────────────────────────────

SERVICE_FIELDS = ("name", "slug", "description", "duration_minutes", "price_cents", "category", "is_bookable_online",
                  "eligibility_kind", "buffer_minutes", "min_notice_hours", "sort_order", "is_active")


def _service_view(s: Service) -> dict:
    return {"id": str(s.id), "name": s.name, "slug": s.slug, "description": s.description or "",
            "duration_minutes": s.duration_minutes, "price_cents": s.price_cents, "price": aud(s.price_cents),
            "price_dollars": f"{s.price_cents / 100:.2f}", "category": s.category,
            "is_bookable_online": bool(s.is_bookable_online), "eligibility_kind": s.eligibility_kind or "",
            "buffer_minutes": "" if s.buffer_minutes is None else s.buffer_minutes,
            "min_notice_hours": s.min_notice_hours, "sort_order": s.sort_order, "is_active": bool(s.is_active)}


def list_services(session: Session, actor: Actor) -> list[dict]:
    """Every service, active or not, in the owner's order."""
    access.require_admin(actor)
    rows = session.exec(select(Service).order_by(Service.is_active.desc(), Service.sort_order, Service.name)).all()
    return [_service_view(s) for s in rows]


def _clean_service(session: Session, data: dict[str, Any], *, current: Service | None) -> dict[str, Any]:
    data = dict(data)
    if "price" in data:
        data["price_cents"] = dollars_to_cents(data.pop("price"), "price")
    unknown = set(data) - set(SERVICE_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "name":
            out[key] = _text(value, key, "name", limit=100, required=True)
        elif key == "slug":
            slug = str(value or "").strip().lower()
            if not _SLUG.match(slug) or len(slug) > 60:
                raise ValidationFailed("The web address part is lower-case words joined by hyphens.", field=key)
            taken = session.exec(select(Service.id).where(Service.slug == slug)).first()
            if taken is not None and (current is None or taken != current.id):
                raise ValidationFailed("Another lesson type already uses this web address.", field=key)
            out[key] = slug
        elif key == "description":
            out[key] = _text(value, key, "description", limit=1000)
        elif key == "duration_minutes":
            out[key] = _int(value, key, "duration (minutes)", 15, 480)
        elif key == "price_cents":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_PRICE_CENTS:
                raise ValidationFailed(f"The price must be between $0.00 and {aud(MAX_PRICE_CENTS)}.", field="price")
            out[key] = value
        elif key == "category":
            if value not in SERVICE_CATEGORIES:
                raise ValidationFailed("Choose a category from the list.", field=key)
            out[key] = value
        elif key in ("is_bookable_online", "is_active"):
            out[key] = _bool(value)
        elif key == "eligibility_kind":
            if value in (None, ""):
                out[key] = None
            elif value not in ELIGIBILITY_KINDS:
                raise ValidationFailed("Choose an eligibility rule from the list.", field=key)
            else:
                out[key] = value
        elif key == "buffer_minutes":
            out[key] = None if value in (None, "") else _int(value, key, "travel time after it", 0, 120)
        elif key == "min_notice_hours":
            out[key] = _int(value, key, "notice (hours)", 0, 336)
        elif key == "sort_order":
            out[key] = _int(value, key, "order", 0, 1000)
    if "eligibility_kind" in out:
        out["requires_eligibility_check"] = out["eligibility_kind"] is not None
    return out


def create_service(session: Session, actor: Actor, data: dict[str, Any]) -> dict:
    """A new lesson type (name, slug, duration, price, category required). Audited."""
    access.require_admin(actor)
    for required in ("name", "slug", "duration_minutes", "category"):
        if data.get(required) in (None, ""):
            raise ValidationFailed(f"Please enter the {required.replace('_', ' ')}.", field=required)
    if data.get("price") in (None, "") and data.get("price_cents") in (None, ""):
        raise ValidationFailed("Please enter the price.", field="price")
    clean = _clean_service(session, data, current=None)
    service = Service(**clean)
    session.add(service)
    session.flush()
    record_event(session, actor, "SERVICE_CREATED", subject_type="service", subject_id=service.id,
                 details={"after": {k: _plain(v) for k, v in clean.items()}})
    return _service_view(service)


def update_service(session: Session, actor: Actor, service_id: Any, changes: dict[str, Any]) -> dict:
    """Change a lesson type (price, duration, active, ...). Lessons already booked keep their price. Audited."""
    access.require_admin(actor)
    try:
        sid = uuid.UUID(str(service_id))
    except ValueError:
        raise NotFound("No such lesson type.") from None
    service = session.get(Service, sid, with_for_update=True)
    if service is None:
        raise NotFound("No such lesson type.")
    clean = _clean_service(session, changes, current=service)
    before, after = _apply(service, clean)
    if after:
        session.add(service)
        session.flush()
        record_event(session, actor, "SERVICE_UPDATED", subject_type="service", subject_id=service.id,
                     details={"before": before, "after": after})
    return {**_service_view(service), "changed": sorted(after)}


# ─────────────────────────────────────────────────────────────────────────────
# Vouchers
# ─────────────────────────────────────────────────────────────────────────────


def _voucher_view(v: Voucher, names: dict[uuid.UUID, str]) -> dict:
    if v.voucher_type == "percentage":
        value = f"{v.discount_percent}% off"
    elif v.voucher_type == "fixed_amount":
        value = f"{aud(v.discount_cents or 0)} off"
    else:
        value = "A free lesson"
    return {"id": str(v.id), "code": v.code, "type": v.voucher_type, "value": value,
            "used": v.times_used, "max_uses": "" if v.max_uses is None else v.max_uses,
            "per_person": "" if v.max_uses_per_student is None else v.max_uses_per_student,
            "valid_from": au_date(v.valid_from, weekday=False) if v.valid_from else "",
            "valid_until": au_date(v.valid_until, weekday=False) if v.valid_until else "",
            "services": ", ".join(names.get(s, "?") for s in v.applicable_services or []) or "Every lesson type",
            "is_active": bool(v.is_active)}


def list_vouchers(session: Session, actor: Actor) -> list[dict]:
    access.require_admin(actor)
    names = {s.id: s.name for s in session.exec(select(Service)).all()}
    rows = session.exec(select(Voucher).order_by(Voucher.is_active.desc(), Voucher.created_at.desc())).all()
    return [_voucher_view(v, names) for v in rows]


def _day_end(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59), tzinfo=BUSINESS_TZ)


def create_voucher(session: Session, actor: Actor, *, code: str, voucher_type: str, value: Any = None,
                   max_uses: Any = None, max_uses_per_person: Any = 1, valid_until: Any = None,
                   service_ids: Any = ()) -> dict:
    """A voucher: percentage off, a fixed amount off, or a free lesson; optional limits and end date. Audited."""
    access.require_admin(actor)
    clean_code = voucher_rules.normalise_code(code)
    if not re.fullmatch(r"[A-Z0-9-]{3,30}", clean_code):
        raise ValidationFailed("A code is 3 to 30 letters, digits or hyphens.", field="code")
    if session.exec(select(Voucher.id).where(Voucher.code == clean_code)).first() is not None:
        raise ValidationFailed("That code is already in use.", field="code")
    if voucher_type not in VOUCHER_TYPES:
        raise ValidationFailed("Choose the kind of voucher.", field="voucher_type")
    percent = cents = None
    if voucher_type == "percentage":
        percent = _int(value, "value", "percentage", 1, 100)
    elif voucher_type == "fixed_amount":
        cents = dollars_to_cents(value, "value", "amount off")
        if cents == 0:
            raise ValidationFailed("The amount off must be more than $0.00.", field="value")
    limit = None if max_uses in (None, "") else _int(max_uses, "max_uses", "number of uses", 1, 100_000)
    per = None if max_uses_per_person in (None, "") else _int(max_uses_per_person, "max_uses_per_person",
                                                               "uses per person", 1, 100)
    until = None
    if valid_until not in (None, ""):
        try:
            day = valid_until if isinstance(valid_until, date) else date.fromisoformat(str(valid_until))
        except ValueError:
            raise ValidationFailed("The end date is not a date.", field="valid_until") from None
        if day < clock.today(session):
            raise ValidationFailed("The end date has passed.", field="valid_until")
        until = _day_end(day)
    ids = []
    for s in service_ids or []:
        try:
            ids.append(uuid.UUID(str(s)))
        except ValueError:
            raise ValidationFailed("Choose lesson types from the list.", field="service_ids") from None
    if ids and len(set(session.execute(sa.text("SELECT id FROM services WHERE id = ANY(:ids)"),
                                       {"ids": ids}).scalars())) != len(set(ids)):
        raise ValidationFailed("Choose lesson types from the list.", field="service_ids")
    voucher = Voucher(code=clean_code, voucher_type=voucher_type, discount_percent=percent, discount_cents=cents,
                      max_uses=limit, max_uses_per_student=per, valid_from=clock.now(session), valid_until=until,
                      applicable_services=sorted(set(ids), key=str), is_active=True)
    session.add(voucher)
    session.flush()
    record_event(session, actor, "VOUCHER_CREATED", subject_type="voucher", subject_id=voucher.id,
                 details={"code": clean_code, "type": voucher_type, "percent": percent, "cents": cents,
                          "max_uses": limit, "per_person": per, "valid_until": _plain(until),
                          "services": [str(i) for i in ids]})
    names = {s.id: s.name for s in session.exec(select(Service)).all()}
    return _voucher_view(voucher, names)


def set_voucher_active(session: Session, actor: Actor, voucher_id: Any, active: bool) -> dict:
    access.require_admin(actor)
    try:
        voucher = session.get(Voucher, uuid.UUID(str(voucher_id)), with_for_update=True)
    except ValueError:
        voucher = None
    if voucher is None:
        raise NotFound("No such voucher.")
    if voucher.is_active != bool(active):
        voucher.is_active = bool(active)
        session.add(voucher)
        session.flush()
        record_event(session, actor, "VOUCHER_ENABLED" if active else "VOUCHER_DISABLED", subject_type="voucher",
                     subject_id=voucher.id, details={"code": voucher.code})
    return {"id": str(voucher.id), "is_active": voucher.is_active}


__all__ = ["SETTINGS_FIELDS", "create_service", "create_voucher", "dollars_to_cents", "get_settings",
           "list_services", "list_vouchers", "set_voucher_active", "update_service", "update_settings"]
