"""Pages of the production build are served without a trailing-slash redirect; hashed assets are immutable.

Reflex's own production static server (PrecompressedStaticFiles, as ``reflex run --env prod --single-port``
mounts it) on a small build in a temporary folder, wrapped by the app's middleware (issue 17)."""
from __future__ import annotations

import gzip

import pytest
from reflex.utils.precompressed_staticfiles import PrecompressedStaticFiles
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

from nexdrive.api.static_delivery import IMMUTABLE, StaticDelivery

ASSET = "/assets/_book_._index-DHoXPXC4.js"


@pytest.fixture
def client(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "index.html").write_text("<html><body>Book a lesson</body></html>")
    (tmp_path / "index.html").write_text("<html><body>Home</body></html>")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / ASSET.rsplit("/", 1)[1]).write_text("console.log('book')")
    (tmp_path / "assets" / (ASSET.rsplit("/", 1)[1] + ".gz")).write_bytes(gzip.compress(b"console.log('book')"))
    (tmp_path / "robots.txt").write_text("User-agent: *")
    (tmp_path / "404.html").write_text("not found")
    inner = Starlette(routes=[Mount("/", app=PrecompressedStaticFiles(directory=tmp_path, html=True,
                                                                        encodings=["gzip"]))])
    app = StaticDelivery(inner, directory=tmp_path)
    with TestClient(app) as c:
        yield c, inner


def test_a_page_folder_is_served_without_a_redirect(client):
    c, inner = client
    with TestClient(inner) as plain:
        assert plain.get("/book", follow_redirects=False).status_code in (307, 308)  # what Reflex alone does
    r = c.get("/book", follow_redirects=False)
    assert r.status_code == 200 and "Book a lesson" in r.text and r.headers["cache-control"] == "no-cache"
    assert c.get("/book/", follow_redirects=False).status_code == 200
    assert c.get("/", follow_redirects=False).status_code == 200


def test_hashed_assets_are_cached_for_a_year_and_other_files_are_not(client):
    c, _ = client
    r = c.get(ASSET, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["cache-control"] == IMMUTABLE
    assert r.headers["content-encoding"] == "gzip" and r.text == "console.log('book')"
    assert "cache-control" not in c.get("/robots.txt").headers
    assert c.get("/no-such-page", follow_redirects=False).status_code == 404
    assert c.get("/../etc/passwd", follow_redirects=False).status_code == 404
