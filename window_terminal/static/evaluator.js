// The evaluator (评价器): the small screen facing the citizen. It shows the window, the clerk
// and the current number; when the window finishes a service (or the clerk asks), it asks for
// one rating of that ticket: five levels, three indicators, reasons when not satisfied. It
// gives up politely after a while; the citizen can still rate from the mobile ticket page.
import { deviceOf } from "/static/common/device.js";
import { connect } from "/static/common/hallq.js";
import { ApiError, api, config, t } from "./session.js";

const $ = (id) => document.getElementById(id);
const base = `/api/v1/halls/${config.hall}/windows/${config.window}`;
const INDICATORS = config.indicators.map((i) => i.id);
let view = null; // the window as the lobby sees it
let rating = null; // {number, score, indicators, touched}
let promptTimer = null;
let thanksTimer = null;
// In a hall that requires registered devices the evaluator is one (no clerk's login): its token goes with every call.
const device = deviceOf(config);
// Otherwise a manager pairs it once (never the clerk it rates): the page keeps its own evaluator
// session, which rates and nothing else, and ends the manager's login on this citizen-facing screen.
const SESSION_KEY = `hallq-evaluator:${config.hall}:${config.window}`;

function credentials() {
  return device.required ? device.headers() : { "X-Evaluator-Token": localStorage.getItem(SESSION_KEY) || "" };
}

async function call(method, path, body) {
  const resp = await fetch(path, {
    method, headers: { Accept: "application/json", "Content-Type": "application/json", ...credentials() },
    body: method === "GET" ? undefined : JSON.stringify(body || {}),
  });
  const data = await resp.json().catch(() => null);
  if (device.required && (resp.status === 401 || resp.status === 403)) device.lost();
  if (!device.required && resp.status === 401) {
    localStorage.removeItem(SESSION_KEY); // ended: open it again (a clerk's login if nobody is signed in)
    location.reload();
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// The evaluator session, opened with the signed-in manager's session when the page has none yet.
async function opened() {
  if (device.required || localStorage.getItem(SESSION_KEY)) return true;
  if (config.may_open) {
    const made = await api.post(`${base}/evaluator-session`);
    localStorage.setItem(SESSION_KEY, made.token);
    await api.post("/api/v1/auth/logout").catch(() => null); // the screen faces citizens: no staff login stays on it
    return true;
  }
  if (config.signed_in) {
    $("ev-notice").hidden = false;
    $("ev-notice").textContent = t("evaluator_by_manager");
    return false;
  }
  location.assign(`/terminal/${config.hall}/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  return false;
}

function show(section) {
  for (const id of ["idle", "rate", "thanks"]) $(id).hidden = id !== section;
  document.body.dataset.mode = section;
}

function drawIdle() {
  if (!view) return;
  document.body.dataset.state = view.state;
  $("ev-window").textContent = view.name;
  $("ev-clerk").textContent = view.clerk && view.state !== "closed"
    ? `${view.clerk.name} · ${t("staff_no")} ${view.clerk.staff_no} · ${t("serving_you")}` : "";
  $("ev-number").textContent = view.ticket ? view.ticket.number : t("none");
  const notice = $("ev-notice");
  if (view.state === "paused" && view.pause) {
    notice.hidden = false;
    notice.textContent = view.pause.until ? `${view.pause.reason} · ${t("until")} ${view.pause.until.slice(11, 16)}` : view.pause.reason;
  } else if (view.state === "closed") {
    notice.hidden = false;
    notice.textContent = t("closed");
  } else {
    notice.hidden = true;
  }
}

function mark(buttons, score) {
  for (const b of buttons) {
    const on = Number(b.dataset.score) === score;
    b.classList.toggle("chosen", on);
    b.setAttribute(b.getAttribute("role") === "radio" ? "aria-checked" : "aria-pressed", on ? "true" : "false");
  }
}

function armTimeout() {
  clearTimeout(promptTimer);
  promptTimer = setTimeout(() => done(t("thanks_visit")), config.prompt_timeout_s * 1000);
}

function done(text) {
  rating = null;
  delete document.body.dataset.rating;
  clearTimeout(promptTimer);
  $("thanks-text").textContent = text;
  show("thanks");
  clearTimeout(thanksTimer);
  thanksTimer = setTimeout(() => {
    show("idle");
    drawIdle();
  }, config.thanks_s * 1000);
}

function needsReasons() {
  return rating && rating.score !== null && rating.score <= config.bad_at_most;
}

function update() {
  const reasons = $("reasons");
  const anyBad = rating.score !== null && (needsReasons() || INDICATORS.some((i) => rating.indicators[i] <= config.bad_at_most));
  reasons.hidden = !anyBad;
  const picked = reasons.querySelectorAll("input:checked").length;
  $("submit").disabled = rating.score === null || (needsReasons() && picked === 0);
}

function start(number) {
  clearTimeout(thanksTimer);
  rating = { number, score: null, indicators: {}, touched: new Set() };
  document.body.dataset.rating = number;
  $("rate-number").textContent = number;
  $("rate-error").textContent = "";
  mark(document.querySelectorAll("#levels button"), null);
  for (const row of document.querySelectorAll("tr[data-indicator]")) mark(row.querySelectorAll("button"), null);
  for (const box of document.querySelectorAll("#reasons input")) box.checked = false;
  $("details").hidden = true;
  $("reasons").hidden = true;
  $("submit").disabled = true;
  show("rate");
  armTimeout();
  document.querySelector("#levels button").focus();
}

function choose(score) {
  if (!rating) return;
  rating.score = score;
  mark(document.querySelectorAll("#levels button"), score);
  for (const row of document.querySelectorAll("tr[data-indicator]")) {
    const name = row.dataset.indicator;
    if (!rating.touched.has(name)) {
      rating.indicators[name] = score; // each aspect starts at the overall level
      mark(row.querySelectorAll("button"), score);
    }
  }
  $("details").hidden = false;
  update();
  armTimeout();
}

async function submit() {
  if (!rating || $("submit").disabled) return;
  const body = { number: rating.number, score: rating.score, reasons: [...document.querySelectorAll("#reasons input:checked")].map((b) => b.value) };
  for (const name of INDICATORS) body[name] = rating.indicators[name] ?? null;
  $("submit").disabled = true;
  try {
    await call("POST", `${base}/evaluation`, body);
    done(t("thanks"));
  } catch (e) {
    $("rate-error").textContent = t("rate_failed") + e.message;
    if (e.status === 409 || e.status === 404) setTimeout(() => done(t("thanks_visit")), 3000);
    else update();
  }
}

document.querySelectorAll("#levels button").forEach((b) => b.addEventListener("click", () => choose(Number(b.dataset.score))));
for (const row of document.querySelectorAll("tr[data-indicator]")) {
  row.querySelectorAll("button").forEach((b) => b.addEventListener("click", () => {
    if (!rating) return;
    rating.indicators[row.dataset.indicator] = Number(b.dataset.score);
    rating.touched.add(row.dataset.indicator);
    mark(row.querySelectorAll("button"), Number(b.dataset.score));
    update();
    armTimeout();
  }));
}
$("reasons").addEventListener("change", () => { update(); armTimeout(); });
$("submit").addEventListener("click", submit);

document.addEventListener("keydown", (e) => {
  if (!rating || e.ctrlKey || e.metaKey || e.altKey) return;
  const levels = [...document.querySelectorAll("#levels button")];
  if (/^[1-5]$/.test(e.key) && e.target.tagName !== "INPUT") {
    e.preventDefault();
    choose(Number(levels[Number(e.key) - 1].dataset.score));
  } else if (e.key === "Enter" && e.target.tagName !== "BUTTON") {
    e.preventDefault();
    submit();
  } else if (e.key === "Escape") {
    done(t("thanks_visit"));
  }
});

function hear(msg) {
  if (msg.type === "snapshot") {
    view = msg.state.windows.find((w) => w.id === config.window) || view;
  } else if (msg.type === "event") {
    for (const w of msg.windows || []) if (w.id === config.window) view = w;
    const e = msg.event;
    if (e.window === config.window && (e.type === "service_finished" || e.type === "evaluation_requested")) {
      start(e.number);
      return;
    }
    if (e.type === "ticket_evaluated" && rating && e.number === rating.number) {
      done(t("thanks")); // rated already (the mobile ticket page)
      return;
    }
  }
  // The window serves the next citizen: the one asked has left, and whoever stands here now must
  // not rate their service (server/domain/ratings.py refuses it too).
  if (rating && view && view.state === "serving" && view.ticket && view.ticket.number !== rating.number) {
    done(t("thanks_visit"));
    return;
  }
  if (!rating && document.body.dataset.mode !== "thanks") {
    show("idle");
    drawIdle();
  }
  document.body.dataset.seq = String(msg.seq ?? "");
}

await device.ready();
const ready = await opened();
function load() {
  if (!ready) return;
  call("GET", `${base}/evaluation`).then((s) => {
    view = view || s.window;
    // Reloaded (or reconnected) after a service: the rating it still owes is offered again.
    if (!rating && s.rateable && document.body.dataset.mode !== "thanks") start(s.rateable.number);
    else if (!rating) drawIdle();
  }).catch(() => {});
}
load();

const feed = ready && connect({
  hall: config.hall,
  query: () => ({ window: config.window, ...device.query() }),
  onStatus: (status, code) => {
    $("offline").hidden = status === "online";
    document.body.dataset.status = status;
    if (status === "offline") device.suspect(code);
  },
  onMessage: hear,
});
device.onApproved(() => {
  load();
  if (feed) feed.retry();
});
show("idle");
