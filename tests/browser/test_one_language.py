"""One language per page (issue 19): every page, walked in Chinese and in English, shows no words of
the other language outside names and proper nouns — a check of the rendered text (innerText,
titles, placeholders, button labels), not of the templates.

Allowed: the hall's own words (its name, departments, items, materials, publics, windows, clerks,
kiosks: the catalogue is written in Chinese, and an English page names them as they are), ticket
numbers, and a short list of terms that are the same in both (below)."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest
import yaml

from tests.halls import small_config, write_config

# Latin words a Chinese page may show: the product, codes and units written the same in Chinese.
LATIN_OK = {"hallq", "QR", "ID", "CSV", "Excel", "xlsx", "csv", "json", "JSON", "PDF", "Enter", "Esc", "Tab", "OK", "Ctrl", "mm",
            "API", "WebSocket", "Bearer", "espeak", "Chromium", "UTC", "GMT", "PNG", "ESC", "POS", "USB", "GB", "GBK",
            "English",  # the language switch names the other language in its own words
            "SFZ",  # the kiosk's pinyin-initials example (身份证)
            "MAPE"}  # the forecast's error measure, named as in the literature
CJK_OK = {"中文"}  # the language switch, likewise
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
LATIN = re.compile(r"[A-Za-z]{3,}")


def proper_nouns() -> list[str]:
    c = small_config()
    names = [c.hall.name, c.hall.notice, "一楼 自助取号机1"]
    names += [d.name for d in c.departments] + [i.name for i in c.items] + [w.name for w in c.windows] + [u.name for u in c.users]
    for i in c.items:
        names += list(i.materials) + [str(v) for v in i.publics.model_dump().values()]
    return sorted({n for n in names if n}, key=len, reverse=True)


DEBUG = True


def leaks(text: str, lang: str, also: tuple[str, ...] = ()) -> list[str]:
    for name in [*proper_nouns(), *also]:
        text = text.replace(name, " ")
    text = re.sub(r"\w+: \{[^}]*\}", " ", text)  # a line of hall.yaml quoted as it is written
    text = re.sub(r"[\w./-]+\.(?:yaml|csv|xlsx|json)\b", " ", text)  # a file's name is a name
    if lang == "en":
        return [text[max(0, m.start() - 20):m.end() + 20] if DEBUG else m.group() for m in CJK.finditer(text) if m.group() not in CJK_OK]
    return [w for w in LATIN.findall(text) if w not in LATIN_OK and not re.fullmatch(r"[A-Z]{1,2}\d+", w)]


RENDERED = """() => {
  const parts = [document.title, document.body.innerText];
  for (const e of document.querySelectorAll('[placeholder],[title],[aria-label]')) {
    if (e.offsetParent === null) continue;
    parts.push(e.getAttribute('placeholder') || '', e.getAttribute('title') || '', e.getAttribute('aria-label') || '');
  }
  for (const e of document.querySelectorAll('input[type=submit],input[type=button]')) parts.push(e.value);
  return parts.join('\\n');
}"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    write_config(folder)
    (folder / "t" / "kiosks.yaml").write_text(yaml.safe_dump([{"id": "k1", "name": "一楼 自助取号机1"}], allow_unicode=True),
                                             encoding="utf-8")
    return folder


async def hall_in_use(url: str) -> str:
    """Two numbers taken, window 1 open and calling one of them: every page has something to show."""
    async with aiohttp.ClientSession() as http:
        ids = []
        for item in ("a1", "b1"):
            async with http.post(url + "/api/v1/halls/t/kiosks/k1/tickets", json={"item": item}) as r:
                ids.append((await r.json())["id"])
        async with http.post(url + "/api/v1/auth/login", json={"username": "w1a", "password": "demo"}) as r:
            token = (await r.json())["token"]
        for action in ("open", "call-next"):
            async with http.post(f"{url}/api/v1/halls/t/windows/w1/{action}", json={}, headers={"Authorization": f"Bearer {token}"}) as r:
                assert r.status < 300, await r.text()
        return ids[1]


async def walk(browser, url: str, lang: str, ticket: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    q = "?lang=en" if lang == "en" else ""
    found: dict[str, list[str]] = {}
    context = await browser.new_context(viewport={"width": 1366, "height": 900}, locale=lang)
    page = await context.new_page()

    async def look(name: str, also: tuple[str, ...] = ()) -> None:
        found[name] = leaks(await page.evaluate(RENDERED), lang, also)

    # Citizens and screens.
    for name, path in (("kiosk", "/kiosk/t/k1"), ("ticket", f"/t/{ticket}"), ("booking", "/book/t"),
                       ("lobby", "/display/t/lobby"), ("window screen", "/display/t/window/w1")):
        await page.goto(url + path + (q + ("&" if q else "?") + "voice=0" if name == "lobby" else q))
        await page.wait_for_selector("body[data-status=online], body:not([data-status])")
        await look(name)
    await page.goto(url + "/kiosk/t/k1" + q)
    await page.wait_for_selector("body[data-status=online]")
    for step in ("[data-go=departments]", "[data-department=a]", "[data-item=a1]"):
        await page.click(step)
    await look("kiosk item")

    # Clerks: the login keeps the language, then the terminal.
    await page.goto(url + "/terminal/t" + q)
    await page.wait_for_selector("#username")
    await look("login")
    await page.fill("#username", "w1a")
    await page.fill("#password", "demo")
    await page.press("#password", "Enter")
    await page.wait_for_url("**/terminal/t/window/w1")
    await page.wait_for_selector("body[data-status=online]")
    await look("terminal")
    await page.goto(url + "/terminal/t/evaluator/w1")
    await look("evaluator")

    # Managers: the dashboard's pages after its sign-in.
    await page.goto(url + "/dashboard/t/" + q)
    await page.fill("#login [name=username]", "boss")
    await page.fill("#login [name=password]", "demo")
    await page.press("#login [name=password]", "Enter")
    await page.wait_for_selector("#main:not([hidden])")
    for path in ("", "stats", "bulletin", "reviews", "appointments", "plan", "admin", "devices"):
        await page.goto(f"{url}/dashboard/t/{path}{q}")
        await page.wait_for_selector("#main:not([hidden])")
        await page.wait_for_load_state("networkidle")
        await look(f"dashboard {path or 'board'}")
    await page.goto(f"{url}/terminal/t/staff{q}")  # the same sign-in (issue 19)
    await page.wait_for_selector("#accounts tr")
    await look("staff", tuple(u.username for u in small_config().users))  # the accounts page lists logins
    await context.close()
    return {k: v for k, v in found.items() if v}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_every_page_speaks_one_language(browser, live, lang):
    ticket = await hall_in_use(live.url)
    found = await walk(browser, live.url, lang, ticket)
    assert not found, "\n".join(f"{page}: {words}" for page, words in found.items())
