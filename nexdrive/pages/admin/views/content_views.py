"""The views of ``/admin/content``: three tabs (blog, FAQ, testimonials), each a list and an editor form with
labelled fields and inline errors; the blog's Markdown body has a live preview beside it (below on a phone)."""
from __future__ import annotations

import reflex as rx

from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, container
from nexdrive.pages.account._display import panel
from nexdrive.pages.admin.views.forms import select_field
from nexdrive.pages.auth._forms import field, message_box, page_title

RATINGS = [("", "No rating"), ("5", "5 stars"), ("4", "4 stars"), ("3", "3 stars"), ("2", "2 stars"),
           ("1", "1 star")]


def area(label: str, *, id: str, error, hint: str | None = None, rows: str = "5", **props) -> rx.Component:
    """A labelled ``<textarea>`` with its hint and inline error tied to it (aria-describedby)."""
    described = " ".join(x for x in (f"{id}-hint" if hint else "", f"{id}-error") if x)
    return rx.vstack(
        rx.el.label(label, html_for=id, font_weight="600", font_size="var(--font-size-2)"),
        *([rx.text(hint, id=f"{id}-hint", size="1", color=rx.color("gray", 11), as_="p")] if hint else []),
        rx.text_area(id=id, name=id, rows=rows, width="100%", aria_describedby=described,
                     aria_invalid=rx.cond(error != "", "true", "false"),
                     color_scheme=rx.cond(error != "", "red", "gray"), **props),
        rx.text(error, id=f"{id}-error", role="alert", as_="p", size="2", color=rx.color("red", 11),
                display=rx.cond(error != "", "block", "none")),
        spacing="1", width="100%", align="stretch",
    )


def checkbox(label: str, *, id: str, checked) -> rx.Component:
    return rx.el.label(rx.el.input(type="checkbox", name=id, id=id, default_checked=checked,
                                   style={"width": "1.25rem", "height": "1.25rem"}),
                       rx.text(label, as_="span", size="2"),
                       style={"display": "flex", "gap": "0.5rem", "alignItems": "center", "minHeight": "2.75rem"})


def _row(title, meta, on_click, *, id) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(rx.text(title, weight="medium", size="2"), rx.text(meta, size="1", color=rx.color("gray", 11)),
                      spacing="0", align="start", flex="1", min_width="0"),
            rx.button("Edit", on_click=on_click, variant="soft", size="2", min_height="2.75rem",
                      aria_label=rx.Var.create("Edit: ") + title.to(str), id=id),
            align="center", width="100%", spacing="3",
        ),
        list_style="none", padding_y="0.35rem", border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _list(items, render, *, id: str, empty: str) -> rx.Component:
    return rx.cond(items.length() > 0,
                   rx.el.ul(rx.foreach(items, render), margin="0", padding="0", width="100%", id=id,
                            max_height="28rem", overflow_y="auto"),
                   rx.text(empty, size="2", color=rx.color("gray", 11)))


def _two(*children) -> rx.Component:
    return rx.grid(*children, columns=rx.breakpoints(initial="1", md="2"), gap="1.25rem", width="100%",
                   align_items="start")


# ── Blog ──

def _blog(st) -> rx.Component:
    f, e = st.post_form, st.post_errors
    form = rx.form(rx.vstack(
        rx.grid(
            field("Title", id="post_title", default_value=f["title"], error=e.get("title", "")),
            field("Address (slug)", id="post_slug", required=False, default_value=f["slug"],
                  error=e.get("slug", ""), hint="Lower-case words and hyphens; left empty, made from the title."),
            field("Category", id="post_category", default_value=f["category"], error=e.get("category", ""),
                  hint="For example: Log book, CBT&A tasks, For parents."),
            field("Author", id="post_author", required=False, default_value=f["author_name"],
                  error=e.get("author_name", ""), hint="Left empty: your name."),
            columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%"),
        field("Summary", id="post_summary", default_value=f["summary"], error=e.get("summary", ""),
              hint="One or two sentences: shown in the list, in search results and in the RSS feed."),
        _two(
            area("Post (Markdown)", id="post_body", error=e.get("body", ""), rows="16", value=st.post_body,
                 on_change=st.set_post_body.debounce(250),
                 hint="# Heading, **bold**, *italic*, - lists, [a link](/faq). HTML is shown as text."),
            rx.vstack(
                rx.text("Preview", weight="bold", size="2", id="post-preview-label"),
                rx.box(rx.cond(st.post_body != "", rx.markdown(st.post_body, use_raw=False),
                               rx.text("The preview appears as you write.", size="2", color=rx.color("gray", 11))),
                       id="post-preview", role="region", aria_labelledby="post-preview-label",
                       border=f"1px solid {rx.color('gray', 6)}", border_radius="var(--radius-3)",
                       padding="1rem", width="100%", min_height="10rem", max_height="32rem", overflow_y="auto"),
                spacing="1", width="100%", align="stretch",
            ),
        ),
        select_field("Status", id="post_status", options=[("draft", "Draft (not on the website)"),
                                                          ("published", "Published (on the blog, RSS and sitemap)")],
                     default_value=f["status"]),
        rx.text(e.get("form", ""), role="alert", size="2", color=rx.color("red", 11)),
        rx.flex(
            rx.button("Save post", type="submit", id="post-save", loading=st.busy, size="3"),
            rx.cond(f["id"] != "", rx.button("Delete post", type="button", on_click=st.delete_post, color_scheme="red",
                                             variant="soft", size="3", id="post-delete")),
            rx.cond(f["url"] != "", rx.link("Open on the blog", href=f["url"], is_external=True, size="2",
                                           padding_y="0.6rem")),
            gap="0.75rem", wrap="wrap", align="center"),
        spacing="4", width="100%"), on_submit=st.save_post, reset_on_submit=False, width="100%", id="post-form",
        key=st.post_version.to_string(), aria_label="Blog post",
        custom_attrs={"data-version": st.post_version.to_string()})
    posts = _list(st.posts, lambda p: _row(p["title"], rx.cond(p["status"] == "published",
                                                               "Published " + p["published"], "Draft") + " \u00b7 "
                                           + p["category"], st.edit_post(p["id"]), id="post-edit-" + p["slug"]),
                  id="post-list", empty="No posts yet.")
    return rx.vstack(
        panel("Posts", "posts-panel", rx.vstack(
            rx.button(rx.icon("plus"), "New post", on_click=st.new_post, variant="soft", size="2", id="post-new"),
            posts, spacing="3", width="100%")),
        panel("Write", "post-editor", form),
        spacing="4", width="100%")


# ── FAQ ──

def _faq(st) -> rx.Component:
    f, e = st.faq_form, st.faq_errors
    form = rx.form(rx.vstack(
        rx.grid(
            field("Category", id="faq_category", default_value=f["category"], error=e.get("category", ""),
                  hint="The heading it appears under, e.g. Lessons."),
            field("Order", id="faq_position", required=False, default_value=f["position"],
                  error=e.get("position", ""), input_mode="numeric", hint="Lower numbers come first."),
            columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%"),
        field("Question", id="faq_question", default_value=f["question"], error=e.get("question", "")),
        area("Answer (Markdown)", id="faq_answer", error=e.get("answer", ""), default_value=f["answer"],
             hint="No email addresses or phone numbers: the assistant answers from this text."),
        checkbox("Published on the FAQ page", id="faq_published", checked=f["published"] == "on"),
        rx.text(e.get("form", ""), role="alert", size="2", color=rx.color("red", 11)),
        rx.flex(rx.button("Save question", type="submit", id="faq-save", loading=st.busy, size="3"),
                rx.cond(f["id"] != "", rx.button("Remove question", type="button", on_click=st.delete_faq,
                                                 color_scheme="red", variant="soft", size="3", id="faq-delete")),
                gap="0.75rem", wrap="wrap"),
        spacing="4", width="100%"), on_submit=st.save_faq, reset_on_submit=False, width="100%", id="faq-form",
        key=st.faq_version.to_string(), aria_label="FAQ question")
    entries = _list(st.faqs, lambda q: _row(q["question"], q["category"] + rx.cond(q["published"] == "on", "",
                                                                                   " \u00b7 not published"),
                                            st.edit_faq(q["id"]), id="faq-edit-" + q["key"]),
                    id="faq-list", empty="No questions yet.")
    return rx.vstack(
        panel("Questions", "faq-panel", rx.vstack(
            rx.button(rx.icon("plus"), "New question", on_click=st.new_faq, variant="soft", size="2", id="faq-new"),
            entries, spacing="3", width="100%")),
        panel("Edit question", "faq-editor", form),
        spacing="4", width="100%")


# ── Testimonials ──

def _quote_meta(t) -> rx.Var:
    status = rx.cond(t["consent_withdrawn"] != "", "consent withdrawn " + t["consent_withdrawn"],
                     rx.cond(t["published"] == "on", "published", "not published"))
    return t["suburb"] + " \u00b7 " + status + rx.cond(t["sample"] == "on", " \u00b7 sample", "")


def _testimonials(st) -> rx.Component:
    f, e = st.quote_form, st.quote_errors
    form = rx.form(rx.vstack(
        area("Quote", id="t_quote", error=e.get("quote", ""), default_value=f["quote"], rows="4"),
        rx.grid(
            field("Name as shown", id="t_display_name", default_value=f["display_name"],
                  error=e.get("display_name", ""), hint="A first name only."),
            field("Suburb", id="t_suburb", required=False, default_value=f["suburb"], error=e.get("suburb", "")),
            field("Who they are", id="t_role", required=False, default_value=f["role"], error=e.get("role", ""),
                  hint="e.g. Learner, Parent"),
            field("Label", id="t_highlight", required=False, default_value=f["highlight"],
                  error=e.get("highlight", ""), hint="e.g. Nervous driver"),
            select_field("Rating", id="t_rating", options=RATINGS, default_value=f["rating"],
                         error=e.get("rating", "")),
            columns=rx.breakpoints(initial="1", sm="2"), gap="1rem", width="100%"),
        rx.heading("Consent", as_="h3", size="3"),
        rx.text("Publish only with the person's permission (a parent's for a learner under 18). Record who gave "
                "it, when and how.", size="2", color=rx.color("gray", 11), as_="p"),
        rx.grid(
            field("Consent given by", id="t_consent_given_by", required=False, default_value=f["consent_given_by"],
                  error=e.get("consent_given_by", "")),
            field("Date consent given", id="t_consent_date", required=False, default_value=f["consent_date"],
                  error=e.get("consent_date", ""), hint="dd/mm/yyyy"),
            field("How", id="t_consent_method", required=False, default_value=f["consent_method"],
                  error=e.get("consent_method", ""), hint="e.g. email 3 Dec 2026"),
            columns=rx.breakpoints(initial="1", sm="3"), gap="1rem", width="100%"),
        rx.cond(f["withdrawn"] != "",
                rx.callout("Consent was withdrawn on " + f["withdrawn"] + ": this testimonial can't be published.",
                           icon="ban", color_scheme="orange", size="1")),
        checkbox("Published on the website", id="t_published", checked=f["published"] == "on"),
        rx.text(e.get("form", ""), role="alert", size="2", color=rx.color("red", 11)),
        rx.flex(rx.button("Save testimonial", type="submit", id="quote-save", loading=st.busy, size="3"),
                rx.cond((f["id"] != "") & (f["withdrawn"] == ""),
                        rx.button("Consent withdrawn", type="button", on_click=st.withdraw_consent,
                                  color_scheme="orange", variant="soft", size="3", id="quote-withdraw")),
                gap="0.75rem", wrap="wrap"),
        spacing="4", width="100%"), on_submit=st.save_quote, reset_on_submit=False, width="100%", id="quote-form",
        key=st.quote_version.to_string(), aria_label="Testimonial")
    items = _list(st.quotes, lambda t: _row(t["name"], _quote_meta(t), st.edit_quote(t["id"]),
                                            id="quote-edit-" + t["id"]), id="quote-list", empty="No testimonials.")
    return rx.vstack(
        panel("Testimonials", "quotes-panel", rx.vstack(
            rx.button(rx.icon("plus"), "New testimonial", on_click=st.new_quote, variant="soft", size="2",
                      id="quote-new"),
            items, spacing="3", width="100%")),
        panel("Edit testimonial", "quote-editor", form),
        spacing="4", width="100%")


def content_view(st) -> rx.Component:
    tabs = rx.tabs.root(
        rx.tabs.list(
            rx.tabs.trigger("Blog", value="blog", id="tab-blog", min_height="2.75rem"),
            rx.tabs.trigger("FAQ", value="faq", id="tab-faq", min_height="2.75rem"),
            rx.tabs.trigger("Testimonials", value="testimonials", id="tab-testimonials", min_height="2.75rem"),
        ),
        rx.tabs.content(rx.box(_blog(st), padding_top="1rem"), value="blog"),
        rx.tabs.content(rx.box(_faq(st), padding_top="1rem"), value="faq"),
        rx.tabs.content(rx.box(_testimonials(st), padding_top="1rem"), value="testimonials"),
        value=st.tab, on_change=st.set_tab, width="100%",
    )
    return layout(container(rx.vstack(
        button_link("Back to the dashboard", "/admin", icon="arrow-left", variant="ghost", size="2"),
        page_title("Website content", "The blog, the FAQ (the assistant answers from it too) and testimonials. "
                                      "Changes show on the website at once and are recorded in the audit log."),
        message_box(st.error),
        # high contrast: the soft green callout's text is 4.2:1 on its background (axe: 4.5:1 needed)
        rx.cond(st.notice != "", rx.callout(st.notice, icon="circle-check", color_scheme="green", high_contrast=True,
                                            role="status", id="content-notice", width="100%")),
        rx.cond(st.loaded, tabs,
                rx.cond(st.error == "", rx.hstack(rx.spinner(), rx.text("Loading\u2026"), role="status"))),
        spacing="4", width="100%"), padding_y=["1.5rem", "2rem", "3rem"]), active="/admin")
