"""The public home page, /ping and the health endpoint, against the production build."""
from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e


def test_ping_and_health_answer(app_server):
    assert httpx.get(app_server + "/ping").json() == "pong"
    health = httpx.get(app_server + "/api/v1/health").json()
    assert health["status"] == "ok"
    assert health["database"]["status"] == "ok"
    assert health["database"]["migration"]  # the schema is at a real revision
    assert health["adapters"]["payments"]["mode"] == "offline"


def test_home_page_renders_with_booking_call_to_action(app_server, page):
    page.goto(app_server + "/")
    hero = page.locator("#home-hero")
    hero.wait_for(state="visible", timeout=30_000)
    assert "NexDrive" in page.title()
    assert page.get_by_role("heading", level=1).first.is_visible()
    book = page.locator("#hero-book")
    assert book.is_visible()
    assert "Book a lesson" in book.inner_text()
    page.screenshot(path=str(ARTIFACTS / "home-desktop.png"), full_page=True)
    book.click()
    page.wait_for_url("**/book**", timeout=15_000)
    assert page.get_by_role("heading", level=1).first.is_visible()


def test_home_page_navigation_on_a_phone(app_server, phone_page):
    phone_page.goto(app_server + "/")
    phone_page.locator("#home-hero").wait_for(state="visible", timeout=30_000)
    # No horizontal scrolling on a phone.
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    phone_page.screenshot(path=str(ARTIFACTS / "home-phone.png"), full_page=True)


def test_phone_menu_reaches_the_booking_page(app_server, phone_page):
    phone_page.goto(app_server + "/")
    phone_page.locator("#home-hero").wait_for(state="visible", timeout=30_000)
    phone_page.get_by_role("button", name="Open menu").click()
    # The drawer's own link: until the drawer's effect hides the page behind it, the hero's "Book a lesson"
    # matches too (and the drawer's overlay covers it).
    phone_page.get_by_role("dialog").get_by_role("link", name="Book a lesson").click()
    phone_page.wait_for_url("**/book**", timeout=15_000)
    # Waits: the drawer closes as the route changes, and until it has, the page behind it is aria-hidden.
    phone_page.get_by_role("heading", level=1, name="Book a driving lesson").wait_for(state="visible",
                                                                                      timeout=15_000)


@pytest.mark.parametrize("route", ["/lessons", "/student", "/parent", "/instructor", "/admin", "/sign-in",
                                   "/terms", "/privacy"])
def test_every_area_of_the_shell_renders_with_navigation(app_server, page, route):
    response = page.goto(app_server + route)
    assert response.status == 200
    heading = page.get_by_role("heading", level=1).first
    heading.wait_for(state="visible", timeout=30_000)
    assert page.get_by_role("navigation", name="Main").first.is_visible()
    assert "NexDrive" in page.title()
