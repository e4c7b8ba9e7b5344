"""Family access ``/student/family``: the learner invites parents / supervising
drivers and decides, per person, what they can see.

Every change goes through ``nexdrive.services.identity.accounts`` as the signed-in
student (the service checks the link is theirs); the list is re-read from
``accounts.get_me`` after each change.
"""
from __future__ import annotations

import dataclasses

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.pages.auth._forms import field, message_box, page_title, submit_button
from nexdrive.pages.auth.sign_in import check_email
from nexdrive.services.identity import accounts
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.errors import ServiceError, ValidationFailed
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/student/family"
TITLE = "Family access | NexDrive Academy"
DESCRIPTION = "Invite a parent or supervising driver and choose what they can see of your lessons."

# (permission, label, explanation) in the order shown.
PERMISSIONS: tuple[tuple[str, str, str], ...] = (
    ("can_view_bookings", "Bookings", "Your upcoming and past lesson times."),
    ("can_view_progress", "Progress", "Your CBT&A tasks and the list of your lessons."),
    ("can_view_lesson_notes", "Lesson notes", "Your instructor's comments after each lesson."),
    ("can_view_payments", "Payments", "Receipts and invoices."),
    ("can_view_bridge_forms", "Practice guides", "The \u201cwhat to practise\u201d forms shared after lessons."),
    ("can_book_lessons", "Book lessons for me", "They can book lessons on your behalf."),
)
RELATIONSHIPS = (("parent", "Parent"), ("guardian", "Guardian"), ("supervisor", "Supervising driver"),
                 ("other", "Other"))


@dataclasses.dataclass
class ParentLinkRow:
    link_id: str = ""
    name: str = ""
    email: str = ""
    relationship: str = ""
    status: str = ""
    can_view_progress: bool = False
    can_view_bookings: bool = False
    can_view_payments: bool = False
    can_view_lesson_notes: bool = False
    can_view_bridge_forms: bool = False
    can_book_lessons: bool = False


@dataclasses.dataclass
class InvitationRow:
    invitation_id: str = ""
    email: str = ""
    relationship: str = ""
    expires: str = ""


def _rows(me: dict) -> tuple[list[ParentLinkRow], list[InvitationRow]]:
    student = me.get("student") or {}
    links = [
        ParentLinkRow(link_id=str(ln["link_id"]), name=ln["name"], email=ln["email"] or "",
                      relationship=ln["relationship"], status=ln["status"],
                      **{k: bool(ln["permissions"].get(k)) for k, _, _ in PERMISSIONS})
        for ln in student.get("parent_links", [])
    ]
    invs = [
        InvitationRow(invitation_id=str(i["invitation_id"]), email=i["email"], relationship=i["relationship"],
                      expires=i["expires_at"].strftime("%-d %b %Y") if i.get("expires_at") else "")
        for i in student.get("pending_invitations", [])
    ]
    return links, invs


class FamilyState(rx.State):
    loaded: bool = False
    links: list[ParentLinkRow] = []
    invitations: list[InvitationRow] = []
    email_error: str = ""
    invite_error: str = ""
    message: str = ""
    error: str = ""
    inviting: bool = False

    async def _reload(self) -> None:
        me = await run_as_actor(self, accounts.get_me)
        self.links, self.invitations = _rows(me)

    @rx.event
    async def load(self):
        self.loaded = False
        self.links, self.invitations = [], []
        self.email_error = self.invite_error = self.message = self.error = ""
        self.inviting = False
        try:
            await self._reload()
        except AuthRequired:
            return
        self.loaded = True

    @rx.event
    async def invite(self, form_data: dict):
        self.email_error = self.invite_error = self.message = self.error = ""
        email = (form_data.get("email") or "").strip()
        relationship = form_data.get("relationship") or "parent"
        self.email_error = check_email(email)
        if self.email_error:
            return
        self.inviting = True
        yield
        try:
            await run_as_actor(self, lambda s, a: accounts.invite_parent(s, a, email=email,
                                                                        relationship=relationship))
            await self._reload()
        except ValidationFailed as exc:
            if exc.details.get("field") == "email":
                self.email_error = exc.message
            else:
                self.invite_error = exc.message
        except ServiceError as exc:
            self.invite_error = exc.message
        else:
            self.message = (f"Invitation sent to {email}. It works for 7 days; they'll choose a password "
                            "when they accept.")
            yield rx.call_script("(() => {const e = document.getElementById('invite-email'); if (e) e.value = '';})()")
        self.inviting = False

    @rx.event
    async def set_permission(self, link_id: str, permission: str, value: bool):
        self.message = self.error = ""
        if permission not in {k for k, _, _ in PERMISSIONS}:
            return
        try:
            await run_as_actor(self, lambda s, a: accounts.set_parent_permissions(
                s, a, _uuid(link_id), {permission: bool(value)}))
            await self._reload()
        except ServiceError as exc:
            self.error = exc.message
            return
        label = next(lbl for k, lbl, _ in PERMISSIONS if k == permission)
        self.message = f"{label}: {'shared' if value else 'no longer shared'}. This applies straight away."

    @rx.event
    async def revoke(self, link_id: str):
        self.message = self.error = ""
        try:
            await run_as_actor(self, lambda s, a: accounts.revoke_parent_link(s, a, _uuid(link_id)))
            await self._reload()
        except ServiceError as exc:
            self.error = exc.message
            return
        self.message = "Access removed. They can no longer see anything of yours."

    @rx.event
    async def withdraw(self, invitation_id: str):
        self.message = self.error = ""
        try:
            await run_as_actor(self, lambda s, a: accounts.revoke_parent_invitation(s, a, _uuid(invitation_id)))
            await self._reload()
        except ServiceError as exc:
            self.error = exc.message
            return
        self.message = "Invitation withdrawn. The link in that email no longer works."


def _uuid(value: str):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationFailed("That item no longer exists. Reload the page.") from None


def _permission_switch(link: rx.Var, key: str, label: str, explanation: str) -> rx.Component:
    switch_id = f"perm-{key}-" + link.link_id
    return rx.hstack(
        rx.vstack(
            rx.el.label(label, html_for=switch_id, font_weight="600", font_size="var(--font-size-2)"),
            rx.text(explanation, size="1", color=rx.color("gray", 11), as_="p"),
            spacing="0",
            align="start",
            flex="1",
        ),
        rx.switch(
            id=switch_id,
            checked=getattr(link, key),
            on_change=lambda value: FamilyState.set_permission(link.link_id, key, value),
            size="2",
            custom_attrs={"data-permission": key},
        ),
        align="center",
        justify="between",
        width="100%",
        padding_y="0.4rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _link_card(link: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.heading(link.name, as_="h3", size="4"),
                    rx.text(link.email, " \u00b7 ", link.relationship, size="2", color=rx.color("gray", 11)),
                    spacing="1",
                    align="start",
                ),
                rx.badge(rx.cond(link.status == "active", "Active", link.status), color_scheme="green"),
                justify="between",
                align="start",
                width="100%",
            ),
            rx.el.fieldset(
                rx.el.legend("What they can see", class_name="rt-Text", font_weight="600",
                             font_size="var(--font-size-2)", margin_bottom="0.25rem"),
                *[_permission_switch(link, key, label, expl) for key, label, expl in PERMISSIONS],
                border="none",
                padding="0",
                margin="0",
                width="100%",
            ),
            rx.button(
                rx.icon("user-x", size=16, aria_hidden="true"),
                "Remove access",
                type="button",
                color_scheme="red",
                variant="soft",
                aria_label="Remove access for " + link.name,
                on_click=FamilyState.revoke(link.link_id),
            ),
            spacing="3",
            align="stretch",
            width="100%",
        ),
        class_name="parent-link",
        custom_attrs={"data-email": link.email},
        size="3",
        width="100%",
    )


def _invitation_row(inv: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(inv.email, weight="bold", size="2"),
            rx.text("Invited as ", inv.relationship, " \u00b7 expires ", inv.expires, size="1",
                    color=rx.color("gray", 11)),
            spacing="0",
            align="start",
        ),
        rx.button("Withdraw", type="button", variant="soft", size="2", color_scheme="gray",
                  aria_label="Withdraw the invitation to " + inv.email,
                  on_click=FamilyState.withdraw(inv.invitation_id)),
        justify="between",
        align="center",
        width="100%",
        padding_y="0.5rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def family_page() -> rx.Component:
    return layout(
        container(
            rx.vstack(
                page_title("Family access",
                           "Invite a parent or supervising driver, and choose what each of them can see. "
                           "Changes apply straight away. Your instructor's private notes are never shared."),
                rx.link(rx.icon("arrow-left", size=14, aria_hidden="true"), "Back to your dashboard",
                        href="/student", size="2", display="inline-flex", align_items="center", gap="0.25rem"),
                message_box(FamilyState.error, id="family-error"),
                message_box(FamilyState.message, tone="green", id="family-message", icon="check"),
                rx.cond(
                    FamilyState.loaded,
                    rx.vstack(
                        rx.el.section(
                            rx.heading("People who can follow your lessons", as_="h2", size="5",
                                       id="links-heading", margin_bottom="0.75rem"),
                            rx.cond(
                                FamilyState.links.length() > 0,
                                rx.grid(rx.foreach(FamilyState.links, _link_card),
                                        columns=rx.breakpoints(initial="1", md="2"), gap="1rem", width="100%"),
                                rx.text("Nobody yet. Invite a parent or supervising driver below.", as_="p",
                                        color=rx.color("gray", 11)),
                            ),
                            aria_labelledby="links-heading",
                            width="100%",
                        ),
                        rx.cond(
                            FamilyState.invitations.length() > 0,
                            rx.el.section(
                                rx.heading("Invitations waiting", as_="h2", size="5", id="invites-heading"),
                                rx.foreach(FamilyState.invitations, _invitation_row),
                                aria_labelledby="invites-heading",
                                width="100%",
                            ),
                        ),
                        rx.card(
                            rx.el.section(
                                rx.heading("Invite someone", as_="h2", size="5", id="invite-heading",
                                           margin_bottom="0.75rem"),
                                rx.form(
                                    rx.vstack(
                                        message_box(FamilyState.invite_error),
                                        field("Their email address", id="invite-email", name="email", type="email",
                                              autocomplete="off", error=FamilyState.email_error),
                                        rx.vstack(
                                            rx.el.label("They are your", html_for="invite-relationship",
                                                        font_weight="600", font_size="var(--font-size-2)"),
                                            rx.el.select(
                                                *[rx.el.option(lbl, value=val) for val, lbl in RELATIONSHIPS],
                                                id="invite-relationship",
                                                name="relationship",
                                                default_value="parent",
                                                class_name="rt-reset",
                                                padding="0.55rem",
                                                border=f"1px solid {rx.color('gray', 7)}",
                                                border_radius="var(--radius-2)",
                                                font_size="var(--font-size-3)",
                                                background=rx.color("gray", 1),
                                                width="100%",
                                            ),
                                            spacing="1",
                                            width="100%",
                                        ),
                                        rx.text("Everything is shared to begin with; you can switch any of it off "
                                                "here afterwards.", size="1", color=rx.color("gray", 11), as_="p"),
                                        rx.box(submit_button("Send invitation", loading=FamilyState.inviting,
                                                             id="invite-submit", loading_label="Sending\u2026"),
                                               max_width="16rem"),
                                        spacing="3",
                                        width="100%",
                                    ),
                                    on_submit=FamilyState.invite,
                                    no_validate=True,
                                    aria_label="Invite a parent or supervising driver",
                                ),
                                aria_labelledby="invite-heading",
                            ),
                            size="3",
                            width="100%",
                            max_width="36rem",
                        ),
                        spacing="6",
                        width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"),
                ),
                spacing="4",
                width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active="/student",
    )


ON_LOAD = [*require_role("student"), FamilyState.load]
