"""The dashboard's JSON (and SVG) API: live supervision board, alerts, charts, bulletin,
bad reviews (差评整改) and promised cases (承诺件). Managers, admins and chiefs read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from server.api.context import allowed, body, hall_of, json
from server.domain import commands as cmd
from server.domain.catalog import Action, Catalog, Role
from server.domain.errors import Forbidden, Invalid, NotFound
from server.domain.model import HallDay
from server.domain.posts import duty, duty_view, post_of
from server.domain.supervision import (
    MANAGER_STEPS,
    case_level,
    REVIEW_STEPS,
    may_record_step,
    queue_board,
    suggestions,
)
from server.hall import HallService
from server.stats import ledger
from server.api.openapi import contract
from server.api.stats import (
    PERIOD, STATS, WORDS, catalog_names, csv_response, flat_table, parse_by, parse_period, reader, sheet_title, sheets, table,
    table_asked, tables_for, worded, worded_in, xlsx_response,
)
from server.stats.attendance import attendance
from server.stats.bulletin import bulletin, quarter_label, quarter_of, quarter_period
from server.stats.schemas import Bulletin
from server.stats.service import hall_today
from server.web import language
from server.i18n import say, words

from . import boards, charts

routes = web.RouteTableDef()
SUPERVISORS = web.AppKey("hallq.supervisors", dict)


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    step: Literal["verified", "rectified", "called_back", "appealed", "appeal_upheld", "appeal_rejected"]
    note: Annotated[str, Field(max_length=500)] = ""


class ConcludeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    note: Annotated[str, Field(max_length=500)] = ""


def _iso(v: datetime | date | None) -> str | None:
    return v.isoformat() if v is not None else None


def _window_row(state: HallDay, catalog: Catalog, wid: str, now: datetime) -> dict[str, Any]:
    w = state.window(wid)
    conf = catalog.windows[wid]
    clerk = catalog.users.get(w.clerk or "")
    t = state.tickets.get(w.ticket or "")
    return {
        "id": wid,
        "name": conf.name,
        "kind": conf.kind,
        "zone": conf.zone,
        "state": w.status.value,
        "since": _iso(w.since),
        "for_s": round((now - w.since).total_seconds()) if w.since else None,
        "clerk": {"username": clerk.username, "name": clerk.name, "staff_no": clerk.staff_no, "post": post_of(catalog, wid, clerk.username)}
        if clerk and w.status.value != "closed"
        else None,
        "ticket": {"number": t.number, "item": t.item, "item_name": catalog.items[t.item].name} if t else None,
        "pause": {"reason": w.pause_reason, "until": _iso(w.pause_until)} if w.pause_reason else None,
        "duty": duty_view(catalog, duty(state, catalog, wid, now)),  # AB岗: who is on duty, who is offered it
    }


def _alert_row(catalog: Catalog, a: Any) -> dict[str, Any]:
    return {
        "key": a.key,
        "kind": a.kind,
        "level": a.level,
        "raised_at": _iso(a.raised_at),
        "at": _iso(a.at),
        "value": a.value,
        "threshold": a.threshold,
        "number": a.number,
        "window": a.window,
        "window_name": catalog.windows[a.window].name if a.window in catalog.windows else None,
        "item": a.item,
        "item_name": catalog.items[a.item].name if a.item in catalog.items else None,
    }


@routes.get("/api/v1/halls/{hall}/supervision")
@contract("电子监察 live board: queues, windows, active alerts, today's alert log, windows to open", response=boards.Board, auth="manager", tags=("supervision",))
async def supervision(request: web.Request) -> web.Response:
    """电子监察 live board: queues, windows, active alerts and today's alert log, suggestions."""
    hall, _ = await reader(request)
    supervisor = request.app[SUPERVISORS][hall.hall]
    board = await supervisor.catch_up()
    state = await hall.current()
    catalog = hall.catalog
    now = hall.clock.now().astimezone(hall.tz)
    order = {"red": 0, "yellow": 1, "warning": 2}
    active = sorted(board.active.values(), key=lambda a: (order.get(a.level, 3), a.raised_at))
    today = await request.app[STATS].today(hall.hall)
    waiting = sum(1 for t in today.tickets if t.status == "waiting")
    return json(
        {
            "hall": hall.hall,
            "name": catalog.hall.name,
            "day": state.day.isoformat(),
            "now": now.isoformat(),
            "seq": state.seq,
            "today": {
                "issued": len(today.tickets),
                "served": sum(1 for t in today.tickets if t.status == "done"),
                "waiting": waiting,
                "no_show": sum(1 for t in today.tickets if t.status == "no_show"),
                "open_windows": sum(1 for w in state.windows.values() if w.status.value != "closed"),
            },
            "queues": queue_board(state, catalog, now),
            "windows": [
                _window_row(state, catalog, w.id, now)
                for w in catalog.config.windows
                if not w.retired or state.window(w.id).status.value != "closed"  # a retired window while it still serves
            ],
            "alerts": [_alert_row(catalog, a) for a in active],
            "log": [
                {
                    **e,
                    "item_name": catalog.items[e["item"]].name if e.get("item") in catalog.items else e.get("item"),
                    "window_name": catalog.windows[e["window"]].name if e.get("window") in catalog.windows else e.get("window"),
                }
                for e in reversed(board.history[-50:])
            ],
            "suggestions": [
                {
                    **s,
                    "name": catalog.items[s["item"]].name,
                    **{
                        k: [{"id": w, "name": catalog.windows[w].name, "state": state.window(w).status.value} for w in s[k]]
                        for k in ("open", "call", "off_schedule")
                    },
                }
                for s in suggestions(state, catalog, now)
            ],
        }
    )


@routes.get("/api/v1/halls/{hall}/alerts")
@contract("A day's alert events as journalled", response=boards.AlertEvents, auth="manager", query=(("day", "YYYY-MM-DD (default today)", False),), tags=("supervision",))
async def alerts(request: web.Request) -> web.Response:
    """A day's alert events as journalled (`?day=YYYY-MM-DD`, default today)."""
    return json(await _alerts(request))


async def _alerts(request: web.Request) -> dict[str, Any]:
    hall, _ = await reader(request)
    try:
        day = date.fromisoformat(request.query["day"]) if request.query.get("day") else hall_today(hall)
    except ValueError:
        raise Invalid("bad-query", "day is a date written YYYY-MM-DD") from None
    stored = await hall.events(day, types=("alert_raised", "alert_cleared"))
    found = [{"seq": s.seq, **s.data} for s in stored]
    return {"hall": hall.hall, "day": day.isoformat(), "alerts": found}


Table = tuple[list[str], list[list[Any]]]


def _exports(name: str, what: str, load: Callable[[web.Request], Awaitable[dict[str, Any]]],
             lines: Callable[[dict[str, Any]], Table], filename: Callable[[dict[str, Any]], str],
             query: tuple[tuple[str, str, bool], ...] = (),
             for_people: Callable[[HallService, dict[str, Any], str], Table] | None = None) -> None:
    """`{name}.csv` and `{name}.xlsx`: the table `lines` makes of what `load` answers, in both forms;
    with `?words=1` the table `for_people` makes in the page's language."""

    def table_of(request: web.Request, data: dict[str, Any]) -> Table:
        lang = worded_in(request)
        return for_people(hall_of(request), data, lang) if lang and for_people else lines(data)

    async def as_csv(request: web.Request) -> web.StreamResponse:
        data = await load(request)
        return csv_response(*table_of(request, data), filename(data))

    async def as_xlsx(request: web.Request) -> web.StreamResponse:
        data = await load(request)
        lang = worded_in(request)
        return xlsx_response([(sheet_title(name, lang), *table_of(request, data))], filename(data))

    path = f"/api/v1/halls/{{hall}}/{name}"
    query = (*query, WORDS) if for_people else query
    for suffix, handler, form in ((".csv", as_csv, "CSV (UTF-8 with BOM)"), (".xlsx", as_xlsx, "an Excel workbook")):
        routes.get(path + suffix)(contract(f"{what} as {form}", response=None, auth="manager", query=query, tags=("supervision",))(handler))


# Alerts measure seconds (wait, service, unattended, idle) or working days (deadline, review).
SECONDS_KINDS = ("wait", "service", "unattended", "idle")


def _amount(kind: str, v: float | None, lang: str) -> str | None:
    if v is None:
        return None
    if kind in SECONDS_KINDS:
        return say(lang, "export", "n_minutes", n=f"{v / 60:.1f}".removesuffix(".0"))
    return say(lang, "export", "n_working_days", n=round(v))


def _alert_lines_for_people(hall: HallService, data: dict[str, Any], lang: str) -> Table:
    """The day's alerts for people: a cleared alert tells what it was about (from when it was
    raised), value and threshold say their unit, windows, items and who in words."""
    raised: dict[str, dict[str, Any]] = {}
    rows = []
    for a in data["alerts"]:
        if a["type"] == "alert_raised":
            raised[a["key"]] = a
            rows.append({**a, **{k: _amount(a["kind"], a.get(k), lang) for k in ("value", "threshold")}})
        else:
            about = {k: v for k, v in raised.get(a["key"], {}).items() if k in ("kind", "level", "number", "window", "item")}
            rows.append({**a, **about})
    header, lines = flat_table(rows)
    return worded(header, lines, lang, names=catalog_names(hall.catalog, lang, ("by",)),
                  codes={"type": "type_", "kind": "kind_", "level": "level_"}, drop=("seq", "key", "ticket"))


DAY = (("day", "YYYY-MM-DD (default today)", False),)
_exports("alerts", "A day's alert events", _alerts, lambda d: flat_table(d["alerts"]), lambda d: f"hallq-{d['hall']}-alerts-{d['day']}", DAY,
         _alert_lines_for_people)


# ------------------------------------------------------------------------------ charts

def _every_hour(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The hours from the first to the last, the empty ones too (the lunch break): a line stops there."""
    hours = {int(r["key"]): r for r in rows if str(r["key"]).isdigit()}
    if len(hours) != len(rows) or not hours:
        return rows
    return [hours.get(h, {"key": f"{h:02d}"}) for h in range(min(hours), max(hours) + 1)]


CHARTS = ("wait-by-hour", "service-by-window", "arrivals-served", "satisfaction")
# The grouping of each chart when the page names none (the live board's charts).
CHART_BY = {"wait-by-hour": "hour", "service-by-window": "window", "arrivals-served": "hour", "satisfaction": "day"}
# Groupings along time: drawn as lines, broken where a group has no figure.
ORDERED = frozenset({"hour", "day"})


def _labels(rows: list[dict[str, Any]], by: str, t: dict[str, str]) -> list[str]:
    """What a chart writes under each group: the hour (10:00), the day (11-25, with the year when
    the period spans two), a channel in the page's words, else the row's name (a window, item,
    department or clerk as people know them, not its id)."""
    if by == "hour":
        return [f"{r['key']}:00" for r in rows]
    if by == "day":
        years = {r["key"][:4] for r in rows}
        return [r["key"][5:] if len(years) == 1 else r["key"] for r in rows]
    if by == "channel":
        return [t.get(f"channel_{r['key']}", r["key"]) for r in rows]
    return [r.get("name") or r["key"] for r in rows]


async def chart_svg(request: web.Request, hall: HallService, name: str, start: date, end: date, by: str | None = None) -> str:
    """The chart `name` of the period, grouped by `by` (default: the chart's own grouping)."""
    t = words(language(request), "dashboard")
    stats = request.app[STATS]
    period = start.isoformat() if start == end else f"{start.isoformat()} – {end.isoformat()}"
    asked, by = by, by or CHART_BY[name]
    grouping = t[f"by_{by}"]
    answer = await stats.query(hall.hall, start, end, by)
    rows = _every_hour(answer["rows"]) if by == "hour" else answer["rows"]
    labels = _labels(rows, by, t)
    draw = charts.lines if by in ORDERED else charts.bars
    mins = lambda v: None if v is None else v / 60  # noqa: E731
    if name in ("wait-by-hour", "service-by-window"):
        kind, title = ("wait", t["chart_wait_by"]) if name == "wait-by-hour" else ("service", t["chart_service_by"])
        figures = [r.get(kind) or {} for r in rows]
        return draw(
            f"{title.format(by=grouping)} · {period}", labels,
            [(t["mean"], [mins(f.get("mean_s")) for f in figures]), (t["p90"], [mins(f.get("p90_s")) for f in figures])],
            unit="min", ylabel=t["minutes"], kind=name,
        )
    if name == "arrivals-served":
        # Windows and clerks issue no tickets (they are issued for items): served alone then.
        series = [(t["served"], [r.get("served") for r in rows])]
        if by not in ("window", "clerk"):
            series.insert(0, (t["issued"], [r.get("issued") for r in rows]))
        return draw(f"{t['chart_arrivals_by'].format(by=grouping)} · {period}", labels, series, ylabel=t["tickets"], kind=name, legend=True)
    names = {s: t[f"score_{s}"] for s in range(1, 6)}
    if asked is None:  # the whole period's share
        counts = {int(k): v for k, v in answer["total"]["satisfaction"]["scores"].items()}
        return charts.stacked_share(f"{t['chart_satisfaction']} · {period}", counts, names, kind=name)
    shares = [(label, {int(k): v for k, v in r["satisfaction"]["scores"].items()}) for label, r in zip(labels, rows)]
    return charts.stacked_shares(f"{t['chart_satisfaction_by'].format(by=grouping)} · {period}", shares, names, kind=name)


BY_CHART = ("by", "the grouping drawn: window | item | department | clerk | hour | day | channel "
                  "(default: the chart's own, hour, window, hour and the whole period)", False)


@routes.get("/api/v1/halls/{hall}/charts/{chart}")
@contract(
    "A chart as SVG drawn on the server: wait-by-hour, service-by-window, arrivals-served, satisfaction, "
    "each by the grouping asked (`by`)",
    response=None, auth="manager", query=(*PERIOD, BY_CHART, ("lang", "zh-CN (default) or en", False)), tags=("statistics",),
)
async def chart(request: web.Request) -> web.Response:
    """A chart as SVG, drawn on the server: `wait-by-hour`, `service-by-window`, `arrivals-served`,
    `satisfaction`; `?by=` draws it by another grouping (the statistics page's choice)."""
    hall, _ = await reader(request)
    name = request.match_info["chart"].removesuffix(".svg")
    if name not in CHARTS:
        raise NotFound("unknown-chart", f"charts are {', '.join(CHARTS)}")
    start, end = parse_period(request.query, hall_today(hall))
    by = parse_by(request.query) if request.query.get("by") else None
    svg = await chart_svg(request, hall, name, start, end, by)
    resp = web.Response(text=svg, content_type="image/svg+xml", charset="utf-8")
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ------------------------------------------------------------------------------ bulletin


async def bulletin_of(request: web.Request, hall: HallService, quarter: str) -> dict[str, Any]:
    start, end = quarter_period(quarter)
    end = min(end, hall_today(hall))
    if end < start:
        raise Invalid("bad-query", f"{quarter} has not begun")
    stats = request.app[STATS]
    return bulletin(
        hall.catalog, quarter, await stats.query(hall.hall, start, end, "department"), await stats.query(hall.hall, start, end, "window"),
        await stats.query(hall.hall, start, end, "clerk"), await attendance(stats.journal, hall, start, end),
    )


QUARTER = (("quarter", "like 2026Q4 (default: this quarter)", False),)


async def _bulletin(request: web.Request) -> tuple[HallService, dict[str, Any]]:
    hall, _ = await reader(request)
    quarter = (request.query.get("quarter") or quarter_of(hall_today(hall))).upper()
    return hall, await bulletin_of(request, hall, quarter)


@routes.get("/api/v1/halls/{hall}/bulletin")
@contract("季度通报: figures per department and window, ranking, most alerts, excellent-window candidates", response=Bulletin, auth="manager", query=QUARTER, tags=("statistics",))
async def quarterly_bulletin(request: web.Request) -> web.StreamResponse:
    _, data = await _bulletin(request)
    return json(data)


@routes.get("/api/v1/halls/{hall}/bulletin.html")
@contract("The bulletin as the printable HTML of the bulletin page", response=None, auth="manager", query=(*QUARTER, ("lang", "zh-CN or en", False)), tags=("statistics",))
async def bulletin_html(request: web.Request) -> web.StreamResponse:
    from server.web import environment

    _, data = await _bulletin(request)
    lang = language(request)
    page = environment("dashboard").get_template("bulletin_body.html").render(
        b=data, t=words(lang, "dashboard"), lang=lang, quarter_name=quarter_label(data["quarter"], lang)
    )
    resp = web.Response(text=page, content_type="text/html", charset="utf-8")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@routes.get("/api/v1/halls/{hall}/bulletin.xlsx")
@contract("The bulletin's tables as an Excel workbook", response=None, auth="manager", query=(*QUARTER, WORDS), tags=("statistics",))
async def bulletin_xlsx(request: web.Request) -> web.StreamResponse:
    hall, data = await _bulletin(request)
    return xlsx_response(sheets(request, _bulletin_tables(data)), f"hallq-{hall.hall}-bulletin-{data['quarter']}")


BULLETIN_TABLES = ("windows", "departments", "candidates", "most alerts", "clerks", "attendance", "attendance by clerk")


@routes.get("/api/v1/halls/{hall}/bulletin.csv")
@contract(
    "One table of the bulletin as CSV: `table` = windows (the ranking, default), departments, candidates, most alerts, "
    "clerks (服务标兵), attendance (考勤 by window) or attendance by clerk",
    response=None, auth="manager", query=(*QUARTER, ("table", " | ".join(BULLETIN_TABLES), False), WORDS), tags=("statistics",),
)
async def bulletin_csv(request: web.Request) -> web.StreamResponse:
    name = table_asked(request, BULLETIN_TABLES)
    hall, data = await _bulletin(request)
    return csv_response(*tables_for(request, _bulletin_tables(data))[name], f"hallq-{hall.hall}-bulletin-{data['quarter']}-{name.replace(' ', '-')}")


def _bulletin_tables(data: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The bulletin's tables, in the order of the page: the award as three flat columns."""
    ranking = []
    for r in data["windows"]:
        row = {k: v for k, v in r.items() if k != "award"}
        row.update(award_rank=r["award"]["rank"], award_score=r["award"]["score"], award_eligible=r["award"]["eligible"])
        ranking.append(row)
    chosen = {c["key"] for c in data["candidates"]}
    return {
        "departments": table(data["departments"], data["total"]),
        "windows": table(ranking),
        "candidates": table([r for r in ranking if r["key"] in chosen]),
        "most alerts": table([{k: v for k, v in r.items() if k != "award"} for r in data["most_alerts"]]),
        # 服务标兵 and 考勤
        "clerks": table([{**{k: v for k, v in r.items() if k != "award"}, "award_rank": r["award"]["rank"],
                          "award_score": r["award"]["score"], "award_eligible": r["award"]["eligible"]} for r in data.get("clerks", [])]),
        "attendance": table(data["attendance"]["windows"], data["attendance"]["total"]) if data.get("attendance") else ([], []),
        "attendance by clerk": table(data["attendance"]["clerks"]) if data.get("attendance") else ([], []),
    }


# ------------------------------------------------------------------------------ bad reviews


def _may_read_department(who: Any, catalog: Catalog, item: str) -> bool:
    if who.user.role is not Role.chief:
        return True
    i = catalog.items.get(item)
    return i is not None and i.department == who.user.department


@routes.get("/api/v1/halls/{hall}/reviews")
@contract(
    "Bad reviews (差评) with every step of their loop; a chief sees their department's", response=boards.Reviews, auth="manager",
    query=(*PERIOD, ("open", "1: only those whose loop is not closed", False)), tags=("supervision",),
)
async def list_reviews(request: web.Request) -> web.Response:
    """Bad reviews (差评) rated in `?from&to` (default: the last 400 days) with every step of their loop;
    a chief sees their department's."""
    return json(await _reviews(request))


REVIEW_QUERY = (*PERIOD, ("open", "1: only those whose loop is not closed", False))


def _review_lines(rows: list[dict[str, Any]], step: Callable[[dict[str, Any]], str] = lambda s: f"{s['step']} {s['by']}") -> Table:
    """One line per review; its steps in one column (at, step and by as `step` says them, note), oldest first."""
    flat = [
        {**{k: v for k, v in r.items() if k != "steps"}, "steps": "\n".join(
            f"{s['at'][:16].replace('T', ' ')} {step(s)}" + (f": {s['note']}" if s.get("note") else "") for s in r["steps"]
        )}
        for r in rows
    ]
    return flat_table(flat)


async def _reviews(request: web.Request) -> dict[str, Any]:
    hall, who = await reader(request)
    q = request.query
    start = end = None
    if q.get("from") or q.get("to"):
        start, end = parse_period(q, hall_today(hall))
    found = await ledger.reviews(request.app[STATS], hall.hall, start, end)
    rows = [ledger.review_view(request.app[STATS], hall.hall, r) for r in found if _may_read_department(who, hall.catalog, r.item)]
    if q.get("open") == "1":
        rows = [r for r in rows if not r["closed"]]
    return {"hall": hall.hall, "reviews": list(reversed(rows)), "steps": REVIEW_STEPS}


def _review_lines_for_people(hall: HallService, data: dict[str, Any], lang: str) -> Table:
    """The reviews for people: status and steps in words, the clerk, assignee and who took each step by name."""
    t = words(lang, "dashboard")
    staff = catalog_names(hall.catalog, lang, ("by",))["by"]
    header, lines = _review_lines(data["reviews"], lambda s: f"{t['step_' + s['step']]} {staff.get(s['by'], s['by'])}")
    return worded(header, lines, lang, names=catalog_names(hall.catalog, lang, ("clerk", "assignee")), codes={"status": "review_"},
                  drop=("ticket",))


_exports("reviews", "The bad reviews, one line each", _reviews, lambda d: _review_lines(d["reviews"]), lambda d: f"hallq-{d['hall']}-reviews",
         REVIEW_QUERY, _review_lines_for_people)


@routes.post("/api/v1/halls/{hall}/reviews/{ticket}/steps")
@contract("Record the next step of a bad review's loop (chief of its department; managers decide appeals)", body=StepBody, response=boards.Review, status=201, auth="staff", errors=(409,), tags=("supervision",))
async def record_step(request: web.Request) -> web.Response:
    """Record the next step of a bad review's loop: `{step, note}`."""
    hall = hall_of(request)
    who = await allowed(request, Action.supervise, hall)
    req = await body(request, StepBody)
    stats = request.app[STATS]
    ticket = request.match_info["ticket"]
    found = next((r for r in await ledger.reviews(stats, hall.hall) if r.ticket == ticket), None)
    if found is None:
        raise NotFound("unknown-review", "no bad review of this ticket in the last 400 days")
    if not may_record_step(who.user, hall.catalog, found.open(), req.step):
        detail = "a manager decides appeals" if req.step in MANAGER_STEPS else "this review belongs to another department"
        raise Forbidden("not-your-review", detail)
    await hall.handle(cmd.RecordReviewStep(by=who.user.username, review=found.open(), step=req.step, note=req.note))
    request.app[SUPERVISORS][hall.hall].invalidate()
    again = next(r for r in await ledger.reviews(stats, hall.hall) if r.ticket == ticket)
    return json(ledger.review_view(stats, hall.hall, again), status=201)


# ------------------------------------------------------------------------------ promised cases


@routes.get("/api/v1/halls/{hall}/cases")
@contract("Promised cases (承诺件) accepted before today and not concluded, soonest deadline first", response=boards.Cases, auth="manager", tags=("supervision",))
async def list_cases(request: web.Request) -> web.Response:
    """Promised cases (承诺件) accepted before today and not concluded, soonest deadline first."""
    return json(await _cases(request))


async def _cases(request: web.Request) -> dict[str, Any]:
    hall, who = await reader(request)
    cases = await ledger.open_cases(request.app[STATS], hall.hall)
    today = hall_today(hall)
    warn = hall.catalog.hall.supervision.deadline_warning_days
    rows = []
    for c in sorted(cases, key=lambda c: (c.deadline, c.number)):
        if not _may_read_department(who, hall.catalog, c.item):
            continue
        level, left = case_level(c, today, warn, hall.catalog.hall.calendar)
        rows.append(
            {
                "ticket": c.ticket, "number": c.number, "item": c.item,
                "item_name": hall.catalog.items[c.item].name if c.item in hall.catalog.items else c.item,
                "window": c.window, "accepted_on": c.accepted_on.isoformat(), "deadline": c.deadline.isoformat(),
                "working_days_left": left, "level": level,
            }
        )
    return {"hall": hall.hall, "cases": rows}


_exports("cases", "The open promised cases", _cases, lambda d: flat_table(d["cases"]), lambda d: f"hallq-{d['hall']}-cases", (),
         lambda hall, d, lang: worded(*flat_table(d["cases"]), lang, names=catalog_names(hall.catalog, lang), codes={"level": "level_"},
                                      drop=("ticket",)))


@routes.post("/api/v1/halls/{hall}/cases/{ticket}/conclude")
@contract("Conclude (办结) an open promised case", body=ConcludeBody, response=boards.Concluded, status=201, auth="staff", errors=(409,), tags=("supervision",))
async def conclude(request: web.Request) -> web.Response:
    """办结 of an open promised case; its clerks' window, the department's chief, managers."""
    hall = hall_of(request)
    req = await body(request, ConcludeBody)
    ticket = request.match_info["ticket"]
    case = next((c for c in await ledger.open_cases(request.app[STATS], hall.hall) if c.ticket == ticket), None)
    if case is None:
        raise NotFound("unknown-case", "no open promised case of this ticket (concluded already, or accepted today)")
    u = (await allowed(request, Action.conclude, hall, case.window, case.ticket, case.item)).user
    (event,) = await hall.handle(cmd.ConcludeCase(by=u.username, case=case, note=req.note))
    request.app[SUPERVISORS][hall.hall].invalidate()
    return json({"ticket": case.ticket, "number": case.number, "concluded_at": event.at.isoformat()}, status=201)

