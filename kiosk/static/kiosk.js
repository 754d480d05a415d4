// The touch kiosk: departments → items (or pinyin initials, or an appointment code) → the
// one-time notice of materials → a number, shown with its QR code while it prints.
// No rule of the hall lives here: the server issues, refuses (closed, quota, appointment) and
// prints; this page only shows what it is told and what the live feed says about the queues.
import { HallView, connect, formatClock, messages } from "/static/common/hallq.js";
import { deviceOf } from "/static/common/device.js";
import { watchCards } from "./cards.js";
import { dayText, idleGuard, scrollHint, speaker, whenText } from "/static/kiosk/care.js";
import { el, keyboard, matches as matching, tile, typed } from "/static/kiosk/parts.js";

const config = JSON.parse(document.getElementById("config").textContent);
let MENU = JSON.parse(document.getElementById("menu").textContent);
const TEXT = messages();
const $ = (id) => document.getElementById(id);
const view = new HallView();
const device = deviceOf(config); // in a hall that requires registered devices: this kiosk's token
let ITEMS = new Map(MENU.flatMap((d) => d.items.map((i) => [i.id, { ...i, department: d }])));
const API = `/api/v1/halls/${encodeURIComponent(config.hall)}`;
const KIOSK = `${API}/kiosks/${encodeURIComponent(config.kiosk)}`;
const KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const voice = speaker(`/kiosk/${encodeURIComponent(config.hall)}/${encodeURIComponent(config.kiosk)}`);
const PUBLICS = ["content", "procedure", "requirements", "time_limit", "fee", "legal_basis"];

let lang = config.lang;
let online = false;
let printerFault = false;
let history = [];
let screen = "home";
let department = null;
let item = null;
let priority = false;
let query = "";
let code = "";
let ticket = null;
let ticketFeed = null;
let busy = false;
let card = null; // 刷身份证取号: the agent's card read (a one-time token, the masked number, the senior lane)
let care = false; // the elderly mode (适老化): larger text, read aloud, fewer steps, a call for help

const t = (key) => (TEXT[lang] && TEXT[lang][key]) ?? (TEXT["zh-CN"][key] ?? key); // "" is a word (en "people")

function minutes(s) {
  return Math.max(1, Math.round(s / 60));
}

function waitText(q) {
  if (!q) return "";
  if (!q.issuing) return t("not_issuing");
  if (q.quota_left === 0) return t("quota_out");
  const people = `${t("waiting")} ${q.ahead_of_newcomer} ${t("people")}`.trim();
  if (!q.open_windows) return `${people} · ${t("no_window_open")}`; // no estimate without a window open
  return q.ahead_of_newcomer ? `${people} · ${t("wait_about")} ${minutes(q.estimated_wait_s)} ${t("minutes")}` : `${people} · ${t("no_wait")}`;
}

// -- screens ------------------------------------------------------------------------------
function show(name, push = true) {
  if (push && name !== screen) history.push(screen);
  screen = name;
  for (const s of document.querySelectorAll(".screen")) s.hidden = s.id !== name;
  document.body.dataset.screen = name;
  // Home needs no way back, and the ticket screen has its own Done button.
  $("back").hidden = $("home-button").hidden = name === "home" || name === "ticket";
  document.querySelector(".foot").hidden = name === "home" || name === "ticket";
  draw();
  if (care) readScreen();
}

function back() {
  const previous = history.pop() || "home";
  if (screen === "ticket") return home();
  show(previous, false);
}

function home() {
  history = [];
  department = item = null;
  priority = false;
  card = null;
  query = code = "";
  closeTicket();
  setCare(false);
  if (lang !== config.lang) setLang(config.lang);
  show("home", false);
}

function setLang(next) {
  lang = next;
  document.documentElement.lang = lang;
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  $("lang").textContent = t("lang");
  draw();
}

function draw() {
  drawBanner();
  drawCard();
  if (screen === "home") drawHome();
  else if (screen === "departments") drawDepartments();
  else if (screen === "items") drawItems();
  else if (screen === "search") drawSearch();
  else if (screen === "item") drawItem();
  else if (screen === "checkin") drawCheckin();
  else if (screen === "ticket") drawTicket();
}

function drawBanner() {
  const banner = $("banner");
  const text = !online ? t("offline") : printerFault ? t("printer_fault") : !config.printer ? t("no_printer") : "";
  banner.hidden = !text;
  banner.textContent = text;
  banner.className = `banner ${!online ? "bad" : "warn"}`;
  for (const b of document.querySelectorAll(".needs-server")) b.disabled = !online || busy;
}

// Closed hours: the home screen says so, and when numbers are issued next (the earliest item).
function drawHome() {
  const queues = [...ITEMS.keys()].map((id) => view.queues.get(id)).filter(Boolean);
  const next = queues.map((q) => q.opens_at).filter(Boolean).sort()[0];
  const closed = queues.length > 0 && queues.every((q) => !q.issuing) && !(next && Date.parse(next) <= view.hallNow());
  $("closed-note").hidden = !closed;
  document.body.dataset.closed = closed ? "1" : "";
  $("opens-next").textContent = closed && next ? t("opens_next").replace("{when}", whenText(next, view.day, lang, config.timezone, t)) : "";
}

function setCare(on) {
  care = on;
  document.body.classList.toggle("care", on);
  $("care").setAttribute("aria-pressed", String(on));
  if (!on) voice.stop();
}

// In the elderly mode every screen is read aloud as it opens (and again on 再听一遍).
function readScreen() {
  if (screen === "item" && item) return voice.say(`item=${encodeURIComponent(item.id)}`, `${item.name}。${item.materials.join("；")}`, lang);
  if (screen === "ticket" && ticket) {
    return voice.say(`ticket=${encodeURIComponent(ticket.id)}`, `${ticket.number}。${t("go_to")} ${ticket.window_hint}`, lang);
  }
  const key = { home: "care_home", checkin: "checkin_hint" }[screen] || "care_items";
  voice.say(`prompt=${key}`, t(key), lang);
}

async function callHelp() {
  try {
    const r = await post(`${KIOSK}/help`, {});
    say(r.ok ? t("help_called") : problemText(r.data));
    if (r.ok && care) voice.say("prompt=help_called", t("help_called"), lang);
  } catch {
    say(t("offline"));
  }
}

function drawDepartments() {
  $("dept-grid").replaceChildren(...MENU.map((d) => {
    const waiting = d.items.reduce((n, i) => n + ((view.queues.get(i.id) || {}).waiting || 0), 0);
    const b = tile(d.name, `${t("waiting")} ${waiting} ${t("people")}`.trim(), () => { department = d; show("items"); });
    b.dataset.department = d.id;
    return b;
  }));
}

function itemTile(i) {
  const q = view.queues.get(i.id);
  const off = q && (!q.issuing || q.quota_left === 0);
  const b = tile(i.name, waitText(q), () => { item = i; priority = Boolean(card && card.senior); show("item"); }, off ? "off" : "");
  b.dataset.item = i.id;
  return b;
}

function drawItems() {
  // The elderly mode skips the departments: every item at once, in large tiles.
  $("items-title").textContent = department ? department.name : care ? t("care_items") : "";
  $("item-grid").replaceChildren(...(department ? department.items : care ? [...ITEMS.values()] : []).map(itemTile));
}

function drawSearch() {
  $("search-text").textContent = query || "…";
  const found = matching(ITEMS.values(), query);
  $("search-results").replaceChildren(...(found.length ? found.map(itemTile) : query ? [el("p", "empty", t("no_results"))] : []));
}

function drawItem() {
  if (!item) return;
  $("item-name").textContent = item.name;
  const q = view.queues.get(item.id);
  $("item-queue").textContent = [waitText(q), `${t("go_to")} ${item.windows.join(lang === "en" ? ", " : "、")}`].filter(Boolean).join(" · ");
  $("materials").replaceChildren(...item.materials.map((m) => el("li", null, m)));
  $("publics").replaceChildren(...PUBLICS.flatMap((k) => [el("dt", null, t(k)), el("dd", null, item.publics[k])]));
  $("priority").setAttribute("aria-pressed", String(priority));
  const off = q && (!q.issuing || q.quota_left === 0);
  $("take").disabled = !online || busy || off;
  $("take").textContent = off ? waitText(q) : t("take_number");
  requestAnimationFrame(moreHint);
}

const moreHint = scrollHint(document.querySelector("#item .guide"), $("more"));

function drawCheckin() {
  $("code-text").textContent = code || "…";
  $("checkin-go").disabled = !online || busy || code.length < 4;
}

// -- taking a number -----------------------------------------------------------------------
async function post(url, body) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 8000);
  try {
    const r = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json", ...device.headers() }, body: JSON.stringify(body),
      signal: controller.signal,
    });
    const data = await r.json().catch(() => ({}));
    if ((r.status === 401 || r.status === 403) && String(data.type || "").includes(":device-")) device.lost();
    return { ok: r.ok, status: r.status, data };
  } finally {
    clearTimeout(timer);
  }
}

function problemText(p) {
  const code = (p.type || "").split(":").pop();
  const known = TEXT[lang][`err_${code}`];
  if (known) {
    const day = p.day ? dayText(new Date(`${p.day}T12:00:00Z`), lang, "UTC") : "";
    return known.replace("{time}", (p.opens_at || "").slice(11, 16)).replace("{day}", day)
      .replace("{slot}", (p.slot_start || "").slice(11, 16)).replace("{limit}", p.limit ?? "");
  }
  const said = p.says && p.says[lang];
  return `${t("error")}${said ? ": " + said : ""}`; // never the server's English detail on a Chinese kiosk
}

function say(text) {
  $("message-text").textContent = text;
  $("message").hidden = false;
}

async function take(body) {
  if (busy) return;
  busy = true;
  draw();
  try {
    const r = await post(`${KIOSK}/tickets`, card ? { ...body, card: card.card } : body);
    card = null; // a card read takes one number: the next one needs the card again
    if (!r.ok) return say(problemText(r.data));
    openTicket(r.data);
  } catch {
    say(t("offline")); // the server is unreachable: no ticket was taken
  } finally {
    busy = false;
    draw();
  }
}

function openTicket(data) {
  ticket = data;
  const base = `/kiosk/${encodeURIComponent(config.hall)}/${encodeURIComponent(config.kiosk)}/tickets/${encodeURIComponent(data.id)}`;
  $("t-qr").src = `${base}/qr.svg`;
  $("t-preview").src = `${base}/preview.png`;
  ticket.printing = data.print.state === "queued" ? "printing" : "none";
  show("ticket");
  ticketFeed = connect({
    hall: config.hall,
    query: { ticket: data.id },
    onMessage: (msg) => {
      if (msg.type !== "ticket" || !msg.ticket || !ticket || msg.ticket.id !== ticket.id) return;
      Object.assign(ticket, { ahead: msg.ticket.ahead, estimated_wait_s: msg.ticket.estimated_wait_s, status: msg.ticket.status });
      const p = msg.ticket.print_status;
      if (p === "printed" || p === "reprinted") ticket.printing = "printed";
      else if (p === "failed") ticket.printing = "failed";
      if (screen === "ticket") drawTicket();
    },
  });
}

function closeTicket() {
  if (ticketFeed) ticketFeed.close();
  ticketFeed = null;
  ticket = null;
}

function drawTicket() {
  if (!ticket) return;
  $("t-number").textContent = ticket.number;
  $("t-item").textContent = ticket.item_name + (ticket.priority ? ` · ${t("priority")}` : ticket.appointment ? ` · ${t("appointment")}` : "");
  $("t-windows").textContent = `${t("go_to")} ${ticket.window_hint}`;
  const q = view.queues.get(ticket.item);
  const wait = q && !q.open_windows ? t("no_window_open")
    : ticket.ahead ? `${t("wait_about")} ${minutes(ticket.estimated_wait_s)} ${t("minutes")}` : t("no_wait");
  $("t-figures").textContent = `${t("ahead")} ${ticket.ahead} ${t("people")} · ${wait}`.replace("  ", " ");
  const state = ticket.printing;
  document.body.dataset.print = state;
  const head = { printing: "printing", reprinting: "reprinting", printed: "printed", failed: "print_failed", none: "ticket_on_screen" }[state];
  $("t-print").textContent = t(head);
  $("t-print").className = `t-print ${state}`;
  $("t-print-sub").textContent = state === "failed" ? t("print_failed_sub") : state === "none" ? t("no_printer") : "";
  $("reprint").hidden = state !== "failed";
}

async function reprint() {
  if (!ticket || busy) return;
  busy = true;
  ticket.printing = "reprinting";
  drawTicket();
  try {
    const r = await post(`${API}/tickets/${encodeURIComponent(ticket.id)}/print`, { kiosk: config.kiosk });
    if (!r.ok) {
      ticket.printing = "failed";
      say(problemText(r.data));
    }
  } catch {
    ticket.printing = "failed";
    say(t("offline"));
  } finally {
    busy = false;
    drawTicket();
  }
}

// -- 刷身份证取号: the print agent on this PC reads the ID card and hands the page what the server
// answered (a one-time token, the masked number, the senior lane, numbers left today) over a
// websocket on 127.0.0.1; the number itself never reaches the page.
function drawCard() {
  const banner = $("card");
  banner.hidden = !card;
  const booked = card?.bookings || []; // the card holder's bookings of today: check in with a tap
  $("card-bookings").hidden = !booked.length;
  $("card-bookings").replaceChildren(...booked.map((b) => {
    const tap = tile(`${t("card_checkin")} ${b.item_name}`, b.slot_start.slice(11, 16), () => take({ booking: b.booking }));
    tap.dataset.booking = String(b.booking);
    return tap;
  }));
  if (!card) return;
  const parts = [`${t("card_read")} ${card.masked}`, t("card_left").replace("{n}", card.left_today)];
  if (card.senior) parts.push(t("card_senior"));
  banner.textContent = parts.join(" · ");
}

watchCards(config.card_port, {
  card(m) {
    idle.touched(); // a card read is a touch: the idle countdown starts again
    if (screen === "home" || screen === "ticket") {
      home();
      show("departments");
    }
    card = m;
    if (card.senior) priority = true; // offered: the citizen may still turn it off
    draw();
  },
  refused(m) {
    idle.touched(); // a card read is a touch: the idle countdown starts again
    say(problemText({ type: m.problem || "", limit: m.limit }));
  },
});

// -- wiring ------------------------------------------------------------------------------------
for (const b of document.querySelectorAll("[data-go]")) {
  b.addEventListener("click", () => show(care && b.dataset.go === "departments" ? "items" : b.dataset.go));
}
$("care").addEventListener("click", () => { setCare(!care); if (care) readScreen(); });
$("read").addEventListener("click", readScreen);
$("help").addEventListener("click", callHelp);
$("back").addEventListener("click", back);
$("home-button").addEventListener("click", home);
$("done").addEventListener("click", home);
$("lang").addEventListener("click", () => setLang(lang === "en" ? "zh-CN" : "en"));
$("priority").addEventListener("click", () => { priority = !priority; drawItem(); });
$("take").classList.add("needs-server");
$("take").addEventListener("click", () => item && take({ item: item.id, priority }));
$("checkin-go").classList.add("needs-server");
$("checkin-go").addEventListener("click", () => code.length >= 4 && take({ appointment: code }));
$("reprint").addEventListener("click", reprint);
$("message-ok").addEventListener("click", () => { $("message").hidden = true; });
keyboard($("letters"), [...KEYS], (k) => { query = typed(query, k, 12); drawSearch(); }, t);
keyboard($("code-keys"), [..."0123456789", ...KEYS], (k) => { code = typed(code, k, 16); drawCheckin(); }, t);

// A booking's QR code held to the kiosk's scanner arrives as typed keys and Enter (a scanner is
// a keyboard): on the home or check-in screen it fills the code and checks in.
document.addEventListener("keydown", (e) => {
  if (screen !== "home" && screen !== "checkin") return;
  const key = e.key.length === 1 ? e.key.toUpperCase() : e.key;
  if (/^[0-9A-Z]$/.test(key)) {
    if (screen === "home") show("checkin");
    code = typed(code, key, 16);
    drawCheckin();
  } else if (key === "Backspace" && screen === "checkin") {
    code = typed(code, "DEL", 16);
    drawCheckin();
  } else if (key === "Enter" && screen === "checkin" && code.length >= 4) {
    take({ appointment: code });
  }
});

// Idle: whoever walks away, the next person starts at home, in Chinese — after a countdown that
// any touch cancels (someone still reading the materials is not sent home).
const idle = idleGuard({
  idleS: config.idle_s, atHome: () => screen === "home", t,
  goHome: () => { $("message").hidden = true; home(); },
  els: { box: $("idle"), count: $("idle-count"), stay: $("idle-stay") },
});
setInterval(() => {
  $("clock").textContent = formatClock(new Date(), lang, config.timezone).slice(0, 5);
  idle.check(care);
  if (screen === "home") drawHome(); // the hall's opening hour comes by the clock, not by an event
}, 1000);

// The administrator changed the catalogue (or a new day brought a revision): take the new menu
// without a reload, so a citizen half-way through is not thrown out unless their choice is gone.
let menuRev = null;
let snapshots = 0;

async function refreshMenu() {
  try {
    const r = await fetch(`/kiosk/${encodeURIComponent(config.hall)}/${encodeURIComponent(config.kiosk)}/menu`, { cache: "no-store" });
    if (!r.ok) return;
    const data = await r.json();
    if (data.rev === menuRev) return;
    menuRev = data.rev;
    MENU = data.menu;
    ITEMS = new Map(MENU.flatMap((d) => d.items.map((i) => [i.id, { ...i, department: d }])));
    if (department) department = MENU.find((d) => d.id === department.id) || null;
    if (item) item = ITEMS.get(item.id) || null;
    document.body.dataset.menuRev = String(data.rev);
    if ((screen === "items" && !department) || (screen === "item" && !item)) home();
    else draw();
  } catch {
    // unreachable: the next catalogue change or snapshot tries again
  }
}

async function start() {
  await device.ready();
  const feed = connect({
    hall: config.hall,
    query: () => device.query(),
    onStatus: (status, code) => {
      online = status === "online";
      document.body.dataset.status = status;
      draw();
      if (status === "offline") device.suspect(code);
    },
    onMessage: (msg) => {
      const change = view.apply(msg);
      if (change.snapshot || change.event) draw();
      if ((change.snapshot && snapshots++ > 0) || change.catalog) refreshMenu();
    },
  });
  device.onApproved(() => {
    home();
    feed.retry();
  });
}
start();

async function checkPrinter() {
  if (!config.printer) return;
  try {
    const r = await fetch(KIOSK, { cache: "no-store" });
    const k = await r.json();
    printerFault = ["paper_out", "cover_open", "offline", "error"].includes(k.printer.state) || k.connected === false;
  } catch {
    printerFault = false; // unreachable: the offline banner says enough
  }
  drawBanner();
}
setInterval(checkPrinter, 15000);
checkPrinter();
$("clock").textContent = formatClock(new Date(), lang, config.timezone).slice(0, 5);
show("home", false);
