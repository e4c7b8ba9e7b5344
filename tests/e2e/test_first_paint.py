"""The first paint no longer waits for the global stylesheet or the scripts (issue 17), in the production build.

Each prerendered public page carries its critical CSS inline; the full Radix stylesheet, the module
preloads and the boot script start after the first paint (``nexdrive/first_paint.py``). In Chromium the
pages are styled by the Radix theme both with the full sheet and with it blocked (the inlined part alone
paints them the same), React hydrates without complaint, and a visitor still books.
"""
from __future__ import annotations

import re

import httpx
import pytest

from nexdrive.services.compliance import hub
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_booking_widget import _sql, fill_details, open_widget, pick_first_time

pytestmark = pytest.mark.e2e

PAGES = ["/", "/book", "/lessons", "/hub", hub.hub_pages()[0].route]
SHEET = "**/__reflex_global_styles-*.css"

STYLE_PROBE = """() => {
  const h1 = document.querySelector('h1');
  const button = document.querySelector('.rt-Button, .rt-BaseButton');
  const root = document.querySelector('.radix-themes');
  const cs = (el) => el ? getComputedStyle(el) : null;
  return {
    h1Weight: cs(h1) && cs(h1).fontWeight, h1Size: cs(h1) && cs(h1).fontSize,
    buttonBg: cs(button) && cs(button).backgroundColor, buttonRadius: cs(button) && cs(button).borderRadius,
    accent: cs(root) && cs(root).getPropertyValue('--accent-9').trim(),
    font: cs(document.body).fontFamily,
    sheets: [...document.querySelectorAll('link[rel=stylesheet]')]
      .filter((l) => l.href.includes('__reflex_global_styles')).map((l) => !!l.sheet),
    booted: !!window.__reactRouterRouteModules,
  };
}"""


@pytest.mark.parametrize("route", PAGES)
def test_the_html_inlines_critical_css_and_fetches_nothing_else_before_the_first_paint(app_server, route):
    html = httpx.get(app_server + route, timeout=30).text
    assert re.search(r"<style data-critical>[^<]*\.rt-", html), "no critical CSS inlined"
    link = re.search(r'<link[^>]*__reflex_global_styles-[^"]+\.css"[^>]*rel="stylesheet"[^>]*>', html).group(0)
    assert "data-nxd-href=" in link and " href=" not in link
    assert re.search(r'<noscript><link href="/assets/__reflex_global_styles[^>]*></noscript>', html)
    assert '<link rel="modulepreload"' not in html and '<script type="module"' not in html
    assert "__nxdBoot" in html


@pytest.mark.parametrize("route", ["/", "/book", "/hub"])
def test_the_pages_are_styled_by_the_theme_with_and_without_the_full_sheet(app_server, browser, route):
    styles = {}
    for mode in ("full", "critical-only"):
        context = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney",
                                      viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        if mode == "critical-only":
            page.route(SHEET, lambda r: r.abort())
        assert page.goto(app_server + route, wait_until="load").status == 200
        page.get_by_role("heading", level=1).first.wait_for(state="visible", timeout=30_000)
        if mode == "full":
            page.wait_for_function("""() => [...document.querySelectorAll('link[rel=stylesheet]')]
                .some((l) => l.href.includes('__reflex_global_styles') && l.sheet)""", timeout=30_000)
        page.wait_for_function("() => !!window.__reactRouterRouteModules", timeout=30_000)
        page.wait_for_timeout(1000)  # hydration and the first state update
        styles[mode] = page.evaluate(STYLE_PROBE)
        page.screenshot(path=str(ARTIFACTS / f"first-paint-{mode}{route.replace('/', '-')}.png"), full_page=False)
        hydration = [e for e in errors if re.search(r"hydrat|#418|#423|#425", e, re.I)]
        assert not hydration, hydration
        context.close()
    full = styles["full"]
    assert full["sheets"] == [True] and full["booted"] and styles["critical-only"]["booted"]
    assert full["accent"] == "#3e63dd"  # the Radix indigo accent, from the theme's tokens
    assert int(full["h1Weight"]) >= 700 and full["font"] and "Times" not in full["font"]
    if full["buttonBg"] is not None:
        assert full["buttonRadius"] != "0px" and full["buttonBg"] != "rgba(0, 0, 0, 0)"
    # The inlined part alone styles the first paint as the full sheet does: no flash of unstyled content.
    for key in ("h1Weight", "h1Size", "buttonBg", "buttonRadius", "accent", "font"):
        assert styles["critical-only"][key] == full[key], (key, styles["critical-only"][key], full[key])


def test_a_visitor_still_books_after_the_css_change(app_server, e2e_db_url, phone_page):
    page = phone_page
    open_widget(page, app_server)
    pick_first_time(page)
    page.locator("[id^='day-']:not([disabled])").nth(5).click()  # a day the other booking tests leave alone
    page.locator("[id^='time-']").last.click()
    fill_details(page, "Fern Firstpaint", "0412555717", "fern.firstpaint@example.com", suburb="Gungahlin")
    page.locator("#details-continue").click()
    page.locator("#confirm-booking").click()
    page.locator("#booking-status").wait_for(timeout=30_000)
    assert page.locator("#booking-status").inner_text() == "Confirmed"
    page.screenshot(path=str(ARTIFACTS / "first-paint-booked.png"), full_page=True)
    assert _sql(e2e_db_url, "SELECT b.status FROM bookings b JOIN contacts c ON c.id = b.contact_id "
                            "WHERE c.email = 'fern.firstpaint@example.com'") == [("confirmed",)]
