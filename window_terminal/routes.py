"""The clerk's pages: log in, pick a window, the terminal, the evaluator facing the citizen, and
the manager's staff page. Pages use the session cookie; their scripts send its CSRF token."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from server.api.context import hall_of, page_staff
from server.api.devices import page_device
from server.auth import Staff, csrf_token
from server.domain import ratings
from server.domain.access import hall_resource, may, may_manage, may_act_on_window, staff_actor, windows_of
from server.domain.posts import post_of
from server.domain.catalog import Action, Role, User
from server.domain.errors import NotFound
from server.domain.model import Outcome
from server.domain.tickets import ticket_at_counter
from server.hall import HallService
from server.web import language, render
from server.i18n import DEFAULT

from .text import KEYS, case_types, outcomes, pause_reasons, suspend_kinds, text

routes = web.RouteTableDef()


def _lang(request: web.Request) -> str:
    """The page's language: ?lang=, else the `lang` cookie a switch or an earlier ?lang= left (so
    English survives the login and the redirects after it), else Chinese."""
    return language(request)


def _login_redirect(request: web.Request, hall: str) -> web.HTTPFound:
    lang = request.query.get("lang")
    keep = f"&lang={lang}" if lang in OTHER else ""  # the login page speaks the language asked for
    return web.HTTPFound(f"/terminal/{hall}/login?next={quote(request.path_qs, safe='')}{keep}")


async def _signed_in(request: web.Request, hall: HallService) -> tuple[Staff, str]:
    found = await page_staff(request)
    if found is None or (found[0].hall != hall.hall and found[0].user.role is not Role.admin):
        raise _login_redirect(request, hall.hall)
    return found


def _page(request: web.Request, template: str, hall: HallService, who: Staff | None, token: str | None, **config: Any) -> web.Response:
    lang = _lang(request)
    base: dict[str, Any] = {"hall": hall.hall, "hall_name": hall.catalog.hall.name, "lang": lang,
                            "timezone": hall.catalog.hall.timezone}
    if who is not None and token is not None:
        base |= {
            "csrf": csrf_token(token),
            "user": {"username": who.user.username, "name": who.user.name, "role": who.user.role.value, "post": who.user.post},
        }
    words = text(lang)
    resp = render("window_terminal", template, request, config=base | config, text=words, t=words,
                  hall_name=hall.catalog.hall.name, user=who.user if who else None, other_lang=OTHER[lang])
    if request.query.get("lang") in OTHER:  # asked for by the address: kept for the pages after it
        resp.set_cookie("lang", lang, path="/terminal/", samesite="Lax", httponly=True)
    return resp


OTHER = {"zh-CN": "en", "en": "zh-CN"}


def _forbidden(request: web.Request, hall: HallService, who: Staff, token: str, detail: str) -> web.Response:
    resp = _page(request, "message.html", hall, who, token, message=detail)
    resp.set_status(403)
    return resp


def _named(pairs: dict[str, str], lang: str, en: dict[str, str] | None = None) -> list[dict[str, str]]:
    return [{"id": k, "name": (en or {}).get(k, v) if lang == "en" else v} for k, v in pairs.items()]


@routes.get("/terminal/{hall}/login")
async def login_page(request: web.Request) -> web.Response:
    hall = hall_of(request)
    next_url = request.query.get("next", "")
    if not next_url.startswith((f"/terminal/{hall.hall}", f"/dashboard/{hall.hall}/")) or next_url.startswith("//"):
        next_url = f"/terminal/{hall.hall}"  # only our own pages: never an open redirect
    found = await page_staff(request)
    if found is not None and found[0].hall == hall.hall:
        raise web.HTTPFound(next_url)
    return _page(request, "login.html", hall, None, None, next=next_url)


@routes.get("/terminal/{hall}")
async def picker(request: web.Request) -> web.Response:
    """Pick a window: the clerk's own posts, a chief's department windows, every window for managers."""
    hall = hall_of(request)
    who, token = await _signed_in(request, hall)
    mine = windows_of(who.user, hall.catalog)
    manages = who.user.role in (Role.manager, Role.admin)
    if len(mine) == 1 and not manages and "stay" not in request.query:
        raise web.HTTPFound(f"/terminal/{hall.hall}/window/{mine[0]}")
    windows = [{"id": w, "name": hall.catalog.windows[w].name} for w in mine]
    return _page(request, "picker.html", hall, who, token, windows=windows, manages=manages)


@routes.get("/terminal/{hall}/window/{window}")
async def terminal(request: web.Request) -> web.Response:
    hall = hall_of(request)
    who, token = await _signed_in(request, hall)
    window = request.match_info["window"]
    catalog = hall.catalog
    if window not in catalog.windows:
        raise NotFound("unknown-window", f"no window {window!r} in this hall")
    if not may_act_on_window(who.user, catalog, window):
        return _forbidden(request, hall, who, token, text(_lang(request))["not_your_window"])
    lang = _lang(request)
    served = catalog.windows[window].items
    return _page(
        request, "terminal.html", hall, who, token,
        window=window,
        window_name=catalog.windows[window].name,
        post=post_of(catalog, window, who.user.username),  # AB岗: the post held at this window
        items=[{"id": i.id, "name": i.name, "served_here": i.id in served} for i in catalog.config.items if not i.retired],
        windows=[{"id": w.id, "name": w.name, "items": list(w.items)} for w in catalog.config.windows if w.id != window and not w.retired],
        case_types=case_types(lang),
        outcomes=outcomes(lang),
        suspend_kinds=suspend_kinds(lang),
        pause_reasons=pause_reasons(lang),
        keys=[{"key": k, "action": a} for k, a in KEYS],
    )


PROMPT_TIMEOUT_S = 45  # the evaluator gives up politely after this long without a touch


def _prompt_timeout(request: web.Request) -> int:
    """`?timeout=S` (3 to 600 s) for a hall that wants a shorter or longer prompt, and for tests."""
    try:
        return min(600, max(3, int(request.query["timeout"])))
    except (KeyError, ValueError):
        return PROMPT_TIMEOUT_S


@routes.get("/terminal/{hall}/evaluator/{window}")
async def evaluator(request: web.Request) -> web.Response:
    """The small screen facing the citizen (评价器). In a hall that requires registered devices it
    is approved once as the window's evaluator device. Otherwise a clerk or manager of the window
    opens it once: the page then holds its own evaluator session (not the clerk's), which shows the
    window and rates, and outlives the clerk's logout. Without either it asks for a staff login."""
    hall = hall_of(request)
    required = hall.catalog.hall.devices.required
    window = request.match_info["window"]
    if window not in hall.catalog.windows:
        raise NotFound("unknown-window", f"no window {window!r} in this hall")
    found = None if required else await page_staff(request)
    who, token = found if found is not None else (None, None)
    signed_in = who is not None and (who.hall == hall.hall or who.user.role is Role.admin)
    # A manager pairs the evaluator, never the clerk whose service it rates.
    may_open = signed_in and who is not None and may(
        staff_actor(who.user, who.hall, hall.catalog), Action.pair_evaluator, hall_resource(hall.catalog, window))
    lang = _lang(request)
    en = lang == "en"
    return _page(
        request, "evaluator.html", hall, who if may_open else None, token if may_open else None,
        window=window,
        window_name=hall.catalog.windows[window].name,
        levels=[{"score": s, "name": (ratings.LEVELS_EN if en else ratings.LEVELS)[s]} for s in ratings.LEVELS],
        indicators=_named(ratings.INDICATORS, lang, ratings.INDICATORS_EN),
        reasons=_named(ratings.REASONS, lang, ratings.REASONS_EN),
        bad_at_most=ratings.BAD_AT_MOST,
        prompt_timeout_s=_prompt_timeout(request),
        thanks_s=6,
        may_open=may_open,  # a member of staff of this window is signed in: the page opens its evaluator session
        signed_in=signed_in,
        device=page_device(hall, "evaluator", window, hall.catalog.windows[window].name),
    )


@routes.get("/terminal/{hall}/staff")
async def staff_page(request: web.Request) -> web.Response:
    """The manager's page: add, disable and re-assign accounts, reset passwords."""
    hall = hall_of(request)
    who, token = await _signed_in(request, hall)
    if not may(staff_actor(who.user, who.hall, hall.catalog), Action.manage_staff, hall_resource(hall.catalog)):
        return _forbidden(request, hall, who, token, text(_lang(request))["managers_only"])
    catalog = hall.catalog
    probe = [User(username="xx", name="x", role=r) for r in Role]
    return _page(
        request, "staff.html", hall, who, token,
        windows=[{"id": w.id, "name": w.name} for w in catalog.config.windows],
        departments=[{"id": d.id, "name": d.name} for d in catalog.config.departments],
        roles=[u.role.value for u in probe if may_manage(who.user, u)],
    )


@routes.get("/terminal/{hall}/notice/{number}")
async def one_time_notice(request: web.Request) -> web.Response:
    """一次性告知单: the printable list of missing materials a citizen takes home, for a ticket of
    today finished with a one-time notice, printed by the staff of the window that served it."""
    hall = hall_of(request)
    who, token = await _signed_in(request, hall)
    state = await hall.current()
    ticket = ticket_at_counter(state, request.match_info["number"])
    if ticket.outcome is not Outcome.one_time_notice or not ticket.window:
        raise NotFound("no-notice", f"ticket {ticket.number} was not sent away with a one-time notice")
    if not may_act_on_window(who.user, hall.catalog, ticket.window):
        return _forbidden(request, hall, who, token, text(_lang(request))["not_your_window"])
    item = hall.catalog.items[ticket.item]
    return _page(request, "notice.html", hall, who, token, number=ticket.number, item_name=item.name, missing=list(ticket.missing),
                 materials=list(item.materials), window_name=hall.catalog.windows[ticket.window].name,
                 clerk=who.user.name, staff_no=who.user.staff_no or "",  # the member of staff who prints it
                 finished=ticket.finished_at.astimezone(hall.tz).strftime("%Y-%m-%d %H:%M") if ticket.finished_at else "",
                 time_limit=item.publics.time_limit, fee=item.publics.fee)

