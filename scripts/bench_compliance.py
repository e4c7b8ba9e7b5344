#!/usr/bin/env python3
"""Compliance benchmark: a learner's competency matrix with 60 signed lessons, and verifying lessons.

    .venv/bin/python scripts/bench_compliance.py            # 60 lessons, 50 runs per measurement
    .venv/bin/python scripts/bench_compliance.py --lessons 60 --reps 100 --chain 100000

Starts its own embedded PostgreSQL in a temporary directory, migrates a fresh database, loads the
reference data, and records one learner's history through the engine itself (``record_lesson``, both
signatures, real PNG images in a temporary storage folder): every CBT&A task taught and passed in
prerequisite order, Review 1 and Review 2 after their 36 hours, practice lessons, and the final drive
after the audit unit was told. Then it measures, each run in a fresh session as a request would be:

* ``student_matrix`` (what the learner's page, the REST API and the assistants call): p50, p95, max;
* ``verify_lesson`` of the last lesson (content, both images, the chains);
* the learner's auditor's pack (every lesson verified, the PDF and the ZIP built);
* with ``--chain N``: verifying the learner's competency chain after N more records are appended.

A benchmark prints figures; it does not pass or fail. Everything it creates is deleted when it finishes.
"""
from __future__ import annotations

import argparse
import base64
import io
import os
import shutil
import statistics
import sys
import tempfile
import time as clock
from datetime import date, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_TMP = Path(tempfile.mkdtemp(prefix="nxbc-", dir="/tmp"))
os.chmod(_TMP, 0o777)
os.environ.setdefault("NEXDRIVE_DATA_DIR", str(_TMP / "files"))

import sqlalchemy as sa  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402
from nexdrive.data import seed  # noqa: E402
from nexdrive.formats import BUSINESS_TZ  # noqa: E402
from nexdrive.models import FinalDriveNotice, Instructor, Profile, Student, User  # noqa: E402
from nexdrive.services.compliance import auditors_pack, competencies, lessons, verification  # noqa: E402
from nexdrive.services.core import audit  # noqa: E402
from nexdrive.services.core.actors import Actor  # noqa: E402
from nexdrive.services.core.holidays import is_business_day  # noqa: E402

STAGE_1 = [[1], [2], [3], [4], [5, 6], [7, 8], [9], [10], [11, 12, 13], [14, 15, 16, 17]]
STAGE_2 = [[18, 20, 21], [19, 22]]


def _png(seed: int) -> str:
    img = Image.new("RGB", (300, 100), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    draw.line([(10, 80), (90, 15 + seed % 30), (170, 85), (290, 20)], fill=(0, 0, 90), width=3)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _person(s, role: str, first: str):
    user = User(email=f"{first.lower()}-{role}@bench.example", role=role)
    s.add(user)
    s.flush()
    profile = Profile(user_id=user.id, first_name=first, last_name="Bench", email=user.email, role=role)
    s.add(profile)
    s.flush()
    return user, profile


def build_history(engine, n_lessons: int) -> tuple[Actor, Actor, Actor, list]:
    with nxdb.session_scope(engine) as s:
        iu, ip = _person(s, "instructor", "Ivy")
        instructor = Instructor(user_id=iu.id, profile_id=ip.id, adi_number="ADI-B1", adi_expiry=date(2035, 1, 1),
                                accreditation_number="ACT-B1", accreditation_expiry=date(2035, 1, 1))
        s.add(instructor)
        s.flush()
        su, sp = _person(s, "student", "Sol")
        student = Student(user_id=su.id, profile_id=sp.id, instructor_id=instructor.id)
        s.add(student)
        au, _ = _person(s, "admin", "Ada")
        s.flush()
        ins = Actor(role="instructor", user_id=iu.id, instructor_id=instructor.id)
        stu = Actor(role="student", user_id=su.id, student_id=student.id)
        adm = Actor(role="admin", user_id=au.id)
    plan = [dict(taught=list(range(1, 18)))] + [dict(assessed=g) for g in STAGE_1] + [dict(assessed=[101], gap=True)]
    plan += [dict(taught=list(range(18, 23)))] + [dict(assessed=g) for g in STAGE_2] + [dict(assessed=[102], gap=True)]
    practice = max(0, n_lessons - len(plan) - 1)
    plan += [dict(taught=[1 + i % 22]) for i in range(practice)] + [dict(assessed=[23], final=True)]
    day = (datetime.now(BUSINESS_TZ) - timedelta(days=2 * len(plan) + 20)).date()
    ids = []
    for i, step in enumerate(plan[:n_lessons]):
        day += timedelta(days=2 if step.get("gap") else 1)
        while not is_business_day(day):
            day += timedelta(days=1)
        start = datetime.combine(day, time(9, 0), tzinfo=BUSINESS_TZ)
        if step.get("final"):
            with nxdb.session_scope(engine) as s:
                s.add(FinalDriveNotice(student_id=stu.student_id, planned_date=day,
                                       notified_at=start - timedelta(days=7)))
        with nxdb.session_scope(engine) as s:
            assessed = step.get("assessed", [])
            lesson = lessons.record_lesson(
                s, ins, student_id=stu.student_id, start_time=start, end_time=start + timedelta(minutes=60),
                competencies_taught=step.get("taught", []), competencies_assessed=assessed,
                competencies_achieved_auto=assessed, location_suburb="Belconnen", comments=f"Lesson {i + 1}.")
            lessons.sign_lesson(s, ins, lesson["id"], signature_image=_png(2 * i))
            lessons.sign_lesson(s, stu, lesson["id"], signature_image=_png(2 * i + 1))
            ids.append(lesson["id"])
    return ins, stu, adm, ids


def timed(fn, reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = clock.perf_counter()
        fn()
        out.append((clock.perf_counter() - t0) * 1000)
    return out


def show(label: str, ms: list[float]) -> None:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    print(f"  {label:<44} p50 {statistics.median(ms):7.1f} ms   p95 {p95:7.1f} ms   max {ms[-1]:7.1f} ms"
          f"   (n={len(ms)})")


def main() -> int:
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lessons", type=int, default=60, help="signed lessons in the learner's history (default 60)")
    ap.add_argument("--reps", type=int, default=50, help="runs per measurement (default 50)")
    ap.add_argument("--chain", type=int, default=0, help="append N competency records and time verifying the chain")
    args = ap.parse_args()
    pgdata = _TMP / "data"
    engine = None
    try:
        print("[bench-compliance] starting an embedded PostgreSQL and migrating a fresh database ...", flush=True)
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_bench")
        engine = nxdb.make_engine(url, pool_size=4, max_overflow=4)
        nxdb.set_engine(engine)
        migrations.upgrade(engine)
        with nxdb.session_scope(engine) as s:
            seed.load_reference_data(s)
        print(f"[bench-compliance] recording and signing {args.lessons} lessons through the engine ...", flush=True)
        t0 = clock.monotonic()
        ins, stu, adm, ids = build_history(engine, args.lessons)
        built = clock.monotonic() - t0
        with nxdb.session_scope(engine) as s:
            rows = s.execute(sa.text("SELECT count(*) FROM student_competencies")).scalar_one()
            m = competencies.student_matrix(s, stu, stu.student_id)
        print(f"  built in {built:.1f} s: {len(ids)} lessons ({built / max(1, len(ids)) * 1000:.0f} ms per "
              f"record + 2 signatures), {rows} competency records; matrix says {m.competent} of {m.total} "
              f"competent, reviews passed {m.reviews_passed}")

        def matrix(actor):
            def run():
                with nxdb.session_scope(engine) as s:
                    competencies.student_matrix(s, actor, stu.student_id)
            return run

        def verify():
            with nxdb.session_scope(engine) as s:
                result = verification.verify_lesson(s, adm, ids[-1])
                assert result.ok, result.summary

        matrix(stu)()  # warm caches and the pool
        print(f"[bench-compliance] {args.reps} runs each:")
        show(f"student_matrix, {len(ids)} lessons (learner)", timed(matrix(stu), args.reps))
        show(f"student_matrix, {len(ids)} lessons (instructor)", timed(matrix(ins), args.reps))
        show("verify_lesson (hash, 2 images, chains)", timed(verify, args.reps))

        sizes = {}

        def pack():
            with nxdb.session_scope(engine) as s:
                built = auditors_pack.build_pack(s, adm, stu.student_id)
                assert built.ok, built.data["verification"]["problems"]
                sizes["pdf"] = len(auditors_pack.pack_pdf(built))
                sizes["zip"] = len(auditors_pack.pack_zip(built))

        pack_reps = max(3, min(10, args.reps // 10))
        show(f"auditor's pack, {len(ids)} lessons (build + PDF + ZIP)", timed(pack, pack_reps))
        print(f"  ({pack_reps} runs; PDF {sizes['pdf'] / 1024:.0f} KB, ZIP {sizes['zip'] / 1024:.0f} KB)")
        if args.chain:
            print(f"[bench-compliance] appending {args.chain:,} competency records ...", flush=True)
            t0 = clock.monotonic()
            left = args.chain
            while left > 0:  # batches: one transaction updating the chain head 100,000 times crawls
                batch = min(2000, left)
                left -= batch
                with engine.begin() as conn:
                    conn.execute(sa.text("""
                        INSERT INTO student_competencies (student_id, task_id, instructor_id, status, transmission,
                                                          status_changed_at)
                        SELECT :s, (SELECT id FROM competency_tasks WHERE task_number = 1), :i, 'taught', 'auto',
                               now() - make_interval(days => 400)
                        FROM generate_series(1, :n)"""), {"s": stu.student_id, "i": ins.instructor_id, "n": batch})
            print(f"  appended in {clock.monotonic() - t0:.1f} s")
            t0 = clock.perf_counter()
            with nxdb.session_scope(engine) as s:
                report = audit.verify_chain(s, "student_competencies", f"student_competencies:{stu.student_id}")
            print(f"  verify chain of {report.checked:,} records: {(clock.perf_counter() - t0):.2f} s, ok={report.ok}")
        return 0
    finally:
        nxdb.set_engine(None)
        if engine is not None:
            engine.dispose()
        nxdb.stop_embedded_postgres(pgdata)
        shutil.rmtree(_TMP, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
