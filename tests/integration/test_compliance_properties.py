"""Property tests of the CBT&A rules (hypothesis), against the real database and an independent oracle.

Random sequences of lessons (teaching, assessing, passing, failing, in either transmission, at random
times, reviews drawn to the minute around their 36-hour gate) are sent to ``record_lesson`` and signed.
The oracle below re-implements the rules from the catalogue file and the raw chain rows, without the
engine's code: every lesson the engine accepts the oracle allows and every one it refuses the oracle
refuses; afterwards the matrix recomputed from the chain agrees with the engine's for both transmissions.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nexdrive.db import session_scope
from nexdrive.errors import NotEligible
from nexdrive.models import FinalDriveNotice
from nexdrive.services.compliance import competencies, lessons
from nexdrive.services.core import audit, clock
from nexdrive.services.core.holidays import act_public_holidays
from tests.compliance_helpers import make_school, monday, pinned_now, png

CANBERRA = ZoneInfo("Australia/Sydney")
CATALOGUE = {t["task_number"]: t for t in json.loads(
    (Path(__file__).resolve().parents[2] / "nexdrive/data/cbta_catalogue.json").read_text())["tasks"]}
GAP = timedelta(hours=36)
NUMBERS = sorted(CATALOGUE)


# ─────────────────────────────────────────────────────────────────────────────
# The oracle: the rules again, written from the catalogue file and the chain's raw rows
# ─────────────────────────────────────────────────────────────────────────────


class Oracle:
    def __init__(self, rows):
        # rows: (order, seq, task, status, transmission, at), in any order
        self.state: dict[tuple[int, str], tuple[str, datetime | None]] = {}
        self.taught: set[int] = set()
        for _order, _seq, task, status, trans, at in sorted(rows, key=lambda r: (r[0], r[1])):
            cur = self.state.get((task, trans), ("not_started", None))
            if status == "taught":
                self.taught.add(task)
                new = cur if cur[0] != "not_started" else ("taught", None)
            elif status == "competent":
                new = ("competent", cur[1] if cur[0] == "competent" else at)
            else:
                new = (status, None)
            self.state[(task, trans)] = new

    def status(self, task: int, trans: str) -> tuple[str, datetime | None]:
        own = self.state.get((task, trans), ("not_started", None))
        if trans == "auto" and own[0] != "competent":
            manual = self.state.get((task, "manual"))
            if manual and manual[0] == "competent":
                return manual
        return own

    def competent(self, task: int, trans: str) -> bool:
        return self.status(task, trans)[0] == "competent"

    def review_opens(self, review: int, trans: str) -> datetime | None:
        times = [self.status(n, trans)[1] for n in CATALOGUE[review]["covers"]]
        return None if any(t is None for t in times) else max(times) + GAP

    def allows(self, *, taught, assessed, trans, start, end, notices) -> bool:
        if set(taught) & set(assessed):
            return False
        for n in assessed:
            task = CATALOGUE[n]
            if task["kind"] == "competency" and n not in self.taught:
                return False
            needed = set(task["prerequisites"]) | set(task["covers"])
            if not all(self.competent(p, trans) for p in needed):
                return False
            if task["kind"] == "review" and start < self.review_opens(n, trans):
                return False
            if task["kind"] == "final_drive":
                local = start.astimezone(CANBERRA).date()
                if (end - start) < timedelta(minutes=45) or local.weekday() == 6 \
                        or local in act_public_holidays(local.year):
                    return False
                if not any(_business_days(n_at.astimezone(CANBERRA).date(), local) >= 2 and n_at <= start
                           for n_at in notices):
                    return False
        return True


def _business_days(a: date, b: date) -> int:
    """Weekdays after a up to and including b that are not ACT public holidays (a <= b)."""
    count, d = 0, a
    while d < b:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in act_public_holidays(d.year):
            count += 1
    return count


def chain_rows(s, student_id):
    return [tuple(r) for r in s.execute(sa.text("""
        SELECT COALESCE(l.start_time, sc.status_changed_at), sc.seq, t.task_number, sc.status, sc.transmission,
               sc.status_changed_at
        FROM student_competencies sc JOIN competency_tasks t ON t.id = sc.task_id
        LEFT JOIN lessons l ON l.id = sc.lesson_id WHERE sc.student_id = :s"""), {"s": student_id}).all()]


# ─────────────────────────────────────────────────────────────────────────────
# Random lesson sequences through the engine
# ─────────────────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def module_engine(pg_server, template_db):
    from nexdrive import db as nxdb

    name = pg_server.create_database(template_db)
    eng = nxdb.make_engine(pg_server.url(name), pool_size=2, max_overflow=4)
    nxdb.set_engine(eng)
    yield eng
    nxdb.set_engine(None)
    eng.dispose()
    pg_server.drop_database(name)


def _ready(oracle: Oracle, trans: str) -> list[int]:
    """Tasks the oracle would let be assessed now (so sequences get far, not only refusals)."""
    out = []
    for n in NUMBERS:
        task = CATALOGUE[n]
        if task["kind"] == "competency" and n not in oracle.taught:
            continue
        if all(oracle.competent(p, trans) for p in set(task["prerequisites"]) | set(task["covers"])) \
                and not oracle.competent(n, trans):
            out.append(n)
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_random_lesson_sequences_obey_the_rules_and_the_oracle_agrees(module_engine, data):
    engine = module_engine
    trans_default = data.draw(st.sampled_from(["auto", "manual"]), label="student transmission")
    with clock.pinned(pinned_now()):
        with session_scope(engine) as s:
            school = make_school(s, transmission=trans_default)
            notices = []
            if data.draw(st.booleans(), label="audit unit told"):
                n_at = monday() - timedelta(days=30)
                s.add(FinalDriveNotice(student_id=school.student_id, planned_date=monday().date(), notified_at=n_at))
                notices.append(n_at)
        at = (monday() - timedelta(days=100)).astimezone(timezone.utc)  # minutes added are elapsed minutes
        accepted = refused = 0
        for step in range(data.draw(st.integers(8, 45), label="lessons")):
            with session_scope(engine) as s:
                oracle = Oracle(chain_rows(s, school.student_id))
            trans = data.draw(st.sampled_from([trans_default, trans_default, "manual", "auto"]), label="car")
            ready = _ready(oracle, trans)
            untaught = [n for n in NUMBERS if CATALOGUE[n]["kind"] == "competency" and n not in oracle.taught]
            taught = data.draw(st.lists(st.sampled_from(untaught or [1]), max_size=17, unique=True), label="taught")
            if ready and data.draw(st.integers(0, 5), label="mode") > 0:
                assessed = data.draw(st.lists(st.sampled_from(ready), min_size=1, max_size=len(ready), unique=True))
            else:  # anything at all: mostly refused
                assessed = data.draw(st.lists(st.sampled_from(NUMBERS), max_size=3, unique=True))
            reviews = [n for n in assessed if CATALOGUE[n]["kind"] == "review"]
            opens = [oracle.review_opens(n, trans) for n in reviews]
            opens = [o for o in opens if o is not None]
            if opens and data.draw(st.booleans(), label="aim at the gate"):
                start = max(opens) + timedelta(minutes=data.draw(st.integers(-2, 2), label="minutes off the gate"))
                start = max(start, at + timedelta(minutes=1))
            else:
                start = at + timedelta(minutes=data.draw(st.integers(60, 80 * 60), label="minutes later"))
            minutes = data.draw(st.sampled_from([30, 44, 45, 60, 90]), label="length")
            end = start + timedelta(minutes=minutes)
            if end > pinned_now():
                break
            failed = data.draw(st.lists(st.sampled_from(assessed), max_size=1)) \
                if assessed and data.draw(st.integers(0, 4), label="some fail") == 0 else []
            achieved = [n for n in assessed if n not in failed]
            allowed = oracle.allows(taught=taught, assessed=assessed, trans=trans, start=start, end=end,
                                    notices=notices)
            try:
                with session_scope(engine) as s:
                    lesson = lessons.record_lesson(
                        s, school.instructor, student_id=school.student_id, start_time=start, end_time=end,
                        transmission=trans, competencies_taught=taught, competencies_assessed=assessed,
                        **{f"competencies_achieved_{trans}": achieved})
                    lessons.sign_lesson(s, school.instructor, lesson["id"], signature_image=png())
                    lessons.sign_lesson(s, school.student, lesson["id"], signature_image=png(seed=step))
            except NotEligible as exc:
                assert not allowed, f"engine refused what the rules allow: {exc.message}"
                assert exc.details["tasks"] and exc.details["blocked_by"]
                refused += 1
                continue
            assert allowed, f"engine accepted taught={taught} assessed={assessed} at {start} ({trans})"
            accepted += 1
            for n in reviews:
                event(f"review {n} passed or failed in a signed lesson")
            at = end
        event(f"{accepted} accepted / {refused} refused" if accepted < 3 else "3+ lessons accepted")
        with session_scope(engine) as s:
            rows = chain_rows(s, school.student_id)
            oracle = Oracle(rows)
            for trans in ("auto", "manual"):
                matrix = competencies.compute_matrix(s, school.student_id, transmission=trans)
                for row in matrix.rows:
                    assert row.status == oracle.status(row.task_number, trans)[0], (row.task_number, trans)
                expected = sum(1 for n in NUMBERS if CATALOGUE[n]["kind"] != "review" and oracle.competent(n, trans))
                assert matrix.competent == expected <= 23
            numbers = s.execute(sa.text("SELECT lesson_number FROM lessons WHERE student_id = :s ORDER BY 1"),
                                {"s": school.student_id}).scalars().all()
            assert numbers == list(range(1, accepted + 1))  # refused lessons used no number
            report = audit.verify_chain(s, "student_competencies",
                                                     f"student_competencies:{school.student_id}")
            assert report.ok


# ─────────────────────────────────────────────────────────────────────────────
# The calendar rules of the final drive (pure): Sundays, ACT holidays, DST days, the notice
# ─────────────────────────────────────────────────────────────────────────────

_CAT = competencies.Catalogue({n: competencies.Task(
    number=n, name=t["name"], category=None, kind=t["kind"], prerequisites=tuple(t["prerequisites"]),
    covers=tuple(t["covers"]), sort_order=t["sort_order"], min_minutes=45) for n, t in CATALOGUE.items()})
_AFTER_R2 = competencies.fold([competencies.Event(102, "competent", "auto", datetime(2020, 1, 1, tzinfo=timezone.utc),
                                                  datetime(2020, 1, 1, tzinfo=timezone.utc), 1)])


def _dst_days(year: int) -> list[date]:
    first_sunday = lambda m: next(date(year, m, d) for d in range(1, 8) if date(year, m, d).weekday() == 6)  # noqa: E731
    return [first_sunday(4), first_sunday(10)]


instants = st.one_of(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(timezone.utc)),
    # around the DST changes and midnight in Canberra (UTC 12:00-16:00 is local midnight +- 2 h)
    st.builds(lambda y, which, day_off, minute: datetime.combine(_dst_days(y)[which] + timedelta(days=day_off),
                                                                 datetime.min.time(), tzinfo=timezone.utc)
              + timedelta(minutes=minute),
              st.integers(2026, 2031), st.integers(0, 1), st.integers(-2, 1), st.integers(0, 24 * 60 - 1)),
    # ACT public holidays
    st.builds(lambda y, i, minute: datetime.combine(sorted(act_public_holidays(y))[i % len(act_public_holidays(y))],
                                                    datetime.min.time(), tzinfo=CANBERRA) + timedelta(minutes=minute),
              st.integers(2026, 2031), st.integers(0, 20), st.integers(0, 24 * 60 - 1)),
)


@settings(max_examples=400, deadline=None)
@given(start=instants, minutes=st.integers(20, 120), notice_days_before=st.integers(0, 6),
       notice_hour=st.integers(0, 23))
def test_final_drive_calendar_rules(start, minutes, notice_days_before, notice_hour):
    local = start.astimezone(CANBERRA)
    end = start + timedelta(minutes=minutes)
    notice_day = local.date() - timedelta(days=notice_days_before)
    notified = datetime.combine(notice_day, datetime.min.time(), tzinfo=CANBERRA).replace(hour=notice_hour)
    rules = competencies.Rules()
    got = {b.rule for b in competencies.assess_blockers(
        _CAT, _AFTER_R2, 23, "auto", at=start, rules=rules, lesson_minutes=int((end - start).total_seconds() // 60),
        notices=[notified])}
    day = local.date()
    assert ("FINAL_DRIVE_SUNDAY" in got) == (day.weekday() == 6)
    assert ("FINAL_DRIVE_PUBLIC_HOLIDAY" in got) == (day in act_public_holidays(day.year))
    assert ("FINAL_DRIVE_TOO_SHORT" in got) == (minutes < 45)
    told = notified <= start and _business_days(notice_day, day) >= 2
    assert ("AUDIT_UNIT_NOT_NOTIFIED" in got) == (not told)
    assert "PREREQUISITES" not in got


@settings(max_examples=300, deadline=None)
@given(last=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31),
                         timezones=st.just(timezone.utc)),
       offset_minutes=st.integers(-3 * 60, 3 * 60))
def test_review_gate_is_exact_to_the_minute(last, offset_minutes):
    last = last.replace(second=0, microsecond=0)
    events = [competencies.Event(n, "competent", "auto", last - timedelta(days=n), last - timedelta(days=n), n)
              for n in range(1, 17)] + [competencies.Event(17, "competent", "auto", last, last, 17)]
    states = competencies.fold(events)
    start = last + GAP + timedelta(minutes=offset_minutes)
    got = [b.rule for b in competencies.assess_blockers(_CAT, states, 101, "auto", at=start,
                                                        rules=competencies.Rules())]
    assert (got == ["REVIEW_GAP"]) == (offset_minutes < 0)
    assert (got == []) == (offset_minutes >= 0)
