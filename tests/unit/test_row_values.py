"""``db.row_values``: the row a table model's constructor would give, without building the object."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from nexdrive.db import row_values
from nexdrive.models import Booking, Contact, OutboxMessage

_GENERATED = {"id", "created_at", "updated_at"}  # fresh per object: a new uuid, now()


def _as_built(model, values: dict) -> dict:
    obj = model(**values)
    table = model.__table__
    return {c.name: getattr(obj, c.key) for c in table.columns if getattr(obj, c.key, None) is not None}


def _same(model, values: dict) -> None:
    built, fast = _as_built(model, values), row_values(model, values)
    assert built.keys() == fast.keys()
    for name in built.keys() - _GENERATED:
        if isinstance(built[name], datetime) and name not in values:  # a default of "now": a moment apart
            assert abs(fast[name] - built[name]).total_seconds() < 5, name
        else:
            assert fast[name] == built[name], name
    for name in built.keys() & _GENERATED:
        assert type(fast[name]) is type(built[name]), name


@pytest.mark.parametrize("values", [
    dict(channel="sms", recipient="+61412345678", body="Hi", template="booking_confirmed",
         booking_id=uuid.uuid4(), idempotency_key="k1", template_data={"a": 1}, is_marketing=False),
    dict(channel="email", recipient="a@b.invalid", subject="S", body="B", template="t", contact_id=uuid.uuid4(),
         idempotency_key="k2", template_data=None, next_attempt_at=datetime(2026, 3, 3, tzinfo=timezone.utc)),
])
def test_outbox_rows_match_the_constructor(values):
    _same(OutboxMessage, values)


def test_other_models_match_the_constructor():
    _same(Contact, dict(first_name="Ava", last_name="Bench", phone="+61412345678", email="a@b.invalid",
                        lifecycle_stage="booked", source="website", total_interactions=1))
    _same(Booking, dict(instructor_id=uuid.uuid4(), service_id=uuid.uuid4(), status="held", duration_minutes=60,
                        buffer_minutes=15, amount_cents=8500, booked_via="website"))


def test_an_unknown_column_is_refused_as_the_constructor_would():
    with pytest.raises(TypeError):
        row_values(OutboxMessage, {"no_such_column": 1})
