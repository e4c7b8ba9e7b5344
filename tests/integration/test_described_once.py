"""Result descriptions built once per shape (db._DescribedOnceCursor, issue 17): the same columns psycopg would
give, a new shape described afresh, and every connection of ``make_engine`` using it."""
from __future__ import annotations

import sqlalchemy as sa

from nexdrive import db


def test_connections_of_make_engine_describe_results_once(engine):
    with engine.connect() as conn:
        assert isinstance(conn.connection.dbapi_connection.cursor(), db._DescribedOnceCursor)


def test_the_description_is_psycopgs_own_and_shared_per_shape(engine):
    import psycopg

    sql = "SELECT 1::int AS a, 'x'::varchar(7) AS b, now() AS c"
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        first, second = raw.cursor(), raw.cursor()
        first.execute(sql)
        second.execute(sql)
        plain = psycopg.Cursor(raw)
        plain.execute(sql)
        got = first.description
        assert [tuple(c) for c in got] == [tuple(c) for c in plain.description]  # name, type, sizes, precision...
        assert [c.name for c in got] == ["a", "b", "c"]
        assert got is not second.description and got[0] is second.description[0]  # a new list, the same columns
        first.execute("SET LOCAL work_mem = '4MB'")
        assert first.description is None  # a statement without rows has none, as before


def test_a_changed_shape_is_described_afresh(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TEMP TABLE shape_probe (a int, b text) ON COMMIT DROP"))
        raw = conn.connection.dbapi_connection
        cur = raw.cursor()
        cur.execute("SELECT * FROM shape_probe")
        assert [c.name for c in cur.description] == ["a", "b"]
        conn.execute(sa.text("ALTER TABLE shape_probe ADD COLUMN c date, ALTER COLUMN b TYPE varchar(3)"))
        cur.execute("SELECT * FROM shape_probe")
        assert [(c.name, c.type_code) for c in cur.description] == [
            ("a", 23), ("b", 1043), ("c", 1082)]  # int4, varchar, date: the new shape, not the kept one
        assert cur.description[1].internal_size is None and cur.description[1].display_size == 3


def test_results_through_sqlalchemy_are_unchanged(engine):
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT 2 AS two, 'zwei' AS name")).one()
        assert row._mapping == {"two": 2, "name": "zwei"}
        again = conn.execute(sa.text("SELECT 3 AS two, 'drei' AS name")).one()
        assert again.two == 3 and again.name == "drei"
