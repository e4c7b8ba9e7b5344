"""/admin/audit in Chromium against the production build: the owner filters the audit trail by event
type, and "Verify all records" shows every chain intact, then names the record edited behind the
triggers' back (the row is restored afterwards: the browser tests share one database).
"""
from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.data import seed
from nexdrive.models import User
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.core.audit import record_event
from nexdrive.services.identity.passwords import hash_password
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_auth_flows import sign_in

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"


def _engine(url):
    return nxdb.make_engine(url, poolclass=sa.pool.NullPool)


@pytest.fixture(scope="module")
def owner(e2e_db_url):
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            user = s.execute(sa.select(User).where(User.email == seed.DEMO_OWNER_EMAIL)).scalar_one()
            user.password_hash = hash_password(PASSWORD)
            s.add(user)
        return seed.DEMO_OWNER_EMAIL
    finally:
        engine.dispose()


def test_the_owner_filters_the_audit_trail_and_verifies_every_chain(app_server, e2e_db_url, owner, page):
    event_type = f"E2E_AUDIT_{uuid.uuid4().hex[:6].upper()}"
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            seqs = [record_event(s, SYSTEM, event_type, subject_type="e2e", details={"n": n}).seq for n in range(3)]
    finally:
        engine.dispose()

    sign_in(page, app_server, owner, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    page.locator("#admin-audit-link").click()
    page.wait_for_url(re.compile(r".*/admin/audit/?$"), timeout=30_000)
    page.locator("#au-list .au-event").first.wait_for(timeout=30_000)

    page.locator(f"#au-event option[value='{event_type}']").wait_for(state="attached", timeout=30_000)
    page.locator("#au-event").select_option(event_type)
    page.locator("#au-apply").click()
    page.wait_for_function("document.querySelectorAll('#au-list .au-event').length === 3", timeout=30_000)
    shown = [int(x) for x in page.locator("#au-list .au-event").evaluate_all("els => els.map(e => e.dataset.seq)")]
    assert shown == sorted(seqs, reverse=True)  # newest first
    assert set(page.locator("#au-list .au-type").all_inner_texts()) == {event_type}
    assert "3 events" in page.locator("#au-page").inner_text()
    page.screenshot(path=str(ARTIFACTS / "audit-1-filtered.png"), full_page=True)

    page.locator("#au-verify").click()
    summary = page.locator("#au-verify-summary")
    summary.wait_for(timeout=60_000)
    assert summary.inner_text().startswith("All records verified")
    assert page.locator(".au-chain[data-chain='audit_log'][data-ok='true']").count() == 1
    assert page.locator(".au-chain[data-ok='false']").count() == 0

    # Edit the middle event as a superuser, behind the append-only trigger; verify again; put it back.
    engine = _engine(e2e_db_url)
    try:
        with nxdb.session_scope(engine) as s:
            s.execute(sa.text("SET LOCAL session_replication_role = replica"))
            s.execute(sa.text("UPDATE audit_log SET details = '{\"n\": 99}' WHERE chain = 'audit_log' AND seq = :q"),
                      {"q": seqs[1]})
        page.locator("#au-verify").click()
        broken = page.locator(".au-chain[data-chain='audit_log'][data-ok='false']")
        broken.wait_for(timeout=60_000)
        assert f"#{seqs[1]}" in broken.inner_text() and "altered" in broken.inner_text()
        assert "broken" in summary.inner_text()
        page.screenshot(path=str(ARTIFACTS / "audit-2-broken.png"), full_page=True)
    finally:
        with nxdb.session_scope(engine) as s:
            s.execute(sa.text("SET LOCAL session_replication_role = replica"))
            s.execute(sa.text("UPDATE audit_log SET details = '{\"n\": 1}' WHERE chain = 'audit_log' AND seq = :q"),
                      {"q": seqs[1]})
        engine.dispose()
