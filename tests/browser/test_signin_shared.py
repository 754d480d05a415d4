"""One sign-in for a manager (issue 19): the dashboard's opens the devices and staff pages' session
too, and a sign-in on those pages serves the dashboard (its cookie and CSRF token)."""

from __future__ import annotations


async def test_the_dashboards_sign_in_opens_the_devices_page(browser, live):
    page = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
    await page.goto(live.url + "/dashboard/t/")
    await page.fill("input[name=username]", "boss")
    await page.fill("input[name=password]", "demo")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#main:not([hidden])")
    await page.goto(live.url + "/dashboard/t/devices")
    assert "/terminal/" not in page.url  # no second sign-in
    await page.wait_for_selector("#main:not([hidden])")
    await page.context.close()  # before the server stops: the board's feeds would hold it up


async def test_a_sign_in_on_a_staff_page_serves_the_dashboard(browser, live):
    page = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
    await page.goto(live.url + "/dashboard/t/devices")
    await page.wait_for_selector("#username")
    assert "/terminal/t/login" in page.url
    await page.fill("#username", "boss")
    await page.fill("#password", "demo")
    await page.press("#password", "Enter")
    await page.wait_for_url(lambda url: url.endswith("/dashboard/t/devices") and "/login" not in url)
    await page.goto(live.url + "/dashboard/t/")
    await page.wait_for_selector("#main:not([hidden])")
    assert await page.is_hidden("#login")
    await page.wait_for_selector("#alerts li")  # the board's figures came, through the cookie session
    assert await page.text_content("#who") == "经理"
    await page.context.close()  # before the server stops: the board's feeds would hold it up
