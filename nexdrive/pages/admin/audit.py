"""``/admin/audit``: the audit trail, newest first, with filters and pages, and "Verify all records".

Administrators only (the route guard redirects others; ``services.compliance.audit_trail``
refuses them). Times are Canberra time. "Verify all records" walks every hash chain (the audit
log, the signatures, each learner's competency records) and shows each one's result: ok, or the
first broken record and why.
"""
from __future__ import annotations

import dataclasses
from datetime import date

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import container
from nexdrive.errors import ServiceError
from nexdrive.formats import au_when
from nexdrive.pages.auth._forms import message_box, page_title
from nexdrive.services.compliance import audit_trail
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/audit"
TITLE = "Audit trail | NexDrive Academy admin"
DESCRIPTION = "Every recorded action, and a check that no record has been altered."
SEVERITY_COLOURS = {"info": "gray", "warning": "amber", "critical": "red"}


@dataclasses.dataclass
class AuditRow:
    id: str = ""
    seq: int = 0
    when: str = ""
    event_type: str = ""
    severity: str = ""
    colour: str = "gray"
    actor: str = ""
    actor_role: str = ""
    subject_type: str = ""
    subject_id: str = ""
    details: str = ""
    short_hash: str = ""


@dataclasses.dataclass
class ChainRow:
    chain: str = ""
    label: str = ""
    ok: bool = True
    checked: int = 0
    broken_seq: int = 0
    reason: str = ""


def _row(r: dict) -> AuditRow:
    return AuditRow(id=r["id"], seq=int(r["seq"] or 0), when=r["when"], event_type=r["event_type"],
                    severity=r["severity"], colour=SEVERITY_COLOURS.get(r["severity"], "gray"), actor=r["actor"],
                    actor_role=r["actor_role"], subject_type=r["subject_type"], subject_id=r["subject_id"],
                    details=r["details"], short_hash=(r["record_hash"] or "")[:12])


def _chain(c: dict) -> ChainRow:
    return ChainRow(chain=c["chain"], label=c["label"], ok=bool(c["ok"]), checked=int(c["checked"]),
                    broken_seq=int(c["broken_seq"] or 0), reason=c["reason"])


def _day(text: str | None, name: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"The {name} date is not a date (use the date picker).") from None


class AuditState(rx.State):
    loaded: bool = False
    error: str = ""
    event_type: str = ""
    actor: str = ""
    subject: str = ""
    date_from: str = ""
    date_to: str = ""
    event_types: list[str] = []
    items: list[AuditRow] = []
    page: int = 1
    pages: int = 1
    total: int = 0
    loading: bool = False
    verifying: bool = False
    verified: bool = False
    verify_ok: bool = True
    verify_summary: str = ""
    chains: list[ChainRow] = []

    async def _fetch(self) -> None:
        self.error = ""
        try:
            filters = audit_trail.AuditFilters(event_type=self.event_type or None, actor=self.actor or None,
                                               subject=self.subject or None,
                                               date_from=_day(self.date_from, "from"), date_to=_day(self.date_to, "to"))
        except ValueError as exc:
            self.error = str(exc)
            return
        page = self.page

        def work(session, actor):
            return (audit_trail.list_audit_events(session, actor, filters, page),
                    audit_trail.event_types(session, actor))

        try:
            result, types = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.items = [_row(r) for r in result["items"]]
        self.page, self.pages, self.total = result["page"], result["pages"], result["total"]
        self.event_types = types

    @rx.event
    async def load(self):
        self.loaded = False
        self.verified = False
        self.chains = []
        params = self.router.url.query_parameters
        self.event_type = params.get("event_type") or ""
        self.actor = params.get("actor") or ""
        self.subject = params.get("subject") or ""
        self.date_from = self.date_to = ""
        self.page = 1
        await self._fetch()
        self.loaded = True

    @rx.event
    async def apply_filters(self, form_data: dict):
        self.event_type = (form_data.get("event_type") or "").strip()
        self.actor = (form_data.get("actor") or "").strip()
        self.subject = (form_data.get("subject") or "").strip()
        self.date_from = (form_data.get("date_from") or "").strip()
        self.date_to = (form_data.get("date_to") or "").strip()
        self.page = 1
        self.loading = True
        yield
        await self._fetch()
        self.loading = False

    @rx.event
    async def clear_filters(self):
        self.event_type = self.actor = self.subject = self.date_from = self.date_to = ""
        self.page = 1
        await self._fetch()

    @rx.event
    async def go_to_page(self, page: int):
        self.page = max(1, min(int(page), self.pages))
        self.loading = True
        yield
        await self._fetch()
        self.loading = False

    @rx.event
    async def verify_all(self):
        self.verifying = True
        self.error = ""
        yield
        try:
            result = await run_as_actor(self, audit_trail.verify_all_records)
        except AuthRequired:
            self.verifying = False
            return
        except ServiceError as exc:
            self.error = exc.message
            self.verifying = False
            return
        self.chains = [_chain(c) for c in result["chains"]]
        self.verify_ok = bool(result["ok"])
        when = au_when(result["verified_at"])
        checked = f"{len(self.chains)} chains, {result['checked_records']:,} records checked {when}"
        self.verify_summary = (f"All records verified: {checked}." if result["ok"]
                               else f"{result['broken']} chain(s) broken: {checked}.")
        self.verified = True
        self.verifying = False
        await self._fetch()  # the check itself is now the newest event


# ─────────────────────────────────────────────────────────────────────────────
# UI
# ─────────────────────────────────────────────────────────────────────────────

_FIELD_STYLE = {"padding": "0.5rem", "border-radius": "8px", "width": "100%", "height": "2.5rem",
                "border": f"1px solid {rx.color('gray', 7)}", "background": rx.color("gray", 1)}


def _labelled(label: str, id: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.el.label(label, html_for=id, font_weight="600", font_size="var(--font-size-2)"), control,
                     spacing="1", width="100%")


def _filters() -> rx.Component:
    return rx.form(
        rx.grid(
            _labelled("Event type", "au-event", rx.el.select(
                rx.el.option("Any event", value=""),
                rx.foreach(AuditState.event_types, lambda t: rx.el.option(t, value=t)),
                id="au-event", name="event_type", default_value=AuditState.event_type,
                key=AuditState.event_type + AuditState.event_types.length().to_string(), style=_FIELD_STYLE)),
            _labelled("Actor", "au-actor", rx.input(
                id="au-actor", name="actor", placeholder="Name, email, role or id", default_value=AuditState.actor,
                key=AuditState.actor, size="3", width="100%", auto_complete="off")),
            _labelled("Subject", "au-subject", rx.input(
                id="au-subject", name="subject", placeholder="Id or type (e.g. lesson)",
                default_value=AuditState.subject, key=AuditState.subject, size="3", width="100%",
                auto_complete="off")),
            _labelled("From", "au-from", rx.el.input(type="date", id="au-from", name="date_from",
                                                     default_value=AuditState.date_from,
                                                     key="f" + AuditState.date_from, style=_FIELD_STYLE)),
            _labelled("To", "au-to", rx.el.input(type="date", id="au-to", name="date_to",
                                                 default_value=AuditState.date_to, key="t" + AuditState.date_to,
                                                 style=_FIELD_STYLE)),
            rx.flex(
                rx.button("Filter", type="submit", size="3", id="au-apply", loading=AuditState.loading),
                rx.button("Clear", type="button", size="3", variant="soft", color_scheme="gray",
                          on_click=AuditState.clear_filters, id="au-clear"),
                gap="0.5rem", align="end",
            ),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            gap="0.75rem", width="100%", align_items="end",
        ),
        on_submit=AuditState.apply_filters,
        reset_on_submit=False,
        width="100%",
        aria_label="Filter the audit trail",
    )


def _event(row: AuditRow) -> rx.Component:
    muted = rx.color("gray", 11)
    return rx.el.li(
        rx.flex(
            rx.flex(
                rx.badge(row.severity, color_scheme=row.colour, variant="soft"),
                rx.text(row.event_type, as_="span", weight="bold", size="2", font_family="monospace",
                        class_name="au-type", overflow_wrap="anywhere"),
                gap="0.5rem", align="center", wrap="wrap",
            ),
            rx.text("#", row.seq.to_string(), " \u00b7 ", row.when, as_="span", size="1", color=muted),
            justify="between", wrap="wrap", gap="0.5rem", width="100%",
        ),
        rx.text("By ", rx.text(row.actor, as_="span", weight="medium"),
                rx.cond((row.actor_role != "") & (row.actor_role != "system"), rx.fragment(" (", row.actor_role, ")")),
                rx.cond(row.subject_type != "", rx.fragment(" \u00b7 ", row.subject_type, " ", row.subject_id)),
                as_="p", size="2", overflow_wrap="anywhere", class_name="au-actor"),
        rx.text(row.details, as_="p", size="1", color=muted, font_family="monospace", overflow_wrap="anywhere"),
        display="flex", flex_direction="column", gap="0.25rem", list_style="none", padding="0.75rem 1rem",
        border_bottom=f"1px solid {rx.color('gray', 4)}", class_name="au-event", data_seq=row.seq,
    )


def _chain_row(c: ChainRow) -> rx.Component:
    return rx.el.li(
        rx.flex(
            rx.badge(rx.cond(c.ok, "OK", "Broken"), color_scheme=rx.cond(c.ok, "green", "red"), variant="solid"),
            rx.text(c.label, as_="span", weight="medium", size="2", overflow_wrap="anywhere"),
            rx.text(c.checked.to_string(), " records", as_="span", size="1", color=rx.color("gray", 11)),
            gap="0.5rem", align="center", wrap="wrap",
        ),
        rx.cond(~c.ok, rx.text("First broken record: #", c.broken_seq.to_string(), " \u2014 ", c.reason, as_="p",
                               size="2", color=rx.color("red", 11), class_name="au-broken")),
        list_style="none", padding="0.5rem 0", border_bottom=f"1px solid {rx.color('gray', 4)}",
        class_name="au-chain", data_ok=rx.cond(c.ok, "true", "false"), data_chain=c.chain,
    )


def _verify_panel() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.heading("Integrity", as_="h2", size="4"),
                rx.text("Walk every hash chain now and show the first broken record, if any.", size="2",
                        color=rx.color("gray", 11)),
                spacing="1",
            ),
            rx.button(rx.icon("shield-check", size=18, aria_hidden="true"), "Verify all records", size="3",
                      on_click=AuditState.verify_all, loading=AuditState.verifying, id="au-verify"),
            justify="between", align="center", wrap="wrap", gap="0.75rem", width="100%",
        ),
        rx.cond(
            AuditState.verified,
            rx.vstack(
                rx.callout(AuditState.verify_summary, icon=rx.cond(AuditState.verify_ok, "check", "triangle-alert"),
                           color_scheme=rx.cond(AuditState.verify_ok, "green", "red"), role="status",
                           id="au-verify-summary", width="100%"),
                rx.el.ul(rx.foreach(AuditState.chains, _chain_row), margin="0", padding="0", width="100%",
                         id="au-chains"),
                spacing="3", width="100%", margin_top="0.75rem",
            ),
        ),
        width="100%",
    )


def _pager() -> rx.Component:
    return rx.flex(
        rx.button("\u2190 Newer", variant="outline", size="2", on_click=AuditState.go_to_page(AuditState.page - 1),
                  disabled=AuditState.page <= 1, id="au-prev"),
        rx.text("Page ", AuditState.page.to_string(), " of ", AuditState.pages.to_string(), " \u00b7 ",
                AuditState.total.to_string(), " events", size="2", id="au-page", role="status"),
        rx.button("Older \u2192", variant="outline", size="2", on_click=AuditState.go_to_page(AuditState.page + 1),
                  disabled=AuditState.page >= AuditState.pages, id="au-next"),
        justify="between", align="center", gap="0.5rem", width="100%", wrap="wrap",
    )


def audit_page() -> rx.Component:
    return layout(
        container(
            rx.vstack(
                rx.flex(
                    page_title("Audit trail", "Every recorded action, newest first, in Canberra time."),
                    rx.link("\u2190 Admin dashboard", href="/admin", size="2"),
                    justify="between", align="start", wrap="wrap", gap="0.5rem", width="100%",
                ),
                rx.cond(
                    AuditState.loaded,
                    rx.vstack(
                        _verify_panel(),
                        _filters(),
                        message_box(AuditState.error),
                        rx.cond(
                            AuditState.items.length() > 0,
                            rx.card(rx.el.ul(rx.foreach(AuditState.items, _event), margin="0", padding="0",
                                             id="au-list"),
                                    size="1", padding="0", width="100%", overflow="hidden"),
                            rx.text("No events match.", as_="p", size="3", color=rx.color("gray", 11), id="au-empty"),
                        ),
                        _pager(),
                        spacing="4", width="100%",
                    ),
                    rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"),
                ),
                spacing="5", width="100%",
            ),
            padding_y=["1.5rem", "2rem", "3rem"],
        ),
        active=ROUTE,
    )


ON_LOAD = [*require_role("admin"), AuditState.load]
