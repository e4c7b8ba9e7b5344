"""The owner's reports (issue 16 item 7) over the dashboard's generated year (three instructors, refunds
partial, full, pending and failed, package purchases and credits, cancellations, no-shows, both DST
Sundays), plus UTM-tagged leads, leads that became learners and competency records: every report's
rows and totals checked against independent SQL (Canberra dates derived by PostgreSQL), to the cent;
CSV totals equal the sum of the lines; the PDF carries the totals; only the administrator gets them.
"""
from __future__ import annotations

import csv
import io
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.errors import AuthRequired, Forbidden, ValidationFailed
from nexdrive.models import (BusinessSettings, CompetencyTask, Contact, Payment, Student, StudentCompetency,
                             User)
from nexdrive.services.admin import report_tables, reports
from nexdrive.services.core import clock
from nexdrive.services.core.actors import VISITOR
from nexdrive.services.identity import accounts
from nexdrive.services.reporting import kpis
from tests.api_server import serve_api
from tests.integration.test_kpis import LOCAL, _at, year  # noqa: F401  (the generated year)
from tests.jobs_helpers import CANBERRA, UTC

PIN = _at(date(2026, 11, 18), 12)
DST_FORTNIGHT = (date(2026, 9, 28), date(2026, 10, 11))  # includes Sunday 4 October (23 hours)
ABN = "53004085616"


def _in(col: str) -> str:
    return f"{LOCAL.format(col=col)} >= :d0 AND {LOCAL.format(col=col)} < :d1"


MONEY = f"""
    SELECT p.id AS pid, p.amount_cents AS cents, p.completed_at AS at FROM payments p WHERE {_in('p.completed_at')}
      AND p.status IN ('completed','partially_refunded','refunded') AND p.payment_method <> 'package_credit'
    UNION ALL
    SELECT r.payment_id, -r.amount_cents, r.created_at FROM refunds r JOIN payments p2 ON p2.id = r.payment_id
    WHERE {_in('r.created_at')} AND r.status IN ('succeeded','pending') AND p2.payment_method <> 'package_credit'"""
GST = "CASE WHEN x.cents < 0 THEN -((-x.cents + 5) / 11) ELSE (x.cents + 5) / 11 END"
REVENUE_BY = {
    "method": "p.payment_method",
    "service": "COALESCE(sv.name, CASE WHEN p.package_id IS NOT NULL THEN 'Lesson packages' ELSE 'Other' END)",
    "instructor": "COALESCE(CAST(b.instructor_id AS text), '')",
    "day": f"CAST({LOCAL.format(col='x.at')} AS text)",
    "month": f"CAST(greatest(date_trunc('month', {LOCAL.format(col='x.at')})::date, :d0) AS text)",  # clipped
}


def _revenue_sql(conn, grouping: str, d0: date, d1: date) -> dict:
    rows = conn.execute(sa.text(f"""
        SELECT {REVENUE_BY[grouping]} AS k, count(*) FILTER (WHERE x.cents > 0) AS payments,
               COALESCE(sum(x.cents) FILTER (WHERE x.cents > 0), 0) AS gross,
               COALESCE(-sum(x.cents) FILTER (WHERE x.cents < 0), 0) AS refunds,
               sum(x.cents) AS net, sum({GST}) AS gst
        FROM ({MONEY}) x JOIN payments p ON p.id = x.pid
        LEFT JOIN bookings b ON b.id = p.booking_id LEFT JOIN services sv ON sv.id = b.service_id
        LEFT JOIN instructors i ON i.id = b.instructor_id LEFT JOIN profiles ip ON ip.id = i.profile_id
        GROUP BY 1"""), {"d0": d0, "d1": d1}).all()
    return {r.k: (int(r.payments), int(r.gross), int(r.refunds), int(r.net), int(r.gst)) for r in rows}


@pytest.fixture
def school(engine, year):  # noqa: F811
    """The year, a GST-registered business with an ABN, tagged leads (two became learners) and competencies."""
    with session_scope(engine) as s:
        bs = s.get(BusinessSettings, 1)
        bs.gst_registered, bs.abn, bs.business_name = True, ABN, "NexDrive Academy"
        s.add(bs)
        students = s.exec(select(Student).order_by(Student.created_at, Student.id)).all()
        tags = [("google", "cpc", "spring"), ("facebook", "social", None), ("google", "cpc", "spring"),
                ("newsletter", None, None)]
        for n, (src, med, camp) in enumerate(tags * 3):
            day = date(2026, 10, 4) if n % 2 else date(2026, 11, 2)
            s.add(Contact(first_name="Tagged", last_name=str(n), phone=f"+6149{n:08d}", source="website",
                          utm_source=src, utm_medium=med, utm_campaign=camp, created_at=_at(day, 1, 30)))
        s.flush()
        # two October leads became learners (their contact carries the learner's account)
        profile_users = s.execute(sa.text("""
            SELECT pr.user_id FROM students st JOIN profiles pr ON pr.id = st.profile_id
            ORDER BY st.created_at, st.id LIMIT 2""")).scalars().all()
        for n, uid in enumerate(profile_users):
            s.add(Contact(first_name="Enrolled", last_name=str(n), phone=f"+6148{n:08d}", source="referral",
                          lifecycle_stage="enrolled", user_id=uid, created_at=_at(date(2026, 10, 4), 3, 15)))
        tasks = s.exec(select(CompetencyTask).order_by(CompetencyTask.sort_order)).all()
        ins = s.execute(sa.text("SELECT instructor_id FROM students WHERE id = :i"), {"i": students[0].id}).scalar()
        plan = {0: 25, 1: 12, 2: 3}  # learner index -> how many catalogue entries (in order) they are competent in
        for k, count in plan.items():
            for t in tasks[:count]:
                s.add(StudentCompetency(student_id=students[k].id, task_id=t.id, instructor_id=ins,
                                        status="competent", transmission="auto",
                                        status_changed_at=_at(date(2026, 9, 1), 10)))
                s.flush()
        # a later record takes task 1 of learner 2 back to "taught" (latest record counts)
        s.add(StudentCompetency(student_id=students[2].id, task_id=tasks[0].id, instructor_id=ins, status="taught",
                                transmission="auto", status_changed_at=_at(date(2026, 9, 2), 10)))
        ids = [st.id for st in students]
    return {**year, "students": ids}


def _period(d0: date, d1: date) -> kpis.Period:
    return kpis.Period("custom", d0, d1 + timedelta(days=1))


def test_revenue_by_every_grouping_matches_sql_to_the_cent(engine, school):
    admin = school["admin"]
    for d0, d1 in (DST_FORTNIGHT, (date(2026, 4, 1), date(2026, 4, 30)), (date(2025, 10, 1), date(2026, 10, 31))):
        p = _period(d0, d1)
        with clock.pinned(PIN), session_scope(engine) as s:
            got = {g: report_tables.revenue_report(s, admin, p, g) for g in report_tables.GROUPINGS["revenue"]}
        with engine.connect() as conn:
            whole = conn.execute(sa.text(f"SELECT COALESCE(sum(cents), 0) FROM ({MONEY}) x"),
                                 {"d0": p.first, "d1": p.end}).scalar_one()
            for grouping, data in got.items():
                assert data["totals"]["net_cents"] == whole, (grouping, d0)
                for key in ("payments", "gross_cents", "refunds_cents", "net_cents", "gst_cents"):
                    assert data["totals"][key] == sum(r[key] for r in data["rows"]), (grouping, key)
                if grouping == "week":
                    continue
                want = _revenue_sql(conn, grouping, p.first, p.end)
                rows = {r["key"]: (r["payments"], r["gross_cents"], r["refunds_cents"], r["net_cents"],
                                     r["gst_cents"]) for r in data["rows"] if r["payments"] or r["refunds_cents"]}
                assert rows == want, (grouping, d0)
            # weeks: Monday-first Canberra weeks clipped to the range, by PostgreSQL's date_trunc
            weeks = dict(conn.execute(sa.text(f"""
                SELECT greatest(date_trunc('week', {LOCAL.format(col='x.at')})::date, CAST(:d0 AS date)), sum(cents)
                FROM ({MONEY}) x GROUP BY 1"""), {"d0": p.first, "d1": p.end}).all())
            assert {r["label"]: r["net_cents"] for r in got["week"]["rows"] if r["net_cents"]} == {
                f"Week of {k.strftime('%d/%m/%Y')}": int(v) for k, v in weeks.items() if v}
        assert got["day"]["rows"][0]["label"] == d0.strftime("%d/%m/%Y")
        assert len(got["day"]["rows"]) == (d1 - d0).days + 1
    assert got["method"]["totals"]["refunds_cents"] > 0
    assert "Lesson packages" in {r["label"] for r in got["service"]["rows"]}
    assert {r["label"] for r in got["method"]["rows"]} <= set(report_tables.METHOD_LABELS.values())


def test_revenue_agrees_with_the_dashboard_and_drops_gst_when_not_registered(engine, school):
    with clock.pinned(PIN), session_scope(engine) as s:
        board = kpis.dashboard(s, school["admin"])
        for key in kpis.PERIODS:
            p = reports.period(s, preset=key)
            data = report_tables.revenue_report(s, school["admin"], p, "method")
            fig = board["periods"][key]["figures"]["revenue"]
            assert data["totals"]["net_cents"] == fig["value"]
            assert data["totals"]["gross_cents"] == fig["gross_cents"]
            assert data["totals"]["refunds_cents"] == fig["refunded_cents"]
        s.get(BusinessSettings, 1).gst_registered = False
        s.flush()
        plain = report_tables.revenue_report(s, school["admin"], reports.period(s, preset="month"), "service")
        assert "gst_cents" not in plain["totals"] and all(c["key"] != "gst_cents" for c in plain["columns"])
        name, text = reports.report_csv(s, school["admin"], "revenue", reports.period(s, preset="month"), "service")
        assert "GST" not in text.splitlines()[0]


def test_utilisation_per_instructor_and_week_matches_sql(engine, school):
    p = _period(*DST_FORTNIGHT)
    with clock.pinned(PIN), session_scope(engine) as s:
        per = report_tables.utilisation_report(s, school["admin"], p, "instructor")
        weekly = report_tables.utilisation_report(s, school["admin"], p, "week")
    with engine.connect() as conn:
        booked = dict(conn.execute(sa.text(f"""
            SELECT CAST(b.instructor_id AS text), sum(b.duration_minutes) FROM bookings b
            WHERE {_in('b.start_time')} AND b.status IN ('confirmed','in_progress','completed','no_show')
            GROUP BY 1"""), {"d0": p.first, "d1": p.end}).all())
        offered = dict(conn.execute(sa.text("""
            SELECT CAST(r.instructor_id AS text),
                   sum(EXTRACT(epoch FROM ((g.d + r.end_time) AT TIME ZONE 'Australia/Sydney')
                                     - ((g.d + r.start_time) AT TIME ZONE 'Australia/Sydney')) / 60)::bigint
            FROM generate_series(CAST(:d0 AS timestamp), CAST(:d1 AS timestamp) - interval '1 day',
                                 interval '1 day') g(d)
            JOIN availability_rules r ON r.day_of_week = EXTRACT(dow FROM g.d) AND r.is_active
                 AND r.effective_from <= g.d::date AND (r.effective_until IS NULL OR r.effective_until >= g.d::date)
            JOIN instructors i ON i.id = r.instructor_id AND i.status = 'active'
            WHERE NOT EXISTS (SELECT 1 FROM availability_overrides o WHERE o.instructor_id = r.instructor_id
                              AND o.date = g.d::date AND o.override_type = 'blocked' AND o.start_time IS NULL)
            GROUP BY 1"""), {"d0": p.first, "d1": p.end}).all())
    assert {r["key"]: r["booked_minutes"] for r in per["rows"]} == {k: int(v) for k, v in booked.items()}
    assert {r["key"]: r["offered_minutes"] for r in per["rows"]} == {k: int(v) for k, v in offered.items()}
    for key in ("booked_minutes", "offered_minutes"):
        assert weekly["totals"][key] == per["totals"][key] == sum(r[key] for r in weekly["rows"])
    assert len(weekly["rows"]) == 2 * len(per["rows"])  # two Monday-first weeks
    # the DST Sunday's 01:00–04:00 hours are 2 real hours: instructor with Sunday hours offers 2 + 3 of them
    total = per["totals"]
    assert total["utilisation"] == round(total["booked_minutes"] * 100 / total["offered_minutes"], 1)


def test_leads_by_source_and_utm_match_sql(engine, school):
    p = _period(date(2026, 10, 1), date(2026, 11, 30))
    with clock.pinned(PIN), session_scope(engine) as s:
        by_source = report_tables.leads_report(s, school["admin"], p, "source")
        by_utm = report_tables.leads_report(s, school["admin"], p, "utm")
        board_leads = len(kpis.lead_rows(s, p))
    with engine.connect() as conn:
        want = conn.execute(sa.text(f"""
            SELECT initcap(COALESCE(NULLIF(c.source, ''), 'unknown')) AS k, count(*) AS leads,
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM bookings b WHERE b.contact_id = c.id
                                                  AND b.status NOT IN ('held','expired'))) AS booked,
                   count(*) FILTER (WHERE c.user_id IN (SELECT pr.user_id FROM profiles pr
                                                        JOIN students st ON st.profile_id = pr.id)) AS enrolled
            FROM contacts c WHERE c.deleted_at IS NULL AND {_in('c.created_at')} GROUP BY 1"""),
            {"d0": p.first, "d1": p.end}).all()
        google = conn.execute(sa.text(f"""SELECT count(*) FROM contacts WHERE deleted_at IS NULL AND {_in('created_at')}
                                          AND utm_source = 'google' AND utm_medium = 'cpc'
                                          AND utm_campaign = 'spring'"""), {"d0": p.first, "d1": p.end}).scalar_one()
    assert {r["label"]: (r["leads"], r["booked"], r["enrolled"]) for r in by_source["rows"]} == {
        r.k: (r.leads, r.booked, r.enrolled) for r in want}
    assert by_source["totals"]["leads"] == by_utm["totals"]["leads"] == board_leads
    assert by_source["totals"]["enrolled"] == 2 and by_source["totals"]["booked"] > 0
    assert {r["label"]: r["leads"] for r in by_utm["rows"]}["google / cpc / spring"] == google == 6
    assert "facebook / social / \u2013" in {r["label"] for r in by_utm["rows"]}


def test_progress_per_learner_and_distribution(engine, school):
    p = _period(date(2026, 11, 1), date(2026, 11, 30))
    with clock.pinned(PIN), session_scope(engine) as s:
        each = report_tables.progress_report(s, school["admin"], p, "learner")
        dist = report_tables.progress_report(s, school["admin"], p, "distribution")
        early = report_tables.progress_report(s, school["admin"], _period(date(2026, 8, 1), date(2026, 8, 31)))
    with engine.connect() as conn:
        want = dict(conn.execute(sa.text("""
            SELECT st.id, (SELECT count(*) FROM competency_tasks t WHERE NOT t.is_review AND (
                      SELECT sc.status FROM student_competencies sc WHERE sc.student_id = st.id AND sc.task_id = t.id
                      ORDER BY sc.seq DESC LIMIT 1) = 'competent')
            FROM students st""")).all())
        minutes = conn.execute(sa.text("""SELECT COALESCE(sum(duration_minutes), 0) FROM bookings
                                          WHERE student_id IS NOT NULL AND start_time <= :t
                                          AND status IN ('confirmed','in_progress','completed')"""),
                               {"t": PIN}).scalar_one()
    assert len(each["rows"]) == len(want) and each["totals"]["label"] == f"Total ({len(want)} learners)"
    assert sorted(r["tasks"] for r in each["rows"]) == sorted(int(v) for v in want.values())
    top = max(each["rows"], key=lambda r: r["tasks"])
    assert (top["tasks"], top["reviews"]) == (23, 2)
    assert sorted(r["tasks"] for r in each["rows"])[-3:] == [2, 12, 23]  # task 1 of the third: back to taught
    assert each["totals"]["minutes"] == sum(r["minutes"] for r in each["rows"]) == int(minutes)
    assert dist["totals"]["learners"] == len(each["rows"]) == sum(r["learners"] for r in dist["chart"]["rows"])
    assert [r["learners"] for r in dist["rows"]][-1] == 1
    assert all(r["tasks"] == 0 for r in early["rows"])  # records dated 1 September are not yet there


def test_csv_totals_are_the_sum_of_the_lines(engine, school):
    p = _period(*DST_FORTNIGHT)
    with clock.pinned(PIN), session_scope(engine) as s:
        for report, groupings in report_tables.GROUPINGS.items():
            for grouping in groupings:
                name, text = reports.report_csv(s, school["admin"], report, p, grouping)
                assert name == f"{report}-by-{grouping}-2026-09-28-to-2026-10-11.csv"
                lines = list(csv.reader(io.StringIO(text)))
                head, body, total = lines[0], lines[1:-1], lines[-1]
                kinds = [c["kind"] for c in report_tables.build(s, school["admin"], report, p, grouping)["columns"]]
                assert total[0].startswith("Total") and len(head) == len(kinds)
                summed = 0
                for i, kind in enumerate(kinds):
                    if kind in ("money", "minutes"):  # dollars / hours with two decimals
                        assert round(sum(float(r[i]) * 100 for r in body)) == round(float(total[i]) * 100), \
                            (report, grouping, head[i])
                    elif kind == "int":
                        assert sum(int(r[i]) for r in body) == int(total[i]), (report, grouping, head[i])
                    else:
                        continue
                    summed += 1
                assert summed >= 1 and body, (report, grouping)
        name, text = reports.report_csv(s, school["admin"], "revenue", p, "method")
        data = report_tables.revenue_report(s, school["admin"], p, "method")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Payment method", "Payments", "Received (AUD)", "Refunded (AUD)", "Net (AUD)",
                        "GST included (AUD)"]
    assert round(float(lines[-1][4]) * 100) == data["totals"]["net_cents"]
    assert round(float(lines[-1][5]) * 100) == data["totals"]["gst_cents"]


def test_pdf_carries_the_business_range_and_totals(engine, school, tmp_path):
    p = _period(*DST_FORTNIGHT)
    with clock.pinned(PIN), session_scope(engine) as s:
        name, body = reports.report_pdf(s, school["admin"], "revenue", p, "day")
        data = report_tables.revenue_report(s, school["admin"], p, "day")
        for report in ("progress", "utilisation", "leads"):
            other = reports.report_pdf(s, school["admin"], report, p)[1]
            assert other.startswith(b"%PDF")
    assert name.endswith(".pdf") and body.startswith(b"%PDF")
    path = Path(tmp_path, name)
    path.write_bytes(body)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Revenue" in text and "NexDrive Academy" in text and "ABN 53 004 085 616" in text
    assert "28 September 2026" in text and "11 October 2026" in text
    assert kpis.aud(data["totals"]["net_cents"]) in text and kpis.aud(data["totals"]["gst_cents"]) in text
    assert "04/10/2026" in text  # the DST Sunday has its own line
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")],
                   check=True)
    png = next(tmp_path.glob("page*.png"))
    keep = Path("/tmp/report-pdf-page1.png")
    keep.write_bytes(png.read_bytes())  # looked at by hand while building (see the report)
    assert png.stat().st_size > 5_000


def test_only_the_administrator_gets_the_reports(engine, school):
    p = _period(*DST_FORTNIGHT)
    with session_scope(engine) as s:
        for who, error in ((school["instructor"], Forbidden), (school["student"], Forbidden),
                           (VISITOR, AuthRequired)):
            for report in report_tables.REPORTS:
                with pytest.raises(error):
                    report_tables.build(s, who, report, p)
                with pytest.raises(error):
                    reports.report_csv(s, who, report, p)
                with pytest.raises(error):
                    reports.report_pdf(s, who, report, p)
            with pytest.raises(error):
                report_tables.catalogue(who)
        with pytest.raises(ValidationFailed):
            report_tables.build(s, school["admin"], "revenue", p, "learner")
        with pytest.raises(ValidationFailed):
            report_tables.build(s, school["admin"], "nonsense", p)


def _bearer(engine, user_id) -> dict:
    with session_scope(engine) as s:
        issued = accounts._issue_session(s, s.get(User, user_id), None, None)
    return {"Authorization": f"Bearer {issued.token}"}


def test_the_api_serves_json_csv_and_pdf_to_the_administrator_only(engine, school):
    admin = _bearer(engine, school["admin"].user_id)
    teacher = _bearer(engine, school["instructor"].user_id)
    q = {"grouping": "method", "date_from": "2026-09-28", "date_to": "2026-10-11"}
    with clock.pinned(PIN), session_scope(engine) as s:
        want = report_tables.revenue_report(s, school["admin"], _period(*DST_FORTNIGHT), "method")
    with serve_api() as base:
        r = httpx.get(base + "/api/v1/admin/reports/revenue", params=q, headers=admin)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert data["totals"]["net_cents"] == want["totals"]["net_cents"] and data["chart_rows"]
        r = httpx.get(base + "/api/v1/admin/reports/revenue/csv", params=q, headers=admin)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert "attachment" in r.headers["content-disposition"]
        assert round(float(list(csv.reader(io.StringIO(r.text)))[-1][4]) * 100) == want["totals"]["net_cents"]
        r = httpx.get(base + "/api/v1/admin/reports/leads/pdf", params={"period": "month"}, headers=admin)
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        assert len(httpx.get(base + "/api/v1/admin/reports", headers=admin).json()["data"]) == 4
        for headers, status, code in ((teacher, 403, "FORBIDDEN"), ({}, 401, None)):
            for path in ("/revenue", "/revenue/csv", "/progress/pdf", ""):
                r = httpx.get(base + "/api/v1/admin/reports" + path, params={"period": "month"}, headers=headers)
                assert r.status_code == status, (path, r.text)
                assert r.json()["error"]["message"]
                if code:
                    assert r.json()["error"]["code"] == code
        r = httpx.get(base + "/api/v1/admin/reports/revenue", params={"grouping": "learner", "period": "month"},
                      headers=admin)
        assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
        r = httpx.get(base + "/api/v1/admin/reports/revenue", params={"date_from": "2026-10-11",
                                                                      "date_to": "2026-09-28"}, headers=admin)
        assert r.status_code == 422


def test_the_april_dst_sunday_is_one_25_hour_day(engine, school):
    """Money paid at 02:30 on Sunday 5 April 2026 (the repeated hour, both times) and at its first instant is
    on that day; a payment at midnight starting Monday is not."""
    first = datetime(2026, 4, 5, 2, 30, tzinfo=CANBERRA).astimezone(UTC)
    again = datetime(2026, 4, 5, 2, 30, tzinfo=CANBERRA, fold=1).astimezone(UTC)
    assert again - first == timedelta(hours=1)
    p = _period(date(2026, 4, 4), date(2026, 4, 6))
    assert p.end_utc - p.start_utc == timedelta(hours=72 + 1)
    with clock.pinned(PIN), session_scope(engine) as s:
        before = {r["key"]: r["net_cents"] for r in report_tables.revenue_report(s, school["admin"], p, "day")["rows"]}
        for at, cents in ((first, 111), (again, 222), (kpis.midnight(date(2026, 4, 5)), 444),
                          (kpis.midnight(date(2026, 4, 6)), 888)):
            s.add(Payment(amount_cents=cents, payment_method="cash", status="completed", completed_at=at,
                          created_at=at, description="Cash lesson"))
        s.flush()
        after = report_tables.revenue_report(s, school["admin"], p, "day")
    got = {r["key"]: r["net_cents"] for r in after["rows"]}
    assert [r["label"] for r in after["rows"]] == ["04/04/2026", "05/04/2026", "06/04/2026"]
    assert got["2026-04-05"] - before["2026-04-05"] == 777 and got["2026-04-06"] - before["2026-04-06"] == 888
    assert got["2026-04-04"] == before["2026-04-04"]
    with engine.connect() as conn:
        want = dict(conn.execute(sa.text(f"""SELECT CAST({LOCAL.format(col='x.at')} AS text), sum(cents)
                                              FROM ({MONEY}) x GROUP BY 1"""), {"d0": p.first, "d1": p.end}).all())
    assert {k: v for k, v in got.items() if v} == {k: int(v) for k, v in want.items() if v}
