"""GET /api/v1/halls/{hall}/stats (and .csv, .xlsx): statistics for managers, chiefs and admins."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Any

from aiohttp import web

from .context import allowed, hall_of, json
from ..domain.catalog import Action, Catalog
from ..domain.errors import Invalid
from ..domain.supervision import LEVELS, SUPERVISOR, group_thresholds, past_thresholds
from .openapi import contract
from ..i18n import words
from ..web import language
from ..stats.rollup import DIMENSIONS, flatten
from ..stats.attendance import attendance
from ..stats.schemas import Attendance as AttendanceAnswer
from ..stats.schemas import StatsAnswer
from ..stats.service import MAX_SPAN_DAYS, Stats, hall_today

routes = web.RouteTableDef()

STATS = web.AppKey("hallq.stats", Stats)


def parse_period(query: Any, today: date) -> tuple[date, date]:
    """`from` and `to` (YYYY-MM-DD, inclusive; default today); 422 when they make no period."""
    try:
        start = date.fromisoformat(query["from"]) if query.get("from") else today
        end = date.fromisoformat(query["to"]) if query.get("to") else (start if query.get("from") else today)
    except ValueError:
        raise Invalid("bad-query", "from and to are dates written YYYY-MM-DD") from None
    if end < start:
        raise Invalid("bad-query", "the period ends (to) before it starts (from)")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise Invalid("bad-query", f"a period is at most {MAX_SPAN_DAYS} days")
    return start, end


def parse_by(query: Any, default: str = "window") -> str:
    by = query.get("by") or default
    if by not in DIMENSIONS:
        raise Invalid("bad-query", f"by is one of {', '.join(DIMENSIONS)}")
    return by


async def reader(request: web.Request):  # type: ignore[no-untyped-def]
    """The hall and the member of staff asking; managers, admins and chiefs read statistics."""
    hall = hall_of(request)
    who = await allowed(request, Action.read_figures, hall)
    return hall, who


def table(rows: list[dict[str, Any]], total: dict[str, Any] | None = None) -> tuple[list[str], list[list[Any]]]:
    """Rows (nested dicts) as one header and flat lines, `key` and `name` first."""
    flat = [flatten(r) for r in rows] + ([flatten(total)] if total else [])
    header: list[str] = ["key", "name"]
    for r in flat:
        for k in r:
            if k not in header:
                header.append(k)
    return header, [[r.get(h) for h in header] for r in flat]


def flat_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[Any]]]:
    """Any rows (nested dicts flattened, lists joined by "; ") as one header and lines, columns
    in the order they first appear: the CSV and XLSX of the dashboard's other tables."""
    flat = [flatten(r) for r in rows]
    header = list(dict.fromkeys(k for r in flat for k in r))
    return header, [[_cell(r.get(h)) for h in header] for r in flat]


def _cell(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return "; ".join(str(x) for x in v)
    return v


# A cell a spreadsheet would take for a formula (=, +, -, @) or that hides one behind a tab or
# carriage return: data (a citizen's comment, a reason typed by a clerk) must never run as one.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_like(v: Any) -> bool:
    return isinstance(v, str) and v.startswith(FORMULA_START)


def csv_response(header: list[str], lines: list[list[Any]], filename: str) -> web.Response:
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel on a Chinese Windows opens UTF-8 only with a BOM
    w = csv.writer(buf)
    w.writerow(header)
    # A leading apostrophe is the spreadsheets' own mark for "this is text" (OWASP's advice for CSV).
    w.writerows(["" if v is None else "'" + v if formula_like(v) else v for v in line] for line in lines)
    resp = web.Response(text=buf.getvalue(), content_type="text/csv", charset="utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return resp


Notes = dict[tuple[int, int], str]  # (line, column) of a sheet's lines -> what to say of that cell


def xlsx_bytes(sheets: list[tuple[str, list[str], list[list[Any]]]], notes: list[Notes] | None = None) -> bytes:
    """The sheets as a workbook; a cell with a note (a time past its threshold) is bold and
    carries the note as a comment."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for n, (title, header, lines) in enumerate(sheets):
        ws = wb.create_sheet(title=title[:31])
        said = notes[n] if notes and n < len(notes) else {}
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i, line in enumerate(lines):
            ws.append(line)
            for j, cell in enumerate(ws[ws.max_row]):
                if formula_like(cell.value):
                    cell.data_type = "s"  # openpyxl takes a string beginning with = for a formula: store it as text
                if (i, j) in said:
                    cell.font = Font(bold=True)
                    cell.comment = Comment(said[(i, j)], "hallq")
        ws.freeze_panes = "C2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_response(sheets: list[tuple[str, list[str], list[list[Any]]]], filename: str, notes: list[Notes] | None = None) -> web.Response:
    resp = web.Response(
        body=xlsx_bytes(sheets, notes), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
    return resp


PERIOD = (
    ("from", "first day, YYYY-MM-DD (default today)", False),
    ("to", "last day, YYYY-MM-DD, inclusive (default: from)", False),
)
BY = ("by", "window | item | department | clerk | hour | day | channel (default window)", False)


async def _answer(request: web.Request) -> tuple[Any, dict[str, Any]]:
    hall, _who = await reader(request)
    start, end = parse_period(request.query, hall_today(hall))
    by = parse_by(request.query)
    return hall, await request.app[STATS].query(hall.hall, start, end, by)


def _filename(answer: dict[str, Any]) -> str:
    return f"hallq-{answer['hall']}-{answer['by']}-{answer['from']}-{answer['to']}"


@routes.get("/api/v1/halls/{hall}/stats")
@contract(
    "Statistics of a period grouped by window, item, department, clerk, hour or day (managers, chiefs, admins)",
    response=StatsAnswer, auth="manager", query=(*PERIOD, BY), tags=("statistics",),
)
async def stats(request: web.Request) -> web.StreamResponse:
    hall, answer = await _answer(request)
    return json(marked(hall.catalog, answer))


def marked(catalog: Any, answer: dict[str, Any]) -> dict[str, Any]:
    """Each row with the wait and service thresholds it is held against (seconds: warning,
    yellow, red) and the figures past them (`over`), for the page to mark."""
    by = answer["by"]

    def mark(row: dict[str, Any], by: str, key: str) -> dict[str, Any]:
        limits = group_thresholds(catalog, by, key)
        return {**row, "thresholds": {k: list(v) for k, v in limits.items()}, "over": past_thresholds(row, limits)}

    return {**answer, "rows": [mark(r, by, r["key"]) for r in answer["rows"]], "total": mark(answer["total"], "total", "total")}


def _minutes_seconds(s: float) -> str:
    """A threshold as the page writes a time: 30:00, 1:05:00."""
    s = round(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def over_notes(catalog: Any, answer: dict[str, Any], header: list[str], lang: str) -> Notes:
    """The cells of the statistics table (its rows, then the total) past their threshold, each
    with the words of the page's mark: 超过黄灯阈值（30:00）."""
    t = words(lang, "dashboard")
    notes: Notes = {}
    rows = marked(catalog, answer)
    for i, row in enumerate([*rows["rows"], rows["total"]]):
        for kind, figures in row["over"].items():
            for figure, level in figures.items():
                column = f"{kind}_{figure}"
                if column in header:
                    limit = row["thresholds"][kind][LEVELS.index(level)]
                    notes[(i, header.index(column))] = t["over_threshold"].format(level=t[f"level_{level}"], limit=_minutes_seconds(limit))
    return notes


WORDS = ("words", "1: for people: column names, codes and the names of windows, items and staff in words of the page's "
         "language (?lang=), durations in minutes, times without their offset", False)
ISO_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?$")


def worded_in(request: web.Request) -> str | None:
    """The language a table is worded in when the export is asked `?words=1`; None: the machine form."""
    return language(request) if request.query.get("words") == "1" else None


def catalog_names(catalog: Catalog, lang: str, people: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """What the columns `window` and `item` (and the `people` columns, which hold usernames) name, by
    id: the hall's names for them; e-supervision's own steps are said as such."""
    staff = {u.username: u.name for u in catalog.users.values()}
    staff[SUPERVISOR] = words(lang, "dashboard")["by_supervision"]
    return {
        "window": {w.id: w.name for w in catalog.windows.values()},
        "item": {i.id: i.name for i in catalog.items.values()},
        **{column: staff for column in people},
    }


def worded(header: list[str], lines: list[list[Any]], lang: str, *, names: dict[str, dict[str, str]] | None = None,
           codes: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> tuple[list[str], list[list[Any]]]:
    """The table for people: `wait_p90_s` becomes 等候 90%分位（分钟） with minutes in it. Each part of
    a column's name is a word of the catalogue's `export` section; an unknown part stays as it is.
    `names`: column → its values' names (an id or username, or several apart by spaces), the column
    `X_name` then left out; `codes`: column → the prefix of its values' words (`level` → level_red
    → 红灯) in the `export` or `dashboard` section; `drop`: columns only machines need. Yes and no
    and ISO times are said as people write them."""
    names, codes = names or {}, codes or {}
    parts = words(lang, "export")
    said = {**words(lang, "dashboard"), **parts}
    keep = [i for i, h in enumerate(header) if h not in drop and not (h.endswith("_name") and h[:-5] in names)]

    def cell(h: str, v: Any) -> Any:
        if isinstance(v, bool):
            return parts["true"] if v else parts["false"]
        if h.endswith("_s") and isinstance(v, (int, float)):
            return round(v / 60, 1)
        if h in names and isinstance(v, str):
            return _named(v, names[h], parts["list_separator"])
        if h in codes and v is not None:
            return said.get(f"{codes[h]}{v}", v)
        if isinstance(v, str) and (m := ISO_TIME.match(v)):
            return f"{m[1]} {m[2]}"
        return v

    return [_column_words(header[i], parts) for i in keep], [[cell(header[i], line[i]) for i in keep] for line in lines]


def tables_for(request: web.Request, tables: dict[str, tuple[list[str], list[list[Any]]]]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """A report's tables as asked: as they are for machines, or worded (`?words=1`) with the hall's names."""
    lang = worded_in(request)
    if not lang:
        return tables
    names = catalog_names(hall_of(request).catalog, lang)
    return {name: worded(*t, lang, names=names) for name, t in tables.items()}


def sheets(request: web.Request, tables: dict[str, tuple[list[str], list[list[Any]]]]) -> list[tuple[str, list[str], list[list[Any]]]]:
    """A workbook's sheets, one a table, as `tables_for` gives them."""
    lang = worded_in(request)
    return [(sheet_title(name, lang), *t) for name, t in tables_for(request, tables).items()]


def sheet_title(name: str, lang: str | None) -> str:
    """An XLSX sheet's name: its table's, in words of `lang` for people (None: as machines know it)."""
    return words(lang, "export").get("sheet_" + name.replace(" ", "_"), name) if lang else name


def _column_words(h: str, parts: dict[str, str]) -> str:
    """`wait_p90_s` → 等候 90%分位（分钟）; `open 1号窗口` → 开窗 1号窗口 (a name after a space stays)."""
    if " " in h:
        first, rest = h.split(" ", 1)
        return f"{_column_words(first, parts)} {rest}"
    in_minutes = h.endswith("_s")
    bits = h[:-2].split("_") if in_minutes else h.split("_")
    name = parts.get(h) or " ".join(parts.get(b, b) for b in _joined(bits, parts))
    return f"{name}{parts['in_minutes']}" if in_minutes else name


def _named(value: str, named: dict[str, str], separator: str) -> str:
    if value in named:
        return named[value]
    ids = value.split()
    return separator.join(named[i] for i in ids) if ids and all(i in named for i in ids) else value


def _joined(bits: list[str], known: dict[str, str]) -> list[str]:
    """Parts of a column name, parts of two or three words (no_show, one_time_notice) kept together when known."""
    out: list[str] = []
    i = 0
    while i < len(bits):
        n = next((n for n in (3, 2) if i + n <= len(bits) and "_".join(bits[i:i + n]) in known), 1)
        out.append("_".join(bits[i:i + n]))
        i += n
    return out


def table_asked(request: web.Request, tables: tuple[str, ...]) -> str:
    """Which of a report's `tables` a CSV download asks for (`?table=`; the first by default)."""
    name = request.query.get("table") or tables[0]
    if name not in tables:
        raise Invalid("bad-query", f"table is one of {', '.join(tables)}")
    return name


def _table_for(request: web.Request, answer: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header, lines = table(answer["rows"], answer["total"])
    lang = worded_in(request)
    if not lang:
        return header, lines
    # For people a group is its name, in the page's language (a clerk's name, not the login;
    # 网上预约 or "booked online"; 合计 or "Total"); the key is for machines.
    said = words(lang, "dashboard")
    *groups, total = lines
    total[1] = said["total"]
    if answer["by"] == "channel":
        for line in groups:
            line[1] = said.get(f"channel_{line[0]}", line[1])
    return worded(header, lines, lang, drop=("key",))


def _notes_for(request: web.Request, hall: Any, answer: dict[str, Any]) -> Notes:
    """The marks of the table `_table_for` makes (wording a column keeps its place; the worded
    table has no `key`)."""
    header = table(answer["rows"], answer["total"])[0]
    if worded_in(request):
        header = [h for h in header if h != "key"]
    return over_notes(hall.catalog, answer, header, language(request))


@routes.get("/api/v1/halls/{hall}/stats.csv")
@contract("The same statistics as CSV (UTF-8 with BOM, one flat column per figure)", response=None, auth="manager", query=(*PERIOD, BY, WORDS), tags=("statistics",))
async def stats_csv(request: web.Request) -> web.StreamResponse:
    _, answer = await _answer(request)
    header, lines = _table_for(request, answer)
    return csv_response(header, lines, _filename(answer))


@routes.get("/api/v1/halls/{hall}/stats.xlsx")
@contract("The same statistics as an Excel workbook; a time past its alert threshold is bold, with a comment saying which", response=None, auth="manager", query=(*PERIOD, BY, WORDS), tags=("statistics",))
async def stats_xlsx(request: web.Request) -> web.StreamResponse:
    hall, answer = await _answer(request)
    header, lines = _table_for(request, answer)
    return xlsx_response([(sheet_title(f"by {answer['by']}", worded_in(request)), header, lines)], _filename(answer),
                         [_notes_for(request, hall, answer)])


# ------------------------------------------------------------------------------ 考勤 (attendance)
ATTENDANCE_TABLES = ("windows", "clerks", "days", "sessions")


async def _attendance(request: web.Request) -> dict[str, Any]:
    hall, _who = await reader(request)
    start, end = parse_period(request.query, hall_today(hall))
    return await attendance(request.app[STATS].journal, hall, start, end)


def _attendance_tables(answer: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    return {
        "windows": table(answer["windows"], answer["total"]),
        "clerks": table(answer["clerks"]),
        "days": table(answer["days"], answer["total"]),
        "sessions": flat_table(answer["sessions"]),
    }


def _attendance_file(answer: dict[str, Any], name: str = "") -> str:
    return f"hallq-{answer['hall']}-attendance-{answer['from']}-{answer['to']}" + (f"-{name}" if name else "")


@routes.get("/api/v1/halls/{hall}/attendance")
@contract(
    "考勤: late openings, early closings, absences and cover against each window's scheduled sessions, "
    "by window, clerk and day, with the sessions concerned (managers, chiefs, admins)",
    response=AttendanceAnswer, auth="manager", query=PERIOD, tags=("statistics",),
)
async def attendance_report(request: web.Request) -> web.StreamResponse:
    return json(await _attendance(request))


@routes.get("/api/v1/halls/{hall}/attendance.csv")
@contract(
    "One table of the attendance report as CSV: `table` = windows (default), clerks, days or sessions",
    response=None, auth="manager", query=(*PERIOD, ("table", " | ".join(ATTENDANCE_TABLES), False), WORDS), tags=("statistics",),
)
async def attendance_csv(request: web.Request) -> web.StreamResponse:
    name = table_asked(request, ATTENDANCE_TABLES)
    answer = await _attendance(request)
    return csv_response(*tables_for(request, _attendance_tables(answer))[name], _attendance_file(answer, name))


@routes.get("/api/v1/halls/{hall}/attendance.xlsx")
@contract("The attendance report as an Excel workbook (one sheet a table)", response=None, auth="manager", query=(*PERIOD, WORDS), tags=("statistics",))
async def attendance_xlsx(request: web.Request) -> web.StreamResponse:
    answer = await _attendance(request)
    return xlsx_response(sheets(request, _attendance_tables(answer)), _attendance_file(answer))
