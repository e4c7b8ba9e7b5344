"""create-owner: a fresh install without demo data gets its first administrator, who sets
a password through a one-time link. Service and CLI, on a real PostgreSQL."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.models import MagicLink, Profile, User
from nexdrive.services.identity import accounts
from nexdrive.errors import InvalidState, ValidationFailed
from nexdrive.settings import reset_settings
from tests.factories import make_user


def _admins(engine) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(sa.select(User.email).where(User.role == "admin")).scalars())


def test_the_first_owner_is_an_admin_with_a_one_time_set_password_link(engine):
    with session_scope(engine) as s:
        created = accounts.create_owner(s, email=" Jordan@Example.com.au ", name="Jordan  Ellis")
    assert _admins(engine) == ["jordan@example.com.au"]
    assert created.link.endswith(accounts.RESET_LINK_PATH + created.token)
    with session_scope(engine) as s:
        profile = s.exec(select(Profile).where(Profile.user_id == created.user_id)).one()
        assert (profile.first_name, profile.last_name, profile.role) == ("Jordan", "Ellis", "admin")
        assert s.get(User, created.user_id).password_hash is None
        link = s.exec(select(MagicLink).where(MagicLink.user_id == created.user_id)).one()
        assert link.purpose == "invite"
    # The link sets the password once and signs the owner in.
    with session_scope(engine) as s:
        issued = accounts.reset_password(s, created.token, "bottlebrush dawn chorus")
    assert issued.actor.role == "admin"
    with session_scope(engine) as s:
        assert accounts.sign_in(s, email="jordan@example.com.au", password="bottlebrush dawn chorus").user_id
    with pytest.raises(accounts.LinkInvalid), session_scope(engine) as s:
        accounts.reset_password(s, created.token, "another password here")


def test_a_second_owner_is_refused_unless_forced(engine):
    with session_scope(engine) as s:
        accounts.create_owner(s, email="first@example.com.au", name="First Owner")
    with pytest.raises(InvalidState, match="already"), session_scope(engine) as s:
        accounts.create_owner(s, email="second@example.com.au", name="Second Owner")
    assert _admins(engine) == ["first@example.com.au"]
    with session_scope(engine) as s:
        accounts.create_owner(s, email="second@example.com.au", name="Second Owner", force=True)
    assert sorted(_admins(engine)) == ["first@example.com.au", "second@example.com.au"]


def test_create_owner_refuses_a_taken_email_and_a_bad_name_even_when_forced(engine):
    with session_scope(engine) as s:
        user, _ = make_user(s, "student")
        taken = user.email
    with pytest.raises(accounts.EmailTaken), session_scope(engine) as s:
        accounts.create_owner(s, email=taken, name="Some One", force=True)
    for name in ("", "Cher"):
        with pytest.raises(ValidationFailed), session_scope(engine) as s:
            accounts.create_owner(s, email="owner@example.com.au", name=name)
    assert _admins(engine) == []


@pytest.fixture
def cli_env(db_url, engine, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("PUBLIC_URL", "https://book.example.com.au")
    reset_settings()
    yield
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.delenv("PUBLIC_URL")
    reset_settings()


def test_the_cli_creates_the_owner_and_prints_the_link(cli_env, engine, capsys):
    from nexdrive.cli import main

    assert main(["create-owner", "--email", "owner@example.com.au", "--name", "Jordan Ellis"]) == 0
    out = capsys.readouterr().out
    match = re.search(r"https://book\.example\.com\.au/reset-password\?token=([A-Za-z0-9_-]{43})", out)
    assert match, out
    assert "owner@example.com.au" in out
    assert _admins(engine) == ["owner@example.com.au"]
    with session_scope(engine) as s:
        assert accounts.reset_password(s, match.group(1), "bottlebrush dawn chorus").actor.role == "admin"
    # A second run is refused (exit 1, nothing created) unless --force.
    assert main(["create-owner", "--email", "other@example.com.au", "--name", "Alex Other"]) == 1
    assert "already" in capsys.readouterr().out
    assert _admins(engine) == ["owner@example.com.au"]


def test_the_dockerfile_and_readme_tell_how_to_create_the_owner():
    from nexdrive.settings import PROJECT_ROOT

    assert "python -m nexdrive.cli create-owner" in (PROJECT_ROOT / "Dockerfile").read_text()
    readme = (PROJECT_ROOT / "README.md").read_text()
    deploying = readme[readme.index("## Deploying"):]
    assert "python -m nexdrive.cli create-owner --email" in deploying
    assert "manage.py create-owner" in deploying
