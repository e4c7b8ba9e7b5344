"""Reusable, static UI pieces: the site shell (layout), navigation and small widgets."""
from nexdrive.components import brand
from nexdrive.components.layout import MAIN_ID, layout, site_footer, skip_link
from nexdrive.components.navigation import site_header
from nexdrive.components.ui import (
    button_link,
    container,
    page_header,
    page_section,
    section_heading,
)

__all__ = [
    "MAIN_ID",
    "brand",
    "button_link",
    "container",
    "layout",
    "page_header",
    "page_section",
    "section_heading",
    "site_footer",
    "site_header",
    "skip_link",
]
