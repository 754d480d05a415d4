"""Benchmark: what the booking pages' proof of work costs a phone's browser and a script.

Headless Chromium (Debian's /usr/bin/chromium) loads kiosk/static/proof.js from a loopback
server (127.0.0.1 is a secure context, so crypto.subtle is there) and solves --rounds
challenges at --bits, with crypto.subtle and with the page's own SHA-256 (plain HTTP on a
hall's intranet). A script's rate is Python's hashlib on one core, the cheapest attacker
without native code. Printed: hashes per second of each, and the mean seconds each needs for
the hall's default difficulty (booking.proof_bits) and for an address at the escalation cap.

    PYTHONPATH=$PWD python bench/proof_of_work.py --rounds 8 --bits 14
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import secrets
import time
from pathlib import Path

from aiohttp import web

from server.domain.proof import MAX_EXTRA_BITS
from server.domain.settings import BookingRules

STATIC = Path(__file__).resolve().parents[1] / "kiosk" / "static"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

RUN = """async ([challenges, bits, own]) => {
  const m = await import("/proof.js");
  const enc = new TextEncoder();
  let tries = 0;
  const t0 = performance.now();
  for (const c of challenges) {
    if (!own) { tries += Number(await m.solve(c, bits)) + 1; continue; }
    for (let n = 0; ; n++) {  // the page's own SHA-256, as proof.js runs it without crypto.subtle
      if (m.zeroBits(m.sha256(enc.encode(`${c}:${n}`))) >= bits) { tries += n + 1; break; }
    }
  }
  return [tries, (performance.now() - t0) / 1000];
}"""


def python_rate(seconds: float = 1.0) -> float:
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(10_000):
            hashlib.sha256(f"v1.demo.1764032400.16.{n}:{n}".encode()).digest()
            n += 1
    return n / (time.perf_counter() - t0)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--bits", type=int, default=14)
    args = parser.parse_args()
    from playwright.async_api import async_playwright

    app = web.Application()
    app.router.add_get("/", lambda _: web.Response(text="<p>proof</p>", content_type="text/html"))
    app.router.add_get("/proof.js", lambda _: web.FileResponse(STATIC / "proof.js", headers={"Content-Type": "text/javascript"}))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    challenges = [f"v1.demo.1764032400.{args.bits}.{secrets.token_hex(16)}.{secrets.token_hex(16)}" for _ in range(args.rounds)]
    rates = {}
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
            page = await browser.new_page()
            await page.goto(f"http://127.0.0.1:{port}/")
            for name, own in (("chromium crypto.subtle", False), ("chromium page's own sha256", True)):
                tries, seconds = await page.evaluate(RUN, [challenges, args.bits, own])
                rates[name] = tries / seconds
            await browser.close()
    finally:
        await runner.cleanup()
    rates["python hashlib, one core"] = python_rate()
    bits = BookingRules().proof_bits
    print(f"{args.rounds} challenges at {args.bits} bits; default booking.proof_bits = {bits}, escalation cap +{MAX_EXTRA_BITS}")
    print(f"{'solver':32} {'hashes/s':>12} {'s at ' + str(bits) + ' bits':>12} {'s at cap':>10}")
    for name, rate in rates.items():
        print(f"{name:32} {rate:12,.0f} {2 ** bits / rate:12.2f} {2 ** (bits + MAX_EXTRA_BITS) / rate:10.1f}")


if __name__ == "__main__":
    asyncio.run(main())
