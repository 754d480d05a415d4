"""What a paper ticket (排队凭条) says and how it looks: one layout, rendered as ESC/POS or as a picture.

The layout is a list of blocks (text lines with a size, rules, a QR code). `to_escpos` turns it
into printer bytes: Chinese mode (FS &) and text encoded in the printer's code page by us,
because python-escpos's own `text()` guesses encodings and drops characters such as `：`;
python-escpos still does sizes, alignment, the printer-drawn QR code and the cut. `to_image`
draws the same blocks with Pillow and a CJK font at the printer's dot size: the kiosk screen
and the docs show it, and printers without a Chinese font print it as a picture.
"""

from __future__ import annotations

import contextlib
import io
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from server.domain.catalog import Printer

from .devices import escpos

Align = Literal["left", "center"]

# Dots across the printable width, and columns of the 12×24 font A (a Chinese glyph takes two).
DOTS = {58: 384, 80: 576}
COLUMNS = {58: 32, 80: 48}
CHINESE_MODE = b"\x1c\x26"  # FS &
CHINESE_MODE_OFF = b"\x1c\x2e"  # FS .
QR_ECLEVEL_M = 1  # python-escpos's constant for error correction M (15 %)


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    size: int = 1  # 1..4: width and height multiplier
    bold: bool = False
    align: Align = "left"


@dataclass(frozen=True, slots=True)
class Rule:
    pass


@dataclass(frozen=True, slots=True)
class Qr:
    data: str


Block = Text | Rule | Qr


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """Everything printed on a ticket; no personal data of the citizen."""

    hall: str
    number: str
    item: str
    windows: tuple[str, ...]
    ahead: int
    wait_s: int
    issued_at: datetime
    url: str
    notice: str = ""
    priority: bool = False
    appointment: bool = False
    reprint: bool = False
    no_window: bool = False  # no window serving the item is open: no wait is promised


NO_START = frozenset("，。、：；！？）」』》】,.;:!?)")


def width(text: str) -> int:
    """Columns a string takes on the printer: wide (Chinese) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, columns: int) -> list[str]:
    """Break a line to fit `columns`, never inside a Latin word when it can be helped."""
    lines: list[str] = []
    line, used = "", 0
    for word in _words(text):
        w = width(word)
        if used + w > columns and line:
            carry = ""
            if word[:1] in NO_START and len(line) > 1:  # 、。： never start a line: take a character along
                carry, line = line[-1], line[:-1]
            lines.append(line.rstrip())
            line, used = carry, width(carry)
            word = word.lstrip()
            w = width(word)
        while w > columns:  # a word longer than a line: cut it
            cut, n = "", 0
            for c in word:
                if n + width(c) > columns:
                    break
                cut, n = cut + c, n + width(c)
            lines.append(cut)
            word, w = word[len(cut):], w - n
        line, used = line + word, used + w
    if line.strip() or not lines:
        lines.append(line.rstrip())
    if len(lines) > 1 and width(lines[-1]) == 2 and len(lines[-2]) > 2 and lines[-2][-1] not in NO_START:
        lines[-2], lines[-1] = lines[-2][:-1], lines[-2][-1] + lines[-1]  # no lone character on the last line
    return lines


def _words(text: str) -> list[str]:
    """Latin words (with their leading space) stay whole; each wide character is a word."""
    out: list[str] = []
    for c in text:
        if width(c) == 2 or not out or width(out[-1][-1]) == 2 or c == " ":
            out.append(c)
        else:
            out[-1] += c
    return out


def minutes(wait_s: int) -> int:
    return max(1, round(wait_s / 60)) if wait_s > 0 else 0


def ticket_layout(t: TicketFacts) -> list[Block]:
    """The ticket, top to bottom. Labels are Chinese: the paper is read in the hall."""
    lane = "绿色通道" if t.priority else "预约" if t.appointment else ""
    wait = "暂无窗口办理" if t.no_window else f"约 {minutes(t.wait_s)} 分钟" if t.ahead else "即将叫号"
    blocks: list[Block] = [
        Text(t.hall, 1, bold=True, align="center"),
        Text("排队号" + (f"（{lane}）" if lane else "") + ("（补打）" if t.reprint else ""), 1, align="center"),
        Text(t.number, 4, bold=True, align="center"),
        Rule(),
        Text(t.item, 2, bold=True),
        Text("请到：" + "、".join(t.windows)),
        Text(f"前面等候：{t.ahead} 人    预计等候：{wait}"),
        Text(f"取号时间：{t.issued_at:%Y-%m-%d %H:%M:%S}"),
        Rule(),
        Qr(t.url),
        Text("手机扫码查看排队进度", align="center"),
    ]
    if t.notice:
        blocks.append(Text(t.notice, align="center"))
    return blocks


# -- ESC/POS ----------------------------------------------------------------------------------
def _qr_size(paper_mm: int) -> int:
    return 6 if paper_mm == 80 else 5


def to_escpos(blocks: list[Block], printer: Printer) -> bytes:
    """Printer bytes for `blocks`: text in the printer's Chinese code page, a native QR, a cut."""
    p = escpos().Dummy()
    columns = COLUMNS[printer.paper_mm]
    if printer.mode == "image":
        p.hw("INIT")
        with contextlib.redirect_stdout(io.StringIO()):  # it prints a note about the default profile
            p.image(to_image(blocks, printer.paper_mm), impl="bitImageRaster")
        p.cut()
        return p.output
    p.hw("INIT")
    p._raw(CHINESE_MODE)
    for b in blocks:
        if isinstance(b, Text):
            p.set(align=b.align, bold=b.bold, custom_size=True, width=b.size, height=b.size)
            for line in wrap(b.text, columns // b.size):
                p._raw(line.encode(printer.encoding, errors="replace") + b"\n")
        elif isinstance(b, Rule):
            p.set(align="left", bold=False, custom_size=True, width=1, height=1)
            p._raw(b"-" * columns + b"\n")
        else:
            p.set(align="center")  # before a native QR: the printer centres what it draws
            p.qr(b.data, native=True, size=_qr_size(printer.paper_mm), ec=QR_ECLEVEL_M)
            p._raw(b"\n")
    p.set(align="left", bold=False, custom_size=True, width=1, height=1)
    p._raw(CHINESE_MODE_OFF)
    p.cut()
    return p.output


# -- picture ----------------------------------------------------------------------------------
FONT_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-{}.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-{}.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-{}.otf",
    "C:/Windows/Fonts/msyh{}.ttc",
)


@cache
def _font_file(weight: str) -> tuple[str, int] | None:
    """A CJK font file and the index of its Simplified Chinese face."""
    for pattern in FONT_PATHS:
        name = pattern.format(weight if "msyh" not in pattern else ("bd" if weight == "Bold" else ""))
        if not os.path.exists(name):
            continue
        for index in range(10):
            try:
                face = ImageFont.truetype(name, 12, index=index)
            except OSError:
                break
            if face.getname()[0].endswith(" SC"):
                return name, index
        return name, 0
    return None


@cache
def font(px: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = _font_file("Bold" if bold else "Regular") or _font_file("Regular")
    if found is None:  # no CJK font installed: Chinese will show as boxes (apt-get install fonts-noto-cjk)
        return ImageFont.load_default(px)
    return ImageFont.truetype(found[0], px, index=found[1])


def qr_image(data: str, module: int, border: int = 2) -> Image.Image:
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module, border=border)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def to_image(blocks: list[Block], paper_mm: int) -> Image.Image:
    """The blocks as the printer would put them on paper: 1 dot = 1 pixel, black on white."""
    dots, columns = DOTS[paper_mm], COLUMNS[paper_mm]
    cell = dots // columns  # 12 dots: half a Chinese glyph
    pieces: list[tuple[Image.Image, Align]] = []
    for b in blocks:
        if isinstance(b, Text):
            px = 24 * b.size
            f = font(px - 2 * b.size, b.bold)
            for line in wrap(b.text, columns // b.size):
                img = Image.new("L", (dots, px + 6 * b.size), 255)
                draw = ImageDraw.Draw(img)
                left = 0
                if b.align == "center":
                    left = max(0, (dots - width(line) * cell * b.size) // 2)
                x = left
                for c in line:  # place glyph by glyph on the printer's grid, as a printer does
                    draw.text((x, 2 * b.size), c, font=f, fill=0)
                    x += width(c) * cell * b.size
                pieces.append((img, "left"))
        elif isinstance(b, Rule):
            img = Image.new("L", (dots, 24), 255)
            draw = ImageDraw.Draw(img)
            for x in range(0, dots, 12):
                draw.line((x, 12, x + 6, 12), fill=0, width=2)
            pieces.append((img, "left"))
        else:
            pieces.append((qr_image(b.data, _qr_size(paper_mm)), "center"))
    height = sum(img.height for img, _ in pieces) + 24
    paper = Image.new("L", (dots, height), 255)
    y = 12
    for img, align in pieces:
        x = (dots - img.width) // 2 if align == "center" else 0
        paper.paste(img, (x, y))
        y += img.height
    return paper.convert("1")


def preview_png(blocks: list[Block], paper_mm: int) -> bytes:
    """The ticket as a PNG, on a sheet with a margin, for screens and docs."""
    ticket = to_image(blocks, paper_mm).convert("L")
    margin = 24
    sheet = Image.new("L", (ticket.width + 2 * margin, ticket.height + 2 * margin), 255)
    sheet.paste(ticket, (margin, margin))
    draw = ImageDraw.Draw(sheet)
    draw.rectangle((0, 0, sheet.width - 1, sheet.height - 1), outline=200, width=2)
    out = io.BytesIO()
    sheet.save(out, "PNG", optimize=True)
    return out.getvalue()


def qr_svg(data: str) -> bytes:
    """An on-screen QR code as SVG, drawn by the server (no QR script in the browser)."""
    import qrcode
    import qrcode.image.svg

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         image_factory=qrcode.image.svg.SvgPathFillImage)
    code.add_data(data)
    code.make(fit=True)
    return code.make_image().to_string()
