"""The lobby's announcement queue (display/static/announcer.js), unit-tested in a real Chromium."""

from __future__ import annotations

import pytest


@pytest.fixture
async def module_page(page, live):  # type: ignore[no-untyped-def]
    # any page of the server gives the module its origin; the CSP allows only 'self' scripts
    await page.goto(live.url + "/display/t/window/w1")
    return page


async def test_simultaneous_calls_are_announced_one_after_another_each_repeated_with_a_chime(module_page):
    log = await module_page.evaluate(
        """async () => {
      const { Announcer } = await import('/static/display/announcer.js');
      const said = [];
      let speaking = 0, overlap = false;
      const slow = (what) => new Promise((resolve) => {
        speaking += 1; if (speaking > 1) overlap = true;
        said.push(what);
        setTimeout(() => { speaking -= 1; resolve(); }, 20);
      });
      const a = new Announcer({ chime: () => slow('chime'), speak: (c) => slow(c.speech), repeat: 2, gapMs: 5 });
      for (const n of ['A001', 'B002', 'C003']) a.enqueue({ number: n, window: 'w1', speech: n });
      while (a.pending) await new Promise((r) => setTimeout(r, 10));
      return { said, overlap, log: a.log.map((c) => c.number) };
    }"""
    )
    assert log["said"] == ["chime", "A001", "A001", "chime", "B002", "B002", "chime", "C003", "C003"]
    assert log["overlap"] is False and log["log"] == ["A001", "B002", "C003"]


async def test_a_speech_engine_that_hangs_or_fails_does_not_stop_the_queue(module_page):
    result = await module_page.evaluate(
        """async () => {
      const { Announcer } = await import('/static/display/announcer.js');
      const said = [];
      const a = new Announcer({
        chime: () => Promise.reject(new Error('autoplay blocked')),
        speak: (c) => c.number === 'A001' ? new Promise(() => {}) : (said.push(c.number), Promise.resolve()),
        repeat: 1, gapMs: 1, timeoutMs: 50,
      });
      a.enqueue({ number: 'A001', window: 'w1', speech: 'x' });
      a.enqueue({ number: 'A002', window: 'w1', speech: 'y' });
      const t0 = performance.now();
      while (a.pending && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
      return { said, pending: a.pending, log: a.log.map((c) => c.number) };
    }"""
    )
    assert result == {"said": ["A002"], "pending": 0, "log": ["A001", "A002"]}
