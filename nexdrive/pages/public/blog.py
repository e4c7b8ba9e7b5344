"""The blog: ``/blog`` (published posts, newest first, ``?category=<slug>`` for one category) and
``/blog/[slug]`` (one post: its own title and description, a canonical URL and schema.org Article JSON-LD).

Posts are the owner's (``/admin/content``), read on each load from ``services.content.blog``, which shows
published posts only: a draft is "not found" here as everywhere. The RSS feed is ``/blog/rss.xml``."""
from __future__ import annotations

import json
import logging

import reflex as rx

from nexdrive.components import brand
from nexdrive.components.layout import layout
from nexdrive.components.ui import button_link, page_header, page_section
from nexdrive.errors import NotFound
from nexdrive.services.content import blog
from nexdrive.settings import get_settings
from nexdrive.state.auth import run_anonymous

logger = logging.getLogger("nexdrive.public")

ROUTE = blog.ROUTE
POST_ROUTE = "/blog/[slug]"
TITLE = "Blog: guides for ACT learner drivers and parents | NexDrive Academy"
DESCRIPTION = ("News and practical guides from NexDrive Academy for Canberra learner drivers and their "
               "supervising drivers: log book hours, CBT&A tasks, lessons and road rules.")
SITEMAP = {"priority": 0.7, "changefreq": "weekly"}


def _plain(post: dict) -> dict[str, str]:
    return {k: str(post.get(k, "")) for k in ("id", "slug", "title", "summary", "category", "category_slug",
                                              "author", "url", "published", "published_at", "published_when",
                                              "body", "updated_at")}


class BlogState(rx.State):
    posts: list[dict[str, str]] = []
    categories: list[dict[str, str]] = []
    category: str = ""
    category_name: str = ""
    loaded: bool = False

    @rx.event
    async def load(self):
        wanted = (self.router.url.query_parameters.get("category") or "")[:60]
        try:
            posts, categories = await run_anonymous(lambda s: (blog.public_posts(s, wanted),
                                                               blog.public_categories(s)))
        except Exception:
            logger.exception("could not load the blog")
            return
        self.category = wanted if any(c["slug"] == wanted for c in categories) else ""
        self.category_name = next((c["name"] for c in categories if c["slug"] == self.category), "")
        self.posts = [_plain(p) for p in posts]
        self.categories = [{"slug": c["slug"], "name": c["name"], "label": f"{c['name']} ({c['count']})"}
                           for c in categories]
        self.loaded = True


def _category_nav() -> rx.Component:
    st = BlogState

    def chip(label, href, current) -> rx.Component:
        return rx.el.li(rx.link(label, href=href, size="2", weight=rx.cond(current, "bold", "regular"),
                                aria_current=rx.cond(current, "page", "false"), underline="always",
                                display="inline-block", padding="0.6rem 0.25rem"), list_style="none")
    return rx.el.nav(
        rx.el.ul(
            chip("All posts", ROUTE, st.category == ""),
            rx.foreach(st.categories, lambda c: chip(c["label"], ROUTE + "?category=" + c["slug"],
                                                     st.category == c["slug"])),
            display="flex", flex_wrap="wrap", gap="0 1rem", margin="0", padding="0",
        ),
        aria_label="Blog categories",
    )


def _post_card(post) -> rx.Component:
    return rx.el.li(
        rx.el.article(
            rx.card(
                rx.vstack(
                    rx.hstack(rx.badge(post["category"], variant="soft", radius="full"),
                              rx.text("Published ", rx.el.time(post["published"], date_time=post["published_at"]),
                                      size="2", color=rx.color("gray", 11)),
                              wrap="wrap", align="center", spacing="3"),
                    rx.heading(rx.link(post["title"], href=post["url"], color=rx.color("gray", 12)),
                               as_="h2", size="5"),
                    rx.text(post["summary"], as_="p", size="3", color=rx.color("gray", 11)),
                    rx.link("Read the post", rx.el.span(": ", post["title"], class_name="rx-sr-only",
                                                        style={"position": "absolute", "width": "1px",
                                                               "height": "1px", "overflow": "hidden",
                                                               "clip": "rect(0 0 0 0)"}),
                            href=post["url"], weight="medium", display="inline-block", padding_y="0.5rem"),
                    spacing="2", align="start",
                ),
                size="3", width="100%",
            ),
        ),
        list_style="none",
        class_name="blog-post-card",
    )


def blog_page() -> rx.Component:
    st = BlogState
    return layout(
        page_header("Blog", "Guides and news for Canberra learner drivers and the people who supervise them.",
                    kicker="NexDrive Academy", icon="newspaper"),
        page_section(
            rx.vstack(
                rx.flex(_category_nav(),
                        rx.link(rx.icon("rss", size=16, aria_hidden="true"), "RSS feed", href=blog.RSS_PATH,
                                display="inline-flex", align_items="center", gap="0.25rem", size="2",
                                padding_y="0.6rem", id="blog-rss-link"),
                        justify="between", wrap="wrap", gap="0.5rem", width="100%", align="center"),
                rx.cond(st.category_name != "",
                        rx.heading("Posts about ", st.category_name, as_="h2", size="4", id="blog-category-title")),
                rx.cond(
                    st.loaded,
                    rx.cond(st.posts.length() > 0,
                            rx.el.ul(rx.foreach(st.posts, _post_card), display="grid", gap="1rem", margin="0",
                                     padding="0", width="100%", id="blog-posts"),
                            rx.text("No posts here yet. Please check back soon.", as_="p", size="3",
                                    id="blog-empty")),
                    rx.hstack(rx.spinner(), rx.text("Loading the posts\u2026"), role="status"),
                ),
                spacing="5", width="100%", max_width="52rem",
            ),
        ),
        rx.el.link(rel="alternate", type="application/rss+xml", title="NexDrive Academy blog",
                   href=blog.RSS_PATH),
        active=ROUTE,
    )


class BlogPostState(rx.State):
    post: dict[str, str] = {}
    found: bool = True
    loaded: bool = False
    canonical: str = ""
    json_ld: str = ""

    @rx.event
    async def load(self):
        slug = str(self.router.page.params.get("slug") or "")[:80]
        self.loaded = False
        try:
            post = await run_anonymous(lambda s: blog.public_post(s, slug))
        except NotFound:
            self.post, self.found, self.loaded = {}, False, True
            return
        except Exception:
            logger.exception("could not load a blog post")
            return
        base = get_settings().public_url
        self.post, self.found, self.loaded = _plain(post), True, True
        self.canonical = base + post["url"]
        self.json_ld = json.dumps({
            "@context": "https://schema.org", "@type": "Article", "headline": post["title"],
            "description": post["summary"], "datePublished": post["published_at"],
            "dateModified": post["updated_at"] or post["published_at"], "articleSection": post["category"],
            "author": {"@type": "Person", "name": post["author"]},
            "publisher": {"@type": "Organization", "name": brand.BUSINESS_NAME},
            "mainEntityOfPage": {"@type": "WebPage", "@id": self.canonical},
        }, ensure_ascii=False).replace("</", "<\\/")

    @rx.var
    def page_title(self) -> str:
        if not self.found:
            return "Post not found | NexDrive Academy blog"
        title = self.post.get("title", "")
        return f"{title} | NexDrive Academy blog" if title else "NexDrive Academy blog"

    @rx.var
    def page_description(self) -> str:
        return self.post.get("summary", "") or DESCRIPTION


def post_page() -> rx.Component:
    st, p = BlogPostState, BlogPostState.post
    article = rx.el.article(
        rx.vstack(
            rx.link(rx.icon("arrow-left", size=16, aria_hidden="true"), "All posts", href=ROUTE,
                    display="inline-flex", align_items="center", gap="0.25rem", padding_y="0.5rem"),
            rx.hstack(rx.link(p["category"], href=ROUTE + "?category=" + p["category_slug"], size="2"),
                      rx.text("Published ", rx.el.time(p["published_when"], date_time=p["published_at"]),
                              " by ", p["author"], size="2", color=rx.color("gray", 11), id="blog-post-meta"),
                      wrap="wrap", spacing="3", align="center"),
            rx.heading(p["title"], as_="h1", id="page-title", size=rx.breakpoints(initial="7", sm="8")),
            rx.text(p["summary"], as_="p", size="4", color=rx.color("gray", 11)),
            rx.box(rx.markdown(p["body"], use_raw=False), id="blog-post-body", width="100%",
                   class_name="blog-post-body"),
            rx.el.link(rel="canonical", href=st.canonical),
            rx.el.meta(name="description", content=st.page_description),
            rx.el.script(st.json_ld, type="application/ld+json", id="blog-post-structured-data"),
            spacing="4", align="start", width="100%", max_width="46rem",
        ),
    )
    missing = rx.vstack(
        rx.heading("Post not found", as_="h1", id="page-title", size="7"),
        rx.text("There is no published post at this address. It may have moved or not be published yet.",
                as_="p", size="3"),
        button_link("See all posts", ROUTE, icon="newspaper"),
        spacing="4", align="start",
    )
    return layout(
        page_section(
            rx.cond(st.loaded, rx.cond(st.found, article, missing),
                    rx.hstack(rx.spinner(), rx.text("Loading the post\u2026"), role="status")),
        ),
        active=ROUTE,
    )


ON_LOAD = [BlogState.load]
POST_ON_LOAD = [BlogPostState.load]
