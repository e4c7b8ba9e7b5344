"""Terms ``/terms`` and privacy ``/privacy``: plain-English text; the policy numbers come from the database."""
from __future__ import annotations

from collections.abc import Sequence

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import page_header, page_section
from nexdrive.state.policy import PolicyState

TERMS_ROUTE = brand.ROUTE_TERMS
TERMS_TITLE = "Terms and conditions | NexDrive Academy"
TERMS_DESCRIPTION = (
    "The terms for booking and taking driving lessons with NexDrive Academy in Canberra: bookings, payment, "
    "cancellations, lesson conduct, safety, packages and vouchers, and complaints."
)

PRIVACY_ROUTE = brand.ROUTE_PRIVACY
PRIVACY_TITLE = "Privacy policy | NexDrive Academy"
PRIVACY_DESCRIPTION = (
    "How NexDrive Academy collects, uses, shares and protects the personal information of learner drivers, "
    "parents and supervising drivers, in line with the Australian Privacy Principles."
)
SITEMAP = {"priority": 0.3, "changefreq": "yearly"}
LAST_UPDATED = "November 2026"

ON_LOAD = [PolicyState.load_policy]


def _p(*children, **props) -> rx.Component:
    return rx.text(*children, as_="p", size="3", color=rx.color("gray", 12), line_height="1.7", **props)


def _ul(*items) -> rx.Component:
    return rx.el.ul(
        *[rx.el.li(rx.text(*(i if isinstance(i, tuple) else (i,)), as_="span", size="3"), margin_bottom="0.375rem")
          for i in items],
        padding_left="1.25rem",
        margin="0",
        color=rx.color("gray", 12),
        line_height="1.6",
    )


def _policy_p(text: rx.Var, **props) -> rx.Component:
    return rx.skeleton(_p(text, **props), loading=~PolicyState.policy_loaded, width="100%", min_height="1.7rem")


def _section(key: str, title: str, *body: rx.Component) -> rx.Component:
    heading_id = f"{key}"
    return rx.el.section(
        rx.heading(title, as_="h2", id=heading_id, size=rx.breakpoints(initial="5", sm="6"),
                   color=rx.color("gray", 12), margin_bottom="0.75rem", scroll_margin_top="5rem"),
        rx.vstack(*body, spacing="3", align="start", width="100%"),
        aria_labelledby=heading_id,
        width="100%",
    )


def _document(sections: Sequence[tuple[str, str, tuple]], label: str) -> rx.Component:
    return page_section(
        rx.grid(
            rx.el.nav(
                rx.text("On this page", as_="p", size="1", weight="bold", color=rx.color("gray", 11),
                        text_transform="uppercase", letter_spacing="0.06em", margin_bottom="0.5rem"),
                rx.el.ol(
                    *[rx.el.li(rx.link(title, href=f"#{key}", size="2"), margin_bottom="0.375rem")
                      for key, title, _ in sections],
                    padding_left="1.25rem",
                    margin="0",
                ),
                aria_label=f"{label} contents",
                position=["static", "static", "static", "sticky"],
                top="5rem",
            ),
            rx.vstack(
                *[_section(key, title, *body) for key, title, body in sections],
                rx.text(f"Last updated {LAST_UPDATED}.", as_="p", size="2", color=rx.color("gray", 11)),
                spacing="7",
                width="100%",
                max_width="46rem",
                min_width="0",
            ),
            grid_template_columns=["1fr", "1fr", "1fr", "14rem minmax(0, 1fr)"],
            gap=["1.5rem", "2rem", "2rem", "3rem"],
            align_items="start",
        ),
    )


def _contact_us() -> rx.Component:
    email = brand.contact_email()
    return _p("Call ", rx.link(brand.phone_display(), href=brand.phone_href(), id="legal-phone"), " or email ",
              rx.link(email, href="mailto:" + email, word_break="break-all", id="legal-email"), ".")


# ------------------------------------------------------------------ terms


def _terms_sections() -> list[tuple[str, str, tuple]]:
    return [
        ("about-terms", "About these terms", (
            _p("These terms apply when you book or take a driving lesson with ", PolicyState.business_name,
               rx.cond(PolicyState.abn != "", " (ABN " + PolicyState.abn + ")", ""),
               ", a driving school in Canberra, ACT. By booking you agree to them. If the learner is under 18, "
               "the parent or guardian who books or pays agrees to them on the learner's behalf."),
            _p("Nothing in these terms takes away your rights under the Australian Consumer Law, including the "
               "right to services provided with due care and skill."),
        )),
        ("bookings", "Bookings", (
            _ul(rx.text(PolicyState.confirmation_terms, as_="span", id="terms-confirmation"),
                "While you pay online we hold the time for you for a short while; if payment isn't completed, the "
                "time is released.",
                "The learner must hold a current ACT learner licence (or another licence that lets them drive "
                "with an instructor) for every lesson on the road.",
                "CBT&A reviews and the final drive can only be booked once the log book shows the learner is "
                "eligible. The final drive needs at least two business days' notice to the ACT government and is "
                "never on a Sunday or ACT public holiday."),
        )),
        ("payment", "Prices and payment", (
            _p("Prices are shown on our ", rx.link("Lessons & pricing", href=brand.ROUTE_LESSONS, underline="always"),
               " page and at the time you book. The price you book at is the price you pay."),
            _policy_p(PolicyState.gst_note),
            _policy_p(PolicyState.payment_terms, id="terms-payment"),
            _p("We send a receipt or invoice by email. We never see or store your full card number: card payments "
               "are handled by our payment provider."),
        )),
        ("cancellations", "Cancelling and rescheduling", (
            _policy_p(PolicyState.cancellation, id="terms-cancellation"),
            rx.cond(PolicyState.late_cancellation != "",
                    _policy_p(PolicyState.late_cancellation, id="terms-late-cancellation")),
            _p("A lesson that can't go ahead because the learner doesn't have their licence, or isn't fit to drive, "
               "is treated as a late cancellation."),
            _p("If we need to cancel, or a lesson can't go ahead safely because of the weather, road closures or "
               "the car, we'll tell you as early as we can and you can choose a new time or a full refund for that "
               "lesson."),
        )),
        ("conduct", "Before and during a lesson", (
            _ul("Bring your current learner licence to every lesson; we check it before you drive.",
                "Learner drivers must have a zero blood alcohol level, and must not drive affected by drugs or "
                "medication that affects driving.",
                "Wear comfortable, secure shoes, and your glasses or contact lenses if your licence requires them.",
                "Phones stay away while you drive.",
                "Please treat your instructor with respect; we'll do the same for you. We may end a lesson if a "
                "learner or passenger behaves in a threatening or abusive way."),
        )),
        ("safety", "Safety", (
            _p("Lessons are in a dual-control car. The instructor may use the dual controls, give directions, "
               "change the route or end a lesson early whenever that is needed to keep the learner, the instructor "
               "and other road users safe. If we end a lesson early for safety reasons outside your control, we "
               "will offer you the unused time in a later lesson."),
            _p("Passengers other than a parent or supervising driver need our agreement before the lesson."),
        )),
        ("assessments", "Log book and assessments", (
            _p("We teach and assess the ACT competency-based training and assessment (CBT&A) tasks in line with "
               "the scheme. Your instructor decides, honestly and in line with the scheme's standards, whether a "
               "task is competent. A task is never taught and assessed in the same lesson."),
            _p("Signed log book records cannot be changed afterwards. If something needs correcting, a correction "
               "is added as a new, linked record."),
        )),
        ("packages", "Packages and gift vouchers", (
            _ul("If you buy a prepaid package, each lesson uses one credit and your account shows what is left.",
                "Unused lessons in a package can be refunded on request, less the lessons already taken.",
                "Gift vouchers are valid for at least three years from the date of purchase, as Australian law "
                "requires, and the expiry date is shown on the voucher.",
                "Vouchers can't be exchanged for cash, except where the law requires a refund."),
        )),
        ("complaints", "Questions and complaints", (
            _p("If you're unhappy with anything, please tell us first so we can put it right. We'll acknowledge "
               "your complaint within two business days and aim to resolve it within ten."),
            _contact_us(),
            _p("If we can't resolve it, you can contact Access Canberra, which looks after fair trading and "
               "driving instructor matters in the ACT."),
        )),
        ("changes", "Changes to these terms", (
            _p("We may update these terms from time to time. The terms that apply to a booking are the ones on "
               "this page when you made it."),
        )),
    ]


def terms_page() -> rx.Component:
    return layout(
        page_header(
            "Terms and conditions",
            f"The terms that apply when you book and take lessons with {brand.BUSINESS_NAME}, in plain English.",
            kicker="Legal",
            icon="scale",
        ),
        _document(_terms_sections(), "Terms"),
        active=TERMS_ROUTE,
    )


# ------------------------------------------------------------------ privacy


def _privacy_sections() -> list[tuple[str, str, tuple]]:
    return [
        ("about-privacy", "Our commitment", (
            _p(PolicyState.business_name, " handles personal information in line with the Australian Privacy "
               "Principles (APPs) in the Privacy Act 1988 (Cth). This policy explains what we collect, why, who "
               "sees it and how you can access or correct it."),
        )),
        ("collect", "What we collect", (
            _ul(("Contact details: ", rx.el.strong("name, mobile, email"), " and pick-up address."),
                "Date of birth and learner licence details (number, expiry and conditions), which the CBT&A scheme "
                "requires us to check.",
                "Log book and lesson records: tasks taught and assessed, reviews, the final drive, hours, locations "
                "and times, and the signatures on them.",
                "Payment records: what you paid, when and for what. Card details are handled by our payment "
                "provider; we never see the full card number.",
                "Messages you send us, and enquiries through this website, including how you found us (for "
                "example, a search or an advertisement).",
                "Technical information needed to keep you signed in securely, such as a session cookie."),
        )),
        ("minors", "Learners under 18", (
            _p("Many of our learners are under 18. We collect their information from them and, where appropriate, "
               "from a parent or guardian who books or pays. We only collect what we need to teach, assess and "
               "keep the records the ACT scheme requires."),
        )),
        ("parents", "What parents can see", (
            _p("A learner can invite a parent or supervising driver to a parent account. The parent sees only what "
               "the learner allows, such as upcoming lessons and log book progress, and the learner can change or "
               "withdraw that permission at any time. Your instructor's private notes are never shared with "
               "parents."),
        )),
        ("use", "How we use it", (
            _ul("To book, deliver and assess lessons, and keep your CBT&A log book.",
                "To send confirmations and reminders. These always say who they are from.",
                "To take payments and issue receipts and invoices.",
                "To answer your enquiries and improve our service.",
                "To send news or offers only if you have agreed to it. Reply STOP to any SMS, or use the link in "
                "an email, and we stop straight away."),
        )),
        ("share", "Who we share it with", (
            _ul("ACT government agencies, when the CBT&A scheme or the law requires it (for example, log book "
                "records and notice of a final drive).",
                "Service providers that help us run the school: payments, SMS and email delivery, and secure data "
                "hosting. Some of them may store data outside Australia; we choose providers with strong "
                "security and privacy commitments.",
                "A parent or supervising driver, only as the learner allows.",
                "Anyone else only when the law requires or allows it."),
            _p("We never sell your personal information."),
        )),
        ("storage", "Storage and security", (
            _p("Your information is stored electronically with secure providers. Passwords are never stored in a "
               "readable form, access is limited to the people who need it, and every change to a compliance "
               "record is logged. We keep log book and lesson records for as long as the CBT&A scheme and the law "
               "require, and delete or de-identify other information when we no longer need it."),
        )),
        ("access", "Seeing and correcting your information", (
            _p("You can ask to see the personal information we hold about you, or ask us to correct it, at any "
               "time. We'll respond within 30 days. Signed log book records can't be edited, so a correction is "
               "added as a new, linked record."),
        )),
        ("privacy-contact", "Questions and complaints", (
            _p("For any privacy question, request or complaint, contact us. We'll respond within 30 days."),
            _contact_us(),
            _p("If you're not satisfied with our response, you can contact the Office of the Australian "
               "Information Commissioner (OAIC) at ", rx.link("oaic.gov.au", href="https://www.oaic.gov.au",
                                                               is_external=True), "."),
        )),
    ]


def privacy_page() -> rx.Component:
    return layout(
        page_header(
            "Privacy policy",
            f"How {brand.BUSINESS_NAME} looks after the personal information of learners, parents and "
            "supervising drivers.",
            kicker="Legal",
            icon="lock",
        ),
        _document(_privacy_sections(), "Privacy policy"),
        active=PRIVACY_ROUTE,
    )
