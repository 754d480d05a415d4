"""The paper ticket: layout, ESC/POS bytes in the printer's Chinese code page, the picture, the printer's status."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from io import BytesIO
from pathlib import Path

from PIL import Image

from server.domain.catalog import Printer
from server.printing.devices import decode_status
from server.printing.layout import TicketFacts, preview_png, ticket_layout, to_escpos, wrap
from tests.surfaces.kiosk.fakes import CUT, qr_payloads

FACTS = TicketFacts(
    hall="测试大厅", number="A012", item="居民身份证申领：换领、补领", windows=("1号窗口", "3号窗口"), ahead=4,
    wait_s=1500, issued_at=datetime(2026, 11, 25, 9, 0, 5), url="http://hall.example/t/abc123", notice="过号请重新取号",
)


def test_a_ticket_carries_gb18030_chinese_its_number_a_native_qr_and_a_cut():
    data = to_escpos(ticket_layout(FACTS), Printer(kind="file", address="x", paper_mm=80))
    assert data.startswith(b"\x1b@\x1c&")  # init, then Chinese mode before any text
    # the item in double size wraps at 24 columns; the full-width colon survives
    assert "居民身份证申领：换领、".encode("gb18030") + b"\n" in data and "补领".encode("gb18030") + b"\n" in data
    assert "测试大厅".encode("gb18030") in data and "前面等候：4 人".encode("gb18030") in data
    assert b"A012" in data
    assert qr_payloads(data) == [b"http://hall.example/t/abc123"]
    assert data.index(b"\x1ba\x01") < data.index(b"\x1d(k")  # centred before the printer draws the QR
    assert data.rstrip(b"\x00").endswith(CUT) or CUT in data[-8:]
    assert len(data) < 1200  # text and a printer-drawn QR: small enough for any link


def test_a_gbk_printer_gets_gbk_bytes():
    data = to_escpos(ticket_layout(FACTS), Printer(kind="file", address="x", paper_mm=58, encoding="gbk"))
    assert "测试大厅".encode("gbk") in data


def test_lines_wrap_by_display_width_so_chinese_never_runs_off_58mm_paper():
    lines = wrap("请到：1号窗口 市场监管、2号窗口 市场监管、11号窗口 综合窗口", 32)
    from server.printing.layout import width

    assert all(width(line) <= 32 for line in lines) and len(lines) == 2
    assert wrap("Take the number A012 please", 10) == ["Take the", "number", "A012", "please"]


def test_a_printer_without_a_chinese_font_gets_the_ticket_as_a_picture():
    data = to_escpos(ticket_layout(FACTS), Printer(kind="file", address="x", paper_mm=58, mode="image"))
    assert b"\x1c&" not in data and b"\x1dv0" in data  # raster image, no Chinese mode
    assert CUT in data[-8:]


def test_the_preview_is_the_paper_width_and_shows_the_qr():
    png = preview_png(ticket_layout(FACTS), 80)
    img = Image.open(BytesIO(png))
    assert img.format == "PNG" and img.width == 576 + 48 and 600 < img.height < 1200


def test_the_printer_status_bytes_are_read_as_faults():
    assert decode_status(0x12, None, 0x12).state == "ok"
    assert decode_status(0x12, None, 0x1E).state == "paper_low"
    assert decode_status(0x1A, 0x32, 0x72).state == "paper_out"
    assert decode_status(0x1A, 0x16, 0x12).state == "cover_open"
    assert decode_status(None, None, None).state == "unknown"


def test_importing_escpos_leaves_no_temp_folder_and_no_logging_handler(tmp_path: Path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    code = (
        "import logging, server.printing.layout as p; p.escpos(); p.escpos();"
        "print(len(logging.getLogger().handlers))"
    )
    env = {k: v for k, v in os.environ.items() if k != "ESCPOS_CAPABILITIES_PICKLE_DIR"}
    for _ in range(2):  # a second process reuses the same folder
        out = subprocess.run([sys.executable, "-c", code], env={**env, "TMPDIR": str(tmp)}, capture_output=True, text=True,
                             check=True, cwd=Path(__file__).resolve().parents[3])
        assert out.stdout.strip() == "0", out.stderr
    assert [p.name for p in tmp.iterdir()] == [f"hallq-escpos-{os.getuid()}"]


GB18030_ONLY = "𠮷"  # CJK Extension B: in GB18030 (four bytes), not in GBK


def test_a_gb18030_kiosk_prints_a_character_gbk_lacks_and_a_gbk_kiosk_prints_a_replacement_instead_of_failing():
    facts = replace(FACTS, item=f"{GB18030_ONLY}家村迁户", notice=f"{GB18030_ONLY}：过号请重新取号")
    gb18030 = to_escpos(ticket_layout(facts), Printer(kind="file", address="x", encoding="gb18030"))
    four_bytes = GB18030_ONLY.encode("gb18030")
    assert len(four_bytes) == 4 and gb18030.count(four_bytes) == 2  # the item and the notice
    assert f"{GB18030_ONLY}家村迁户".encode("gb18030") + b"\n" in gb18030

    gbk = to_escpos(ticket_layout(facts), Printer(kind="file", address="x", paper_mm=58, encoding="gbk"))
    assert four_bytes not in gbk
    assert b"?" + "家村迁户".encode("gbk") + b"\n" in gbk and b"?" + "：过号请重新取号".encode("gbk") in gbk


def test_the_ticket_prints_the_number_four_times_larger_then_the_wait_the_issue_time_and_the_kiosks_notice():
    data = to_escpos(ticket_layout(FACTS), Printer(kind="file", address="x", paper_mm=80))
    # GS ! 0x33: width and height times four, bold, centred, just before the number; normal size after it
    assert b"\x1d!\x33\x1bE\x01\x1ba\x01A012\n\x1d!\x00" in data
    assert "前面等候：4 人    预计等候：约 25 分钟\n".encode("gb18030") in data  # 1500 s
    assert "取号时间：2026-11-25 09:00:05\n".encode("gb18030") in data
    notice = "\x1ba\x01".encode() + "过号请重新取号\n".encode("gb18030")
    assert notice in data and data.index("手机扫码查看排队进度".encode("gb18030")) < data.index(notice) < data.index(CUT)
    soon = to_escpos(ticket_layout(replace(FACTS, ahead=0, wait_s=0, notice="")), Printer(kind="file", address="x"))
    assert "预计等候：即将叫号".encode("gb18030") in soon and "过号".encode("gb18030") not in soon
