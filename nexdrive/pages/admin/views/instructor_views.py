"""The instructor forms of the office: onboard (account, accreditation, vehicle, lesson types, weekly hours)
and edit. Plain native inputs that post with the form; the rules are ``services.admin.instructors``."""
from __future__ import annotations

import reflex as rx

from nexdrive.pages.admin.views.forms import select_field
from nexdrive.pages.auth._forms import field

TRANSMISSIONS = [("auto", "Automatic"), ("manual", "Manual"), ("both", "Automatic and manual")]
DAYS = [(1, "Mon"), (2, "Tue"), (3, "Wed"), (4, "Thu"), (5, "Fri"), (6, "Sat"), (0, "Sun")]


def _err(errors: rx.Var, key: str) -> rx.Var:
    return errors.get(key, "")


def _checkbox(name: rx.Var | str, label: rx.Var | str, *, checked: rx.Var | bool = False, id=None) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, id=name if id is None else id, default_checked=checked,
                    style={"width": "1.1rem", "height": "1.1rem"}),
        rx.text(label, as_="span", size="2"),
        style={"display": "inline-flex", "gap": "0.4rem", "alignItems": "center", "marginRight": "1rem",
               "minHeight": "2rem"},
    )


def service_choices(services: rx.Var, *, edit: bool = False) -> rx.Component:
    """Lesson types offered: one checkbox per active service (none ticked = every lesson type)."""
    return rx.el.fieldset(
        rx.el.legend("Lesson types offered", style={"fontWeight": "600", "fontSize": "var(--font-size-2)"}),
        rx.text("Leave all unticked to offer every lesson type.", size="1", color=rx.color("gray", 11)),
        rx.box(rx.foreach(services, lambda s: _checkbox(
            "svc_" + s["id"].to(str), s["name"], checked=(s["offered"] == "yes") if edit else False,
            id="svc-" + s["id"].to(str)))),
        id="instructor-services", style={"border": "none", "padding": 0, "margin": 0},
    )


def hours_choices(errors: rx.Var) -> rx.Component:
    return rx.el.fieldset(
        rx.el.legend("Weekly hours", style={"fontWeight": "600", "fontSize": "var(--font-size-2)"}),
        rx.text("The same hours on each day ticked; the instructor can change them on their own page.",
                size="1", color=rx.color("gray", 11)),
        rx.box(*[_checkbox(f"day_{d}", label, id=f"day-{d}") for d, label in DAYS]),
        rx.grid(field("Start", id="hours_start", type="time", required=False, default_value="08:00"),
                field("Finish", id="hours_end", type="time", required=False, default_value="17:00"),
                columns="2", gap="1rem", width="100%", max_width="24rem"),
        rx.text(_err(errors, "hours"), role="alert", size="2", color=rx.color("red", 11)),
        id="instructor-hours", style={"border": "none", "padding": 0, "margin": 0},
    )


def details_fields(errors: rx.Var, rec: rx.Var | None = None) -> list[rx.Component]:
    """Accreditation, vehicle and transmission (with the current values when editing)."""
    def val(key: str):
        return rec[key] if rec is not None else ""
    return [
        rx.grid(
            field("ADI licence number", id="adi_number", default_value=val("adi_number"),
                  error=_err(errors, "adi_number")),
            field("ADI licence expiry", id="adi_expiry", type="date", default_value=val("adi_expiry"),
                  error=_err(errors, "adi_expiry")),
            field("ACT accreditation number", id="accreditation_number", default_value=val("accreditation_number"),
                  error=_err(errors, "accreditation_number")),
            field("Accreditation expiry", id="accreditation_expiry", type="date",
                  default_value=val("accreditation_expiry"), error=_err(errors, "accreditation_expiry"),
                  hint="Warnings go out 60, 30 and 7 days before it lapses."),
            field("Vehicle registration", id="vehicle_rego", required=False, default_value=val("vehicle_rego"),
                  error=_err(errors, "vehicle_rego")),
            field("Vehicle make", id="vehicle_make", required=False, default_value=val("vehicle_make"),
                  error=_err(errors, "vehicle_make")),
            field("Vehicle model", id="vehicle_model", required=False, default_value=val("vehicle_model"),
                  error=_err(errors, "vehicle_model")),
            field("Vehicle year", id="vehicle_year", required=False, default_value=val("vehicle_year"),
                  error=_err(errors, "vehicle_year"), input_mode="numeric"),
            select_field("Transmissions taught", id="transmission", options=TRANSMISSIONS,
                         default_value=val("transmission") if rec is not None else "auto",
                         error=_err(errors, "transmission")),
            field("Most lessons a day", id="max_lessons_per_day", required=False,
                  default_value=val("max_lessons_per_day") if rec is not None else "8",
                  error=_err(errors, "max_lessons_per_day"), input_mode="numeric"),
            columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%",
        ),
    ]


def onboard_form(errors: rx.Var, services: rx.Var, on_submit, busy: rx.Var) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.grid(
                field("First name", id="first_name", error=_err(errors, "first_name")),
                field("Last name", id="last_name", error=_err(errors, "last_name")),
                field("Email", id="email", type="email", error=_err(errors, "email"),
                      hint="The invitation to set a password goes here."),
                field("Mobile", id="phone", type="tel", required=False, error=_err(errors, "phone")),
                columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%",
            ),
            *details_fields(errors),
            service_choices(services),
            hours_choices(errors),
            rx.text(_err(errors, "form"), role="alert", size="2", color=rx.color("red", 11)),
            rx.button("Onboard and send the invitation", type="submit", id="instructor-onboard", loading=busy,
                      size="3"),
            spacing="4", width="100%",
        ),
        on_submit=on_submit, reset_on_submit=False, width="100%", aria_label="Onboard an instructor",
        id="onboard-form",
    )


def edit_form(errors: rx.Var, rec: rx.Var, services: rx.Var, on_submit, busy: rx.Var) -> rx.Component:
    return rx.form(
        rx.vstack(
            *details_fields(errors, rec),
            service_choices(services, edit=True),
            rx.text(_err(errors, "form"), role="alert", size="2", color=rx.color("red", 11)),
            rx.button("Save changes", type="submit", id="instructor-save", loading=busy, size="3"),
            spacing="4", width="100%",
        ),
        on_submit=on_submit, width="100%", aria_label="Edit the instructor", id="edit-form",
    )


def form_services(form: dict) -> list[str]:
    return [k.removeprefix("svc_") for k, v in form.items() if k.startswith("svc_") and v]


def form_days(form: dict) -> list[int]:
    return [d for d, _ in DAYS if form.get(f"day_{d}")]
