"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, on a live server.

One Chromium serves the whole session (launching it and Playwright's driver took 3-5 s per
test); each test gets fresh browser contexts, and whatever contexts a test opened are closed
after it. Playwright's objects belong to the event loop that made them, so the browser tests
and every async fixture they use run on pytest-asyncio's session loop: the fixtures below say
`loop_scope="session"`, and collection fails if a browser test would use one that does not.
"""

from __future__ import annotations

import os
import shutil

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer

from server.api import create_app

CHROMIUM = os.environ.get("HALLQ_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


SESSION_LOOP = pytest.mark.asyncio(loop_scope="session")


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    for item in items:
        if "tests/browser" not in str(item.fspath):
            continue
        item.add_marker(pytest.mark.browser)
        if pytest_asyncio.is_async_test(item):
            item.add_marker(SESSION_LOOP, append=False)
            _only_session_loop_fixtures(item)


def _only_session_loop_fixtures(item) -> None:  # type: ignore[no-untyped-def]
    """An async fixture on a test's own loop would hand a session-loop test objects of a loop that
    is not running (a hang, or "attached to a different loop"): refuse it at collection."""
    import inspect

    for name, defs in item._fixtureinfo.name2fixturedefs.items():
        func = defs[-1].func
        if (inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func)) and getattr(func, "_loop_scope", None) != "session":
            raise pytest.UsageError(f"{item.nodeid}: async fixture {name!r} must be "
                                    "@pytest_asyncio.fixture(loop_scope=\"session\") (see tests/browser/conftest.py)")


class Chromium:
    """The session's browser, launched again if it died (one crash must not fail every later test)."""

    def __init__(self) -> None:
        self.playwright = None
        self.browser = None

    async def get(self):  # type: ignore[no-untyped-def]
        if self.browser is None or not self.browser.is_connected():
            if self.playwright is None:
                from playwright.async_api import async_playwright

                self.playwright = await async_playwright().start()
            self.browser = await self.playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        return self.browser

    async def close(self) -> None:
        if self.browser is not None and self.browser.is_connected():
            await self.browser.close()
        if self.playwright is not None:
            await self.playwright.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium():  # type: ignore[no-untyped-def]
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"Chromium is required under CI=true and {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)")
    c = Chromium()
    yield c
    await c.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser(chromium):  # type: ignore[no-untyped-def]
    """The session's Chromium; the contexts (windows, cookies, storage) a test opens end with it."""
    b = await chromium.get()
    yield b
    for context in list(b.contexts):
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def aiohttp_server():  # type: ignore[no-untyped-def]
    """pytest-aiohttp's aiohttp_server, on the session loop (see the module's docstring)."""
    servers: list[TestServer] = []

    async def go(app, *, host: str = "127.0.0.1", port: int | None = None, **kwargs):  # type: ignore[no-untyped-def]
        server = TestServer(app, host=host, port=port)
        await server.start_server(**kwargs)
        servers.append(server)
        return server

    yield go
    while servers:
        await servers.pop().close()


@pytest_asyncio.fixture(loop_scope="session")
async def live(aiohttp_server, settings):  # type: ignore[no-untyped-def]
    """The whole app on a real loopback port; `live.url` is its base URL."""
    server = await aiohttp_server(create_app(settings))
    server.url = str(server.make_url("")).rstrip("/")
    return server


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    p = await context.new_page()
    yield p
    await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def server(config_dir, tmp_path):  # type: ignore[no-untyped-def]
    """The small hall served by a real `hallq serve` process."""
    from tests.server_process import ServerProcess

    s = ServerProcess(config_dir, tmp_path / "data")
    await s.start()
    yield s
    s.kill()


@pytest_asyncio.fixture(loop_scope="session")
async def api(server):  # type: ignore[no-untyped-def]
    from tests.server_process import Api

    a = Api(server.url)
    yield a
    await a.close()
