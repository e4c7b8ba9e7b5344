"""Sign-up does not reveal whether an account exists; the password lockout leaves the magic link open.
Real PostgreSQL, over the API."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from nexdrive.db import session_scope
from nexdrive.models import OutboxMessage, User
from nexdrive.services.identity import accounts
from tests.factories import make_instructor
from nexdrive.http_app import build_api

PASSWORD = "kangaroo paddock sunrise"


@pytest.fixture
def client(engine):
    with session_scope(engine) as s:
        make_instructor(s)
        accounts.sign_up_student(s, email="owner@example.com", password=PASSWORD, first_name="Olive",
                                 last_name="Owner")
    with TestClient(build_api(), client=("203.0.113.20", 40000)) as c:
        yield c


def emails(engine, to, template=None):
    with session_scope(engine) as s:
        q = select(OutboxMessage).where(OutboxMessage.recipient == to)
        if template:
            q = q.where(OutboxMessage.template == template)
        return [(m.template, m.subject, m.body) for m in s.exec(q.order_by(OutboxMessage.created_at))]


def sign_up(client, email, password="another long passphrase"):
    return client.post("/api/v1/auth/sign-up", json={"email": email, "password": password,
                                                     "first_name": "Eve", "last_name": "Prober"})


def test_sign_up_with_an_existing_email_answers_exactly_like_a_new_one(client, engine):
    new = sign_up(client, "brand.new@example.com")
    taken = sign_up(client, "Owner@Example.com")
    assert new.status_code == taken.status_code == 202
    assert new.json() == taken.json()
    assert "set-cookie" not in new.headers and "set-cookie" not in taken.headers
    assert set(new.headers.keys()) == set(taken.headers.keys())
    # the existing account is untouched: the old password still works, the prober's doesn't
    with session_scope(engine) as s:
        owner = s.exec(select(User).where(User.email == "owner@example.com")).one()
        assert s.execute(sa.text("SELECT count(*) FROM users WHERE lower(email) = 'owner@example.com'")).scalar() == 1
        assert accounts.sign_in(s, email="owner@example.com", password=PASSWORD).user_id == owner.id


def test_the_owner_is_told_someone_tried_and_how_to_get_in(client, engine):
    sign_up(client, "owner@example.com")
    [(template, subject, body)] = emails(engine, "owner@example.com")
    assert template == "sign_up_existing_account" and "tried" in subject.lower()
    assert "already have one" in body and "/sign-in" in body and "/forgot-password" in body
    assert "token=" not in body  # nothing that signs anyone in travels in a mail the prober triggered


def test_a_new_learner_confirms_by_the_emailed_link_and_is_signed_in(client, engine):
    assert sign_up(client, "brand.new@example.com").status_code == 202
    [(template, _, body)] = emails(engine, "brand.new@example.com")
    assert template == "sign_up_welcome"
    token = re.search(r"token=([A-Za-z0-9_-]+)", body)[1]
    r = client.post("/api/v1/auth/magic-link/consume", json={"token": token})
    assert r.status_code == 200 and r.json()["data"]["me"]["user"]["email"] == "brand.new@example.com"
    with session_scope(engine) as s:
        assert s.exec(select(User).where(User.email == "brand.new@example.com")).one().email_verified_at is not None
    # and they can sign in with the password they chose
    assert client.post("/api/v1/auth/sign-in", json={"email": "brand.new@example.com",
                                                     "password": "another long passphrase"}).status_code == 200


def test_input_errors_are_the_same_for_new_and_existing_emails(client):
    weak_new = sign_up(client, "brand.new@example.com", password="short")
    weak_taken = sign_up(client, "owner@example.com", password="short")
    assert weak_new.status_code == weak_taken.status_code == 422
    assert weak_new.json() == weak_taken.json()


def test_five_wrong_passwords_from_anyone_lock_password_sign_in_but_not_the_magic_link(engine):
    with session_scope(engine) as s:
        make_instructor(s)
        accounts.sign_up_student(s, email="owner@example.com", password=PASSWORD, first_name="Olive",
                                 last_name="Owner")
    api = build_api()
    for n in range(5):  # five different attackers
        with TestClient(api, client=(f"198.51.100.{n + 1}", 40000)) as attacker:
            r = attacker.post("/api/v1/auth/sign-in", json={"email": "owner@example.com", "password": f"guess {n}"})
            assert r.status_code == 401
    with TestClient(api, client=("203.0.113.20", 40000)) as owner:
        locked = owner.post("/api/v1/auth/sign-in", json={"email": "owner@example.com", "password": PASSWORD})
        assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 15 * 60
        message = locked.json()["error"]["message"]
        assert "link sent to your email" in message and "15 minutes" in message
        # the owner asks for a sign-in link and uses it: the lockout doesn't block that path
        assert owner.post("/api/v1/auth/magic-link", json={"email": "owner@example.com"}).status_code == 202
        [(_, _, body)] = emails(engine, "owner@example.com", "magic_link")
        token = re.search(r"token=([A-Za-z0-9_-]+)", body)[1]
        signed_in = owner.post("/api/v1/auth/magic-link/consume", json={"token": token})
        assert signed_in.status_code == 200, signed_in.text
        assert owner.get("/api/v1/me").json()["data"]["user"]["email"] == "owner@example.com"
        # the password lockout itself still stands for its 15 minutes
        again = TestClient(api, client=("198.51.100.9", 40000)).post(
            "/api/v1/auth/sign-in", json={"email": "owner@example.com", "password": PASSWORD})
        assert again.status_code == 429
