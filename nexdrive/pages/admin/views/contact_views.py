"""The CRM pages' pieces: the contact form (new and edit), the pipeline board, one contact's page."""
from __future__ import annotations

import reflex as rx

from nexdrive.pages.account._display import panel
from nexdrive.pages.admin.views.forms import kv, select_field, text_area
from nexdrive.pages.auth._forms import field
from nexdrive.services.admin.contacts import STAGE_LABELS
from nexdrive.services.crm.contacts import SOURCES

STAGES = list(STAGE_LABELS.items())
SOURCE_OPTIONS = [(s, s.replace("_", " ").capitalize()) for s in SOURCES]


def contact_form(errors: rx.Var, busy: rx.Var, on_submit, *, submit: str, form_id: str,
                 values: rx.Var | None = None, key: rx.Var | None = None) -> rx.Component:
    """``errors``: {field: message} from the service (each shown under its field)."""
    def v(name: str, default: str = ""):
        return values[name] if values is not None else default

    def e(name: str):
        return errors.get(name, "")

    props = {"key": key} if key is not None else {}
    return rx.form(
        rx.grid(
            field("First name", id="first_name", default_value=v("first_name"), error=e("first_name"),
                  autocomplete="off"),
            field("Last name", id="last_name", default_value=v("last_name"), error=e("last_name"), required=False),
            field("Phone", id="phone", type="tel", default_value=v("phone"), error=e("phone"), required=False,
                  hint="Australian number, e.g. 0412 345 678"),
            field("Email", id="email", type="email", default_value=v("email"), error=e("email"), required=False),
            select_field("Stage", id="lifecycle_stage", options=STAGES, default_value=v("stage", "lead"),
                         error=e("lifecycle_stage")),
            select_field("Source", id="source", options=SOURCE_OPTIONS, default_value=v("source", "admin"),
                         error=e("source")),
            field("UTM source", id="utm_source", default_value=v("utm_source"), required=False),
            field("UTM medium", id="utm_medium", default_value=v("utm_medium"), required=False),
            field("UTM campaign", id="utm_campaign", default_value=v("utm_campaign"), required=False),
            columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%",
        ),
        text_area("Notes", id="notes", default_value=v("notes"), error=e("notes")),
        rx.cond(e("form") != "", rx.callout(e("form"), icon="circle-alert", color_scheme="red", role="alert")),
        rx.button(submit, type="submit", id=f"{form_id}-submit", loading=busy, size="3", margin_top="0.75rem"),
        on_submit=on_submit, id=form_id, width="100%", aria_label=submit, **props,
    )


def pipeline_board(columns: rx.Var, view_route: str) -> rx.Component:
    def column(col: rx.Var) -> rx.Component:
        cards = col["contacts"].to(list[dict[str, str]])
        return rx.card(
            rx.vstack(
                rx.hstack(rx.heading(col["label"].to(str), as_="h3", size="3"), rx.spacer(),
                          rx.badge(col["count"].to(str)), width="100%"),
                rx.foreach(cards, lambda c: rx.link(
                    rx.box(rx.text(c["name"], weight="bold", size="2"),
                           rx.text(c["source"], " \u00b7 ", c["last_contact"], size="1", color=rx.color("gray", 11)),
                           padding="0.5rem", border_radius="var(--radius-2)", background=rx.color("gray", 2),
                           width="100%"),
                    href=view_route + "?id=" + c["id"], underline="none", width="100%")),
                spacing="2", width="100%",
            ),
            min_width="14rem", flex="0 0 14rem", class_name="pipeline-column",
        )
    return rx.box(rx.hstack(rx.foreach(columns, column), spacing="3", align="start"),
                  overflow_x="auto", width="100%", padding_bottom="0.5rem", id="pipeline",
                  role="region", aria_label="Pipeline by lifecycle stage", tab_index=0)


def contact_view(st) -> rx.Component:
    c = st.c
    summary = panel("Details", "contact-details", rx.vstack(
        kv("Stage", c["stage_label"], id="contact-stage"), kv("Phone", c["phone"]), kv("Email", c["email"]),
        kv("Source", c["source"] + rx.cond(c["source_detail"] != "", " \u2014 " + c["source_detail"], "")),
        kv("Campaign (UTM)", c["utm_source"] + " / " + c["utm_medium"] + " / " + c["utm_campaign"]),
        kv("First contact", c["first_contact"]), kv("Last contact", c["last_contact"]),
        kv("Interactions", c["interactions"]),
        rx.cond(c["student_id"] != "", rx.link("Open the learner's record", href="/admin/students/view?id="
                                               + c["student_id"], id="contact-learner-link")),
        spacing="1", width="100%"))
    same = rx.cond(st.candidates.length() > 0, panel("Possibly the same person", "possible-duplicates", rx.vstack(
        rx.text("Possibly the same person as ", rx.text(st.possibly_same.join(", "), as_="span", weight="bold"),
                ". Nothing is merged unless you choose to.", size="2", id="possibly-same"),
        rx.foreach(st.candidates, lambda o: rx.hstack(
            rx.link(o["name"], href="/admin/contacts/view?id=" + o["id"]),
            rx.text(o["phone"], " ", o["email"], size="1", color=rx.color("gray", 11)), rx.spacer(),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(rx.button("Merge into this contact", size="1", variant="soft",
                                                  class_name="merge-button")),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Merge the two contacts?"),
                    rx.alert_dialog.description("Everything recorded for ", o["name"], " (bookings, payments, calls "
                                                "and messages) moves to this contact, and the other record is "
                                                "retired. This can't be undone."),
                    rx.hstack(rx.alert_dialog.cancel(rx.button("Cancel", variant="soft", color_scheme="gray")),
                              rx.alert_dialog.action(rx.button("Merge", on_click=st.merge(o["id"]),
                                                               id="merge-confirm")),
                              spacing="3", justify="end", margin_top="1rem"),
                ),
            ),
            width="100%", wrap="wrap")),
        spacing="2", width="100%")))
    convert = rx.cond(c["user_id"] == "", panel("Enrol as a learner", "convert", rx.form(
        rx.text("Creates the learner's account and emails them an invitation to choose a password.", size="2"),
        select_field("Instructor", id="convert_instructor", dynamic=st.instructors,
                     first=("", "The school's default instructor")),
        rx.foreach(st.convert_errors.values(), lambda m: rx.callout(m, icon="circle-alert", color_scheme="red",
                                                                    role="alert", id="convert-error")),
        rx.button("Convert to learner", type="submit", id="convert-submit", loading=st.busy, margin_top="0.5rem"),
        on_submit=st.convert, width="100%", aria_label="Convert to learner")))
    timeline = panel("Interactions", "interactions", rx.cond(
        st.interactions.length() > 0,
        rx.el.ol(rx.foreach(st.interactions, lambda i: rx.el.li(rx.vstack(
            rx.text(i["title"], weight="bold", size="2"),
            rx.text(i["when"], size="1", color=rx.color("gray", 11)),
            rx.cond(i["detail"] != "", rx.text(i["detail"], size="2")), spacing="0"),
            style={"padding": "0.5rem 0", "borderBottom": "1px solid var(--gray-4)"})),
            id="interaction-list", style={"listStyle": "none", "padding": 0, "margin": 0}),
        rx.text("Nothing recorded yet.", size="2")))
    edit = panel("Edit", "contact-edit", contact_form(st.errors, st.busy, st.save, submit="Save changes",
                                                     form_id="edit-contact-form", values=c, key=st.form_key))
    return rx.vstack(
        rx.heading(c["name"], as_="h2", size="6", id="contact-name"),
        same,
        rx.grid(summary, convert, columns=rx.breakpoints(initial="1", md="2"), gap="1rem", width="100%"),
        timeline, edit, spacing="4", width="100%",
    )
