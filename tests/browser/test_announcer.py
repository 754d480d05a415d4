"""The lobby's announcement queue (display/static/announcer.js), unit-tested in a real Chromium."""

from __future__ import annotations

import pytest_asyncio


@pytest_asyncio.fixture(loop_scope="session")
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


async def test_calls_older_than_the_age_limit_are_not_spoken_and_fresh_ones_are(module_page):
    result = await module_page.evaluate(
        """async () => {
      const { Announcer } = await import('/static/display/announcer.js');
      const said = [];
      const ages = { A001: 600000, A002: 61000, A003: 59000, A004: null };
      const a = new Announcer({
        chime: () => Promise.resolve(), speak: (c) => (said.push(c.number), Promise.resolve()),
        repeat: 1, gapMs: 1, maxAgeMs: 60000, ageOf: (c) => ages[c.number],
      });
      for (const n of Object.keys(ages)) a.enqueue({ number: n, window: 'w1', speech: n });
      while (a.pending) await new Promise((r) => setTimeout(r, 10));
      return { said, stale: a.stale.map((c) => c.number), log: a.log.map((c) => c.number) };
    }"""
    )
    assert result == {"said": ["A003", "A004"], "stale": ["A001", "A002"], "log": ["A003", "A004"]}


async def test_while_audio_is_blocked_calls_are_held_and_spoken_after_the_tap(module_page):
    result = await module_page.evaluate(
        """async () => {
      const { Announcer } = await import('/static/display/announcer.js');
      const said = [];
      let allowed = false, a;
      const ages = {};
      const chime = () => allowed ? Promise.resolve() : (a.block(), Promise.reject(new Error('NotAllowedError')));
      a = new Announcer({ chime, speak: (c) => (said.push(c.number), Promise.resolve()),
                          repeat: 1, gapMs: 1, holdMax: 3, ageOf: (c) => ages[c.number] ?? 0 });
      const wait = async () => { while (a.pending) await new Promise((r) => setTimeout(r, 10)); };
      a.enqueue({ number: 'A001', window: 'w1', speech: 'x' });
      await wait();
      const blockedLog = a.log.length, blocked = a.blocked;
      for (const n of ['A002', 'A003', 'A004', 'A005']) a.enqueue({ number: n, window: 'w1', speech: n });
      const held = a.held.map((c) => c.number);
      ages.A003 = 120000;  // grew stale while nobody tapped
      allowed = true;
      a.unblock();
      await wait();
      return { blockedLog, blocked, held, said, log: a.log.map((c) => c.number) };
    }"""
    )
    # bounded to the newest three; the stale one is dropped at the tap; none was counted as spoken before
    assert result == {"blockedLog": 0, "blocked": True, "held": ["A003", "A004", "A005"],
                      "said": ["A004", "A005"], "log": ["A004", "A005"]}


async def test_a_fresh_snapshot_after_a_long_absence_brings_the_calls_the_screen_missed(module_page):
    result = await module_page.evaluate(
        """async () => {
      const { HallView } = await import('/static/common/hallq.js');
      const v = new HallView();
      const call = (n, at) => ({ number: n, window: 'w1', window_name: '1号窗口', at, text: n, speech: n });
      const snap = (calls, now) => ({ type: 'snapshot', seq: 5, state: { hall: {}, day: 'd', now, windows: [], queues: [], recent_calls: calls } });
      const first = v.apply(snap([call('A001', '2026-11-25T09:00:00+08:00')], '2026-11-25T09:00:10+08:00'));
      const later = v.apply(snap([call('A003', '2026-11-25T09:05:00+08:00'), call('A002', '2026-11-25T09:04:00+08:00'),
                                 call('A001', '2026-11-25T09:00:00+08:00')], '2026-11-25T09:05:30+08:00'));
      return { first: first.calls.length, later: later.calls.map((c) => c.number),
               age: Math.round(v.ageOf(call('A003', '2026-11-25T09:05:00+08:00')) / 1000) };
    }"""
    )
    # the page's first snapshot is its start; later ones announce what was missed, oldest first,
    # and ages are measured by the hall's clock (30 s after the call), not this computer's
    assert result == {"first": 0, "later": ["A002", "A003"], "age": 30}
