"""The kiosk's read-aloud (适老化): what the elderly mode speaks, made by the server's espeak-ng
voice for a kiosk browser without a Chinese voice. Only the server's own words are spoken — a
prompt of the kiosk's page, an item's name and materials, a ticket's number and windows —
named by key, never text the page sends."""

from __future__ import annotations

from aiohttp import web

from server.api.context import hall_of
from server.domain.announce import read_digits, speak_integers
from server.domain.errors import Invalid, NotFound
from server.domain.tickets import ticket_of
from server.i18n import both
from server.printing.driver import PRINTING
from server.speech import SpeechCache, espeak

routes = web.RouteTableDef()
SPEECH = web.AppKey("kiosk-speech", SpeechCache)

# The prompts a kiosk may ask to hear: the words of its screens, in Chinese (espeak-ng's voice).
PROMPTS = ("care_home", "care_items", "checkin_hint", "idle", "help_called", "care_ticket")


def item_speech(name: str, materials: list[str]) -> str:
    listed = "；".join(f"{speak_integers(str(n))}、{m}" for n, m in enumerate(materials, 1))
    return f"{name}。请准备以下材料：{listed}。" if materials else f"{name}。"


def ticket_speech(number: str, windows: str) -> str:
    return f"您的号码是 {read_digits(number)}。请到 {speak_integers(windows)} 等候叫号。"


@routes.get("/kiosk/{hall}/{kiosk}/speech.wav")
async def speech(request: web.Request) -> web.Response:
    """?prompt=KEY | ?item=ID | ?ticket=ID (the ticket id is its holder's secret, as everywhere)."""
    hall = hall_of(request)
    request.app[PRINTING].kiosk(hall.hall, request.match_info["kiosk"])  # 404 for an unknown kiosk
    q = request.query
    if "prompt" in q:
        if q["prompt"] not in PROMPTS:
            raise Invalid("bad-prompt", f"no prompt {q['prompt']!r}")
        text = both("kiosk")["zh-CN"][q["prompt"]]
    elif "item" in q:
        item = hall.catalog.items.get(q["item"])
        if item is None or item.retired:
            raise NotFound("unknown-item", f"no service item {q['item']!r} in this hall")
        text = item_speech(item.name, list(item.materials))
    elif "ticket" in q:
        t = ticket_of(await hall.current(), q["ticket"])
        windows = "、".join(hall.catalog.windows[w].called_as for w in hall.catalog.windows_of_item[t.item])
        text = ticket_speech(t.number, windows)
    else:
        raise Invalid("missing-what", "say what to speak: ?prompt=, ?item= or ?ticket=")
    if espeak() is None:
        raise NotFound("no-speech", "this server has no speech engine (apt-get install espeak-ng)")
    wav = await request.app[SPEECH].wav(text)
    if wav is None:
        raise NotFound("no-speech", "speech could not be made")
    return web.Response(body=wav, content_type="audio/wav", headers={"Cache-Control": "no-store"})
