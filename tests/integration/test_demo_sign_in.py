"""One-click demo sign-in: only with the demo school loaded, never in production, only into demo accounts."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.models import AuthSession, User
from nexdrive.services.identity import accounts
from nexdrive.data import seed
from nexdrive.errors import NotFound
from nexdrive.settings import get_settings, reset_settings
from tests.factories import make_user

IP = "203.0.113.9"


@pytest.fixture
def demo_school(engine):
    with session_scope(engine) as s:
        seed.load_demo_data(s)
    return engine


@pytest.fixture
def demo_mode(monkeypatch):
    def set_mode(*, demo: bool = True, environment: str = "development"):
        monkeypatch.setenv("NEXDRIVE_DEMO_DATA", "1" if demo else "0")
        monkeypatch.setenv("NEXDRIVE_ENV", environment)
        reset_settings()
    set_mode()
    yield set_mode
    monkeypatch.delenv("NEXDRIVE_DEMO_DATA", raising=False)
    monkeypatch.delenv("NEXDRIVE_ENV", raising=False)
    reset_settings()


def _sessions(engine) -> int:
    with engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(AuthSession)).scalar_one()


def test_the_settings_flag_is_on_only_with_demo_data_outside_production(demo_mode):
    assert get_settings().demo_sign_in
    demo_mode(demo=False)
    assert not get_settings().demo_sign_in
    demo_mode(demo=True, environment="production")
    assert not get_settings().demo_sign_in


@pytest.mark.parametrize("role", ["admin", "instructor", "student", "parent"])
def test_each_demo_role_signs_in_with_a_server_side_session(demo_school, demo_mode, role):
    email = accounts.DEMO_SIGN_IN_ACCOUNTS[role]
    with session_scope(demo_school) as s:
        issued = accounts.demo_sign_in(s, email=email, ip=IP, user_agent="pytest")
    assert issued.actor.role == role
    with session_scope(demo_school) as s:
        actor = accounts.actor_for_session_token(s, issued.token)
        assert actor.user_id == issued.user_id
        assert s.get(User, actor.user_id).email == email
    if role == "parent":  # the demo parent follows the demo learner
        with session_scope(demo_school) as s:
            me = accounts.get_me(s, actor)
        assert [x["name"] for x in me["parent"]["students"]] == ["Liam Chen"]


@pytest.mark.parametrize("mode", [{"demo": False}, {"demo": True, "environment": "production"}])
def test_demo_sign_in_is_refused_when_demo_mode_is_off(demo_school, demo_mode, mode):
    demo_mode(**mode)
    with pytest.raises(NotFound), session_scope(demo_school) as s:
        accounts.demo_sign_in(s, email=accounts.DEMO_SIGN_IN_ACCOUNTS["admin"])
    assert _sessions(demo_school) == 0


def test_demo_sign_in_refuses_an_account_that_is_not_a_demo_account(demo_school, demo_mode):
    with session_scope(demo_school) as s:
        real_owner, _ = make_user(s, "admin")
        real_email = real_owner.email
    for email in (real_email, f"nobody@{seed.DEMO_EMAIL_DOMAIN}"):
        with pytest.raises(NotFound), session_scope(demo_school) as s:
            accounts.demo_sign_in(s, email=email)
    assert _sessions(demo_school) == 0


def test_the_endpoint_is_404_without_demo_mode_and_signs_in_with_it(demo_school, demo_mode):
    from fastapi.testclient import TestClient

    from nexdrive.http_app import build_api

    client = TestClient(build_api())
    body = {"email": accounts.DEMO_SIGN_IN_ACCOUNTS["instructor"]}
    ok = client.post("/api/v1/auth/demo-sign-in", json=body)
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"]["me"]["user"]["role"] == "instructor"
    assert "nxd_session" in ok.cookies
    demo_mode(demo=False)
    refused = TestClient(build_api()).post("/api/v1/auth/demo-sign-in", json=body)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "NOT_FOUND"


def test_the_sign_in_page_offers_the_demo_buttons_only_in_demo_mode(demo_mode):
    from nexdrive.pages.auth.sign_in import demo_choices

    assert [(c["role"], c["label"]) for c in demo_choices()] == [
        ("admin", "the owner"), ("instructor", "the instructor"), ("student", "a learner"), ("parent", "a parent")]
    demo_mode(demo=False)
    assert demo_choices() == []
    demo_mode(demo=True, environment="production")
    assert demo_choices() == []


def test_run_no_demo_tells_the_app_that_demo_data_is_left_out(demo_mode):
    from nexdrive.cli import app_env

    assert app_env("postgresql://x/y", demo=False)["NEXDRIVE_DEMO_DATA"] == "0"
    assert app_env("postgresql://x/y", demo=True).get("NEXDRIVE_DEMO_DATA") == "1"  # as demo_mode set it


def test_the_docker_image_has_no_demo_sign_in():
    from nexdrive.settings import PROJECT_ROOT

    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "NEXDRIVE_ENV=production" in dockerfile and "NEXDRIVE_DEMO_DATA=0" in dockerfile
    assert "setup --no-demo" in dockerfile
