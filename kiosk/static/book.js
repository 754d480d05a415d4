// The booking page for phones (网上预约, 远程取号): department → item → guide → day → slot →
// mobile number → booking code and QR code; and a booking's own page (view, move, cancel).
// No rule of the hall lives here: the server lists the slots, books, refuses and says why.
import { messages } from "/static/common/hallq.js";
import { solve } from "/static/kiosk/proof.js";

const config = JSON.parse(document.getElementById("config").textContent);
const MENU = JSON.parse(document.getElementById("menu").textContent);
const TEXT = messages();
const API = `/api/v1/halls/${encodeURIComponent(config.hall)}`;
const PUBLICS = ["content", "procedure", "requirements", "time_limit", "fee", "legal_basis"];
const ITEMS = new Map(MENU.flatMap((d) => d.items.map((i) => [i.id, i])));
const $ = (id) => document.getElementById(id);

let lang = config.lang;
let screen = null;
let history = [];
let department = null;
let item = null;
let mode = "book"; // book | remote | reschedule
let days = [];
let day = null;
let slot = null;
let booking = null;
let confirming = false;
let busy = false;
let proving = null; // a solved challenge, worked out while the citizen types the number

const t = (key) => (TEXT[lang] && TEXT[lang][key]) ?? (TEXT["zh-CN"][key] ?? key); // "" is a word (en "people")

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function button(label, sub, onClick) {
  const b = el("button", null, label);
  b.type = "button";
  if (sub) b.append(el("small", null, sub));
  b.addEventListener("click", onClick);
  return b;
}

const hhmm = (iso) => iso.slice(11, 16);

function dayName(d) {
  const weekday = t("weekday")[new Date(`${d}T00:00:00Z`).getUTCDay()];
  const [, m, dd] = d.split("-");
  // English: "Tue 8 Dec" (one letter said Tuesday and Thursday alike).
  if (lang === "en") return new Date(`${d}T12:00:00Z`).toLocaleDateString("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
  return `${Number(m)}月${Number(dd)}日 ${t("week_prefix")}${weekday}`;
}

function show(name, push = true) {
  if (push && screen && name !== screen) history.push(screen);
  screen = name;
  if (name === "phone" && !proving) prove();
  if (name === "phone") $("b-id").hidden = mode === "remote" || !config.id_cards; // a booking may name its ID card
  for (const s of document.querySelectorAll(".b-screen")) s.hidden = s.id !== `b-${name}`;
  document.body.dataset.screen = name;
  $("b-back").hidden = history.length === 0;
  $("b-error").hidden = true;
  draw();
  window.scrollTo(0, 0);
}

function back() {
  const previous = history.pop();
  if (previous) show(previous, false);
}

function fail(problem) {
  const code = (problem && problem.type ? problem.type : "").split(":").pop();
  const known = TEXT[lang][`err_${code}`];
  $("b-error").textContent = known || `${t("error")}${problem && problem.detail ? ": " + problem.detail : ""}`;
  $("b-error").hidden = false;
  window.scrollTo(0, 0);
}

async function call(method, path, body) {
  const init = { method, headers: { "Content-Type": "application/json" } };
  if (body !== undefined) init.body = JSON.stringify(body);
  try {
    const r = await fetch(`${API}${path}`, init);
    const data = await r.json().catch(() => ({}));
    return { ok: r.ok, status: r.status, data };
  } catch {
    return { ok: false, status: 0, data: { type: "offline" } };
  }
}

// -- drawing -----------------------------------------------------------------------------------
function draw() {
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  $("b-lang").textContent = t("lang");
  document.documentElement.lang = lang;
  if (screen === "departments") {
    $("b-dept-list").replaceChildren(...MENU.map((d) => button(d.name, null, () => { department = d; show("items"); })));
  } else if (screen === "items" && department) {
    $("b-dept-name").textContent = department.name;
    $("b-item-list").replaceChildren(...department.items.map((i) => button(i.name, null, () => { item = i; show("item"); })));
  } else if (screen === "item" && item) {
    $("b-item-name").textContent = item.name;
    $("b-book").hidden = !item.slots;
    $("b-remote").hidden = !item.remote;
    $("b-materials").replaceChildren(...item.materials.map((m) => el("li", null, m)));
    $("b-publics").replaceChildren(...PUBLICS.flatMap((k) => [el("dt", null, t(k)), el("dd", null, item.publics[k])]));
  } else if (screen === "days") {
    $("b-day-list").replaceChildren(...days.map((d) => {
      const free = d.slots.reduce((n, s) => n + s.left, 0);
      const b = button(dayName(d.day), d.slots.length ? (free ? `${t("left")} ${free}` : t("full")) : t("no_slots"), () => { day = d; show("slots"); });
      b.dataset.day = d.day;
      b.disabled = free === 0;
      return b;
    }));
  } else if (screen === "slots" && day) {
    $("b-day-name").textContent = `${dayName(day.day)} · ${t("slots")}`;
    $("b-slot-list").replaceChildren(...day.slots.map((s) => {
      const b = button(`${hhmm(s.start)}–${hhmm(s.end)}`, s.left ? `${t("left")} ${s.left}` : t("full"), () => pickSlot(s));
      b.dataset.slot = s.start;
      b.disabled = s.left === 0 || busy;
      return b;
    }));
  } else if (screen === "phone") {
    $("b-choice").textContent = mode === "remote" ? `${item.name} · ${t("remote")}` : `${item.name} · ${dayName(day.day)} ${hhmm(slot.start)}–${hhmm(slot.end)}`;
    $("b-confirm").textContent = mode === "remote" ? t("take") : t("confirm");
    $("b-confirm").disabled = busy;
  } else if (screen === "booking" && booking) {
    document.body.dataset.bookingStatus = booking.status;
    $("b-code").textContent = booking.code;
    $("b-status").textContent = t(booking.status);
    $("b-b-item").textContent = booking.item_name;
    $("b-b-time").textContent = `${dayName(booking.day)} ${hhmm(booking.slot_start)}–${hhmm(booking.slot_end)}`;
    $("b-b-checkin").textContent = `${hhmm(booking.check_in_from)}–${hhmm(booking.check_in_until)}`;
    $("b-b-phone").textContent = booking.phone || "–";
    const open = booking.status === "booked";
    $("b-reschedule").hidden = $("b-cancel").hidden = !open || confirming;
    $("b-confirm-cancel").hidden = !open || !confirming;
    $("b-manage").href = booking.manage_url;
    $("b-manage").hidden = location.pathname === booking.manage_url;
  }
}

// -- actions ------------------------------------------------------------------------------------
// The server counts a booking or an online number only with proof of a second's work: the
// phone starts on it as the number screen opens. Each proof is good for one attempt.
function prove() {
  proving = (async () => {
    const r = await call("POST", "/challenge");
    if (!r.ok) return { problem: r.data };
    return { proof: { challenge: r.data.challenge, answer: await solve(r.data.challenge, r.data.bits) } };
  })();
}

async function proof() {
  if (!proving) prove();
  $("b-proving").hidden = false;
  try {
    return await proving;
  } finally {
    proving = null;
    $("b-proving").hidden = true;
  }
}

async function loadDays(itemId) {
  const r = await call("GET", `/appointments/slots?item=${encodeURIComponent(itemId)}`);
  if (!r.ok) return fail(r.data);
  days = r.data.days;
  show("days");
}

function pickSlot(s) {
  slot = s;
  if (mode === "reschedule") return move();
  show("phone");
}

function openBooking(data) {
  booking = data;
  confirming = false;
  $("b-qr").src = booking.qr_url;
  if (location.pathname !== booking.manage_url) window.history.replaceState(null, "", booking.manage_url);
  history = [];
  show("booking", false);
}

async function confirm() {
  if (busy) return;
  const phone = $("b-phone-input").value.replace(/\s+/g, "");
  busy = true;
  draw();
  try {
    const solved = await proof();
    if (solved.problem) return fail(solved.problem);
    if (mode === "remote") {
      const r = await call("POST", "/tickets/remote", { item: item.id, phone, proof: solved.proof });
      if (!r.ok) return fail(r.data);
      location.assign(r.data.mobile_url);
      return;
    }
    const idNumber = $("b-id-input").value.replace(/\s+/g, "").toUpperCase(); // optional: the ID card then finds the booking
    const body = { item: item.id, slot_start: slot.start, phone, proof: solved.proof, ...(idNumber ? { id_number: idNumber } : {}) };
    const r = await call("POST", "/appointments", body);
    if (!r.ok) return fail(r.data);
    openBooking(r.data);
  } finally {
    busy = false;
    if (screen === "phone") prove(); // a refused attempt spent its proof: ready the next
    draw();
  }
}

async function move() {
  busy = true;
  try {
    const r = await call("POST", `/appointments/${encodeURIComponent(booking.code)}/reschedule`, { slot_start: slot.start });
    if (!r.ok) return fail(r.data);
    openBooking(r.data);
  } finally {
    busy = false;
  }
}

async function cancel() {
  const r = await call("POST", `/appointments/${encodeURIComponent(booking.code)}/cancel`, {});
  if (!r.ok) return fail(r.data);
  openBooking(r.data);
}

$("b-back").addEventListener("click", back);
$("b-lang").addEventListener("click", () => { lang = lang === "en" ? "zh-CN" : "en"; draw(); });
$("b-book").addEventListener("click", () => { mode = "book"; loadDays(item.id); });
$("b-remote").addEventListener("click", () => { mode = "remote"; show("phone"); });
$("b-confirm").addEventListener("click", confirm);
$("b-phone-input").addEventListener("keydown", (e) => { if (e.key === "Enter") confirm(); });
$("b-reschedule").addEventListener("click", () => { mode = "reschedule"; item = ITEMS.get(booking.item) || { id: booking.item }; loadDays(booking.item); });
$("b-cancel").addEventListener("click", () => { confirming = true; draw(); });
$("b-no").addEventListener("click", () => { confirming = false; draw(); });
$("b-yes").addEventListener("click", cancel);
$("b-find").addEventListener("click", async () => {
  const code = $("b-find-input").value.trim();
  if (!code) return;
  const r = await call("GET", `/appointments/${encodeURIComponent(code)}`);
  if (!r.ok) return fail(r.data);
  openBooking(r.data);
});

if (config.problem) {
  show("departments");
  fail({ type: config.problem });
} else if (config.code) {
  const r = await call("GET", `/appointments/${encodeURIComponent(config.code)}`);
  if (r.ok) openBooking(r.data);
  else { show("departments"); fail(r.data); }
} else {
  show("departments");
}
