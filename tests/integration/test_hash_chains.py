"""Hash chains hold under concurrency, and tampering is found (docs/decisions/0002-hash-chains.md)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.services.core import audit
from nexdrive.services.core.actors import SYSTEM, Actor

ADMIN = Actor(role="admin")


def _append(engine, n: int, worker: int = 0) -> None:
    for i in range(n):
        with session_scope(engine) as s:
            audit.record_event(s, SYSTEM, "TEST_EVENT", details={"worker": worker, "i": i})


def _tamper(engine, sql: str, **params) -> None:
    """What a superuser with direct database access could do: bypass the triggers."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(sql), params)


def _verify(engine) -> audit.ChainReport:
    with session_scope(engine) as s:
        return audit.verify_chain(s, "audit_log", "audit_log")


def test_1000_entries_from_20_concurrent_connections_form_one_unbroken_chain(engine):
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda w: _append(engine, 50, w), range(20)))
    with session_scope(engine) as s:
        seqs = s.execute(sa.text("SELECT seq FROM audit_log ORDER BY seq")).scalars().all()
        assert seqs == list(range(1, 1001))
        distinct_prev = s.execute(sa.text("SELECT count(DISTINCT previous_hash) FROM audit_log")).scalar()
        assert distinct_prev == 1000  # no fork: every record has its own predecessor
        head = s.execute(sa.text("SELECT seq, head_hash FROM chain_heads WHERE chain='audit_log'")).one()
        last = s.execute(sa.text("SELECT record_hash FROM audit_log WHERE seq = 1000")).scalar()
    assert (head.seq, head.head_hash) == (1000, last)
    report = _verify(engine)
    assert report.ok and report.checked == 1000


@pytest.fixture
def chain_of_10(engine):
    _append(engine, 10)
    assert _verify(engine).ok
    return engine


def test_an_edited_record_is_reported(chain_of_10):
    _tamper(chain_of_10, "UPDATE audit_log SET details = '{\"i\": 999}' WHERE seq = 4")
    report = _verify(chain_of_10)
    assert (report.ok, report.broken_seq) == (False, 4)
    assert "altered" in report.reason


def test_a_deleted_record_is_reported(chain_of_10):
    _tamper(chain_of_10, "DELETE FROM audit_log WHERE seq = 6")
    report = _verify(chain_of_10)
    assert (report.ok, report.broken_seq) == (False, 6)
    assert "missing" in report.reason


def test_an_edited_and_rehashed_record_breaks_the_next_link(chain_of_10):
    _tamper(chain_of_10, """
        UPDATE audit_log SET details = '{"i": 999}' WHERE seq = 4;
        UPDATE audit_log SET record_hash = chain_record_hash(previous_hash, to_jsonb(audit_log.*))
            WHERE seq = 4;""")
    report = _verify(chain_of_10)
    assert (report.ok, report.broken_seq) == (False, 5)
    assert "does not link" in report.reason


def test_a_deleted_last_record_is_caught_by_the_head(chain_of_10):
    _tamper(chain_of_10, "DELETE FROM audit_log WHERE seq = 10")
    report = _verify(chain_of_10)
    assert (report.ok, report.broken_seq) == (False, 10)


def test_a_rewritten_tail_is_caught_by_the_exported_head(chain_of_10):
    with session_scope(chain_of_10) as s:
        exported = audit.export_chain_heads(s)
    # Rewrite record 10 and re-hash it, and move the head too: the chain is self-consistent again.
    _tamper(
        chain_of_10,
        """
        UPDATE audit_log SET details = '{"i": 999}' WHERE seq = 10;
        UPDATE audit_log SET record_hash = chain_record_hash(previous_hash, to_jsonb(audit_log.*)) WHERE seq = 10;
        UPDATE chain_heads SET head_hash = (SELECT record_hash FROM audit_log WHERE seq = 10)
        WHERE chain = 'audit_log';""",
    )
    assert _verify(chain_of_10).ok  # undetectable from inside the database alone...
    with session_scope(chain_of_10) as s:
        problems = audit.check_exported_heads(s, exported)
    assert [(p.chain, p.broken_seq) for p in problems] == [("audit_log", 10)]  # ...but not against the copy


def test_hashes_do_not_depend_on_the_session_time_zone(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL timezone = 'Australia/Sydney'"))
        conn.execute(sa.text("INSERT INTO audit_log (event_type) VALUES ('FROM_SYDNEY')"))
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL timezone = 'America/New_York'"))
        report = conn.execute(sa.text("SELECT ok FROM verify_chain('audit_log', 'audit_log')")).scalar()
    assert report is True


def test_verify_all_chains_is_admin_only_and_covers_every_chain(engine):
    _append(engine, 3)
    with session_scope(engine) as s:
        with pytest.raises(audit.Forbidden):
            audit.verify_all_chains(s, Actor(role="instructor"))
        reports = audit.verify_all_chains(s, ADMIN)
    assert [(r.chain, r.ok, r.checked) for r in reports] == [("audit_log", True, 3)]
