"""Shared input checks and the safe Markdown renderer of the content package."""
from __future__ import annotations

import re
from typing import Any

from markdown_it import MarkdownIt

from nexdrive.errors import ValidationFailed

# CommonMark with raw HTML switched off: <script>, <iframe>, on*= attributes are shown as text, and
# markdown-it refuses javascript:, vbscript:, file: and data: (non-image) links.
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def render_markdown(text: str) -> str:
    """Markdown -> HTML, with any HTML in the source escaped (never passed through)."""
    return _MD.render(text or "")


def one_line(value: Any, field: str, label: str, *, limit: int, required: bool = True) -> str:
    """A single line of text, spaces collapsed; refused when missing or too long."""
    text = " ".join(_CONTROL.sub(" ", str(value if value is not None else "")).split())
    if required and not text:
        raise ValidationFailed(f"Please enter the {label}.", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"Please keep the {label} under {limit} characters.", field=field)
    return text


def block(value: Any, field: str, label: str, *, limit: int, minimum: int = 1) -> str:
    """Multi-line text (Markdown): line breaks kept, control characters and trailing spaces removed."""
    text = _CONTROL.sub("", str(value if value is not None else "").replace("\r\n", "\n").replace("\r", "\n"))
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    if len(text) < minimum:
        raise ValidationFailed(f"Please write the {label}." if minimum <= 1 else
                               f"Please write at least {minimum} characters for the {label}.", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"Please keep the {label} under {limit:,} characters.", field=field)
    return text


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "").lower().replace("&", " and ")).strip("-")
