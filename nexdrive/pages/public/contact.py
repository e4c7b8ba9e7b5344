"""Contact ``/contact``: an enquiry form (a lead in the CRM, an email to the school) and our details."""
from __future__ import annotations

import logging

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section
from nexdrive.pages.auth._forms import field, message_box, submit_button
from nexdrive.services.crm import contacts
from nexdrive.services.core import ratelimit
from nexdrive.services.core.actors import VISITOR
from nexdrive.errors import ServiceError
from nexdrive.state.auth import run_anonymous

logger = logging.getLogger("nexdrive.public")

ROUTE = brand.ROUTE_CONTACT
TITLE = "Contact us | NexDrive Academy driving school, Canberra"
DESCRIPTION = (
    "Ask NexDrive Academy about driving lessons in Canberra: send an enquiry, call or email. We reply within "
    "one business day and pick up across Canberra's suburbs."
)
SITEMAP = {"priority": 0.8, "changefreq": "yearly"}

FIELDS = ("name", "phone", "email", "message")


class ContactState(rx.State):
    name_error: str = ""
    phone_error: str = ""
    email_error: str = ""
    message_error: str = ""
    form_error: str = ""
    submitting: bool = False
    sent: bool = False
    sent_name: str = ""
    ready: bool = False  # set by on_load: the form is connected to the server

    def _clear(self):
        self.name_error = self.phone_error = self.email_error = self.message_error = self.form_error = ""

    @rx.event
    def reset_form(self):
        self._clear()
        self.submitting = self.sent = False
        self.sent_name = ""
        self.ready = True

    @rx.event
    def send_another(self):
        self.reset_form()

    @rx.event
    async def submit(self, form_data: dict):
        if self.submitting:
            return
        self._clear()
        if (form_data.get("website") or "").strip():  # honeypot: people never see this field
            self.sent = True
            return
        self.submitting = True
        yield
        params = self.router.url.query_parameters
        utm = contacts.Utm.clean(params.get("utm_source"), params.get("utm_medium"), params.get("utm_campaign"))
        name = (form_data.get("name") or "").strip()
        ip = self.router.session.client_ip or None

        def work(s):
            ratelimit.enforce(s, "enquiry", ip=ip, contacts=(form_data.get("email"), form_data.get("phone")))
            return contacts.record_enquiry(
                s, VISITOR, name=name, phone=form_data.get("phone") or None, email=form_data.get("email") or None,
                message=form_data.get("message") or "", utm=utm)
        try:
            await run_anonymous(work)
        except ServiceError as exc:
            target = exc.details.get("field")
            if target in FIELDS:
                setattr(self, f"{target}_error", exc.message)
            else:
                self.form_error = exc.message
            self.submitting = False
            return
        except Exception:
            logger.exception("enquiry failed")
            self.form_error = ("Sorry, your message didn't go through. Please try again, or call us on the "
                               "number on this page.")
            self.submitting = False
            return
        self.submitting = False
        self.sent = True
        self.sent_name = name.split(" ")[0]


ON_LOAD = [ContactState.reset_form]


def _textarea(label: str, *, id: str, error: rx.Var, hint: str) -> rx.Component:
    return rx.vstack(
        rx.el.label(label, html_for=id, font_weight="600", font_size="var(--font-size-2)",
                    color=rx.color("gray", 12)),
        rx.text(hint, id=f"{id}-hint", size="1", color=rx.color("gray", 11), as_="p"),
        rx.text_area(
            id=id,
            name="message",
            required=True,
            rows="5",
            max_length=contacts.MAX_MESSAGE,
            size="3",
            width="100%",
            resize="vertical",
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{id}-hint {id}-error",
            color_scheme=rx.cond(error != "", "red", "gray"),
        ),
        rx.text(error, id=f"{id}-error", role="alert", as_="p", size="2", color=rx.color("red", 11),
                display=rx.cond(error != "", "block", "none")),
        spacing="1",
        align="stretch",
        width="100%",
    )


def enquiry_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            message_box(ContactState.form_error, id="contact-form-error"),
            field("Your name", id="contact-name", name="name", autocomplete="name", error=ContactState.name_error),
            rx.grid(
                field("Phone number", id="contact-phone", name="phone", type="tel", autocomplete="tel",
                      input_mode="tel", hint="A mobile or a landline, e.g. 0412 345 678 or 02 6123 4567.",
                      error=ContactState.phone_error, required=False),
                field("Email", id="contact-email", name="email", type="email", autocomplete="email",
                      hint="A phone number, an email, or both is fine.", error=ContactState.email_error,
                      required=False),
                grid_template_columns=["1fr", "1fr", "repeat(2, minmax(0, 1fr))"],
                gap="1rem",
                width="100%",
            ),
            _textarea("Your message", id="contact-message", error=ContactState.message_error,
                      hint="For example: where you are in your log book, and the days and times that suit you."),
            # Honeypot for bots: hidden from people and from assistive technology.
            rx.el.input(name="website", type="text", tab_index=-1, auto_complete="off", aria_hidden="true",
                        position="absolute", left="-10000px", width="1px", height="1px", opacity="0"),
            submit_button("Send message", loading=ContactState.submitting, id="contact-submit",
                          loading_label="Sending\u2026"),
            rx.text("We use your details only to answer your enquiry. See our ",
                    rx.link("privacy policy", href=brand.ROUTE_PRIVACY, underline="always"), ".", as_="p", size="1",
                    color=rx.color("gray", 11)),
            spacing="4",
            width="100%",
            position="relative",
        ),
        on_submit=ContactState.submit,
        no_validate=True,
        reset_on_submit=False,
        aria_label="Send us an enquiry",
        id="contact-form",
        custom_attrs={"data-ready": rx.cond(ContactState.ready, "true", "false")},
        width="100%",
    )


def success_panel() -> rx.Component:
    return rx.vstack(
        rx.callout(
            rx.cond(ContactState.sent_name != "", "Thanks, " + ContactState.sent_name + "! ", "Thanks! ")
            + "Your message is on its way. We'll get back to you within one business day.",
            icon="circle-check",
            color_scheme="green",
            role="status",
            id="contact-success",
            size="2",
            width="100%",
        ),
        rx.flex(
            button_link("See lessons & pricing", brand.ROUTE_LESSONS, icon="tag", variant="soft"),
            rx.button("Send another message", on_click=ContactState.send_another, variant="outline", size="3"),
            gap="0.75rem",
            wrap="wrap",
        ),
        spacing="4",
        width="100%",
    )


def _detail(icon: str, label: str, *value) -> rx.Component:
    return rx.flex(
        rx.center(rx.icon(icon, size=18, aria_hidden="true"), width="2.25rem", height="2.25rem", min_width="2.25rem",
                  border_radius="var(--radius-3)", background=rx.color("accent", 3), color=rx.color("accent", 11)),
        rx.box(
            rx.text(label, as_="p", size="1", weight="bold", color=rx.color("gray", 11), text_transform="uppercase",
                    letter_spacing="0.04em"),
            *value,
            min_width="0",
        ),
        gap="0.75rem",
        align="start",
    )


def details_card() -> rx.Component:
    email = brand.contact_email()
    return rx.card(
        rx.vstack(
            rx.heading(
                "Call, text or email", as_="h2", id="contact-details-title", size="5", color=rx.color("gray", 12)
            ),
            rx.el.address(
                rx.vstack(
                    _detail(
                        "phone",
                        "Phone",
                        rx.link(
                            brand.phone_display(),
                            href=brand.phone_href(),
                            size="4",
                            weight="bold",
                            id="contact-phone-link",
                        ),
                    ),
                    _detail(
                        "mail",
                        "Email",
                        rx.link(
                            email, href="mailto:" + email, size="3", word_break="break-all", id="contact-email-link"
                        ),
                    ),
                    _detail(
                        "map-pin",
                        "Service area",
                        rx.text(", ".join(brand.SERVICE_AREAS), as_="p", size="2", color=rx.color("gray", 12)),
                    ),
                    _detail(
                        "clock",
                        "Replies",
                        rx.text(
                            "Within one business day. We can't always answer during a lesson, so please "
                            "leave a message.",
                            as_="p",
                            size="2",
                            color=rx.color("gray", 12),
                        ),
                    ),
                    spacing="4",
                    align="start",
                ),
                font_style="normal",
            ),
            spacing="4",
            align="start",
            width="100%",
        ),
        size="3",
        width="100%",
        background=rx.color("accent", 2),
        role="region",
        aria_labelledby="contact-details-title",
    )


def contact_page() -> rx.Component:
    return layout(
        page_header(
            "Contact us",
            "Questions about lessons, prices or where you are up to in your log book? Send us a message and we'll "
            "get back to you.",
            kicker="Get in touch",
            icon="mail",
        ),
        page_section(
            rx.grid(
                rx.card(
                    rx.vstack(
                        rx.heading("Send us a message", as_="h2", id="enquiry-title", size="5",
                                   color=rx.color("gray", 12)),
                        rx.cond(ContactState.sent, success_panel(), enquiry_form()),
                        spacing="4",
                        width="100%",
                    ),
                    size=rx.breakpoints(initial="2", sm="3"),
                    width="100%",
                    role="region",
                    aria_labelledby="enquiry-title",
                ),
                details_card(),
                grid_template_columns=["1fr", "1fr", "1fr", "minmax(0, 1.5fr) minmax(0, 1fr)"],
                gap="1.5rem",
                align_items="start",
            ),
        ),
        active=ROUTE,
    )
