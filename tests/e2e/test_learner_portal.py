"""The learner's portal in a real browser against the production build with the demo school.

A learner (the demo's Liam Chen) reads their map at phone and desktop sizes and sees why Review 1 is
locked; logs a supervised drive with the timer (its start survives a reload: it is in localStorage) and
sees the night minutes the service computed; does a self-assessment, which the instructor then sees and
marks reviewed. Each page passes axe-core (no serious/critical violations) and every control is at least
44x44 px on a phone. Screenshots go to test-artifacts/portal-*.png.
"""
from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_accessibility import check
from tests.e2e.test_newcomer import demo_sign_in

pytestmark = pytest.mark.e2e

SMALL_TAPS = """(root) => {
  const out = [];
  const scope = document.querySelector(root) || document;
  for (const el of scope.querySelectorAll('button, a, input:not([type=radio]):not([type=checkbox]), ' +
                                          'select, textarea, label:has(> input[type=radio]), ' +
                                          'label:has(> input[type=checkbox])')) {
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (!r.width || !r.height || cs.visibility === 'hidden' || cs.display === 'none') continue;
    if (r.width < 43.5 || r.height < 43.5) out.push((el.id || el.className || el.tagName) + ' ' +
      Math.round(r.width) + 'x' + Math.round(r.height) + ' ' + (el.innerText || '').slice(0, 30));
  }
  return out; }"""


def _taps_ok(page, name: str) -> None:
    small = page.evaluate(SMALL_TAPS, "#portal-page")
    assert small == [], f"{name}: tap targets under 44x44 px: {small}"


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


def _map_says_why_review_1_is_locked(page) -> str:
    page.locator("#progress-map .map-tile").first.wait_for(timeout=30_000)
    assert page.locator("#progress-map .map-tile").count() == 25
    review = page.locator("#progress-map .map-tile[data-task='101']")
    assert review.get_attribute("data-state") == "locked"
    reason = review.locator(".map-reason").inner_text()
    assert reason.startswith("Review 1 opens 36 hours after every task it covers is competent"), reason
    count = page.locator("#progress-count").inner_text()
    done, total = (int(x) for x in re.findall(r"\d+", count))
    assert total == 23 and done == page.locator("#progress-map .map-tile[data-state='competent']").count()
    assert page.locator("#progress-map .map-tile[data-state='next']").count() >= 1
    return reason


def test_the_learner_reads_the_map_on_a_desktop(app_server, page):
    demo_sign_in(page, app_server, "student")
    _map_says_why_review_1_is_locked(page)
    page.locator("#hours-total").wait_for()
    _shot(page, "home-desktop")


def test_the_learner_portal_on_a_phone(app_server, phone_page, browser):
    page = phone_page
    base = app_server
    demo_sign_in(page, base, "student")
    _map_says_why_review_1_is_locked(page)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
    check(page, "portal-home")
    _taps_ok(page, "home")
    _shot(page, "home-phone")

    # The booking widget says why Review 1 can't be booked before any time is offered.
    page.goto(base + "/book?service=review-1")
    gate = page.locator("#booking-gate")
    gate.wait_for(timeout=30_000)
    assert "Review 1 can be booked once" in gate.inner_text()
    assert page.locator("[id^='time-']").count() == 0
    _shot(page, "book-review-1-locked")

    # The log book: a drive with the timer, kept across a reload.
    page.goto(base + "/student/logbook")
    page.locator("#timer-start").click()
    page.locator("#drive-timer-label").wait_for(timeout=15_000)
    stored = page.evaluate("localStorage.getItem('nxd_drive_timer')")
    assert stored
    page.reload()
    page.locator("#drive-timer-label").wait_for(timeout=30_000)  # still running after a reload
    assert page.evaluate("localStorage.getItem('nxd_drive_timer')") == stored
    check(page, "portal-logbook-timer")
    _taps_ok(page, "logbook timer")
    # pretend the drive started 50 minutes ago, then stop it
    page.evaluate("localStorage.setItem('nxd_drive_timer', new Date(Date.now() - 50 * 60000).toISOString())")
    page.reload()
    page.locator("#timer-stop").click()
    page.locator("#drive-form").wait_for(timeout=15_000)
    assert page.locator("#drive-start").input_value() and page.locator("#drive-end").input_value()
    assert page.locator("#drive-supervisor").input_value() != "other"  # the linked parent by default
    page.locator("#drive-licence").fill("ACT 4455667")
    page.locator("label[for='road-residential']").click()
    check(page, "portal-logbook-form")
    _taps_ok(page, "logbook form")
    page.locator("#drive-save").click()
    message = page.locator("#logbook-message")
    message.wait_for(timeout=30_000)
    assert re.search(r"Drive saved: (49|50) min, of which at night: ", message.inner_text()), message.inner_text()
    assert page.locator("#drive-list .drive-row").count() >= 1
    assert page.evaluate("localStorage.getItem('nxd_drive_timer')") is None
    _shot(page, "logbook-phone")
    # typed afterwards, with an inline error first
    page.locator("#drive-add").click()
    page.locator("#drive-supervisor").select_option("other")
    page.locator("#drive-save").click()
    page.locator("#drive-day-error").filter(has_text="Choose the day").wait_for(timeout=15_000)
    pdf = page.request.get(base + page.locator("#logbook-pdf").get_attribute("href"))
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")

    # Lessons: comments, both signatures.
    page.goto(base + "/student/lessons")
    page.locator("#lesson-list .lesson-item").first.wait_for(timeout=30_000)
    first = page.locator("#lesson-list .lesson-item").first
    assert first.locator("img[alt^='Instructor']").count() == 1
    check(page, "portal-lessons")
    _taps_ok(page, "lessons")

    # Self-assessment before Review 1: rate every task, save.
    page.goto(base + "/student/self-assessment")
    page.locator("#sa-tasks .sa-task").first.wait_for(timeout=30_000)
    page.locator("#sa-submit").click()
    page.locator("#sa-error").wait_for(timeout=15_000)  # every task must be rated
    check(page, "portal-self-assessment")
    _taps_ok(page, "self-assessment")
    tasks = page.locator("#sa-tasks .sa-task")
    for i in range(tasks.count()):
        n = tasks.nth(i).get_attribute("data-task")
        page.locator(f"label[for='conf-{n}-{2 if n == '15' else 4}']").click()
    page.locator("#note-15").fill("Reverse parallel parking still scares me")
    page.locator("#sa-submit").click()
    page.locator("#sa-message").wait_for(timeout=30_000)
    assert page.locator("#sa-history .sa-history-row").count() >= 1
    _shot(page, "self-assessment-phone")

    # The instructor sees it and marks it reviewed.
    context = browser.new_context(locale="en-AU", timezone_id="Australia/Sydney",
                                  viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        staff = context.new_page()
        demo_sign_in(staff, base, "instructor")
        staff.goto(base + "/instructor/self-assessments")
        card = staff.locator("#sa-review-list .sa-review[data-learner='Liam Chen']").first
        card.wait_for(timeout=30_000)
        assert "Reverse parallel parking still scares me" in card.inner_text()
        check(staff, "portal-instructor-self-assessments")
        _taps_ok(staff, "instructor self-assessments")
        card.locator(".sa-mark").click()
        staff.locator("#sa-review-message").wait_for(timeout=30_000)
        assert staff.locator("#sa-review-list .sa-review[data-learner='Liam Chen']").count() == 0
    finally:
        context.close()
    page.goto(base + "/student/self-assessment")
    page.locator("#sa-history .sa-history-row").first.filter(has_text="Reviewed by your instructor").wait_for(
        timeout=30_000)


LAYOUT_SHIFTS = """window.__nxdShifts = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput)
  window.__nxdShifts.push({v: e.value, who: (e.sources || []).map(s => s.node ? s.node.nodeName + '#' +
                                                                   (s.node.id || '') : '?').join(',')}); })
  .observe({type: 'layout-shift', buffered: true});"""


@pytest.mark.parametrize("role, path, ready", [("student", "/student", "#progress-map .map-tile"),
                                               ("parent", "/parent", "#selected-learner"),
                                               ("student", "/book", "#booking-as")])
def test_a_signed_in_page_does_not_jump_when_its_data_arrives(app_server, phone_page, role, path, ready):
    """The shell paints before the learner's data; nothing in view may be pushed about when it arrives (the
    footer was: layout shift 0.72 on /student on a phone, Lighthouse's CLS)."""
    page = phone_page
    demo_sign_in(page, app_server, role)
    page.add_init_script(LAYOUT_SHIFTS)
    page.goto(app_server + path)
    page.locator(ready).first.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # late state, fonts
    shifts = page.evaluate("window.__nxdShifts")
    assert sum(s["v"] for s in shifts) < 0.1, shifts
