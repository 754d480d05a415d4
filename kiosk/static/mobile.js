// The mobile ticket behind the QR code: number, status, people ahead, expected wait, the window
// when called, live from the hall's feed (?ticket=ID); an optional notification when few are
// ahead or when called; cancel while waiting.
import { connect, messages } from "/static/common/hallq.js";

const config = JSON.parse(document.getElementById("config").textContent);
const TEXT = messages();
const $ = (id) => document.getElementById(id);
let lang = config.lang;
let ticket = null;
const seen = JSON.parse(localStorage.getItem(`hallq-${config.ticket}`) || "{}");
let ratingClosed = false; // refused as closed while the page was open (not remembered: the server says it next time)

const t = (key) => (TEXT[lang] && TEXT[lang][key]) ?? TEXT["zh-CN"][key] ?? key; // "" is a word (en "people")
const remember = () => localStorage.setItem(`hallq-${config.ticket}`, JSON.stringify(seen));

function notify(key, text) {
  if (seen[key]) return;
  seen[key] = true;
  remember();
  if (navigator.vibrate) navigator.vibrate([300, 150, 300]);
  if (seen.notify && "Notification" in window && Notification.permission === "granted") {
    try {
      new Notification(`${ticket.number} · ${t("title")}`, { body: text, tag: `hallq-${config.ticket}-${key}` });
    } catch {
      // some phones only notify from a service worker; the page itself still shows it
    }
  }
}

// The expected wait in plain words, with the interval the server gives (an 80 % range, wider
// while the day has few services): "约 12 分钟" and, smaller below it, "（8–18 分钟）" (or
// "（最多 18 分钟）" when it may be any moment).
function waitWords(ticket) {
  const m = Math.round(ticket.estimated_wait_s / 60);
  const [low, high] = ticket.estimated_wait_range_s || [ticket.estimated_wait_s, ticket.estimated_wait_s];
  const lo = Math.min(Math.round(low / 60), m);
  const hi = Math.max(Math.round(high / 60), m);
  if (hi < 1) return [t("wait_under_minute")];
  if (m < 1) return [t("wait_up_to").replace("{hi}", hi)];
  const about = t("wait_about").replace("{m}", m);
  if (lo === hi) return [about];
  const range = document.createElement("span");
  range.id = "m-wait-range";
  range.className = "m-range";
  range.textContent = (lo < 1 ? t("wait_range_up_to") : t("wait_range").replace("{lo}", lo)).replace("{hi}", hi);
  return [about, range];
}

function draw() {
  for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
  $("m-lang").textContent = t("lang");
  document.documentElement.lang = lang;
  $("m-conn").textContent = document.body.dataset.status === "offline" ? t("offline") : t("updated");
  if (!ticket) return;
  document.body.dataset.ticketStatus = ticket.status;
  $("m-number").textContent = ticket.number;
  $("m-item").textContent = ticket.item_name;
  // 日终作废: a service that ran over midnight is told to ask the clerk, not to take a new number.
  const overnight = ticket.status === "closed_out" && ticket.closed_out_from === "serving";
  $("m-status").textContent = t(overnight ? "closed_out_serving" : ticket.status);
  const waiting = ticket.status === "waiting";
  $("m-ahead").textContent = waiting ? `${ticket.ahead} ${t("people")}`.trim() : "–";
  if (waiting) $("m-wait").replaceChildren(...waitWords(ticket));
  else $("m-wait").textContent = "–";
  $("m-windows").textContent = ticket.windows.map((w) => config.windows[w] || w).join(lang === "en" ? ", " : "、");
  $("m-issued").textContent = ticket.issued_at ? ticket.issued_at.slice(11, 16) : "–";
  const called = (ticket.status === "called" || ticket.status === "serving") && ticket.window_name;
  $("m-call").hidden = !called;
  if (called) $("m-call").textContent = t("called_notice").replace("{window}", config.windows[ticket.window] || ticket.window_name);
  // 远程取号: the holder confirms arrival; until then the ticket keeps its place but is not called.
  const remote = waiting && ticket.remote;
  $("m-arrive").hidden = !remote;
  if (remote) {
    const near = ticket.ahead <= ticket.confirm_ahead;
    $("m-arrive-text").textContent = ticket.arrived ? t("arrived") : near ? t("remote_soon").replace("{n}", ticket.ahead) : t("remote_wait");
    $("m-arrive-go").hidden = ticket.arrived;
    document.body.dataset.arrival = ticket.arrived ? "confirmed" : near ? "asked" : "waiting";
    if (!ticket.arrived && near) notify("arrive", $("m-arrive-text").textContent);
  }
  const soon = waiting && ticket.ahead <= config.notify_ahead;
  $("m-soon").hidden = !soon;
  if (soon) $("m-soon").textContent = t("soon").replace("{n}", ticket.ahead);
  $("m-cancel").hidden = !waiting;
  $("m-notify").hidden = !waiting || !("Notification" in window);
  if (seen.notify) $("m-notify").textContent = t("notify_on");
  const done = ticket.status === "done";
  // A ticket of a day that has ended is rated while its rating is open (a few days after the
  // service, or after a promised case's conclusion): the server says so in `rating_open`.
  const rated = ticket.rated || seen.rated;
  $("m-rate").hidden = !done || rated || (Boolean(config.final) && !ticket.rating_open && !ratingClosed);
  $("m-rated").hidden = !done || !rated;
  $("m-rate-until").hidden = !ticket.rating_open || !ticket.rating_closes;
  if (ticket.rating_closes) $("m-rate-until").textContent = t("rate_until").replace("{day}", ticket.rating_closes);
  if (soon) notify("soon", $("m-soon").textContent);
  if (ticket.status === "called") notify(`called-${ticket.window}`, $("m-call").textContent);
}

$("m-lang").addEventListener("click", () => { lang = lang === "en" ? "zh-CN" : "en"; draw(); });
$("m-notify").addEventListener("click", async () => {
  const answer = await Notification.requestPermission();
  seen.notify = answer === "granted";
  remember();
  $("m-notify").textContent = seen.notify ? t("notify_on") : t("notify_denied");
});
$("m-cancel").addEventListener("click", () => { $("m-confirm").hidden = false; $("m-cancel").hidden = true; });
$("m-no").addEventListener("click", () => { $("m-confirm").hidden = true; draw(); });
$("m-yes").addEventListener("click", async () => {
  $("m-confirm").hidden = true;
  const r = await fetch(`/api/v1/halls/${encodeURIComponent(config.hall)}/tickets/${encodeURIComponent(config.ticket)}/cancel`, { method: "POST" });
  if (r.ok) {
    ticket = await r.json();
    draw();
  }
});

$("m-arrive-go").addEventListener("click", async () => {
  const r = await fetch(`/api/v1/halls/${encodeURIComponent(config.hall)}/tickets/${encodeURIComponent(config.ticket)}/arrive`, { method: "POST" });
  if (r.ok) {
    ticket = await r.json();
    draw();
  }
});

// 好差评 from the phone, as at the window's evaluator: the five levels, the three indicators
// (each starting at the overall level), reasons when not satisfied, then a confirm step before
// the one rating the server keeps. The server holds the same rules.
const rating = { score: null, indicators: {}, touched: new Set() };
const levelButtons = () => document.querySelectorAll("#m-levels .m-score");
const chosenReasons = () => [...document.querySelectorAll("#m-reasons input:checked")].map((b) => b.value);

function press(buttons, score, attr) {
  for (const b of buttons) b.setAttribute(attr, Number(b.dataset.score) === score ? "true" : "false");
}

function rateUpdate() {
  const bad = rating.score !== null && rating.score <= config.bad_at_most;
  const anyBad = bad || config.indicators.some((i) => rating.indicators[i] <= config.bad_at_most);
  $("m-reasons").hidden = !anyBad;
  $("m-rate-next").disabled = rating.score === null || (bad && chosenReasons().length === 0);
  $("m-rate-error").hidden = true;
}

for (const b of levelButtons()) {
  b.addEventListener("click", () => {
    rating.score = Number(b.dataset.score);
    press(levelButtons(), rating.score, "aria-checked");
    for (const row of document.querySelectorAll(".m-indicator")) {
      const name = row.dataset.indicator;
      if (!rating.touched.has(name)) {
        rating.indicators[name] = rating.score;
        press(row.querySelectorAll("button"), rating.score, "aria-pressed");
      }
    }
    $("m-details").hidden = false;
    rateUpdate();
  });
}
for (const row of document.querySelectorAll(".m-indicator")) {
  for (const b of row.querySelectorAll("button")) {
    b.addEventListener("click", () => {
      rating.indicators[row.dataset.indicator] = Number(b.dataset.score);
      rating.touched.add(row.dataset.indicator);
      press(row.querySelectorAll("button"), Number(b.dataset.score), "aria-pressed");
      rateUpdate();
    });
  }
}
$("m-reasons").addEventListener("change", rateUpdate);

function summaryRow(label, value) {
  const div = document.createElement("div");
  const dt = document.createElement("dt");
  const dd = document.createElement("dd");
  dt.textContent = label;
  dd.textContent = value;
  div.append(dt, dd);
  return div;
}

$("m-rate-next").addEventListener("click", () => {
  if ($("m-rate-next").disabled) return;
  const rows = [summaryRow(t("rate_prompt"), t(`score${rating.score}`))];
  for (const name of config.indicators) rows.push(summaryRow(t(`ind_${name}`), t(`score${rating.indicators[name]}`)));
  if (!$("m-reasons").hidden) {
    const reasons = chosenReasons().map((r) => t(`reason_${r}`)).join("、");
    rows.push(summaryRow(t("reasons_title"), reasons || t("reasons_none")));
  }
  $("m-rate-summary").replaceChildren(...rows);
  $("m-rate-form").hidden = true;
  $("m-rate-check").hidden = false;
  document.body.dataset.rating = "confirm";
});
$("m-rate-back").addEventListener("click", () => {
  $("m-rate-check").hidden = true;
  $("m-rate-form").hidden = false;
  document.body.dataset.rating = "form";
});
$("m-rate-send").addEventListener("click", async () => {
  const body = { score: rating.score, reasons: $("m-reasons").hidden ? [] : chosenReasons() };
  for (const name of config.indicators) body[name] = rating.indicators[name] ?? null;
  $("m-rate-send").disabled = true;
  try {
    const r = await fetch(`/api/v1/halls/${encodeURIComponent(config.hall)}/tickets/${encodeURIComponent(config.ticket)}/evaluation`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const problem = r.status === 409 ? await r.json().catch(() => ({})) : {};
    if (String(problem.type || "").endsWith("rating-closed")) {
      ratingClosed = true; // the rating closed while the page was open: say so where the form was
      $("m-rate-form").hidden = true;
      $("m-rate-check").hidden = true;
      $("m-rate-error").textContent = t("rate_closed");
      $("m-rate-error").hidden = false;
      return;
    }
    if (r.ok || r.status === 409) {
      seen.rated = true;
      remember();
      draw();
      return;
    }
  } catch {
    // offline: say so below, the citizen may try again
  } finally {
    $("m-rate-send").disabled = false;
  }
  $("m-rate-error").textContent = t("rate_failed");
  $("m-rate-error").hidden = false;
});

if (config.final) {
  ticket = config.final; // its hall-day has ended: nothing will change, no feed to follow
} else connect({
  hall: config.hall,
  query: { ticket: config.ticket },
  onStatus: (status) => {
    document.body.dataset.status = status;
    $("m-conn").textContent = status === "online" ? t("updated") : t("offline");
  },
  onMessage: (msg) => {
    if (msg.type === "ticket" && msg.ticket) {
      ticket = msg.ticket;
      draw();
    }
  },
});
draw();
