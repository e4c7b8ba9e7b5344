"""Page registry: every page of the app, with its route, title and description.

``nexdrive/nexdrive.py`` calls :func:`register_pages` once on the ``rx.App``.
``PAGES`` is also what tests iterate to check that every page builds.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from nexdrive.pages.account import settings as account_settings
from nexdrive.pages.admin import dashboard as admin_dashboard
from nexdrive.pages.auth import forgot_password, magic_link, reset_password, sign_in, sign_out, sign_up
from nexdrive.pages.booking import book
from nexdrive.pages.instructor import availability as instructor_availability
from nexdrive.pages.instructor import dashboard as instructor_dashboard
from nexdrive.pages.parent import accept as parent_accept
from nexdrive.pages.parent import dashboard as parent_dashboard
from nexdrive.pages.public import home, legal, lessons
from nexdrive.pages.student import dashboard as student_dashboard
from nexdrive.pages.student import family as student_family


@dataclass(frozen=True)
class PageSpec:
    route: str
    component: Callable[[], rx.Component]
    title: str
    description: str
    on_load: tuple = ()  # event handlers run when the page loads (route guards first)


PAGES: tuple[PageSpec, ...] = (
    PageSpec(home.ROUTE, home.home_page, home.TITLE, home.DESCRIPTION),
    PageSpec(lessons.ROUTE, lessons.lessons_page, lessons.TITLE, lessons.DESCRIPTION),
    PageSpec(book.ROUTE, book.book_page, book.TITLE, book.DESCRIPTION),
    PageSpec(sign_in.ROUTE, sign_in.sign_in_page, sign_in.TITLE, sign_in.DESCRIPTION, tuple(sign_in.ON_LOAD)),
    PageSpec(sign_up.ROUTE, sign_up.sign_up_page, sign_up.TITLE, sign_up.DESCRIPTION, tuple(sign_up.ON_LOAD)),
    PageSpec(forgot_password.ROUTE, forgot_password.forgot_password_page, forgot_password.TITLE,
             forgot_password.DESCRIPTION, tuple(forgot_password.ON_LOAD)),
    PageSpec(reset_password.ROUTE, reset_password.reset_password_page, reset_password.TITLE,
             reset_password.DESCRIPTION, tuple(reset_password.ON_LOAD)),
    PageSpec(magic_link.ROUTE, magic_link.magic_link_page, magic_link.TITLE, magic_link.DESCRIPTION,
             tuple(magic_link.ON_LOAD)),
    PageSpec(sign_out.ROUTE, sign_out.sign_out_page, sign_out.TITLE, sign_out.DESCRIPTION, tuple(sign_out.ON_LOAD)),
    PageSpec(account_settings.ROUTE, account_settings.account_page, account_settings.TITLE,
             account_settings.DESCRIPTION, tuple(account_settings.ON_LOAD)),
    PageSpec(student_family.ROUTE, student_family.family_page, student_family.TITLE, student_family.DESCRIPTION,
             tuple(student_family.ON_LOAD)),
    PageSpec(parent_accept.ROUTE, parent_accept.accept_page, parent_accept.TITLE, parent_accept.DESCRIPTION,
             tuple(parent_accept.ON_LOAD)),
    PageSpec(
        student_dashboard.ROUTE,
        student_dashboard.student_dashboard_page,
        student_dashboard.TITLE,
        student_dashboard.DESCRIPTION,
        tuple(student_dashboard.ON_LOAD),
    ),
    PageSpec(
        parent_dashboard.ROUTE,
        parent_dashboard.parent_dashboard_page,
        parent_dashboard.TITLE,
        parent_dashboard.DESCRIPTION,
        tuple(parent_dashboard.ON_LOAD),
    ),
    PageSpec(
        instructor_dashboard.ROUTE,
        instructor_dashboard.instructor_dashboard_page,
        instructor_dashboard.TITLE,
        instructor_dashboard.DESCRIPTION,
        tuple(instructor_dashboard.ON_LOAD),
    ),
    PageSpec(instructor_availability.ROUTE, instructor_availability.availability_page, instructor_availability.TITLE,
             instructor_availability.DESCRIPTION, tuple(instructor_availability.ON_LOAD)),
    PageSpec(
        admin_dashboard.ROUTE,
        admin_dashboard.admin_dashboard_page,
        admin_dashboard.TITLE,
        admin_dashboard.DESCRIPTION,
        tuple(admin_dashboard.ON_LOAD),
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
            on_load=list(page.on_load) or None,
        )


__all__ = ["PAGES", "PageSpec", "register_pages"]
