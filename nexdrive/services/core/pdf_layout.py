"""A small shared PDF layout (fpdf2) for tabular documents: the school's page (fonts, header, footer with
page numbers), a title block, a bar chart drawn with rectangles and a table with a totals row.

Used by the owner's reports (``admin.reports``) and, as their base page, the compliance documents
(completion statement, auditor's pack, log-book summary); the invoice keeps its own layout for now.
Text only goes through :meth:`LayoutPdf.t`, so a page prints any name even without
the DejaVu fonts (Debian's fonts-dejavu-core), falling back to Latin-1 Helvetica.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")
BRAND = (62, 99, 221)
AMBER = (214, 140, 20)
INK = (33, 37, 41)
MUTED = (96, 103, 112)
RULE = (214, 219, 226)
SHADE = (241, 244, 252)
NEGATIVE = (200, 60, 60)
SERIES_COLOURS = (BRAND, AMBER, (60, 150, 110), (150, 80, 180))
_ASCII = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2022": "-", "\u2026": "...", "\u00a0": " ", "\u2212": "-", "\u2192": "->", "\u00d7": "x"})


def font_files() -> tuple[Path, Path, Path | None] | None:
    """DejaVu Sans regular and bold (and Sans Mono when present), or None: then the built-in Helvetica."""
    for folder in _FONT_DIRS:
        regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
        mono = Path(folder, "DejaVuSansMono.ttf")
        if regular.is_file() and bold.is_file():
            return regular, bold, mono if mono.is_file() else None
    return None


class LayoutPdf(FPDF):
    """An A4 page (portrait or landscape) with the school's footer and page numbers."""

    def __init__(self, footer_text: str, *, title: str = "", landscape: bool = False, margin: float = 15,
                 bottom: float = 20):
        super().__init__(orientation="L" if landscape else "P", unit="mm", format="A4")
        self.footer_text = footer_text
        self.continued = ""
        fonts = font_files()
        if fonts:
            self.add_font("Body", "", str(fonts[0]))
            self.add_font("Body", "B", str(fonts[1]))
            self.family, self.unicode = "Body", True
        else:
            self.family, self.unicode = "Helvetica", False
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(auto=True, margin=bottom)
        if title:
            self.set_title(title)
        self.set_creator("NexDrive Academy")
        self.alias_nb_pages()

    def t(self, text: Any) -> str:
        """Text the font can print (the built-in Helvetica only has Latin-1)."""
        value = "" if text is None else str(text)
        if self.unicode:
            return value
        value = unicodedata.normalize("NFKC", value.translate(_ASCII))
        return "".join(ch if ord(ch) < 256 else (unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore")
                                                  .decode("latin-1") or "?") for ch in value)

    def font(self, size: float, bold: bool = False, color=INK) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.set_text_color(*color)

    @property
    def body_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def header(self) -> None:
        if self.page_no() > 1 and self.continued:
            self.set_xy(self.l_margin, 7)
            self.font(7.5, color=MUTED)
            self.cell(0, 4, self.t(self.continued), align="R")
            self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.font(7, color=MUTED)
        self.set_y(-12)
        self.cell(0, 4, self.t(self.footer_text), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")

    # ── blocks ──

    def title_block(self, title: str, lines: list[str]) -> None:
        """The document's title in the brand colour, then muted lines (business, ABN, range ...)."""
        self.set_fill_color(*BRAND)
        self.rect(self.l_margin, self.get_y(), 3, 9 + 4.4 * len(lines), style="F")
        self.set_x(self.l_margin + 6)
        self.font(16, bold=True, color=BRAND)
        self.cell(0, 8, self.t(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for line in lines:
            self.set_x(self.l_margin + 6)
            self.font(9, color=MUTED)
            self.cell(0, 4.4, self.t(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)

    def para(self, text: str, size: float = 8, color=MUTED) -> None:
        self.font(size, color=color)
        self.multi_cell(0, size * 0.5, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bar_chart(self, title: str, labels: list[str], series: list[tuple[str, list[float]]], *,
                  value_text=lambda v: f"{v:g}", height: float = 62) -> None:
        """Vertical bars, one group per label and one bar per series, a zero line (negative values go
        below it), the largest value written at the top of the axis, labels under the bars when they fit."""
        if self.get_y() + height + 16 > self.h - self.b_margin:
            self.add_page()
        self.font(10, bold=True)
        self.cell(0, 6, self.t(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if len(series) > 1:
            x = self.l_margin
            for k, (name, _values) in enumerate(series):
                self.set_fill_color(*SERIES_COLOURS[k % len(SERIES_COLOURS)])
                self.rect(x, self.get_y() + 1, 3, 3, style="F")
                self.set_xy(x + 4, self.get_y())
                self.font(7.5, color=MUTED)
                width = self.get_string_width(self.t(name)) + 8
                self.cell(width, 5, self.t(name))
                x += width + 4
            self.ln(6)
        axis_w, top = 22.0, self.get_y() + 2
        left, width = self.l_margin + axis_w, self.body_width - axis_w
        values = [v for _n, vs in series for v in vs] or [0]
        high, low = max(max(values), 0), min(min(values), 0)
        span = (high - low) or 1
        zero = top + height * high / span
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(left, top, left, top + height)
        self.font(7, color=MUTED)
        for v, y in ((high, top), (low, top + height)):
            if v or y == zero:
                self.set_xy(self.l_margin, y - 2)
                self.cell(axis_w - 2, 4, self.t(value_text(v)), align="R")
        self.set_xy(self.l_margin, zero - 2)
        self.cell(axis_w - 2, 4, self.t(value_text(0)), align="R")
        self.line(left, zero, left + width, zero)
        n = max(len(labels), 1)
        slot = width / n
        bar = max(min(slot * 0.8 / max(len(series), 1), 14), 0.3)
        for i in range(len(labels)):
            for k, (_name, vals) in enumerate(series):
                v = vals[i] if i < len(vals) else 0
                if not v:
                    continue
                h = height * abs(v) / span
                x = left + i * slot + (slot - bar * len(series)) / 2 + k * bar
                self.set_fill_color(*(NEGATIVE if v < 0 else SERIES_COLOURS[k % len(SERIES_COLOURS)]))
                self.rect(x, zero - h if v > 0 else zero, bar, h, style="F")
        self.set_y(top + height + 1)
        every = max(1, -(-n * 17 // int(width)))  # about one label per 17 mm
        self.font(6.5, color=MUTED)
        for i, label in enumerate(labels):
            if i % every:
                continue
            text = self.t(label)
            while len(text) > 3 and self.get_string_width(text) > max(slot * every - 1, 12):
                text = text[:-2] + "\u2026" if self.unicode else text[:-4] + "..."
            self.set_xy(left + i * slot + slot / 2 - 15, top + height + 1)
            self.cell(30, 3.5, text, align="C")
        self.set_y(top + height + 8)

    def table(self, headers: list[str], rows: list[list[str]], *, widths: list[float], aligns: list[str],
              totals: list[str] | None = None, size: float = 8) -> None:
        """A table with a shaded header (repeated on each page) and a bold totals row ruled above."""
        line_h = size * 0.55

        def head() -> None:
            self.font(size, bold=True, color=MUTED)
            y, n = self.get_y(), max(_lines(self, headers, widths), 1)
            self.set_fill_color(*SHADE)
            self.rect(self.l_margin, y, sum(widths), line_h * n + 0.6, style="F")
            self.set_xy(self.l_margin, y + 0.3)
            for h, w, a in zip(headers, widths, aligns):
                self.multi_cell(w, line_h, self.t(h), align=a, new_x=XPos.RIGHT, new_y=YPos.TOP,
                                max_line_height=line_h)
            self.set_y(y + line_h * n + 0.6)
        head()
        for n, row in enumerate(rows):
            if self.get_y() + line_h > self.h - self.b_margin:
                self.add_page()
                head()
            if n % 2:
                self.set_fill_color(250, 251, 253)
            self.font(size)
            for value, w, a in zip(row, widths, aligns):
                text = self.t(value)
                while len(text) > 2 and self.get_string_width(text) > w - 1:
                    text = text[:-2] + ("\u2026" if self.unicode else ".")
                self.cell(w, line_h + 0.8, text, align=a, fill=bool(n % 2))
            self.ln(line_h + 0.8)
        if totals is not None:
            if self.get_y() + line_h + 2 > self.h - self.b_margin:
                self.add_page()
                head()
            self.set_draw_color(*INK)
            self.set_line_width(0.3)
            self.line(self.l_margin, self.get_y() + 0.4, self.l_margin + sum(widths), self.get_y() + 0.4)
            self.set_line_width(0.2)
            self.ln(1)
            self.font(size, bold=True)
            for value, w, a in zip(totals, widths, aligns):
                self.cell(w, line_h + 1, self.t(value), align=a)
            self.ln(line_h + 2)


def _lines(pdf: LayoutPdf, texts: list[str], widths: list[float]) -> int:
    return max(len(pdf.multi_cell(w, 4, pdf.t(t), dry_run=True, output="LINES", padding=0))
               for t, w in zip(texts, widths))


@dataclass
class TableDocument:
    """What :func:`render_table_document` prints."""

    title: str
    lines: list[str]
    headers: list[str]
    rows: list[list[str]]
    aligns: list[str]
    weights: list[float]
    totals: list[str] | None = None
    chart_title: str = ""
    chart_labels: list[str] = field(default_factory=list)
    chart_series: list[tuple[str, list[float]]] = field(default_factory=list)
    chart_value_text: Any = None
    notes: list[str] = field(default_factory=list)
    footer: str = ""


def render_table_document(doc: TableDocument) -> bytes:
    """Title block, chart (if any), table with totals, notes: the PDF's bytes. Landscape past six columns."""
    pdf = LayoutPdf(doc.footer or doc.title, title=doc.title, landscape=len(doc.headers) > 6)
    pdf.continued = doc.title
    pdf.add_page()
    pdf.title_block(doc.title, doc.lines)
    if doc.chart_series and doc.chart_labels:
        pdf.bar_chart(doc.chart_title, doc.chart_labels, doc.chart_series,
                      value_text=doc.chart_value_text or (lambda v: f"{v:g}"))
    scale = pdf.body_width / (sum(doc.weights) or 1)
    pdf.table(doc.headers, doc.rows, widths=[w * scale for w in doc.weights], aligns=doc.aligns, totals=doc.totals)
    for note in doc.notes:
        pdf.ln(1)
        pdf.para(note)
    return bytes(pdf.output())


__all__ = ["LayoutPdf", "TableDocument", "logo", "render_table_document"]


def logo(pdf: FPDF, x: float, y: float, size: float) -> None:
    """The NexDrive mark (assets/logo.svg): a blue tile with a road and its lane markings."""
    k = size / 64
    pdf.set_fill_color(*BRAND)
    pdf.rect(x, y, size, size, style="F", round_corners=True, corner_radius=14 * k)
    pdf.set_fill_color(255, 255, 255)
    pdf.polygon([(x + 13 * k, y + 54 * k), (x + 27.5 * k, y + 11 * k), (x + 36.5 * k, y + 11 * k),
                 (x + 51 * k, y + 54 * k)], style="F")
    pdf.set_fill_color(*BRAND)
    for top, bottom, half_top, half_bottom in ((14, 20, 0.8, 1.0), (25, 33, 1.3, 1.7), (38.5, 50, 2.1, 2.8)):
        pdf.polygon([(x + (32 - half_top) * k, y + top * k), (x + (32 + half_top) * k, y + top * k),
                     (x + (32 + half_bottom) * k, y + bottom * k), (x + (32 - half_bottom) * k, y + bottom * k)],
                    style="F")
