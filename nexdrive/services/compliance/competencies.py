"""The CBT&A rules: the one module every channel asks (pages, REST, SMS / voice assistants, booking).

A student's matrix is computed from their competency chain (``student_competencies``, append-only and
hash-chained): one status per task per transmission, ``not_started -> taught -> assessed -> competent |
not_yet_competent``. Rows belonging to a lesson that a signed correction replaced are left out. Rows are
folded in lesson order (the lesson's start, then the chain's sequence).

The rules (DESIGN §3.5, the catalogue in ``competency_tasks``, the settings in ``business_settings``):

* ``NOT_TAUGHT_YET``: a task is taught in an earlier lesson before it is assessed (reviews and the
  final drive are assessments only);
* ``TAUGHT_AND_ASSESSED_SAME_LESSON``: never both in one lesson;
* ``PREREQUISITES``: the catalogue's prerequisites are competent before the lesson starts;
* ``REVIEW_TASKS``: a review needs every task it covers competent, and ``REVIEW_GAP``: at least
  ``review_min_gap_hours`` (36) between the last of them becoming competent and the review's start;
* the final drive (task 23) needs Review 2 (its prerequisite) and ``FINAL_DRIVE_TOO_SHORT`` (at least
  ``min_lesson_minutes``), ``FINAL_DRIVE_SUNDAY``, ``FINAL_DRIVE_PUBLIC_HOLIDAY`` (ACT), and
  ``AUDIT_UNIT_NOT_NOTIFIED`` (a notice recorded at least ``final_drive_notice_business_days`` business
  days before the drive's day).

A manual achievement also counts for an automatic car; an automatic one counts only for automatic.

The pure part (:func:`fold`, :func:`assess_blockers`) takes plain data, so tests and an independent
oracle can check it; :func:`student_matrix`, :func:`check_can_assess` and :func:`eligibility_for_booking`
read the database.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from nexdrive.errors import Forbidden, NotEligible, ValidationFailed
from nexdrive.models import BusinessSettings, FinalDriveNotice
from nexdrive.services.core import access, audit, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.core.holidays import act_public_holidays, business_days_between

BUSINESS_TZ = ZoneInfo("Australia/Sydney")
TRANSMISSIONS = ("manual", "auto")
STATUSES = ("not_started", "taught", "assessed", "competent", "not_yet_competent")
IN_PROGRESS = ("taught", "assessed", "not_yet_competent")
REVIEW_1, REVIEW_2, FINAL_DRIVE = 101, 102, 23

RULE_TEXT = {
    "UNKNOWN_TASK": "That task is not in the CBT&A catalogue",
    "NOT_TAUGHT_YET": "A task is taught in an earlier lesson before it is assessed",
    "TAUGHT_AND_ASSESSED_SAME_LESSON": "A task is not taught and assessed in the same lesson",
    "PREREQUISITES": "Its prerequisite tasks must be competent first",
    "REVIEW_TASKS": "Every task the review covers must be competent first",
    "REVIEW_GAP": "A review is at least {hours} hours after the last task it covers became competent",
    "FINAL_DRIVE_TOO_SHORT": "The final drive lasts at least {minutes} minutes",
    "FINAL_DRIVE_SUNDAY": "The final drive is not on a Sunday",
    "FINAL_DRIVE_PUBLIC_HOLIDAY": "The final drive is not on an ACT public holiday",
    "AUDIT_UNIT_NOT_NOTIFIED": "The audit unit is told of the final drive at least {days} business days before",
}


# ─────────────────────────────────────────────────────────────────────────────
# Plain data
# ─────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Task:
    number: int
    name: str
    category: str | None
    kind: str  # 'competency' | 'review' | 'final_drive'
    prerequisites: tuple[int, ...]
    covers: tuple[int, ...]
    sort_order: int
    min_minutes: int | None = None

    @property
    def label(self) -> str:
        return self.name if self.kind == "review" else f"task {self.number}"


@dataclass(frozen=True)
class Catalogue:
    tasks: dict[int, Task]

    @property
    def ordered(self) -> list[Task]:
        return sorted(self.tasks.values(), key=lambda t: (t.sort_order, t.number))

    @property
    def countable(self) -> list[int]:
        """The tasks progress counts (1-23): reviews are checkpoints, not tasks."""
        return [t.number for t in self.ordered if t.kind != "review"]

    def label(self, number: int) -> str:
        task = self.tasks.get(number)
        return task.label if task else f"task {number}"


@dataclass(frozen=True)
class Rules:
    review_gap: timedelta = timedelta(hours=36)
    final_drive_min_minutes: int = 45
    notice_business_days: int = 2


@dataclass(frozen=True)
class Event:
    """One row of the competency chain as the fold sees it."""
    task: int
    status: str
    transmission: str
    at: datetime  # when the status was reached (the lesson's end)
    order: datetime  # where it sorts (the lesson's start)
    seq: int
    lesson_id: uuid.UUID | None = None


@dataclass
class TaskState:
    status: str = "not_started"
    taught_at: datetime | None = None
    assessed_at: datetime | None = None
    achieved_at: datetime | None = None  # when the current 'competent' was reached
    lesson_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Blocker:
    rule: str
    message: str
    tasks: tuple[int, ...] = ()
    opens_at: datetime | None = None

    def as_dict(self) -> dict:
        return {"rule": self.rule, "message": self.message, "tasks": list(self.tasks),
                "opens_at": self.opens_at}


@dataclass
class MatrixRow:
    task_number: int
    task_name: str
    kind: str
    category: str | None
    transmission: str
    status: str  # for this transmission (manual achievement covers automatic)
    manual_status: str
    auto_status: str
    taught_at: datetime | None
    assessed_at: datetime | None
    achieved_at: datetime | None
    lesson_id: uuid.UUID | None
    can_assess: bool
    blocked_by: list[Blocker] = field(default_factory=list)
    review_opens_at: datetime | None = None


@dataclass
class Matrix:
    student_id: uuid.UUID
    transmission: str
    as_of: datetime
    rows: list[MatrixRow]
    total: int
    competent: int
    in_progress: int
    not_started: int
    reviews_passed: list[int]
    next_tasks: list[int]
    review_opens_at: dict[int, datetime | None]

    @property
    def summary(self) -> dict:
        return {"total": self.total, "competent": self.competent, "in_progress": self.in_progress,
                "not_started": self.not_started, "reviews_passed": list(self.reviews_passed)}

    def row(self, number: int) -> MatrixRow:
        return next(r for r in self.rows if r.task_number == number)


# ─────────────────────────────────────────────────────────────────────────────
# The pure rules
# ─────────────────────────────────────────────────────────────────────────────


def fold(events: Iterable[Event]) -> dict[tuple[int, str], TaskState]:
    """(task, transmission) -> state, from the chain's events in lesson order."""
    states: dict[tuple[int, str], TaskState] = {}
    for e in sorted(events, key=lambda e: (e.order, e.seq)):
        st = states.setdefault((e.task, e.transmission), TaskState())
        if e.status == "taught":
            st.taught_at = st.taught_at or e.at
            if st.status in ("not_started",):
                st.status = "taught"
        elif e.status == "assessed":
            st.assessed_at = e.at
            if st.status != "competent":
                st.status = "assessed"
        elif e.status in ("competent", "not_yet_competent"):
            st.assessed_at = e.at
            if e.status == "competent" and st.status != "competent":
                st.achieved_at = e.at
            elif e.status == "not_yet_competent":
                st.achieved_at = None
            st.status = e.status
        elif e.status == "not_started":
            states[(e.task, e.transmission)] = TaskState()
            continue
        st.lesson_id = e.lesson_id
    return states


def status_for(states: dict[tuple[int, str], TaskState], task: int, transmission: str) -> TaskState:
    """The state that counts for ``transmission``: for automatic, a manual competency also counts."""
    own = states.get((task, transmission), TaskState())
    if transmission == "auto" and own.status != "competent":
        manual = states.get((task, "manual"))
        if manual is not None and manual.status == "competent":
            return manual
    return own


def is_competent(states, task: int, transmission: str) -> bool:
    return status_for(states, task, transmission).status == "competent"


def was_taught(states, task: int) -> bool:
    return any(states.get((task, t), TaskState()).taught_at is not None for t in TRANSMISSIONS)


def review_opens_at(catalogue: Catalogue, states, review: int, transmission: str, rules: Rules) -> datetime | None:
    """When the review may start: ``gap`` after the last covered task became competent (None if any is not)."""
    task = catalogue.tasks.get(review)
    if task is None:
        return None
    times = []
    for n in task.covers:
        st = status_for(states, n, transmission)
        if st.status != "competent" or st.achieved_at is None:
            return None
        times.append(st.achieved_at)
    return (max(times) + rules.review_gap) if times else None


def _local_date(at: datetime) -> date:
    return at.astimezone(BUSINESS_TZ).date()


def assess_blockers(catalogue: Catalogue, states, task_number: int, transmission: str, *, at: datetime,
                    rules: Rules, taught_here: Iterable[int] = (), lesson_minutes: int | None = None,
                    notices: Sequence[datetime] = (), final_drive_checks: bool = True) -> list[Blocker]:
    """Why ``task_number`` may not be assessed in a lesson starting ``at`` (empty: it may).

    ``states`` is the fold of the chain before that lesson. ``notices``: when the audit unit was told of
    a final drive. ``lesson_minutes`` / ``final_drive_checks`` False: the matrix view, no lesson yet."""
    task = catalogue.tasks.get(task_number)
    if task is None:
        return [Blocker("UNKNOWN_TASK", RULE_TEXT["UNKNOWN_TASK"], (task_number,))]
    out: list[Blocker] = []
    if task_number in set(taught_here):
        out.append(Blocker("TAUGHT_AND_ASSESSED_SAME_LESSON", RULE_TEXT["TAUGHT_AND_ASSESSED_SAME_LESSON"],
                           (task_number,)))
    if task.kind == "competency" and not was_taught(states, task_number):
        out.append(Blocker("NOT_TAUGHT_YET", RULE_TEXT["NOT_TAUGHT_YET"], (task_number,)))
    if task.kind == "review":
        needed = sorted(set(task.prerequisites) | set(task.covers))
        missing = tuple(n for n in needed if not is_competent(states, n, transmission))
        if missing:
            out.append(Blocker("REVIEW_TASKS", RULE_TEXT["REVIEW_TASKS"], missing))
        else:
            opens = review_opens_at(catalogue, states, task_number, transmission, rules)
            if opens is not None and at < opens:
                hours = int(rules.review_gap.total_seconds() // 3600)
                out.append(Blocker("REVIEW_GAP", RULE_TEXT["REVIEW_GAP"].format(hours=hours),
                                   tuple(task.covers), opens_at=opens))
    else:
        missing = tuple(n for n in task.prerequisites if not is_competent(states, n, transmission))
        if missing:
            out.append(Blocker("PREREQUISITES", RULE_TEXT["PREREQUISITES"], missing))
    if task.kind == "final_drive":
        minimum = task.min_minutes or rules.final_drive_min_minutes
        day = _local_date(at)
        if final_drive_checks:
            if lesson_minutes is not None and lesson_minutes < minimum:
                out.append(Blocker("FINAL_DRIVE_TOO_SHORT", RULE_TEXT["FINAL_DRIVE_TOO_SHORT"].format(
                    minutes=minimum), (task_number,)))
            if day.weekday() == 6:
                out.append(Blocker("FINAL_DRIVE_SUNDAY", RULE_TEXT["FINAL_DRIVE_SUNDAY"], (task_number,)))
            if day in act_public_holidays(day.year):
                out.append(Blocker("FINAL_DRIVE_PUBLIC_HOLIDAY", RULE_TEXT["FINAL_DRIVE_PUBLIC_HOLIDAY"],
                                   (task_number,)))
        if not notice_given(notices, day, rules, before=at):
            out.append(Blocker("AUDIT_UNIT_NOT_NOTIFIED", RULE_TEXT["AUDIT_UNIT_NOT_NOTIFIED"].format(
                days=rules.notice_business_days), (task_number,)))
    return out


def notice_given(notices: Sequence[datetime], day: date, rules: Rules, *, before: datetime | None = None) -> bool:
    """Was the audit unit told at least N business days before ``day`` (and before the drive started)?"""
    for notified in notices:
        if before is not None and notified > before:
            continue
        if business_days_between(_local_date(notified), day) >= rules.notice_business_days:
            return True
    return False


def build_matrix(catalogue: Catalogue, states, *, student_id: uuid.UUID, transmission: str, as_of: datetime,
                 rules: Rules, notices: Sequence[datetime] = ()) -> Matrix:
    rows: list[MatrixRow] = []
    for task in catalogue.ordered:
        own = status_for(states, task.number, transmission)
        blockers = assess_blockers(catalogue, states, task.number, transmission, at=as_of, rules=rules,
                                   notices=notices, final_drive_checks=False)
        if task.kind == "final_drive":
            # The matrix has no drive date yet: the notice is checked against a drive at the earliest
            # possible day, so "not notified" shows only while no notice is on record at all.
            blockers = [b for b in blockers if b.rule != "AUDIT_UNIT_NOT_NOTIFIED"]
            if not notices:
                blockers.append(Blocker("AUDIT_UNIT_NOT_NOTIFIED", RULE_TEXT["AUDIT_UNIT_NOT_NOTIFIED"].format(
                    days=rules.notice_business_days), (task.number,)))
        opens = review_opens_at(catalogue, states, task.number, transmission, rules) if task.kind == "review" \
            else None
        rows.append(MatrixRow(
            task_number=task.number, task_name=task.name, kind=task.kind, category=task.category,
            transmission=transmission, status=own.status,
            manual_status=states.get((task.number, "manual"), TaskState()).status,
            auto_status=status_for(states, task.number, "auto").status,
            taught_at=own.taught_at or _any_taught(states, task.number), assessed_at=own.assessed_at,
            achieved_at=own.achieved_at, lesson_id=own.lesson_id,
            can_assess=not blockers, blocked_by=blockers, review_opens_at=opens))
    countable = set(catalogue.countable)
    counted = [r for r in rows if r.task_number in countable]
    competent = sum(1 for r in counted if r.status == "competent")
    in_progress = sum(1 for r in counted if r.status in IN_PROGRESS)
    reviews = [r.task_number for r in rows if r.kind == "review" and r.status == "competent"]
    next_tasks = [r.task_number for r in rows if r.status != "competent"
                  and not any(b.rule in ("PREREQUISITES", "REVIEW_TASKS") for b in r.blocked_by)][:5]
    return Matrix(student_id=student_id, transmission=transmission, as_of=as_of, rows=rows, total=len(counted),
                  competent=competent, in_progress=in_progress, not_started=len(counted) - competent - in_progress,
                  reviews_passed=reviews, next_tasks=next_tasks,
                  review_opens_at={r.task_number: r.review_opens_at for r in rows if r.kind == "review"})


def _any_taught(states, task: int) -> datetime | None:
    times = [states[(task, t)].taught_at for t in TRANSMISSIONS if (task, t) in states and states[(task, t)].taught_at]
    return min(times) if times else None


# ─────────────────────────────────────────────────────────────────────────────
# Reading the database
# ─────────────────────────────────────────────────────────────────────────────


def load_catalogue(session: Session) -> Catalogue:
    rows = session.execute(sa.text("""
        SELECT task_number, name, category, prerequisites, review_requires_tasks, is_review, is_final_drive,
               final_drive_min_minutes, sort_order
        FROM competency_tasks WHERE is_active ORDER BY sort_order, task_number""")).all()
    tasks = {}
    for r in rows:
        kind = "review" if r.is_review else "final_drive" if r.is_final_drive else "competency"
        tasks[r.task_number] = Task(number=r.task_number, name=r.name, category=r.category, kind=kind,
                                    prerequisites=tuple(r.prerequisites or ()),
                                    covers=tuple(r.review_requires_tasks or ()), sort_order=r.sort_order,
                                    min_minutes=r.final_drive_min_minutes)
    return Catalogue(tasks)


def task_list(session: Session, actor: Actor) -> list[dict]:
    """The catalogue for any signed-in person: number, name, category, prerequisites, kind."""
    access.require_signed_in(actor)
    return [{"task_number": t.number, "name": t.name, "category": t.category, "kind": t.kind,
             "prerequisites": list(t.prerequisites), "covers": list(t.covers), "is_review": t.kind == "review",
             "is_final_drive": t.kind == "final_drive"} for t in load_catalogue(session).ordered]


def load_rules(session: Session) -> Rules:
    s = session.get(BusinessSettings, 1)
    if s is None:
        return Rules()
    return Rules(review_gap=timedelta(hours=s.review_min_gap_hours),
                 final_drive_min_minutes=s.min_lesson_minutes,
                 notice_business_days=s.final_drive_notice_business_days)


def load_events(session: Session, student_id: uuid.UUID, *, before: datetime | None = None,
                exclude_lessons: Iterable[uuid.UUID] = ()) -> list[Event]:
    """The student's chain as events, without rows of lessons a signed correction replaced.

    ``before``: only lessons that started earlier (the state a new lesson starting then sees)."""
    rows = session.execute(sa.text("""
        SELECT t.task_number, sc.status, sc.transmission, sc.status_changed_at, sc.seq, sc.lesson_id,
               COALESCE(l.start_time, sc.status_changed_at) AS ordering
        FROM student_competencies sc
        JOIN competency_tasks t ON t.id = sc.task_id
        LEFT JOIN lessons l ON l.id = sc.lesson_id
        WHERE sc.student_id = :s
          AND (sc.lesson_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM lessons c WHERE c.correction_of = sc.lesson_id
                AND c.status IN ('completed', 'disputed')))
        ORDER BY ordering, sc.seq"""), {"s": student_id}).all()
    skip = set(exclude_lessons)
    return [Event(task=r.task_number, status=r.status, transmission=r.transmission, at=r.status_changed_at,
                  order=r.ordering, seq=r.seq, lesson_id=r.lesson_id)
            for r in rows
            if r.lesson_id not in skip and (before is None or r.ordering < before)]


def load_notices(session: Session, student_id: uuid.UUID) -> list[datetime]:
    return list(session.execute(sa.text(
        "SELECT notified_at FROM final_drive_notices WHERE student_id = :s ORDER BY notified_at"),
        {"s": student_id}).scalars())


def _student_transmission(session: Session, student_id: uuid.UUID) -> str:
    t = session.execute(sa.text("SELECT transmission FROM students WHERE id = :s"), {"s": student_id}).scalar()
    return t if t in TRANSMISSIONS else "auto"


def compute_matrix(session: Session, student_id: uuid.UUID, *, transmission: str | None = None,
                   as_of: datetime | None = None) -> Matrix:
    """The matrix with no access check: for other services (booking eligibility, the certificate)."""
    transmission = transmission or _student_transmission(session, student_id)
    as_of = as_of or clock.now(session)
    states = fold(load_events(session, student_id))
    return build_matrix(load_catalogue(session), states, student_id=student_id, transmission=transmission,
                        as_of=as_of, rules=load_rules(session), notices=load_notices(session, student_id))


def student_matrix(session: Session, actor: Actor, student_id: uuid.UUID, *, transmission: str | None = None,
                   as_of: datetime | None = None) -> Matrix:
    """The student's matrix, for whoever may see their progress (learner, parent per switch, their
    instructor, the office)."""
    access.require_student(session, actor, student_id, "competencies")
    if transmission is not None and transmission not in TRANSMISSIONS:
        raise ValidationFailed("Transmission must be manual or auto.", field="transmission")
    return compute_matrix(session, student_id, transmission=transmission, as_of=as_of)


def matrix_dict(matrix: Matrix) -> dict:
    """The matrix as plain data (API, pages, assistants)."""
    return {
        "student_id": matrix.student_id, "transmission": matrix.transmission, "as_of": matrix.as_of,
        "competencies": [{
            "task_number": r.task_number, "task_name": r.task_name, "kind": r.kind, "category": r.category,
            "status": r.status, "transmission": r.transmission, "manual_status": r.manual_status,
            "auto_status": r.auto_status, "taught_at": r.taught_at, "assessed_at": r.assessed_at,
            "achieved_at": r.achieved_at, "lesson_id": r.lesson_id, "can_assess": r.can_assess,
            "blocked_by": [b.as_dict() for b in r.blocked_by], "review_opens_at": r.review_opens_at,
        } for r in matrix.rows],
        "summary": matrix.summary, "next_tasks": matrix.next_tasks,
        "review_opens_at": {str(k): v for k, v in matrix.review_opens_at.items()},
    }


def progress(session: Session, actor: Actor, student_id: uuid.UUID) -> dict:
    """"12 of 23": distinct tasks (not reviews) competent in the learner's transmission."""
    m = student_matrix(session, actor, student_id)
    return {"competent": m.competent, "total": m.total, "reviews_passed": m.reviews_passed}


def lesson_blockers(session: Session, *, student_id: uuid.UUID, transmission: str, start: datetime,
                    end: datetime, taught: Sequence[int], assessed: Sequence[int],
                    exclude_lessons: Iterable[uuid.UUID] = (), catalogue: Catalogue | None = None
                    ) -> dict[int, list[Blocker]]:
    """task -> why it may not be assessed in this lesson (only tasks with a reason)."""
    catalogue = catalogue or load_catalogue(session)
    rules = load_rules(session)
    states = fold(load_events(session, student_id, before=start, exclude_lessons=exclude_lessons))
    notices = load_notices(session, student_id)
    minutes = int((end - start).total_seconds() // 60)
    out = {}
    for n in assessed:
        blockers = assess_blockers(catalogue, states, n, transmission, at=start, rules=rules, taught_here=taught,
                                   lesson_minutes=minutes, notices=notices)
        if blockers:
            out[n] = blockers
    return out


def raise_if_blocked(catalogue: Catalogue, blocked: dict[int, list[Blocker]]) -> None:
    """COMPETENCY_LOCKED naming each task, the rule and what is missing."""
    if not blocked:
        return
    parts = []
    for n, blockers in blocked.items():
        reasons = []
        for b in blockers:
            what = b.message
            if b.rule in ("PREREQUISITES", "REVIEW_TASKS") and b.tasks:
                what += " (missing: " + ", ".join(catalogue.label(t) for t in b.tasks) + ")"
            if b.opens_at is not None:
                what += f" (earliest {b.opens_at.astimezone(BUSINESS_TZ):%a %d %b %Y %H:%M})"
            reasons.append(what)
        parts.append(f"{catalogue.label(n).capitalize()} cannot be assessed: " + "; ".join(reasons) + ".")
    raise NotEligible(" ".join(parts), tasks=list(blocked),
                      blocked_by={str(n): [b.as_dict() for b in bs] for n, bs in blocked.items()},
                      rule=next(iter(blocked.values()))[0].rule)


def check_can_assess(session: Session, actor: Actor, student_id: uuid.UUID, task_number: int, *,
                     start: datetime, end: datetime | None = None, transmission: str | None = None,
                     taught_in_same_lesson: Sequence[int] = ()) -> None:
    """Raise COMPETENCY_LOCKED (NotEligible) when ``task_number`` may not be assessed in a lesson from
    ``start`` to ``end``; return None when it may."""
    access.require_student(session, actor, student_id, "competencies")
    catalogue = load_catalogue(session)
    if task_number not in catalogue.tasks:
        raise ValidationFailed(f"There is no task {task_number} in the CBT&A catalogue.", field="task_number",
                               tasks=[task_number])
    blocked = lesson_blockers(session, student_id=student_id,
                              transmission=transmission or _student_transmission(session, student_id),
                              start=start, end=end or start + timedelta(hours=1), taught=taught_in_same_lesson,
                              assessed=[task_number], catalogue=catalogue)
    raise_if_blocked(catalogue, blocked)


# ─────────────────────────────────────────────────────────────────────────────
# Booking eligibility (scheduling calls this) and the audit-unit notice
# ─────────────────────────────────────────────────────────────────────────────

ELIGIBILITY_TASK = {"review_1": REVIEW_1, "review_2": REVIEW_2, "final_drive": FINAL_DRIVE}


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    kind: str | None
    rule: str | None = None
    missing: tuple[int, ...] = ()
    earliest: datetime | None = None


def eligibility_for_booking(session: Session, student_id: uuid.UUID, kind: str | None, start: datetime,
                            *, duration_minutes: int | None = None) -> Eligibility:
    """May this learner book a lesson of ``kind`` (None, 'review_1', 'review_2', 'final_drive') at ``start``?

    The booking's own calendar rules (final drives on Sundays / holidays, notice) are the booking
    engine's slot rules; this answers from the log book: the tasks, the reviews and the 36 hours."""
    if kind is None:
        return Eligibility(True, None)
    task = ELIGIBILITY_TASK.get(kind)
    if task is None:
        return Eligibility(True, kind)
    catalogue = load_catalogue(session)
    rules = load_rules(session)
    transmission = _student_transmission(session, student_id)
    states = fold(load_events(session, student_id))
    t = catalogue.tasks.get(task)
    if t is None:
        return Eligibility(True, kind)
    needed = sorted(set(t.prerequisites) | set(t.covers)) if t.kind == "review" else list(t.prerequisites)
    missing = tuple(n for n in needed if not is_competent(states, n, transmission))
    if missing:
        return Eligibility(False, kind, "REVIEW_TASKS" if t.kind == "review" else "PREREQUISITES", missing)
    if t.kind == "review":
        opens = review_opens_at(catalogue, states, task, transmission, rules)
        if opens is not None and start < opens:
            return Eligibility(False, kind, "REVIEW_GAP", (), opens)
    return Eligibility(True, kind)


def record_audit_unit_notice(session: Session, actor: Actor, student_id: uuid.UUID, *, planned_date: date,
                             notified_at: datetime | None = None, reference: str | None = None) -> dict:
    """Record when the government audit unit was told of this learner's final drive (staff only)."""
    student = access.require_student(session, actor, student_id, "competencies")
    if not actor.is_school:
        raise Forbidden("Only the school records notices to the audit unit.")
    now = clock.now(session)
    notified_at = notified_at or now
    if notified_at.tzinfo is None:
        raise ValidationFailed("The notice time needs a time zone.", field="notified_at")
    if notified_at > now + timedelta(minutes=5):
        raise ValidationFailed("A notice can't be recorded before it was given.", field="notified_at")
    if reference is not None and len(reference) > 200:
        raise ValidationFailed("The reference is at most 200 characters.", field="reference")
    notice = FinalDriveNotice(student_id=student.id, planned_date=planned_date, notified_at=notified_at,
                              reference=reference, recorded_by=actor.user_id)
    session.add(notice)
    session.flush()
    audit.record_event(session, actor, "final_drive.audit_unit_notified", subject_type="student",
                       subject_id=student.id, details={"planned_date": planned_date.isoformat(),
                                                       "notified_at": notified_at.isoformat()})
    return {"id": notice.id, "student_id": student.id, "planned_date": planned_date, "notified_at": notified_at,
            "reference": reference}


def certificate_eligibility(session: Session, actor: Actor, student_id: uuid.UUID, *,
                            hours: dict | None = None) -> dict:
    """What stands between the learner and the certificate: tasks, reviews, the final drive, hours.

    ``hours`` is the log-book summary (from the log-book module): ``{"met": bool, "missing": [...], ...}``;
    without it, hours are reported as not checked (``hours_checked`` False) and do not block."""
    matrix = student_matrix(session, actor, student_id)
    tasks = [r.task_number for r in matrix.rows if r.kind == "competency" and r.status != "competent"]
    reviews = [r.task_number for r in matrix.rows if r.kind == "review" and r.status != "competent"]
    final = [r.task_number for r in matrix.rows if r.kind == "final_drive" and r.status != "competent"]
    hours_missing = list((hours or {}).get("missing", [])) if hours else []
    hours_ok = bool(hours.get("met", not hours_missing)) if hours else True
    eligible = not tasks and not reviews and not final and hours_ok
    return {"eligible": eligible, "missing_tasks": tasks, "missing_reviews": reviews,
            "final_drive_done": not final, "hours_checked": hours is not None, "hours": hours,
            "hours_missing": hours_missing, "summary": matrix.summary, "transmission": matrix.transmission}


__all__ = [
    "Blocker", "Catalogue", "Eligibility", "Event", "Matrix", "MatrixRow", "Rules", "Task", "TaskState",
    "assess_blockers", "build_matrix", "certificate_eligibility", "check_can_assess", "compute_matrix",
    "eligibility_for_booking", "fold", "is_competent", "lesson_blockers", "load_catalogue", "load_events",
    "load_rules", "matrix_dict", "notice_given", "progress", "raise_if_blocked", "record_audit_unit_notice",
    "review_opens_at", "status_for", "student_matrix", "task_list",
]
