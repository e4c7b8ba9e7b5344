"""The public website's content the owner edits: the FAQ (also what the assistant answers from),
testimonials with the person's consent recorded, and the blog (Markdown posts, RSS, sitemap entries).

Reading what is published is public; every write is the administrator's (``core.access.require_edit_content``),
checked, done in one transaction and audited. Markdown is rendered without raw HTML (``render_markdown``).

Public modules: faq, testimonials, blog.
"""
