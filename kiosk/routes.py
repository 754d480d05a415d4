"""The kiosk's pages and pictures: the touch page, the mobile ticket behind the QR code, ticket images."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pypinyin import Style, lazy_pinyin

from server.api.context import CTX, hall_of
from server.api.devices import page_device
from server.api.security import CSP
from server.api.tickets import earlier_ticket
from server.feed.views import earlier_ticket_view, ticket_view
from server.domain import ratings
from server.domain.catalog import Catalog
from server.domain.errors import NotFound
from server.domain.tickets import ticket_of
from server.hall import HallService
from server.printing.driver import PRINTING
from server.printing.layout import preview_png, qr_svg, ticket_layout
from server.printing.tickets import facts, mobile_url
from server.web import language, render
from server.i18n import both, say

from server.api.kiosks import origin

routes = web.RouteTableDef()

def mobile_text() -> dict[str, dict[str, str]]:
    """The mobile ticket's words in both languages; the rating's come from the domain's one list of
    levels, indicators and reasons (好差评), the same the window's evaluator shows."""
    text = both("mobile")
    for lang, levels, indicators, reasons in (
        ("zh-CN", ratings.LEVELS, ratings.INDICATORS, ratings.REASONS),
        ("en", ratings.LEVELS_EN, ratings.INDICATORS_EN, ratings.REASONS_EN),
    ):
        text[lang] |= {f"score{n}": name for n, name in levels.items()}
        text[lang] |= {f"ind_{k}": name for k, name in indicators.items()}
        text[lang] |= {f"reason_{k}": name for k, name in reasons.items()}
    return text


NOTIFY_AHEAD = 3  # the mobile page offers a notification when this few people are ahead


def menu(catalog: Catalog) -> list[dict[str, Any]]:
    """Departments with their items, each with the pinyin the kiosk's search matches."""
    out = []
    for d in catalog.config.departments:
        items = [
            {
                "id": i.id,
                "name": i.name,
                "initials": "".join(lazy_pinyin(i.name, style=Style.FIRST_LETTER, errors="ignore")).upper(),
                "pinyin": "".join(lazy_pinyin(i.name, errors="ignore")).upper(),
                "case_type": i.case_type.value,
                "promised_days": i.promised_days,
                "materials": list(i.materials),
                "publics": i.publics.model_dump(),
                "windows": [catalog.windows[w].called_as for w in catalog.windows_of_item[i.id]],
            }
            for i in catalog.config.items
            if i.department == d.id and not i.retired
        ]
        if items and not d.retired:
            out.append({"id": d.id, "name": d.name, "short_name": d.short_name or d.name, "items": items})
    return out


@routes.get("/kiosk/{hall}")
async def kiosk_index(request: web.Request) -> web.Response:
    hall = hall_of(request)
    title = f"{say('zh-CN', 'home', 'kiosks')} {say('en', 'home', 'kiosks')}"  # a page for installers: both languages
    return render("kiosk", "index.html", request, hall_name=hall.catalog.hall.name, hall=hall.hall,
                  kiosks=hall.catalog.config.kiosks, title=title)


@routes.get("/kiosk/{hall}/{kiosk}")
async def kiosk_page(request: web.Request) -> web.Response:
    hall = hall_of(request)
    link = request.app[PRINTING].kiosk(hall.hall, request.match_info["kiosk"])
    lang = language(request)
    config = {"hall": hall.hall, "kiosk": link.conf.id, "idle_s": link.conf.idle_s, "lang": lang,
              "printer": link.conf.printer.kind != "none", "timezone": hall.catalog.hall.timezone,
              "device": page_device(hall, "kiosk", link.conf.id, link.conf.name),
              "card_port": link.conf.card_port if hall.catalog.hall.id_cards.enabled else None}
    text = both("kiosk")
    page = render("kiosk", "kiosk.html", request, config=config, text=text, menu=menu(hall.catalog),
                  hall_name=hall.catalog.hall.name, kiosk_name=link.conf.name, t=text[lang])
    if config["card_port"]:  # the page hears card reads from the print agent on its own PC, and nothing else
        page.headers["Content-Security-Policy"] = CSP.replace(
            "connect-src 'self'", f"connect-src 'self' ws://127.0.0.1:{config['card_port']}")
    return page


@routes.get("/kiosk/{hall}/{kiosk}/menu")
async def kiosk_menu(request: web.Request) -> web.Response:
    """The menu again, for a kiosk page that heard the catalogue change (no reload: a citizen may be mid-way)."""
    hall = hall_of(request)
    request.app[PRINTING].kiosk(hall.hall, request.match_info["kiosk"])  # 404 for an unknown kiosk
    await hall.current()
    return web.json_response({"rev": hall.rev, "menu": menu(hall.catalog)}, dumps=_dumps, headers={"Cache-Control": "no-store"})


def _dumps(data: Any) -> str:
    import json

    return json.dumps(data, ensure_ascii=False)


async def _ticket_at(request: web.Request) -> tuple[HallService, Any, Any]:
    hall = hall_of(request)
    link = request.app[PRINTING].kiosk(hall.hall, request.match_info["kiosk"])
    return hall, link, ticket_of(await hall.current(), request.match_info["ticket"])


@routes.get("/kiosk/{hall}/{kiosk}/tickets/{ticket}/preview.png")
async def preview(request: web.Request) -> web.Response:
    """The paper ticket as a picture (the ticket id is the holder's secret, as everywhere)."""
    hall, link, t = await _ticket_at(request)
    blocks = ticket_layout(facts(hall, link.conf, t, mobile_url(link.conf, origin(request), t.id), None, False))
    return web.Response(body=preview_png(blocks, link.conf.printer.paper_mm), content_type="image/png",
                        headers={"Cache-Control": "no-store"})


@routes.get("/kiosk/{hall}/{kiosk}/tickets/{ticket}/qr.svg")
async def qr(request: web.Request) -> web.Response:
    """The on-screen QR code to the mobile ticket: the same address as on the paper."""
    hall, link, t = await _ticket_at(request)
    return web.Response(body=qr_svg(mobile_url(link.conf, origin(request), t.id)), content_type="image/svg+xml",
                        headers={"Cache-Control": "no-store"})


@routes.get("/t/{ticket}")
async def mobile_ticket(request: web.Request) -> web.Response:
    """The mobile ticket behind the QR code: any hall's ticket of today, of the day before, or of an
    earlier day while it may still be rated (好差评 after the day of service), found by its id."""
    ticket_id = request.match_info["ticket"]
    lang = language(request)
    text = mobile_text()
    for hall in request.app[CTX].halls.values():
        earlier = await earlier_ticket(request, hall, ticket_id)  # rated for some days after its day
        if earlier is not None:
            state, t, served = earlier
            final = earlier_ticket_view(state, hall.catalog, t, served, (await hall.current()).day)
        else:
            try:
                state, t = await hall.find_ticket(ticket_id)
            except NotFound:
                continue
            final = ticket_view(state, hall.catalog, t) if state.day != hall.held().day else None
        windows = {w.id: w.called_as for w in hall.catalog.config.windows}
        config = {"hall": hall.hall, "ticket": t.id, "lang": lang, "notify_ahead": NOTIFY_AHEAD, "windows": windows,
                  "timezone": hall.catalog.hall.timezone, "indicators": list(ratings.INDICATORS),
                  "bad_at_most": ratings.BAD_AT_MOST,
                  # A ticket of an ended day changes no more: the page shows it without a feed.
                  "final": final}
        # The words of a final state in the page itself: readable before (or without) the script.
        closed = "closed_out_serving" if t.closed_out_from == "serving" and t.status == "closed_out" else t.status.value
        status = text[lang].get(closed, "") if config["final"] else ""
        return render("kiosk", "mobile.html", request, config=config, text=text,
                      hall_name=hall.catalog.hall.name, number=t.number, t=text[lang], status=status,
                      levels=list(ratings.LEVELS), indicators=list(ratings.INDICATORS), reasons=list(ratings.REASONS))
    resp = render("kiosk", "mobile_missing.html", request, t=text[lang])
    resp.set_status(404)
    return resp

