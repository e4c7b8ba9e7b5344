"""The compliance documents' PDF page (fpdf2): fonts, a header line, labelled rows, images, a QR code.

Private to the compliance package (the completion statement and the auditor's pack use it).
"""
from __future__ import annotations

import io
from typing import Any

from fpdf.enums import XPos, YPos

from nexdrive.services.core.pdf_layout import BRAND, INK, MUTED, RULE, SHADE, LayoutPdf, font_files, logo

OK_GREEN = (25, 120, 60)
BAD_RED = (180, 30, 30)
__all__ = ["BAD_RED", "BRAND", "INK", "MUTED", "OK_GREEN", "RULE", "SHADE", "DocumentPdf", "logo"]


class DocumentPdf(LayoutPdf):
    """The shared A4 page (fonts, footer, page numbers) with helpers for plain, readable records."""

    def __init__(self, footer_text: str, *, title: str = ""):
        super().__init__(footer_text, title=title, margin=16)
        fonts = font_files()
        self.mono_family = "Courier"
        if fonts and fonts[2] is not None:
            self.add_font("Mono", "", str(fonts[2]))
            self.mono_family = "Mono"

    def mono(self, size: float = 7, color=INK) -> None:
        self.set_font(self.mono_family, "", size)
        self.set_text_color(*color)

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
