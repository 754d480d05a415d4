// The clerk's terminal: the window's state, the current ticket and its materials, the queue in
// call order, and one button and one key per action. Every rule is the server's: the page
// asks /queue what the window may do now and draws that; actions go to the window's REST
// actions; the hall's live feed says when to ask again.
import { connect, formatClock } from "/static/common/hallq.js";
import { ApiError, api, bindLogout, config, t, typing } from "./session.js";

const $ = (id) => document.getElementById(id);
const base = `/api/v1/halls/${config.hall}/windows/${config.window}`;
const keyToAction = new Map(config.keys.map((k) => [k.key.toLowerCase(), k.action]));
const DIALOGS = {
  finish: "dlg-finish", "no-show": "dlg-no-show", transfer: "dlg-transfer", suspend: "dlg-suspend",
  pause: "dlg-pause", handover: "dlg-handover", close: "dlg-close",
};
let servedHere = new Set(config.items.filter((i) => i.served_here).map((i) => i.id));

let data = null; // the last answer of GET …/queue
let busy = false;
let picking = -1; // the row chosen in the queue with ↑↓ (queue rows first, then suspended ones)

bindLogout();

function say(text, error = false) {
  const m = $("message");
  m.textContent = text;
  m.classList.toggle("error", error);
}

async function refresh() {
  try {
    data = await api.get(`${base}/queue`);
    draw();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) say(e.message, true);
  }
}

let soon = null;
function refreshSoon() {
  clearTimeout(soon);
  soon = setTimeout(refresh, 100);
}

function minutes(seconds) {
  return Math.max(0, Math.floor(seconds / 60));
}

function li(cls, parts, attrs = {}) {
  const el = document.createElement("li");
  el.className = cls;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const [c, text] of parts) {
    const span = document.createElement("span");
    span.className = c;
    span.textContent = text;
    el.append(span);
  }
  return el;
}

function draw() {
  const w = data.window;
  document.body.dataset.state = w.state;
  document.body.dataset.seq = String(data.seq);
  $("state").textContent = t(w.state);
  $("state").dataset.state = w.state;
  $("on-duty").textContent = w.clerk ? `${t("handled_by")} ${w.clerk.name}${w.clerk.post ? ` · ${t("post_of", { post: w.clerk.post })}` : ""}` : "";
  drawOffer();
  // AB岗: one clerk in the header, the one on duty; a clerk who handed over is told so, and the
  // other post sees its own name (the server refuses both until they take the window).
  const me = config.user || {};
  const offDuty = Boolean(w.clerk && me.role === "clerk" && w.clerk.name !== me.name);
  document.body.dataset.offDuty = offDuty ? "1" : "";
  $("me").hidden = Boolean(w.clerk) && !offDuty;
  $("me").textContent = offDuty && config.post === "A" ? t("handed_over") : $("me").dataset.name;
  const ticket = w.ticket;
  const late = !ticket && data.overnight; // served over midnight: still to be finished here
  $("number").textContent = ticket ? ticket.number : late ? late.number : t("none");
  $("ticket-item").textContent = ticket ? ticket.item_name : late ? late.item_name : "";
  let status = late ? t("overnight") : "";
  if (ticket) {
    status = t(ticket.status);
    if (ticket.recalls) status += ` · ${t("recall")} ${ticket.recalls}`;
    if (ticket.priority) status += ` · ${t("priority")}`;
    if (ticket.appointment) status += ` · ${t("appointment")}`;
    if (ticket.print_status === "failed") status += ` · ${t("print_failed")}`;
  }
  $("ticket-status").textContent = status;
  const notice = $("pause-notice");
  notice.hidden = !(w.state === "paused" && w.pause);
  if (!notice.hidden) notice.textContent = w.pause.until ? `${w.pause.reason} · ${t("until")} ${w.pause.until.slice(11, 16)}` : w.pause.reason;

  const materials = $("materials");
  materials.replaceChildren();
  if (data.item) {
    for (const m of data.item.materials) materials.append(li("", [["", m]]));
    if (!data.item.materials.length) materials.append(li("muted", [["", t("no_materials")]]));
    $("item-limits").textContent = `${data.item.time_limit} · ${data.item.fee}`;
  } else {
    $("item-limits").textContent = "";
  }

  $("waiting").textContent = String(data.waiting);
  const queue = $("queue");
  queue.replaceChildren();
  data.queue.forEach((q, i) => {
    const lane = q.lane === "normal" ? (q.transferred ? t("transferred") : "") : t(q.lane);
    queue.append(li(`row lane-${q.lane}`, [["num", q.number], ["item", q.item_name], ["lane", lane],
      ["waited", `${t("waited")} ${minutes(q.waited_s)} ${t("minutes")}`]], { role: "option", "data-ticket": q.number, "data-row": String(i) }));
  });
  if (!data.queue.length) queue.append(li("muted", [["", t("nobody_waiting")]]));
  const suspended = $("suspended");
  suspended.replaceChildren();
  data.suspended.forEach((s, i) => {
    const kind = config.suspend_kinds.find((k) => k.id === s.kind);
    suspended.append(li("row", [["num", s.number], ["item", s.item_name], ["lane", kind ? kind.name : ""]],
      { role: "option", "data-ticket": s.number, "data-row": String(data.queue.length + i) }));
  });
  for (const button of document.querySelectorAll("#actions button")) {
    button.disabled = !data.actions.includes(button.dataset.action);
  }
  markPicked();
}

// -- AB岗: the window offered to this clerk ------------------------------------------------
function drawOffer() {
  const offer = data.offered_to_me ? data.duty.offer : null;
  $("offer").hidden = !offer;
  if (!offer) return;
  const from = data.duty.on_duty || data.duty.a;
  const name = from ? from.name : "";
  $("offer-text").textContent = offer.reason === "paused"
    ? t("offer_paused", { name, post: data.duty.post || "" })
    : t("offer_absent", { name: data.duty.a ? data.duty.a.name : "", time: offer.since.slice(11, 16) });
  $("take-over").textContent = t(offer.action === "open" ? "offer_open" : "offer_take_over");
  $("take-over").dataset.action = offer.action;
}

async function takeOver() {
  if (busy || !data || !data.offered_to_me) return;
  const offer = data.duty.offer;
  try {
    if (offer.action === "open") {
      await send("open", {});
    } else {
      // A hand-over to oneself, then back to work: the window was paused by the other post.
      await send("handover", { to: data.duty.offer.to.username });
      if (data.actions.includes("resume")) await send("resume", {});
    }
    say(`${t("offer_taken")} ✓`);
  } catch (err) {
    say(err.message, true);
  }
}
$("take-over").addEventListener("click", takeOver);

// -- the queue: Q, ↑↓, Enter calls the chosen ticket (指呼) --------------------------------
function rows() {
  return [...document.querySelectorAll("#queue li.row, #suspended li.row")];
}

function markPicked() {
  const all = rows();
  if (picking >= all.length) picking = all.length - 1;
  all.forEach((el, i) => {
    el.classList.toggle("picked", i === picking);
    el.setAttribute("aria-selected", i === picking ? "true" : "false");
  });
  document.body.classList.toggle("picking", picking >= 0);
  if (picking >= 0) all[picking].scrollIntoView({ block: "nearest" });
}

function pickMove(delta) {
  const n = rows().length;
  if (!n) return;
  picking = picking < 0 ? 0 : Math.min(n - 1, Math.max(0, picking + delta));
  markPicked();
}

function stopPicking() {
  picking = -1;
  markPicked();
}

// -- actions ------------------------------------------------------------------------------
async function send(path, body) {
  busy = true;
  document.body.classList.add("busy");
  try {
    const answer = await api.post(`${base}/${path}`, body);
    await refresh();
    return answer;
  } finally {
    busy = false;
    document.body.classList.remove("busy");
  }
}

async function run(action) {
  if (busy || !data) return;
  // 邀评 refused is asked of the server all the same: it says why (another number at the counter,
  // rated already, nobody finished, the evaluator's time over), which the window's state does not.
  if (!data.actions.includes(action) && action !== "evaluation") {
    say(`${t(action)} — ${t(data.window.state)}`, true);
    return;
  }
  if (DIALOGS[action]) {
    openDialog(action);
    return;
  }
  try {
    if (action === "reprint") {
      await reprint();
      return;
    }
    if (action === "evaluation") {
      const asked = await send("evaluation/request", {});
      say(t("asked", { number: asked.number }));
      return;
    }
    const answer = await send(action, {});
    if (action === "call-next" && answer && !answer.ticket) say(t("nobody_waiting"));
    else say(`${t(action)} ✓ ${answer && answer.ticket ? answer.ticket.number : ""}`);
  } catch (e) {
    say(e.message, true);
  }
}

// 补打: the current ticket's, at the kiosk that issued it; the server offers it while its print is flagged.
async function reprint() {
  const ticket = data.window.ticket;
  busy = true;
  try {
    const answer = await api.post(`/api/v1/halls/${config.hall}/tickets/${encodeURIComponent(ticket.number)}/print`, {});
    say(t("reprint_sent", { number: answer.number, kiosk: answer.kiosk }));
  } finally {
    busy = false;
  }
}

async function callPicked() {
  const row = rows()[picking];
  if (!row || busy) return;
  if (!data.actions.includes("call")) {
    say(`${t("call")} — ${t(data.window.state)}`, true);
    return;
  }
  try {
    const answer = await send("call", { ticket: row.dataset.ticket });
    say(`${t("call")} ✓ ${answer.ticket ? answer.ticket.number : ""}`);
    stopPicking();
  } catch (e) {
    say(e.message, true);
  }
}

// -- dialogs ------------------------------------------------------------------------------
function hallClock(offsetMinutes) {
  const [h, m] = data.now.slice(11, 16).split(":").map(Number);
  const total = Math.min(23 * 60 + 59, h * 60 + m + offsetMinutes);
  return `${String(Math.floor(total / 60)).padStart(2, "0")}:${String(total % 60).padStart(2, "0")}`;
}

function prepare(action, form) {
  const number = data.window.ticket ? data.window.ticket.number : data.overnight ? data.overnight.number : "";
  form.querySelectorAll(".dlg-number").forEach((el) => { el.textContent = number; });
  form.querySelector(".dlg-error").textContent = "";
  if (action === "finish") {
    form.reset();
    const caseType = data.item ? data.item.case_type : "immediate";
    form.querySelector(`input[name=case_type][value="${caseType}"]`).checked = true;
    const list = $("missing-list");
    list.replaceChildren();
    for (const m of data.item ? data.item.materials : []) {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "missing";
      box.value = m;
      label.append(box, ` ${m}`);
      list.append(label);
    }
    showMissing(form);
  } else if (action === "pause") {
    form.reset();
    form.until.value = hallClock(30);
  } else if (action === "transfer") {
    const item = data.window.ticket ? data.window.ticket.item : null;
    const other = [...form.item.options].find((o) => o.value !== item);
    if (other) form.item.value = other.value;
    // Only windows that serve the ticket's item: another window could not call it.
    const serving = [...form.window.options].filter((o) => {
      const w = config.windows.find((x) => x.id === o.value);
      o.hidden = o.disabled = !(w && item && w.items.includes(item));
      return !o.disabled;
    });
    if (serving.length) form.window.value = serving[0].value;
  } else {
    form.reset();
  }
}

function showMissing(form) {
  const outcome = form.querySelector("input[name=outcome]:checked");
  $("missing-box").hidden = !(outcome && outcome.value === "one_time_notice");
}

function bodyOf(action, form) {
  const value = (name) => (form.querySelector(`input[name=${name}]:checked`) || {}).value;
  switch (action) {
    case "finish": {
      const missing = [...form.querySelectorAll("input[name=missing]:checked")].map((b) => b.value);
      const outcome = value("outcome");
      if (outcome === "one_time_notice") {
        missing.push(...form.missing_other.value.split(/[，,；;、\n]/).map((s) => s.trim()).filter(Boolean));
      }
      return { case_type: value("case_type"), outcome, missing: outcome === "one_time_notice" ? missing : [], note: form.note.value.trim() };
    }
    case "no-show":
      return { requeue: form.requeue.checked };
    case "transfer":
      return value("target") === "window" ? { window: form.window.value } : { item: form.item.value };
    case "suspend":
      return { kind: value("kind") };
    case "pause": {
      const reason = value("reason") || form.reason_other.value.trim();
      const body = { reason };
      const typed = form.until.value.trim().match(/^([01]?\d|2[0-3]):?([0-5]\d)$/);
      if (form.until.value.trim() && !typed) throw new Error(`${t("until")}: HH:MM`);
      if (typed) {
        const hhmm = `${typed[1].padStart(2, "0")}:${typed[2]}`;
        // A time earlier than now means tomorrow (a pause across midnight).
        let day = data.now.slice(0, 10);
        if (hhmm <= data.now.slice(11, 16)) {
          const [y, m, d] = day.split("-").map(Number);
          day = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
        }
        body.until = `${day}T${hhmm}`;
      }
      return body;
    }
    default:
      return {};
  }
}

let opener = null;

function openDialog(action) {
  const dialog = $(DIALOGS[action]);
  const form = dialog.querySelector("form");
  opener = document.querySelector(`#actions button[data-action="${action}"]`);
  prepare(action, form);
  dialog.showModal();
  const first = form.querySelector("[data-primary] input:checked") || form.querySelector("input, select, button[type=submit]");
  if (first) first.focus();
}

for (const dialog of document.querySelectorAll("dialog")) {
  const form = dialog.querySelector("form");
  const action = form.dataset.action;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (busy) return;
    try {
      const number = data.window.ticket ? data.window.ticket.number : data.overnight ? data.overnight.number : "";
      const sent = bodyOf(action, form);
      const answer = await send(action, sent);
      dialog.close();
      say(`${t(action)} ✓ ${answer && answer.ticket ? answer.ticket.number : ""}`);
      if (action === "finish" && sent.outcome === "one_time_notice" && number) {
        // 一次性告知单: the list of missing materials, printed for the citizen to take home
        const link = Object.assign(document.createElement("a"), {
          id: "notice-link", href: `/terminal/${encodeURIComponent(config.hall)}/notice/${encodeURIComponent(number)}`,
          target: "_blank", rel: "noopener", textContent: t("print_notice") });
        $("message").append(" ", link);
      }
    } catch (err) {
      form.querySelector(".dlg-error").textContent = err.message;
    }
  });
  form.addEventListener("change", () => showMissing(form));
  for (const cancel of form.querySelectorAll("[data-cancel]")) cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    // Back to where the clerk was: the action's button, or the page for the next key.
    if (opener && !opener.disabled) opener.focus();
    else document.activeElement && document.activeElement.blur();
  });
  dialog.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const text = typing(e.target);
    if (!text && /^[1-9]$/.test(e.key)) {
      const choices = form.querySelectorAll("[data-primary] input[type=radio]");
      const choice = choices[Number(e.key) - 1];
      if (choice) {
        e.preventDefault();
        choice.checked = true;
        choice.focus();
        choice.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } else if (e.key === "Enter" && e.target.tagName !== "TEXTAREA" && e.target.tagName !== "BUTTON") { // a select too: its choice is made
      e.preventDefault();
      form.requestSubmit();
    }
  });
  if (action === "pause") {
    form.reason_other.addEventListener("input", () => {
      form.querySelector("input[name=reason][value='']").checked = true;
    });
  }
}

// -- keyboard and buttons -----------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (document.querySelector("dialog[open]")) return; // a dialog handles its own keys
  if (typing(e.target)) return;
  const key = e.key.toLowerCase();
  if (picking >= 0 || key === "q") {
    if (key === "q") { e.preventDefault(); pickMove(0); $("queue").focus(); return; }
    if (e.key === "ArrowDown") { e.preventDefault(); pickMove(1); return; }
    if (e.key === "ArrowUp") { e.preventDefault(); pickMove(-1); return; }
    if (e.key === "Enter") { e.preventDefault(); callPicked(); return; }
    if (e.key === "Escape") { e.preventDefault(); stopPicking(); return; }
  }
  const action = keyToAction.get(key);
  if (action) {
    e.preventDefault();
    if (!e.repeat) run(action); // holding a key down never calls twice
  }
});

for (const button of document.querySelectorAll("#actions button")) {
  button.addEventListener("click", () => run(button.dataset.action));
}
for (const list of [$("queue"), $("suspended")]) {
  list.addEventListener("click", (e) => {
    const row = e.target.closest("li.row");
    if (!row) return;
    picking = Number(row.dataset.row);
    markPicked();
  });
  list.addEventListener("dblclick", () => callPicked());
}

// -- live ---------------------------------------------------------------------------------
function concernsUs(msg) {
  if (msg.type !== "event") return msg.type === "snapshot" || msg.type === "resumed";
  const current = data && data.window.ticket;
  if (msg.event.type === "ticket_print_recorded") return Boolean(current && msg.event.number === current.number);
  if ((msg.windows || []).some((w) => w.id === config.window)) return true;
  return (msg.queues || []).some((q) => servedHere.has(q.item)) || msg.event.to_window === config.window;
}

// The administrator changed the catalogue: the items served here and the transfer targets follow.
async function refreshCatalog() {
  try {
    const r = await fetch(`/api/v1/halls/${encodeURIComponent(config.hall)}/catalog`, { cache: "no-store" });
    if (!r.ok) return;
    const c = await r.json();
    const here = c.windows.find((w) => w.id === config.window);
    servedHere = new Set(here ? here.items : []);
    const options = (select, rows) => {
      const keep = select.value;
      select.replaceChildren(...rows.map((x) => new Option(x.name, x.id)));
      if (rows.some((x) => x.id === keep)) select.value = keep;
    };
    const form = $("dlg-transfer").querySelector("form");
    options(form.item, c.items);
    options(form.window, c.windows.filter((w) => w.id !== config.window));
    document.body.dataset.catalogRev = String(c.rev);
    refreshSoon();
  } catch {
    // unreachable now: the next change or reconnect tries again
  }
}

connect({
  hall: config.hall,
  onStatus: (status) => {
    $("offline").hidden = status === "online";
    document.body.dataset.status = status;
    if (status === "online") refreshSoon();
  },
  onMessage: (msg) => {
    if (msg.type === "event" && msg.event.type === "catalog_changed") refreshCatalog();
    else if (concernsUs(msg)) refreshSoon();
  },
});

function tick() {
  $("clock").textContent = formatClock(new Date(), config.lang, config.timezone).slice(0, 5);
}
tick();
setInterval(tick, 1000);
setInterval(refresh, 30000); // waited minutes, ageing
refresh();
