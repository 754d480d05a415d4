"""The screens' pages and call audio. Screens need no login: they show public data only."""

from __future__ import annotations

import re

from aiohttp import web

from server.api.context import hall_of
from server.api.devices import page_device
from server.domain.announce import announcement
from server.domain.errors import Invalid, NotFound
from server.domain.tickets import NUMBER_PATTERN
from server.web import render
from server.i18n import words

from .voice import SpeechCache, chime, espeak

routes = web.RouteTableDef()
SPEECH = web.AppKey("display-speech", SpeechCache)

def _lang(request: web.Request) -> str:
    return "en" if request.query.get("lang") == "en" else "zh-CN"


def _speaks(request: web.Request, screens: tuple[str, ...]) -> bool:
    asked = request.query.get("voice")
    if asked in ("0", "1"):
        return asked == "1"
    screen = request.query.get("screen", "")
    return not screens or screen in screens


def _page_seconds(request: web.Request) -> float:
    """How long the waiting counts show each page when they need more than one (?page_s=, 1-60)."""
    try:
        return min(60.0, max(1.0, float(request.query.get("page_s", "8"))))
    except ValueError:
        return 8.0


@routes.get("/display/{hall}/lobby")
async def lobby(request: web.Request) -> web.Response:
    hall = hall_of(request)
    config = {
        "hall": hall.hall,
        "screen": request.query.get("screen", ""),
        "voice": _speaks(request, hall.catalog.hall.voice.screens),
        # ?voice=0|1 pins it; otherwise the screen follows `voice.screens` as the administrator changes it
        "voice_pinned": request.query.get("voice") in ("0", "1"),
        "repeat": hall.catalog.hall.voice.repeat,
        "max_age_s": hall.catalog.hall.voice.max_age_s,
        "lang": _lang(request),
        "page_s": _page_seconds(request),
        "device": page_device(hall, "lobby_screen", request.query.get("screen", "")),
    }
    return render("display", "lobby.html", request, config=config, text=words(_lang(request), "display"), hall_name=hall.catalog.hall.name)


@routes.get("/display/{hall}/window/{window}")
async def window_screen(request: web.Request) -> web.Response:
    hall = hall_of(request)
    window = request.match_info["window"]
    if window not in hall.catalog.windows:
        raise NotFound("unknown-window", f"no window {window!r} in this hall")
    config = {"hall": hall.hall, "window": window, "lang": _lang(request),
              "device": page_device(hall, "window_screen", window, hall.catalog.windows[window].name)}
    return render("display", "window.html", request, config=config, text=words(_lang(request), "display"),
                  window_name=hall.catalog.windows[window].name)


@routes.get("/display/chime.wav")
async def chime_wav(request: web.Request) -> web.Response:
    return web.Response(body=chime(), content_type="audio/wav", headers={"Cache-Control": "max-age=86400"})


@routes.get(r"/display/{hall}/calls/{number}/{window}.wav")
async def call_wav(request: web.Request) -> web.Response:
    """A call spoken by espeak-ng; only calls (number and window) are spoken, never free text."""
    hall = hall_of(request)
    number, window = request.match_info["number"], request.match_info["window"]
    if not re.fullmatch(NUMBER_PATTERN, number):
        raise Invalid("bad-number", "a ticket number looks like A012 or MA1024")
    if window not in hall.catalog.windows:
        raise NotFound("unknown-window", f"no window {window!r} in this hall")
    if espeak() is None:
        raise NotFound("no-speech", "this server has no speech engine (apt-get install espeak-ng); play the chime")
    cache = request.app[SPEECH]
    wav = await cache.wav(announcement(hall.catalog, number, window)["speech"])
    if wav is None:
        raise NotFound("no-speech", "speech could not be made")
    return web.Response(body=wav, content_type="audio/wav", headers={"Cache-Control": "max-age=3600"})
