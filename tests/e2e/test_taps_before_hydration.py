"""A tap made after the first paint but before React has hydrated the page is not lost (nexdrive/first_paint.py).

The page's JavaScript is held back by the test (every ``/assets/*.js`` request waits), so the page is
painted from the server's HTML and its inline CSS but nothing is hydrated. The phone menu is tapped and the
chat button activated from the keyboard in that state; then the scripts are released, React hydrates, and
the held taps are replayed: the menu drawer and the chat open.
"""
from __future__ import annotations

from tests.e2e.conftest import ARTIFACTS


class HeldScripts:
    """Holds every JavaScript asset request of a page until :meth:`release`."""

    def __init__(self, page):
        self.page, self.held, self.released = page, [], False
        page.route("**/assets/*.js", self._handle)

    def _handle(self, route):
        if self.released:
            route.continue_()
        else:
            self.held.append(route)

    def release(self):
        self.released = True
        for route in self.held:
            route.continue_()
        self.held.clear()


def _painted_not_hydrated(page, selector: str):
    button = page.locator(selector)
    button.wait_for(state="visible", timeout=30_000)
    hydrated = page.evaluate(
        "s => Object.keys(document.querySelector(s)).some(k => k.startsWith('__reactProps$'))", selector)
    assert not hydrated, "the scripts were held back: nothing can be hydrated yet"
    return button


def test_the_phone_menu_tapped_before_hydration_opens_once_the_scripts_arrive(app_server, phone_page):
    page = phone_page
    scripts = HeldScripts(page)
    page.goto(app_server + "/", wait_until="domcontentloaded")
    button = _painted_not_hydrated(page, "#mobile-menu-button")
    button.tap()
    assert button.get_attribute("aria-busy") == "true"  # held, shown as busy
    assert page.get_by_role("dialog").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "taps-before-hydration-phone.png"))
    page.wait_for_timeout(500)
    assert scripts.held, "the page asked for its scripts"
    scripts.release()
    drawer = page.get_by_role("dialog")
    drawer.get_by_role("link", name="Lessons & pricing").wait_for(timeout=30_000)
    assert button.get_attribute("aria-busy") is None
    drawer.get_by_role("button", name="Close menu").click()
    drawer.wait_for(state="hidden", timeout=10_000)


def test_the_chat_button_pressed_before_hydration_opens_the_chat(app_server, phone_page):
    page = phone_page
    scripts = HeldScripts(page)
    page.goto(app_server + "/lessons", wait_until="domcontentloaded")
    button = _painted_not_hydrated(page, "#chat-button")
    button.focus()
    page.keyboard.press("Enter")  # a keyboard activation is a click too
    button.tap()  # a second, impatient tap is not a second toggle
    assert button.get_attribute("aria-busy") == "true"
    page.wait_for_timeout(500)
    scripts.release()
    page.locator("#chat-input").wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    assert page.locator("#chat-input").is_visible()  # still open: the repeated tap was not replayed


def test_the_page_loads_the_purged_stylesheet_only_before_emotions_styles(app_server, page):
    """The full sheet the page loads after the paint is the build's purged copy; React's own links (the built
    sheet's address) are hydrated in place without loading it, and nothing is appended after Emotion's styles."""
    css: list[str] = []
    page.on("request", lambda r: css.append(r.url) if ".css" in r.url else None)
    page.goto(app_server + "/book")
    page.locator("#service-standard-60").wait_for(timeout=60_000)
    page.wait_for_function("() => Object.keys(document.querySelector('h1')).some(k => k.startsWith('__reactProps$'))",
                           timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert len(css) == 1 and "/assets/__reflex_global_styles-nxd" in css[0], css
    assert page.evaluate("() => [...document.styleSheets].filter(s => s.href).map(s => s.href)") == css
    links = page.evaluate("""() => [...document.querySelectorAll('link[href*="__reflex_global_styles"]')]
        .map(l => [l.rel, l.hasAttribute('data-nxd-purged'), l.disabled, l.media])""")
    assert links == [["preload", False, False, "not all"], ["stylesheet", True, False, ""],
                     ["stylesheet", False, True, ""]], links
    before_emotion = page.evaluate("""() => !!(document.querySelector('link[data-nxd-purged]')
        .compareDocumentPosition(document.querySelector('style[data-emotion]')) & Node.DOCUMENT_POSITION_FOLLOWING)""")
    assert before_emotion
