"""`hallq plan`: print the staffing plan of a day from the journal, without a running server."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..domain.calendar import opens_on
from ..domain.forecast import opening_days
from . import store
from .staffing import booked_of, build_closed, folded, learn, plan, plan_lines


def _minutes(s: float | None) -> str:
    return "—" if s is None else f"{s / 60:.0f}′"


def table(answer: dict[str, Any]) -> str:
    """The plan as text: a line of figures per half hour, then which windows each group opens."""
    total = answer["total"]
    out = [
        f"{answer['hall']} {answer['day']} (weekday {answer['weekday']}{', ' + ', '.join(answer['kinds']) if answer['kinds'] else ''}): "
        f"{total['mean']:.0f} arrivals expected ({int(answer['level'] * 100)}% {total['low']:.0f}–{total['high']:.0f}), "
        f"{answer['booked']} booked; target mean wait {_minutes(answer['target_wait_s'])}, 90% under {_minutes(answer['p90_wait_s'])}",
        f"learnt from {answer['history']['days']} days ({answer['history']['from']} … {answer['history']['to']})",
        "",
        f"{'half hour':<12}{'arrivals':>16}{'booked':>7}{'windows':>8}{'usual':>7}{'formula':>9}{'played':>8}{'p90':>6}  met  short / idle",
    ]
    names = {g["key"]: g["key"] for g in answer["groups"]}
    for s in answer["slots"]:
        a, sim = s["arrivals"], s["simulated"] or {}
        gaps = [f"{names[g]}+{n:g}" for g, n in s["short"].items()] + [f"{names[g]}-{n:g}" for g, n in s["idle"].items()]
        gaps += [f"{names[g]}!" for g in s["lacking"]]
        met = "" if not sim else ("yes" if sim["met"] else "NO")
        out.append(
            f"{s['start']}-{s['end']:<6}{a['mean']:>7.1f} ({a['low']:>3.0f}–{a['high']:<3.0f}){s['booked']:>7}{s['windows']:>8}{s['usual']:>7.1f}"
            f"{_minutes(s['erlang']['mean_wait_s']):>9}{_minutes(sim.get('mean_wait_s')):>8}{_minutes(sim.get('p90_wait_s')):>6}  {met:<4} {' '.join(gaps)}"
        )
    out.append("")
    out.append("windows open per group (+ short, - idle against the windows usually open; ! short even with all open):")
    for g in answer["groups"]:
        counts = " ".join(str(s["open"][g["key"]]) for s in answer["slots"])
        out.append(f"  {g['key']:<6} {g['name']} [{', '.join(w['id'] for w in g['windows'])}]: {counts}")
    if answer["check"]["met_share"] is not None:
        out.append(f"played with these windows: the target met in {answer['check']['met_share']:.0%} of the half hours")
    return "\n".join(out)


async def run(config_dir: Path, data_dir: Path, database: str | None, hall: str, day: date | None, check: bool = True,
              as_csv: bool = False, say: Callable[[str], None] = print) -> int:
    from ..config import load_halls
    from ..journal import SQLJournal, database_url, make_engine

    halls = load_halls(config_dir)
    if hall not in halls:
        say(f"no hall {hall!r} in {config_dir} (there are: {', '.join(halls)})")
        return 2
    catalog = halls[hall]
    tz = ZoneInfo(catalog.hall.timezone)
    today = datetime.now(tz).date()
    day = day or opening_days(catalog, today, 1)[0]
    if not opens_on(catalog.hall.opening, day, catalog.hall.calendar):
        say(f"the hall {hall} does not open on {day.isoformat()}")
        return 2
    journal = SQLJournal(make_engine(database_url(data_dir, database)))
    try:
        await journal.create()
        await store.create(journal.engine)
        until = min(day, today)
        await build_closed(journal, catalog, until - timedelta(weeks=catalog.hall.staffing.history_weeks), until - timedelta(days=1))
        learnt = await learn(journal.engine, catalog, until)
        known = booked_of(await folded(journal, hall, day), tz)
        answer = plan(catalog, learnt, day, known, check=check)
    finally:
        await journal.close()
    if as_csv:
        buf = io.StringIO()
        csv.writer(buf).writerows([plan_lines(answer)[0], *plan_lines(answer)[1]])
        say(buf.getvalue().rstrip("\n"))
    else:
        say(table(answer))
    return 0
