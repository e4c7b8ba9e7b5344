"""``/admin/knowledge``: what the assistant knows — every document and its chunks as indexed; add, edit and
remove the school's own documents; re-index everything (the live lesson types and prices, the policies from
the settings, the ACT facts, the Competency Hub's pages, the FAQ page and the school's own documents).
``?key=`` opens one document.
Rules (validation, no personal data, length limits): ``services.ai.knowledge``.
"""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.errors import ServiceError
from nexdrive.pages.account._display import panel
from nexdrive.pages.admin.views.forms import select_field
from nexdrive.pages.auth._forms import field, message_box, page_title
from nexdrive.services.ai import knowledge
from nexdrive.services.content import faq
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import require_role, run_as_actor

ROUTE = "/admin/knowledge"
TITLE = "Assistant knowledge | NexDrive Academy admin"
DESCRIPTION = "The documents the NexDrive Academy assistant answers from, their chunks, and re-indexing."
TYPES = [(k, v) for k, v in knowledge.SOURCE_TYPE_LABELS.items() if k in knowledge.CUSTOM_SOURCE_TYPES]
FAMILY_LABELS = {"custom": "Yours", "faq": "FAQ page", "hub": "Competency Hub", "builtin": "Built in"}


def faq_entries(session) -> list[dict]:
    """The FAQ's published questions and answers (the same entries ``nexdrive.cli`` indexes)."""
    return faq.knowledge_entries(session)


def _flat(d: dict) -> dict[str, str]:
    return {k: ("1" if v else "") if isinstance(v, bool) else str(v) for k, v in d.items()
            if not isinstance(v, (list, dict))}


class KnowledgeState(rx.State):
    loaded: bool = False
    error: str = ""
    notice: str = ""
    docs: list[dict[str, str]] = []
    key: str = ""
    doc: dict[str, str] = {}
    chunks: list[dict[str, str]] = []
    adding: bool = False
    errors: dict[str, str] = {}
    busy: bool = False
    form_key: int = 0

    async def _fetch(self):
        key = self.key

        def work(session, actor):
            return knowledge.list_documents(session, actor), knowledge.get_document(session, actor, key) if key \
                else None
        try:
            docs, one = await run_as_actor(self, work)
        except AuthRequired:
            return
        except ServiceError as exc:
            self.error = exc.message
            return
        self.error = ""
        self.docs = [{**_flat(d), "family_label": FAMILY_LABELS.get(d["family"], d["family"])} for d in docs]
        self.doc = _flat(one) if one else {}
        self.chunks = [_flat(c) for c in one["chunks"]] if one else []
        self.form_key += 1

    @rx.event
    async def load(self):
        self.loaded, self.notice, self.errors, self.adding, self.busy = False, "", {}, False, False
        self.key = (self.router.url.query_parameters.get("key") or "")[:200]
        yield
        await self._fetch()
        self.loaded = True

    @rx.event
    def toggle_add(self):
        self.adding, self.errors = not self.adding, {}

    async def _save(self, form: dict, key: str):
        data = {k: form.get(k) or "" for k in ("title", "source_type", "text", "url")}
        self.busy, self.errors, self.notice = True, {}, ""
        try:
            saved = await run_as_actor(self, lambda s, a: knowledge.save_document(s, a, key=key, **data))
        except AuthRequired:
            self.busy = False
            return None
        except ServiceError as exc:
            self.busy, self.errors = False, {str(exc.details.get("field") or "form"): exc.message}
            return None
        self.busy = False
        return saved

    @rx.event
    async def add(self, form: dict):
        saved = await self._save(form, "")
        if saved is not None:
            yield rx.redirect(f"{ROUTE}?key={saved['key']}")

    @rx.event
    async def save(self, form: dict):
        saved = await self._save(form, self.key)
        if saved is not None:
            self.notice = f"Saved and indexed: {saved['chunks']} chunk(s)."
            await self._fetch()

    @rx.event
    async def remove(self):
        key = self.key
        try:
            await run_as_actor(self, lambda s, a: knowledge.remove_document(s, a, key))
        except ServiceError as exc:
            self.error = exc.message
            return
        yield rx.redirect(ROUTE)

    @rx.event
    async def reindex(self):
        self.busy, self.notice = True, ""
        yield
        try:
            stats = await run_as_actor(self, lambda s, a: knowledge.reindex_all(s, a, faq_entries(s)))
        except ServiceError as exc:
            self.busy, self.error = False, exc.message
            return
        self.busy = False
        self.notice = (f"Re-indexed: {stats['added']} added, {stats['updated']} updated, {stats['removed']} removed, "
                       f"{stats['chunks']} chunks.")
        await self._fetch()


def _errors(name: str) -> rx.Var:
    return KnowledgeState.errors.get(name, "")


def _document_form(on_submit, submit: str, form_id: str, values: rx.Var | None = None) -> rx.Component:
    v = values if values is not None else {}
    return rx.form(
        rx.vstack(
            field("Title", id="title", name="title", default_value=v.get("title", "") if values is not None else "",
                  error=_errors("title")),
            select_field("Kind", id="source_type", options=TYPES,
                         default_value=v.get("source_type", "faq") if values is not None else "faq",
                         error=_errors("source_type")),
            field("Source (a page of this site, e.g. /lessons, or an https:// link)", id="url", name="url",
                  required=False, default_value=v.get("url", "") if values is not None else "", error=_errors("url")),
            rx.el.label("Text", html_for="text", font_weight="600", font_size="var(--font-size-2)"),
            rx.text_area(id="text", name="text", rows="8", width="100%", max_length=knowledge.MAX_TEXT,
                         default_value=v.get("text", "") if values is not None else "", aria_describedby="text-error"),
            rx.text("No names, phone numbers or email addresses: write {{policy:phone_display}} or "
                    "{{policy:email}} for the school's own. Prices come from the lesson types: don't type them.",
                    size="1", color=rx.color("gray", 11)),
            rx.text(_errors("text"), id="text-error", role="alert", size="2", color=rx.color("red", 11),
                    display=rx.cond(_errors("text") != "", "block", "none")),
            rx.text(_errors("key"), role="alert", size="2", color=rx.color("red", 11)),
            rx.button(rx.cond(KnowledgeState.busy, "Saving\u2026", submit), type="submit",
                      disabled=KnowledgeState.busy, id=f"{form_id}-submit"),
            spacing="2", width="100%", align="stretch"),
        key=KnowledgeState.form_key.to_string(), on_submit=on_submit, reset_on_submit=False, id=form_id,
        width="100%")


def _doc_row(d: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.link(d["title"], href=ROUTE + "?key=" + d["key"], class_name="kb-doc")),
        rx.table.cell(rx.badge(d["family_label"], variant="soft")),
        rx.table.cell(d["source_label"]),
        rx.table.cell(d["chunks"]),
        rx.table.cell(d["status"]),
        class_name="kb-row", data_key=d["key"])


def _chunk(c: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text("Chunk ", c["index"], " \u00b7 ", c["chars"], " characters",
                rx.cond(c["vector"] == "1", " \u00b7 vector", ""), size="1", color=rx.color("gray", 10)),
        rx.text(c["content"], size="2", white_space="pre-wrap", overflow_wrap="anywhere"),
        spacing="1"), width="100%", class_name="kb-chunk")


def _document_view() -> rx.Component:
    st = KnowledgeState
    d = st.doc
    return rx.vstack(
        rx.link("\u2190 All documents", href=ROUTE, size="2"),
        rx.heading(d["title"], as_="h2", size="5", id="kb-title"),
        rx.text(d["key"], " \u00b7 ", d["source_label"], " \u00b7 indexed ", d["indexed"],
                rx.cond(d["url"] != "", rx.fragment(" \u00b7 source ", rx.link(d["url"], href=d["url"]))),
                size="2", color=rx.color("gray", 11)),
        rx.cond(d["family"] == "custom",
                rx.vstack(
                    panel("Edit", "kb-edit", _document_form(st.save, "Save and re-index", "kb-edit-form", d)),
                    rx.button("Remove this document", on_click=st.remove, color_scheme="red", variant="soft",
                              id="kb-remove"),
                    spacing="3", width="100%"),
                rx.callout("This document is written from its source (the lesson types, the settings, the ACT "
                           "facts file or the FAQ page): change it there, then re-index.", icon="info",
                           size="1")),
        rx.heading("Chunks as indexed", as_="h3", size="4"),
        rx.foreach(st.chunks, _chunk),
        spacing="3", width="100%", id="kb-document")


def knowledge_page() -> rx.Component:
    st = KnowledgeState
    table = rx.box(rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h, scope="col") for h in (
            "Document", "From", "Kind", "Chunks", "Status")])),
        rx.table.body(rx.foreach(st.docs, _doc_row)), variant="surface", size="1", width="100%", id="kb-table"),
        overflow_x="auto", width="100%")
    listing = rx.vstack(
        rx.flex(
            rx.button(rx.icon("plus", size=16), "Add a document", on_click=st.toggle_add, id="kb-add"),
            rx.button(rx.icon("refresh-cw", size=16), rx.cond(st.busy, "Re-indexing\u2026", "Re-index everything"),
                      on_click=st.reindex, disabled=st.busy, variant="soft", id="kb-reindex"),
            gap="0.75rem", wrap="wrap"),
        rx.cond(st.adding, panel("New document", "kb-new", _document_form(st.add, "Add and index", "kb-new-form"))),
        rx.text(st.docs.length(), " documents", size="2"),
        table,
        spacing="3", width="100%")
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Assistant knowledge", "What the web chat, SMS and phone assistant answers from, with sources."),
        message_box(st.error, id="kb-error"),
        message_box(st.notice, tone="green", id="kb-notice", icon="circle-check"),
        rx.cond(st.loaded, rx.cond(st.key != "", rx.cond(st.doc.contains("key"), _document_view(),
                                                         rx.text("That document is not in the knowledge base.")),
                                   listing),
                rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status")),
        spacing="4", width="100%",
    ), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")


ON_LOAD = [*require_role("admin"), KnowledgeState.load]
