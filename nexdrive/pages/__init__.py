"""Page registry: every page of the app, with its route, title and description.

``nexdrive/nexdrive.py`` calls :func:`register_pages` once on the ``rx.App``.
``PAGES`` is also what tests iterate to check that every page builds.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from nexdrive.pages.admin import dashboard as admin_dashboard
from nexdrive.pages.auth import sign_in
from nexdrive.pages.booking import book
from nexdrive.pages.instructor import dashboard as instructor_dashboard
from nexdrive.pages.parent import dashboard as parent_dashboard
from nexdrive.pages.public import home, legal, lessons
from nexdrive.pages.student import dashboard as student_dashboard


@dataclass(frozen=True)
class PageSpec:
    route: str
    component: Callable[[], rx.Component]
    title: str
    description: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec(home.ROUTE, home.home_page, home.TITLE, home.DESCRIPTION),
    PageSpec(lessons.ROUTE, lessons.lessons_page, lessons.TITLE, lessons.DESCRIPTION),
    PageSpec(book.ROUTE, book.book_page, book.TITLE, book.DESCRIPTION),
    PageSpec(sign_in.ROUTE, sign_in.sign_in_page, sign_in.TITLE, sign_in.DESCRIPTION),
    PageSpec(
        student_dashboard.ROUTE,
        student_dashboard.student_dashboard_page,
        student_dashboard.TITLE,
        student_dashboard.DESCRIPTION,
    ),
    PageSpec(
        parent_dashboard.ROUTE,
        parent_dashboard.parent_dashboard_page,
        parent_dashboard.TITLE,
        parent_dashboard.DESCRIPTION,
    ),
    PageSpec(
        instructor_dashboard.ROUTE,
        instructor_dashboard.instructor_dashboard_page,
        instructor_dashboard.TITLE,
        instructor_dashboard.DESCRIPTION,
    ),
    PageSpec(
        admin_dashboard.ROUTE,
        admin_dashboard.admin_dashboard_page,
        admin_dashboard.TITLE,
        admin_dashboard.DESCRIPTION,
    ),
    PageSpec(legal.TERMS_ROUTE, legal.terms_page, legal.TERMS_TITLE, legal.TERMS_DESCRIPTION),
    PageSpec(legal.PRIVACY_ROUTE, legal.privacy_page, legal.PRIVACY_TITLE, legal.PRIVACY_DESCRIPTION),
)


def register_pages(app: rx.App) -> None:
    """Add every page to ``app``."""
    for page in PAGES:
        app.add_page(
            page.component,
            route=page.route,
            title=page.title,
            description=page.description,
        )


__all__ = ["PAGES", "PageSpec", "register_pages"]
