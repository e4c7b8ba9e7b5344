"""The Competency Hub: 25 pages from the data files, each with its own title, description and slug, in the
page registry with a sitemap entry; the content API (architecture §4.2.11) answers in the envelope."""
from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from nexdrive.http_app import build_api
from nexdrive.pages import PAGES
from nexdrive.pages.public import hub as hub_page
from nexdrive.services.compliance import hub

CATALOGUE = json.loads(hub.CATALOGUE_FILE.read_text(encoding="utf-8"))["tasks"]


def test_25_pages_each_with_its_own_title_description_and_four_sections():
    pages = hub.hub_pages()
    assert len(pages) == 25
    assert sorted(p.task_number for p in pages) == sorted(t["task_number"] for t in CATALOGUE)
    assert len({p.title for p in pages}) == 25 and len({p.description for p in pages}) == 25
    assert len({p.slug for p in pages}) == 25
    for p in pages:
        assert 20 <= len(p.title) <= 70, p.title
        assert 100 <= len(p.description) <= 160, p.description
        assert [k for k, _ in hub.SECTIONS if p.sections.get(k)] == ["what", "assessed", "mistakes", "help"], p.slug
        assert all(r != p.task_number for r in p.related)


def test_slugs_follow_the_catalogue():
    names = {t["task_number"]: t["name"] for t in CATALOGUE}
    assert hub.hub_slug(7) == "task-7-turns-left-and-right"
    assert hub.hub_slug(14) == "task-14-right-angle-front-on-parking"
    assert hub.hub_slug(101) == "review-1" and hub.hub_slug(102) == "review-2"
    assert hub.hub_path(20) == "/hub/task-20-observation-hazard-recognition"
    for number, name in names.items():
        assert hub.hub_slug(number) == hub.hub_slug(number, name)
        if number < 100:
            assert re.fullmatch(rf"task-{number}-[a-z0-9]+(-[a-z0-9]+)*", hub.hub_slug(number))
    assert hub.hub_page("review-2").task_number == 102 and hub.hub_page("7").slug == hub.hub_slug(7)


def test_every_hub_page_is_registered_with_its_title_and_a_sitemap_entry():
    by_route = {p.route: p for p in PAGES}
    assert by_route["/hub"].sitemap is not None
    titles = set()
    for page in hub.hub_pages():
        spec = by_route[page.route]
        assert spec.sitemap is not None
        assert spec.title.startswith(page.title) and spec.description == page.description
        titles.add(spec.title)
    assert len(titles) == 25


def test_structured_data_and_documents():
    page = hub.hub_page(hub.hub_slug(12))
    data = json.loads(hub_page.page_structured_data(page))
    article, crumbs = data["@graph"]
    assert article["headline"] == "Task 12: Give way" and article["description"] == page.description
    assert crumbs["itemListElement"][-1]["item"].endswith(page.route)
    docs = hub.hub_documents()
    assert len(docs) == 25 and docs[0][0] == hub.hub_slug(1)
    assert all("How a supervising driver can help" in text for _, _, text in docs)


@pytest.fixture
def client():
    return TestClient(build_api())


def test_content_api_lists_and_reads_the_hub(client):
    listing = client.get("/api/v1/content/competency-hub")
    assert listing.status_code == 200
    items = listing.json()["data"]
    assert len(items) == 25 and items[0]["slug"] == hub.hub_slug(1)
    one = client.get(f"/api/v1/content/competency-hub/{hub.hub_slug(13)}").json()["data"]
    assert one["name"] == "Reversing" and [s["key"] for s in one["sections"]][0] == "what"
    assert {r["task_number"] for r in one["related"]} >= {14, 15}
    assert client.get("/api/v1/content/competency-hub/101").json()["data"]["slug"] == "review-1"
    missing = client.get("/api/v1/content/competency-hub/task-99-flying")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"
