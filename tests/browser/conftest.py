"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, on a live server."""

from __future__ import annotations

import os
import shutil

import pytest

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


def pytest_collection_modifyitems(items):  # type: ignore[no-untyped-def]
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
async def browser():  # type: ignore[no-untyped-def]
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"Chromium is required under CI=true and {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        await b.close()


@pytest.fixture
async def live(aiohttp_server, settings):  # type: ignore[no-untyped-def]
    """The whole app on a real loopback port; `live.url` is its base URL."""
    server = await aiohttp_server(create_app(settings))
    server.url = str(server.make_url("")).rstrip("/")
    return server


@pytest.fixture
async def page(browser):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    p = await context.new_page()
    yield p
    await context.close()


@pytest.fixture
async def server(config_dir, tmp_path):  # type: ignore[no-untyped-def]
    """The small hall served by a real `hallq serve` process."""
    from tests.server_process import ServerProcess

    s = ServerProcess(config_dir, tmp_path / "data")
    await s.start()
    yield s
    s.kill()


@pytest.fixture
async def api(server):  # type: ignore[no-untyped-def]
    from tests.server_process import Api

    a = Api(server.url)
    yield a
    await a.close()
