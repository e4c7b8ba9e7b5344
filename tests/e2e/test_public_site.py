"""The public website against the production build: every page, prices from the database, the enquiry form,
the sitemap, and phone layouts."""
from __future__ import annotations

import json
import random
import re
from xml.etree import ElementTree

import httpx
import pytest
import sqlalchemy as sa

from nexdrive.pages.public import about, contact, faq, home, legal, lessons, testimonials
from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

PUBLIC_PAGES = {
    "/": (home.TITLE, home.DESCRIPTION),
    "/lessons": (lessons.TITLE, lessons.DESCRIPTION),
    "/about": (about.TITLE, about.DESCRIPTION),
    "/faq": (faq.TITLE, faq.DESCRIPTION),
    "/contact": (contact.TITLE, contact.DESCRIPTION),
    "/testimonials": (testimonials.TITLE, testimonials.DESCRIPTION),
    "/terms": (legal.TERMS_TITLE, legal.TERMS_DESCRIPTION),
    "/privacy": (legal.PRIVACY_TITLE, legal.PRIVACY_DESCRIPTION),
}


def _name(route: str) -> str:
    return route.strip("/") or "home"


def _settle(pg, route: str) -> None:
    """Wait for the page's h1 and for the data the page loads."""
    pg.get_by_role("heading", level=1).first.wait_for(state="visible", timeout=30_000)
    if route == "/lessons":
        pg.locator(".service-card").first.wait_for(timeout=30_000)
    pg.wait_for_timeout(300)


def test_titles_and_descriptions_are_unique():
    titles = [t for t, _ in PUBLIC_PAGES.values()]
    descriptions = [d for _, d in PUBLIC_PAGES.values()]
    assert len(set(titles)) == len(titles)
    assert len(set(descriptions)) == len(descriptions)
    assert all(50 <= len(d) <= 200 for d in descriptions)


@pytest.mark.parametrize("route", list(PUBLIC_PAGES))
def test_every_public_page_renders_with_its_title_and_description(app_server, page, route):
    title, description = PUBLIC_PAGES[route]
    response = page.goto(app_server + route)
    assert response.status == 200
    _settle(page, route)
    assert page.get_by_role("heading", level=1).count() == 1
    assert page.title() == title
    assert page.locator('meta[name="description"]').first.get_attribute("content") == description
    assert page.locator("main#main-content").count() == 1
    assert page.get_by_role("navigation", name="Main").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / f"public-{_name(route)}-desktop.png"), full_page=True)


def test_lessons_lists_the_seeded_services_with_prices_and_book_links(app_server, page):
    page.goto(app_server + "/lessons")
    cards = page.locator(".service-card")
    cards.first.wait_for(timeout=30_000)
    assert page.locator("#lessons-loading").count() == 0
    standard = page.locator(".service-card[data-slug='standard-60']")
    assert "Learner lesson (60 min)" in standard.inner_text()
    assert "$105.00" in standard.locator(".service-price").inner_text()
    assert "$195.00" in page.locator(".service-card[data-slug='double-120']").inner_text()
    # Grouped by category, with an h2 per group.
    for label in ("Driving lessons", "CBT&A reviews and final drive", "Coaching for supervising drivers"):
        assert page.get_by_role("heading", level=2, name=label).is_visible()
    # Each card books that service.
    link = standard.locator("a.book-service")
    assert link.get_attribute("href").endswith("/book?service=standard-60")
    hrefs = [a.get_attribute("href") for a in page.locator("a.book-service").all()]
    assert len(hrefs) == cards.count() >= 7
    assert all("?service=" in h for h in hrefs)
    # The policy from business_settings (the reference data: 24 hours, no fee, not GST-registered).
    page.locator("#cancellation-policy").wait_for(timeout=30_000)
    assert "24 hours before it starts" in page.locator("#cancellation-policy").inner_text()
    assert "no GST is added" in page.locator("#gst-note").inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/book\?service=standard-60$"), timeout=15_000)


def test_about_page_reads_the_owner_instructor(app_server, page):
    page.goto(app_server + "/about")
    page.get_by_role("heading", level=2, name="Hi, I'm Rob").wait_for(timeout=30_000)
    assert "Toyota Corolla Hybrid" in page.locator("main").inner_text()
    assert "Dual-control automatic Corolla" in page.locator("#instructor-bio").inner_text()
    assert "CBTA-1187" not in page.content()  # no accreditation numbers on the website


def test_faq_accordion_and_structured_data(app_server, page):
    page.goto(app_server + "/faq")
    question = page.get_by_role("button", name="How many supervised hours do I need?")
    question.wait_for(timeout=30_000)
    assert question.get_attribute("aria-expanded") == "false"
    question.click()
    assert question.get_attribute("aria-expanded") == "true"
    assert page.get_by_text("including at least 10 hours at night").is_visible()
    data = json.loads(page.locator("#faq-structured-data").text_content())
    assert data["@type"] == "FAQPage"
    names = [q["name"] for q in data["mainEntity"]]
    assert "Do lessons with an instructor count towards my hours?" in names
    assert "Keys2drive" not in page.content()
    # The cancellation answer quotes the configured notice.
    page.get_by_role("button", name=faq.CANCELLATION_QUESTION).click()
    page.get_by_text("free of charge up to 24 hours before it starts").wait_for(timeout=30_000)


def test_terms_quote_the_configured_cancellation_policy(app_server, page):
    page.goto(app_server + "/terms")
    policy = page.locator("#terms-cancellation")
    policy.wait_for(timeout=30_000)
    page.wait_for_function("document.querySelector('#terms-cancellation').innerText.includes('24 hours')",
                           timeout=30_000)
    assert "Coming soon" not in page.locator("main").inner_text()
    page.goto(app_server + "/privacy")
    page.get_by_role("heading", level=2, name="What parents can see").wait_for(timeout=30_000)
    assert "Australian Privacy Principles" in page.locator("main").inner_text()


def test_contact_form_shows_inline_errors_then_records_the_enquiry(app_server, page, e2e_db_url):
    mobile = "04" + "".join(random.choices("0123456789", k=8))
    page.goto(app_server + "/contact?utm_source=newsletter&utm_medium=email&utm_campaign=e2e-spring")
    page.locator("#contact-form[data-ready='true']").wait_for(timeout=30_000)

    page.locator("#contact-submit").click()
    name_error = page.locator("#contact-name-error")
    name_error.wait_for(state="visible", timeout=30_000)
    assert "your name" in name_error.inner_text()
    assert page.locator("#contact-name").get_attribute("aria-invalid") == "true"

    page.get_by_label("Your name").fill("Riley Tran")
    page.get_by_label("Phone number").fill("12345")
    page.get_by_label("Your message").fill("Do you pick up from Ngunnawal? Weekday afternoons suit me.")
    page.locator("#contact-submit").click()
    phone_error = page.locator("#contact-phone-error")
    phone_error.wait_for(state="visible", timeout=30_000)
    assert "Australian phone number" in phone_error.inner_text()
    assert not page.locator("#contact-name-error").is_visible()
    page.screenshot(path=str(ARTIFACTS / "public-contact-errors.png"), full_page=True)

    page.get_by_label("Phone number").fill(f"{mobile[:4]} {mobile[4:7]} {mobile[7:]}")
    page.locator("#contact-submit").click()
    success = page.locator("#contact-success")
    success.wait_for(timeout=30_000)
    assert "Thanks, Riley" in success.inner_text()
    page.screenshot(path=str(ARTIFACTS / "public-contact-sent.png"), full_page=True)

    engine = sa.create_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT first_name, last_name, source, lifecycle_stage, utm_source, utm_medium, utm_campaign, id "
                "FROM contacts WHERE phone = :p"), {"p": "+61" + mobile[1:]}).one()
            mail = conn.execute(sa.text("SELECT count(*) FROM outbox_messages WHERE contact_id = :c"),
                                {"c": row.id}).scalar_one()
    finally:
        engine.dispose()
    assert (row.first_name, row.last_name, row.source, row.lifecycle_stage) == ("Riley", "Tran", "website", "lead")
    assert (row.utm_source, row.utm_medium, row.utm_campaign) == ("newsletter", "email", "e2e-spring")
    assert mail == 1


def test_sitemap_lists_the_public_pages_only(app_server):
    response = httpx.get(app_server + "/sitemap.xml")
    assert response.status_code == 200
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ElementTree.fromstring(response.content).findall("s:url/s:loc", ns)]
    paths = {re.sub(r"^https?://[^/]+", "", loc).rstrip("/") or "/" for loc in locs}
    assert set(PUBLIC_PAGES) <= paths
    assert "/book" in paths
    for private in ("/admin", "/student", "/parent", "/instructor", "/sign-in", "/account", "/reset-password"):
        assert private not in paths


@pytest.mark.parametrize("route", list(PUBLIC_PAGES))
def test_public_pages_fit_a_phone(app_server, phone_page, route):
    phone_page.goto(app_server + route)
    _settle(phone_page, route)
    overflow = phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{route} scrolls sideways by {overflow}px on a 390px phone"
    phone_page.screenshot(path=str(ARTIFACTS / f"public-{_name(route)}-phone.png"), full_page=True)


def test_header_fits_a_tablet(app_server, browser):
    context = browser.new_context(locale="en-AU", viewport={"width": 768, "height": 1024})
    pg = context.new_page()
    try:
        pg.goto(app_server + "/faq")
        _settle(pg, "/faq")
        assert pg.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
        nav = pg.get_by_role("navigation", name="Main").first
        for label in ("Lessons & pricing", "About", "FAQ", "Contact"):
            assert nav.get_by_role("link", name=label, exact=True).is_visible()
        book = nav.get_by_role("link", name="Book now")
        assert book.bounding_box()["height"] < 40  # one line, not wrapped
        pg.screenshot(path=str(ARTIFACTS / "public-faq-tablet.png"))
    finally:
        context.close()


def test_phone_menu_reaches_the_new_pages(app_server, phone_page):
    phone_page.goto(app_server + "/")
    phone_page.locator("#home-hero").wait_for(state="visible", timeout=30_000)
    phone_page.get_by_role("button", name="Open menu").click()
    # The drawer's link: until the drawer hides the page from assistive technology (an effect after it
    # opens) the home page's "Read more testimonials" matches a loose name too.
    phone_page.get_by_role("dialog").get_by_role("link", name="Testimonials", exact=True).click()
    phone_page.wait_for_url("**/testimonials", timeout=15_000)
    phone_page.get_by_role("heading", level=1, name="What learners and parents say").wait_for(timeout=30_000)
