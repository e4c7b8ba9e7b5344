"""Images on the public pages are sized in the HTML and lazy below the fold (issue 17), in the production build.

The server-rendered HTML itself carries the logo's width and height (the browser reserves its box before
any CSS arrives) and the footer's copy loads lazily; in the browser the pages still render at that size.
"""
from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.e2e

PAGES = ["/", "/book", "/lessons"]


@pytest.mark.parametrize("route", PAGES)
def test_the_logo_is_sized_in_the_html_and_lazy_in_the_footer(app_server, route):
    html = httpx.get(app_server + route, timeout=30).text
    logos = re.findall(r'<img[^>]*src="/logo.svg"[^>]*>', html)
    assert len(logos) == 2, logos  # the header's and the footer's
    header, footer = logos
    assert 'width="36"' in header and 'height="36"' in header and 'loading="eager"' in header
    assert 'width="32"' in footer and 'height="32"' in footer and 'loading="lazy"' in footer


@pytest.mark.parametrize("route", PAGES)
def test_the_page_renders_with_the_logo_at_its_size(app_server, phone_page, route):
    assert phone_page.goto(app_server + route).status == 200
    phone_page.get_by_role("heading", level=1).first.wait_for(state="visible", timeout=30_000)
    box = phone_page.locator('header img[src="/logo.svg"]').first.bounding_box()
    assert box is not None and round(box["width"]) == 36 and round(box["height"]) == 36
