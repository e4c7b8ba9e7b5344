"""The compliance documents' PDF page (fpdf2): fonts, a header line, labelled rows, images, a QR code.

Private to the compliance package (the completion statement and the auditor's pack use it).
"""
from __future__ import annotations

import io
import unicodedata
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts/dejavu")
BRAND = (62, 99, 221)
INK = (33, 37, 41)
MUTED = (96, 103, 112)
RULE = (214, 219, 226)
SHADE = (241, 244, 252)
OK_GREEN = (25, 120, 60)
BAD_RED = (180, 30, 30)
_ASCII = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                        "\u2022": "-", "\u2026": "...", "\u00a0": " ", "\u2212": "-", "\u00d7": "x"})


def _unicode_font() -> tuple[Path, Path, Path | None] | None:
    for folder in _FONT_DIRS:
        regular, bold = Path(folder, "DejaVuSans.ttf"), Path(folder, "DejaVuSans-Bold.ttf")
        mono = Path(folder, "DejaVuSansMono.ttf")
        if regular.is_file() and bold.is_file():
            return regular, bold, mono if mono.is_file() else None
    return None


class DocumentPdf(FPDF):
    """An A4 page with the school's footer and helpers for plain, readable records."""

    def __init__(self, footer_text: str, *, title: str = ""):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.footer_text = footer_text
        fonts = _unicode_font()
        self.mono_family = "Courier"
        if fonts:
            self.add_font("Body", "", str(fonts[0]))
            self.add_font("Body", "B", str(fonts[1]))
            if fonts[2] is not None:
                self.add_font("Mono", "", str(fonts[2]))
                self.mono_family = "Mono"
            self.family, self.unicode = "Body", True
        else:
            self.family, self.unicode = "Helvetica", False
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(auto=True, margin=20)
        self.continued = ""
        if title:
            self.set_title(title)
        self.set_creator("NexDrive Academy")

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

    def mono(self, size: float = 7, color=INK) -> None:
        self.set_font(self.mono_family, "", size)
        self.set_text_color(*color)

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

    @property
    def body_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def heading(self, text: str, size: float = 12) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(2)
        self.font(size, bold=True, color=BRAND)
        self.multi_cell(0, size * 0.5, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y() + 0.5, self.w - self.r_margin, self.get_y() + 0.5)
        self.ln(2)

    def para(self, text: str, size: float = 9, color=INK, bold: bool = False) -> None:
        self.font(size, bold=bold, color=color)
        self.multi_cell(0, size * 0.5, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pairs(self, rows: list[tuple[str, Any]], label_w: float = 48, size: float = 9) -> None:
        for label, value in rows:
            y = self.get_y()
            if y > self.h - 26:
                self.add_page()
                y = self.get_y()
            self.set_x(self.l_margin)
            self.font(size, color=MUTED)
            self.cell(label_w, size * 0.5, self.t(label))
            self.font(size, bold=True)
            self.multi_cell(self.body_width - label_w, size * 0.5, self.t("" if value is None else value),
                            new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def hash_line(self, label: str, value: str | None) -> None:
        self.set_x(self.l_margin)
        self.font(7, color=MUTED)
        self.cell(34, 3.6, self.t(label))
        self.mono(6.6)
        self.multi_cell(self.body_width - 34, 3.6, value or "-", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(self, headers: list[str], widths: list[float], rows: list[list[Any]], size: float = 7.5,
              mono_cols: tuple[int, ...] = (), mono_size: float | None = None) -> None:
        def head() -> None:
            self.set_fill_color(*SHADE)
            self.font(size, bold=True, color=MUTED)
            for h, w in zip(headers, widths):
                self.cell(w, size * 0.62, self.t(h), fill=True)
            self.ln(size * 0.62)
        head()
        for row in rows:
            if self.get_y() > self.h - 24:
                self.add_page()
                head()
            for i, (value, w) in enumerate(zip(row, widths)):
                if i in mono_cols:
                    self.mono(mono_size or size - 1.2)
                else:
                    self.font(size)
                text = self.t("" if value is None else value)
                while text and self.get_string_width(text) > w - 1:
                    text = text[:-2] + "…" if self.unicode else text[:-4] + "..."
                self.cell(w, size * 0.55, text)
            self.ln(size * 0.55)

    def png(self, data: bytes | None, x: float, y: float, w: float, h: float) -> None:
        self.set_draw_color(*RULE)
        self.rect(x, y, w, h)
        if data:
            self.image(io.BytesIO(data), x=x + 0.5, y=y + 0.5, w=w - 1, h=h - 1, keep_aspect_ratio=True)
        else:
            self.set_xy(x, y + h / 2 - 2)
            self.font(7, color=BAD_RED)
            self.cell(w, 4, "image missing", align="C")

    def qr(self, text: str, x: float, y: float, size: float) -> None:
        """A QR code (segno) drawn as vector squares."""
        import segno

        code = segno.make(text, error="m", micro=False)
        matrix = [list(row) for row in code.matrix]
        n = len(matrix)
        border = 2
        module = size / (n + 2 * border)
        self.set_fill_color(255, 255, 255)
        self.rect(x, y, size, size, style="F")
        self.set_fill_color(0, 0, 0)
        for r, row in enumerate(matrix):
            for c, dark in enumerate(row):
                if dark:
                    self.rect(x + (c + border) * module, y + (r + border) * module, module + 0.01, module + 0.01,
                              style="F")

    def output_bytes(self) -> bytes:
        return bytes(self.output())


def logo(pdf: DocumentPdf, x: float, y: float, size: float) -> None:
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
