"""The owner's content in a browser (issue 16 item 6): the owner writes a blog post, sees the Markdown
preview, publishes it; a visitor reads it on /blog and /blog/<slug> (own title, canonical URL, Article
JSON-LD) and finds it in the RSS feed and the sitemap. A draft never shows. axe-core finds no serious or
critical violations on /blog and /admin/content (phone)."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import httpx
import pytest
import sqlalchemy as sa

from nexdrive import db as nxdb
from nexdrive.models import User
from nexdrive.services.core.actors import SYSTEM
from nexdrive.services.identity import accounts
from nexdrive.services.identity.passwords import hash_password
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import check
from tests.e2e.test_auth_flows import sign_in

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "e2e-content-admin@example.com"
TITLE = "Reverse parallel parking in five steps"
SLUG = "reverse-parallel-parking-in-five-steps"


@pytest.fixture(scope="module")
def owner(e2e_db_url):
    engine = nxdb.make_engine(e2e_db_url, poolclass=sa.pool.NullPool)
    try:
        with nxdb.session_scope(engine) as s:
            inv = accounts.create_staff_account(s, SYSTEM, email=ADMIN_EMAIL, role="admin", first_name="Cora",
                                                last_name="Content")
            user = s.get(User, inv.user_id)
            user.password_hash = hash_password(PASSWORD)
            s.add(user)
    finally:
        engine.dispose()
    return ADMIN_EMAIL


def _shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"content-{name}.png"), full_page=True)


def _write_post(page, *, title: str, status: str) -> None:
    before = page.locator("#post-form").get_attribute("data-version")
    page.locator("#post-new").click()
    # The editor remounts empty (a new data-version) before anything is typed into it.
    page.wait_for_function(f"document.querySelector('#post-form').dataset.version !== '{before}'", timeout=15_000)
    page.get_by_label("Title").fill(title)
    page.get_by_label("Category").fill("Parking")
    page.get_by_label("Summary").fill("A calm method for the parking task that worries most learners.")
    body = page.get_by_label("Post (Markdown)")
    body.fill("## Step one\n\nStop **beside** the car in front.\n\n- check mirrors\n- signal\n\n<b>raw</b>")
    preview = page.locator("#post-preview")
    preview.locator("h2", has_text="Step one").wait_for(timeout=15_000)
    assert preview.locator("strong", has_text="beside").count() == 1
    assert preview.locator("li").count() == 2
    assert preview.locator("b").count() == 0 and "<b>raw</b>" in preview.inner_text()  # HTML shown as text
    page.locator("#post_status").select_option(status)
    page.locator("#post-save").click()


def test_the_owner_publishes_a_post_and_a_visitor_reads_it_and_finds_it_in_the_feed(app_server, owner,
                                                                                   phone_page, browser):
    page = phone_page
    sign_in(page, app_server, owner, PASSWORD)
    page.wait_for_url(re.compile(r"^https?://[^/]+/admin/?$"), timeout=30_000)
    page.goto(app_server + "/admin/content")
    page.locator("#post-new").wait_for(timeout=30_000)
    # A draft first: saved, but nowhere public.
    try:
        _write_post(page, title="A draft nobody sees yet", status="draft")
        page.locator("#content-notice", has_text="draft").wait_for(timeout=30_000)
        _write_post(page, title=TITLE, status="published")
        page.locator("#content-notice", has_text="Published").wait_for(timeout=30_000)
    finally:
        _shot(page, "0-admin-editor")
    _shot(page, "1-admin-published")
    check(page, "admin-content")

    visitor = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney",
                                  viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    visitor.goto(app_server + "/blog")
    card = visitor.locator(".blog-post-card", has_text=TITLE)
    card.wait_for(timeout=30_000)
    assert visitor.locator(".blog-post-card", has_text="A draft nobody sees yet").count() == 0
    check(visitor, "blog")
    visitor.get_by_role("link", name=TITLE, exact=True).click()
    visitor.wait_for_url(re.compile(rf"/blog/{SLUG}/?$"), timeout=30_000)
    visitor.get_by_role("heading", level=1, name=TITLE).wait_for(timeout=30_000)
    visitor.locator("#blog-post-body h2", has_text="Step one").wait_for()
    visitor.wait_for_function("document.title.startsWith('Reverse parallel parking')", timeout=15_000)
    canonical = visitor.locator("link[rel=canonical]").first.get_attribute("href")
    assert canonical.endswith(f"/blog/{SLUG}")
    article = json.loads(visitor.locator("#blog-post-structured-data").text_content())
    assert article["@type"] == "Article" and article["headline"] == TITLE
    _shot(visitor, "2-visitor-post")
    # Straight to the address (no client-side navigation): the page answers 200 and renders the post.
    direct = httpx.get(f"{app_server}/blog/{SLUG}")
    assert direct.status_code == 200
    visitor.goto(f"{app_server}/blog/a-draft-nobody-sees-yet")
    visitor.get_by_role("heading", level=1, name="Post not found").wait_for(timeout=30_000)

    rss = httpx.get(app_server + "/blog/rss.xml")
    assert rss.status_code == 200
    items = ET.fromstring(rss.content).findall("./channel/item")
    assert [i.findtext("title") for i in items] == [TITLE]
    assert items[0].findtext("link").endswith(f"/blog/{SLUG}")
    sitemap = httpx.get(app_server + "/sitemap.xml").text
    locs = {re.sub(r"^https?://[^/]+", "", loc) for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap)}
    assert f"/blog/{SLUG}" in locs and "/blog" in locs and "/faq" in locs
    assert "/blog/a-draft-nobody-sees-yet" not in locs
    visitor.context.close()
