// The lobby screen: the latest call in very large type, recent calls, every window, the queues.
import { deviceOf } from "/static/common/device.js";
import { HallView, connect, formatClock, messages } from "/static/common/hallq.js";
import { Announcer, browserSpeakers } from "/static/display/announcer.js";

const config = JSON.parse(document.getElementById("config").textContent);
const t = messages();
const view = new HallView();
const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function time(iso) {
  if (!iso) return "";
  return iso.slice(11, 16);
}

function drawLatest() {
  const call = view.recentCalls[0];
  $("latest-number").textContent = call ? call.number : t.none;
  $("latest-window").textContent = call ? call.window_name.split(" ")[0] : "";
  // The hall's own call sentence (voice.template) is Chinese: an English screen says it in English.
  $("latest-text").textContent = !call ? "" : config.lang === "en" ? t.call_text.replace("{number}", call.number).replace("{window}", call.window_name) : call.text;
}

// Lists longer than their panel: the recent calls keep the rows that fit (newest first);
// the waiting counts show a page at a time and turn the page every config.page_s seconds, so
// every item with people waiting is on screen in turn.
function fits(li, box) {
  return li.getBoundingClientRect().bottom <= box.getBoundingClientRect().bottom - 2;
}

function drawRecent() {
  const list = $("recent-calls");
  list.replaceChildren(...view.recentCalls.slice(1, 9).map((c) => {  // the latest is above, in large type
    const li = el("li");
    li.append(el("span", "num", c.number), el("span", "win", c.window_name.split(" ")[0]), el("span", "at", time(c.at)));
    return li;
  }));
  const box = list.closest("section");
  while (list.lastElementChild && !fits(list.lastElementChild, box)) list.lastElementChild.remove();
}

// One line per window, readable from 10 m: name, number, state in words (not only in colour:
// called: go there now; serving: being served), clerk — or the leave notice with its return time.
// The windows that do not fit turn a page at a time, like the waiting counts.
let windowPage = 0;

function drawWindows() {
  const items = [...view.windows.values()].map((w) => {
    const li = el("li", `window state-${w.state}`);
    li.dataset.window = w.id;
    const num = w.ticket ? w.ticket.number : w.state === "paused" || w.state === "closed" ? t[w.state] : t.idle;
    const said = w.state === "called" || w.state === "serving";
    li.append(el("span", "w-name", w.name.split(" ")[0]), el("span", "w-num", num), el("span", said ? "w-state" : "w-gap", said ? t[w.state] : ""));
    if (w.state === "paused" && w.pause) {
      // the return time first: a long reason may be cut short, the time must not be
      const until = w.pause.until ? `${t.until} ${time(w.pause.until)} · ` : "";
      li.append(el("span", "w-note w-clerk", `${until}${w.pause.reason}`));
    } else {
      li.append(el("span", "w-note w-clerk", w.clerk ? `${w.clerk.name} ${w.clerk.staff_no}` : "" /* the staff number's label is on the window screen */));
    }
    return li;
  });
  paged($("windows"), items, windowPage, $("windows-page"));
}

// Show the page `n` of `items` that fit their panel; the list's data-page/data-pages say where.
function paged(list, items, n, mark) {
  list.replaceChildren(...items);
  const box = list.closest("section");
  const perPage = Math.max(1, items.filter((li) => fits(li, box)).length);
  const pages = Math.ceil(items.length / perPage) || 1;
  const page = n % pages;
  list.replaceChildren(...items.slice(page * perPage, (page + 1) * perPage));
  list.dataset.page = String(page + 1);
  list.dataset.pages = String(pages);
  mark.hidden = pages < 2;
  mark.textContent = `${page + 1}/${pages}`;
}

let queuePage = 0;

function drawQueues() {
  const rows = [...view.queues.values()].filter((q) => q.waiting > 0).sort((a, b) => b.waiting - a.waiting);
  const list = $("queues");
  const items = rows.map((q) => {
    const li = el("li");
    li.dataset.item = q.item;
    li.append(el("span", "q-name", q.name), el("span", "q-count", `${q.waiting}${t.people}`));
    return li;
  });
  paged(list, items, queuePage, $("queues-page"));
}

setInterval(() => {
  if (Number($("queues").dataset.pages || "1") > 1) {
    queuePage += 1;
    drawQueues();
  }
  if (Number($("windows").dataset.pages || "1") > 1) {
    windowPage += 1;
    drawWindows();
  }
}, config.page_s * 1000);

function drawAll() {
  if (view.hall) {
    $("hall-name").textContent = view.hall.name;
    const notice = $("notice");
    if (notice.textContent !== view.hall.notice) notice.textContent = view.hall.notice;
  }
  tick();
  drawLatest();
  drawRecent();
  drawWindows();
  drawQueues();
  document.body.dataset.seq = String(view.seq);
}

const speakers = browserSpeakers({
  hall: config.hall,
  onBlocked: () => {
    announcer.block(); // calls wait for the tap instead of being counted as spoken
    $("enable-voice").hidden = false;
  },
});
const announcer = new Announcer({
  ...speakers,
  repeat: config.repeat,
  maxAgeMs: config.max_age_s * 1000,
  ageOf: (call) => view.ageOf(call),
});
window.hallqAnnouncer = announcer; // for diagnostics and tests
$("enable-voice").addEventListener("click", () => {
  // The tap is the user gesture the browser waited for: audio may play from now on.
  $("enable-voice").hidden = true;
  announcer.unblock();
});

const device = deviceOf(config); // in a hall that requires registered devices: this screen's token
await device.ready();
const feed = connect({
  hall: config.hall,
  query: () => device.query(),
  onStatus: (status, code) => {
    $("offline").hidden = status === "online";
    document.body.dataset.status = status;
    if (status === "offline") device.suspect(code);
  },
  onMessage: (msg) => {
    const change = view.apply(msg);
    if (change.snapshot && view.hall.voice) {
      // The voice is hall administration: a snapshot brings the current settings.
      announcer.repeat = view.hall.voice.repeat || announcer.repeat;
      if (typeof view.hall.voice.max_age_s === "number") announcer.maxAgeMs = view.hall.voice.max_age_s * 1000;
      if (!config.voice_pinned) {
        const screens = view.hall.voice.screens || [];
        config.voice = !screens.length || screens.includes(config.screen);
        document.body.dataset.voice = config.voice ? "on" : "off";
      }
    }
    // Live calls and those a replay or a fresh snapshot brings: the announcer speaks the recent ones.
    if (config.voice) for (const call of change.calls || []) announcer.enqueue(call);
    if (change.snapshot || change.event) drawAll();
  },
});

// Lists are fitted to their panels by measuring: measure again once the fonts are in.
document.fonts.ready.then(() => { if (view.hall) drawAll(); });

function tick() {
  $("clock").textContent = formatClock(new Date(), config.lang, view.hall ? view.hall.timezone : undefined);
}
setInterval(tick, 1000);
tick();
device.onApproved(() => feed.retry());
