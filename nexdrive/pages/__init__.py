"""Page registry: every page of the app, with its route, title and description.

``nexdrive/nexdrive.py`` calls :func:`register_pages` once on the ``rx.App``.
``PAGES`` is also what tests iterate to check that every page builds.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from nexdrive.pages.account import notifications as account_notifications
from nexdrive.pages.account import settings as account_settings
from nexdrive.pages.admin import audit as admin_audit
from nexdrive.pages.admin import content as admin_content
from nexdrive.pages.admin import dashboard as admin_dashboard
from nexdrive.pages.admin import contacts as admin_contacts
from nexdrive.pages.admin import figures as admin_figures
from nexdrive.pages.admin import inbox as admin_inbox
from nexdrive.pages.admin import knowledge as admin_knowledge
from nexdrive.pages.admin import instructors as admin_instructors
from nexdrive.pages.admin import reports as admin_reports
from nexdrive.pages.admin import services as admin_services
from nexdrive.pages.admin import settings as admin_settings
from nexdrive.pages.admin import students as admin_students
from nexdrive.pages.admin import mailbox as admin_mailbox
from nexdrive.pages.admin import outbox as admin_outbox
from nexdrive.pages.admin import packages as admin_packages
from nexdrive.pages.admin import payments as admin_payments
from nexdrive.pages.auth import forgot_password, magic_link, reset_password, sign_in, sign_out, sign_up
from nexdrive.pages.booking import book, manage, pay_result
from nexdrive.pages.instructor import availability as instructor_availability
from nexdrive.pages.instructor import bookings as instructor_bookings
from nexdrive.pages.instructor import dashboard as instructor_dashboard
from nexdrive.pages.instructor import lesson as instructor_lesson
from nexdrive.pages.instructor import learner as instructor_learner
from nexdrive.pages.student import bridge_form
from nexdrive.pages.parent import accept as parent_accept
from nexdrive.pages.parent import dashboard as parent_dashboard
from nexdrive.pages.public import about, contact, faq, home, legal, lessons, not_found, testimonials
from nexdrive.pages.public import blog as public_blog
from nexdrive.pages.public import hub as public_hub
from nexdrive.pages.student import dashboard as student_dashboard
from nexdrive.pages.student import family as student_family
from nexdrive.state.inbox import InboxState
from nexdrive.pages.student import payments as student_payments
from nexdrive.pages.student import lessons as student_lessons
from nexdrive.pages.student import logbook as student_logbook
from nexdrive.pages.student import self_assessment as student_self_assessment
from nexdrive.pages.instructor import self_assessments as instructor_self_assessments


@dataclass(frozen=True)
class PageSpec:
    route: str
    component: Callable[[], rx.Component]
    title: str
    description: str
    on_load: tuple = ()  # event handlers run when the page loads (route guards first)
    # Listed in /sitemap.xml with these options (e.g. priority, changefreq); None = not listed.
    sitemap: dict[str, Any] | None = None


PAGES: tuple[PageSpec, ...] = (
    PageSpec(home.ROUTE, home.home_page, home.TITLE, home.DESCRIPTION, sitemap=home.SITEMAP),
    PageSpec(lessons.ROUTE, lessons.lessons_page, lessons.TITLE, lessons.DESCRIPTION, tuple(lessons.ON_LOAD),
             sitemap=lessons.SITEMAP),
    PageSpec(book.ROUTE, book.book_page, book.TITLE, book.DESCRIPTION, tuple(book.ON_LOAD), sitemap={"priority": 0.9}),
    PageSpec(manage.CONFIRMED_ROUTE, manage.confirmed_page, manage.CONFIRMED_TITLE, manage.CONFIRMED_DESCRIPTION,
             tuple(manage.ON_LOAD)),
    PageSpec(manage.MANAGE_ROUTE, manage.manage_page, manage.MANAGE_TITLE, manage.MANAGE_DESCRIPTION,
             tuple(manage.ON_LOAD)),
    PageSpec(pay_result.ROUTE, pay_result.pay_result_page, pay_result.TITLE, pay_result.DESCRIPTION,
             tuple(pay_result.ON_LOAD)),
    PageSpec(about.ROUTE, about.about_page, about.TITLE, about.DESCRIPTION, tuple(about.ON_LOAD),
             sitemap=about.SITEMAP),
    PageSpec(faq.ROUTE, faq.faq_page, faq.TITLE, faq.DESCRIPTION, tuple(faq.ON_LOAD), sitemap=faq.SITEMAP),
    PageSpec(contact.ROUTE, contact.contact_page, contact.TITLE, contact.DESCRIPTION, tuple(contact.ON_LOAD),
             sitemap=contact.SITEMAP),
    PageSpec(testimonials.ROUTE, testimonials.testimonials_page, testimonials.TITLE, testimonials.DESCRIPTION,
             sitemap=testimonials.SITEMAP),
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
    PageSpec(account_notifications.ROUTE, account_notifications.notifications_page, account_notifications.TITLE,
             account_notifications.DESCRIPTION, tuple(account_notifications.ON_LOAD)),
    PageSpec(student_family.ROUTE, student_family.family_page, student_family.TITLE, student_family.DESCRIPTION,
             tuple(student_family.ON_LOAD)),
    PageSpec(student_payments.ROUTE, student_payments.student_payments_page, student_payments.TITLE,
             student_payments.DESCRIPTION, tuple(student_payments.ON_LOAD)),
    PageSpec(student_payments.PACKAGES_ROUTE, student_payments.packages_redirect_page, student_payments.PACKAGES_TITLE,
             student_payments.PACKAGES_DESCRIPTION, tuple(student_payments.PACKAGES_ON_LOAD)),
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
    PageSpec(instructor_bookings.ROUTE, instructor_bookings.instructor_bookings_page, instructor_bookings.TITLE,
             instructor_bookings.DESCRIPTION, tuple(instructor_bookings.ON_LOAD)),
    PageSpec(instructor_lesson.ROUTE, instructor_lesson.lesson_page, instructor_lesson.TITLE,
             instructor_lesson.DESCRIPTION, tuple(instructor_lesson.ON_LOAD)),
    PageSpec(instructor_learner.ROUTE, instructor_learner.learner_page, instructor_learner.TITLE,
             instructor_learner.DESCRIPTION, tuple(instructor_learner.ON_LOAD)),
    PageSpec(bridge_form.ROUTE, bridge_form.bridge_form_page, bridge_form.TITLE, bridge_form.DESCRIPTION,
             tuple(bridge_form.ON_LOAD)),
    PageSpec(
        admin_dashboard.ROUTE,
        admin_dashboard.admin_dashboard_page,
        admin_dashboard.TITLE,
        admin_dashboard.DESCRIPTION,
        tuple(admin_dashboard.ON_LOAD),
    ),
    PageSpec(admin_figures.ROUTE, admin_figures.figure_list_page, admin_figures.TITLE, admin_figures.DESCRIPTION,
             tuple(admin_figures.ON_LOAD)),
    PageSpec(admin_students.ROUTE, admin_students.students_page, admin_students.TITLE, admin_students.DESCRIPTION,
             tuple(admin_students.ON_LOAD)),
    PageSpec(admin_students.VIEW_ROUTE, admin_students.learner_page, admin_students.VIEW_TITLE,
             admin_students.VIEW_DESCRIPTION, tuple(admin_students.VIEW_ON_LOAD)),
    PageSpec(admin_instructors.ROUTE, admin_instructors.instructors_page, admin_instructors.TITLE,
             admin_instructors.DESCRIPTION, tuple(admin_instructors.ON_LOAD)),
    PageSpec(admin_instructors.VIEW_ROUTE, admin_instructors.instructor_page, admin_instructors.VIEW_TITLE,
             admin_instructors.VIEW_DESCRIPTION, tuple(admin_instructors.VIEW_ON_LOAD)),
    PageSpec(admin_settings.ROUTE, admin_settings.settings_page, admin_settings.TITLE, admin_settings.DESCRIPTION,
             tuple(admin_settings.ON_LOAD)),
    PageSpec(admin_reports.ROUTE, admin_reports.reports_page, admin_reports.TITLE, admin_reports.DESCRIPTION,
             tuple(admin_reports.ON_LOAD)),
    PageSpec(admin_services.ROUTE, admin_services.services_page, admin_services.TITLE, admin_services.DESCRIPTION,
             tuple(admin_services.ON_LOAD)),
    PageSpec(admin_contacts.ROUTE, admin_contacts.contacts_page, admin_contacts.TITLE, admin_contacts.DESCRIPTION,
             tuple(admin_contacts.ON_LOAD)),
    PageSpec(admin_contacts.VIEW_ROUTE, admin_contacts.contact_page, admin_contacts.VIEW_TITLE,
             admin_contacts.VIEW_DESCRIPTION, tuple(admin_contacts.VIEW_ON_LOAD)),
    PageSpec(admin_outbox.ROUTE, admin_outbox.outbox_page, admin_outbox.TITLE, admin_outbox.DESCRIPTION,
             tuple(admin_outbox.ON_LOAD)),
    PageSpec(admin_audit.ROUTE, admin_audit.audit_page, admin_audit.TITLE, admin_audit.DESCRIPTION,
             tuple(admin_audit.ON_LOAD)),
    PageSpec(admin_mailbox.ROUTE, admin_mailbox.mailbox_page, admin_mailbox.TITLE, admin_mailbox.DESCRIPTION,
             tuple(admin_mailbox.ON_LOAD)),
    PageSpec(admin_inbox.ROUTE, admin_inbox.inbox_page, admin_inbox.TITLE, admin_inbox.DESCRIPTION,
             tuple(admin_inbox.ON_LOAD)),
    PageSpec(admin_knowledge.ROUTE, admin_knowledge.knowledge_page, admin_knowledge.TITLE,
             admin_knowledge.DESCRIPTION, tuple(admin_knowledge.ON_LOAD)),
    PageSpec(admin_payments.ROUTE, admin_payments.admin_payments_page, admin_payments.TITLE,
             admin_payments.DESCRIPTION, tuple(admin_payments.ON_LOAD)),
    PageSpec(admin_packages.ROUTE, admin_packages.admin_packages_page, admin_packages.TITLE,
             admin_packages.DESCRIPTION, tuple(admin_packages.ON_LOAD)),
    PageSpec(student_lessons.ROUTE, student_lessons.student_lessons_page, student_lessons.TITLE,
             student_lessons.DESCRIPTION, tuple(student_lessons.ON_LOAD)),
    PageSpec(student_logbook.ROUTE, student_logbook.logbook_page, student_logbook.TITLE,
             student_logbook.DESCRIPTION, tuple(student_logbook.ON_LOAD)),
    PageSpec(student_self_assessment.ROUTE, student_self_assessment.self_assessment_page,
             student_self_assessment.TITLE, student_self_assessment.DESCRIPTION,
             tuple(student_self_assessment.ON_LOAD)),
    PageSpec(instructor_self_assessments.ROUTE, instructor_self_assessments.self_assessments_page,
             instructor_self_assessments.TITLE, instructor_self_assessments.DESCRIPTION,
             tuple(instructor_self_assessments.ON_LOAD)),
    PageSpec(legal.TERMS_ROUTE, legal.terms_page, legal.TERMS_TITLE, legal.TERMS_DESCRIPTION, tuple(legal.ON_LOAD),
             sitemap=legal.SITEMAP),
    PageSpec(legal.PRIVACY_ROUTE, legal.privacy_page, legal.PRIVACY_TITLE, legal.PRIVACY_DESCRIPTION,
             tuple(legal.ON_LOAD), sitemap=legal.SITEMAP),
    PageSpec(public_hub.ROUTE, public_hub.hub_index_page, public_hub.TITLE, public_hub.DESCRIPTION,
             tuple(public_hub.ON_LOAD), sitemap=public_hub.SITEMAP),
    *(PageSpec(route, component, title, description, tuple(public_hub.ON_LOAD), sitemap=public_hub.PAGE_SITEMAP)
      for route, component, title, description in public_hub.page_specs()),
    PageSpec(public_blog.ROUTE, public_blog.blog_page, public_blog.TITLE, public_blog.DESCRIPTION,
             tuple(public_blog.ON_LOAD), sitemap=public_blog.SITEMAP),
    # Each published post is added to /sitemap.xml by the API (nexdrive/api/content.py); title per post.
    PageSpec(public_blog.POST_ROUTE, public_blog.post_page, public_blog.BlogPostState.page_title,
             public_blog.BlogPostState.page_description, tuple(public_blog.POST_ON_LOAD)),
    PageSpec(admin_content.ROUTE, admin_content.content_page, admin_content.TITLE, admin_content.DESCRIPTION,
             tuple(admin_content.ON_LOAD)),
    PageSpec(not_found.ROUTE, not_found.not_found_page, not_found.TITLE, not_found.DESCRIPTION,
             tuple(not_found.ON_LOAD)),
)


def register_pages(app: rx.App) -> None:
    """Add every page to ``app``; each page load also refreshes the header bell's unread count."""
    for page in PAGES:
        app.add_page(
            page.component,
            route=page.route,
            title=page.title,
            description=page.description,
            on_load=[*page.on_load, InboxState.refresh],
            # Only the public pages belong in the sitemap; sign-in, dashboards and account pages don't.
            context={"sitemap": page.sitemap},
        )


__all__ = ["PAGES", "PageSpec", "register_pages"]
