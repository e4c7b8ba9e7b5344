"""The quick-start's database step can run again and again: nothing duplicated, nothing wiped."""
from __future__ import annotations

import sqlalchemy as sa

from nexdrive import cli
from nexdrive.settings import reset_settings

COUNTED = ("users", "students", "lessons", "bookings", "competency_tasks", "services", "public_holidays",
           "student_competencies", "signatures", "audit_log", "contacts")


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar() for t in COUNTED}


def test_prepare_twice_keeps_every_row_once(engine, db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    reset_settings()
    try:
        cli.prepare(demo=True)
        first = _counts(engine)
        with engine.begin() as conn:  # something the owner did in between must survive
            conn.execute(sa.text("UPDATE business_settings SET abn = '51 824 753 556', gst_registered = true"))
        cli.prepare(demo=True)
        second = _counts(engine)
    finally:
        reset_settings()
    assert first == second
    assert first["students"] == 5 and first["competency_tasks"] == 25
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT abn FROM business_settings")).scalar() == "51 824 753 556"
