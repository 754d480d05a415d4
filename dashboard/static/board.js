// 电子监察 live board: polls the supervision JSON every 2.5 s, charts every 30 s; for managers and
// admins, the kiosks' printers live (WS …/printers) with the tickets whose print failed, to reprint.
import { Problem, Unauthorized, alertText, api, cfg, duration, el, exportButtons, hallApi, loadChart, start, status, t } from "./common.js";

const POLL_MS = 2500;
const CHARTS_MS = 30000;

function renderKpis(today) {
  const items = [["issued", today.issued], ["served", today.served], ["waiting", today.waiting], ["no_show", today.no_show], ["open_windows", today.open_windows]];
  document.getElementById("kpis").replaceChildren(
    ...items.map(([k, v]) => el("div", { class: "kpi", "data-kpi": k }, el("span", { class: "kpi-value" }, v), el("span", { class: "kpi-label" }, t(k)))),
  );
}

function renderAlerts(alerts) {
  const list = document.getElementById("alerts");
  if (!alerts.length) {
    list.replaceChildren(el("li", { class: "none" }, t("no_alerts")));
    return;
  }
  list.replaceChildren(
    ...alerts.map((a) => {
      const x = alertText(a);
      return el("li", { class: `alert level-${a.level}`, "data-kind": a.kind, "data-key": a.key },
        el("span", { class: "badge" }, x.level), el("strong", {}, x.kind), " ", x.subject, " ", el("span", { class: "amount" }, x.amount));
    }),
  );
}

function renderSuggestions(suggestions) {
  document.getElementById("suggestions").replaceChildren(
    ...suggestions.map((s) => {
      const vars = { item: s.name, n: s.over_threshold, min: Math.round(s.threshold_s / 60) };
      const chips = (windows) => windows.map((w) => el("span", { class: "chip" }, w.name));
      const more = [];
      if (s.call.length) more.push(el("div", { class: "suggest-call" }, t("suggest_call"), " ", chips(s.call)));
      if (s.off_schedule.length) more.push(el("div", { class: "suggest-off-schedule" }, t("suggest_off_schedule"), " ", chips(s.off_schedule)));
      if (!s.open.length) return el("li", { class: "suggestion" }, t("suggest_none", vars), ...more);
      return el("li", { class: "suggestion" }, t("suggest_open", vars), " ", chips(s.open), ...more);
    }),
  );
}

// AB岗: whom the window is offered to (the other post, A paused or absent), or that it has no B post.
function dutyLine(duty) {
  if (duty.offer) {
    return el("div", { class: "win-duty offered" }, t(duty.offer.reason === "paused" ? "duty_offered_paused" : "duty_offered_absent", { name: duty.offer.to.name }));
  }
  if (!duty.b) return el("div", { class: "win-duty no-b" }, t("duty_no_b"));
  return el("div", { class: "win-duty" }, "");
}

function renderWindows(windows) {
  document.getElementById("windows").replaceChildren(
    ...windows.map((w) =>
      el("li", { class: `win state-${w.state}`, "data-window": w.id },
        el("div", { class: "win-name" }, w.name),
        el("div", { class: "win-state" }, t(`state_${w.state}`), w.for_s !== null && w.state !== "closed" ? ` ${duration(w.for_s)}` : ""),
        el("div", { class: "win-ticket" }, w.ticket ? w.ticket.number : w.pause ? w.pause.reason : ""),
        el("div", { class: "win-clerk" }, w.clerk ? `${w.clerk.name} ${w.clerk.post ? t("duty_post", { post: w.clerk.post }) : ""}` : ""),
        dutyLine(w.duty),
      ),
    ),
  );
}

// The longest wait past the item's threshold: bold, with a ⚠ naming the level and the threshold in
// words (the row's colour bar alone would not tell everybody).
const LEVELS = ["warning", "yellow", "red"];
function longest(q) {
  if (!q.level) return el("td", { class: "num" }, duration(q.longest_wait_s));
  const says = t("over_threshold", { level: t(`level_${q.level}`), limit: duration(q.thresholds_s[LEVELS.indexOf(q.level)]) });
  return el("td", { class: `num over over-${q.level}`, title: says, "data-over": q.level },
    duration(q.longest_wait_s), " ", el("span", { class: "mark", role: "img", "aria-label": says }, "⚠"));
}

function renderQueues(queues) {
  const rows = queues.filter((q) => q.waiting > 0).sort((a, b) => b.longest_wait_s - a.longest_wait_s);
  document.getElementById("queues").replaceChildren(
    ...rows.map((q) =>
      el("tr", { class: q.level ? `level-${q.level}` : "", "data-item": q.item }, el("td", {}, q.name), el("td", { class: "num" }, q.waiting), longest(q)),
    ),
  );
}

function renderLog(log) {
  // A clearing names the alert it clears (its key is for machines: it may hold a ticket's id).
  const raised = new Map(log.filter((e) => e.type !== "alert_cleared").map((e) => [e.key, e]));
  document.getElementById("log").replaceChildren(
    ...log.slice(0, 30).map((e) => {
      const time = e.at.slice(11, 19);
      if (e.type === "alert_cleared") {
        const was = raised.get(e.key);
        const x = was ? alertText(was) : null;
        return el("li", { class: "cleared" }, `${time} ${t("cleared")}`, x ? ` ${x.kind} ${x.subject}` : "");
      }
      const x = alertText(e);
      return el("li", { class: `level-${e.level}` }, `${time} `, el("span", { class: "badge" }, x.level), ` ${x.kind} ${x.subject} ${x.amount}`);
    }),
  );
}

async function poll() {
  try {
    const b = await api(hallApi("/supervision"));
    renderKpis(b.today);
    renderAlerts(b.alerts);
    renderSuggestions(b.suggestions);
    renderWindows(b.windows);
    renderQueues(b.queues);
    renderLog(b.log);
    document.getElementById("updated").textContent = `${t("updated")} ${b.now.slice(11, 19)}`;
    status("");
  } catch (e) {
    // Logged out: the login form is showing, and polling goes on once someone logs in again.
    if (!(e instanceof Unauthorized)) status(t("offline"));
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

async function charts() {
  const q = `?from=${cfg.today}&to=${cfg.today}`;
  try {
    await Promise.all([
      loadChart("chart-arrivals-served", hallApi(`/charts/arrivals-served${q}`)),
      loadChart("chart-wait-by-hour", hallApi(`/charts/wait-by-hour${q}`)),
    ]);
  } catch {}
  setTimeout(charts, CHARTS_MS);
}

// -- 好差评 upload: what the provincial platform has, has not yet, and refused ------------------
function renderUploads(u) {
  document.getElementById("uploads-panel").hidden = false;
  document.getElementById("uploads-off").hidden = u.enabled;
  for (const k of ["pending", "sent", "refused"]) document.getElementById(`uploads-${k}`).textContent = u.counts[k];
  document.getElementById("sms-counts").textContent = u.sms.enabled
    ? ["pending", "sent", "failed", "dropped"].map((k) => `${t(`sms_${k}`)} ${u.sms.counts[k]}`).join(" · ")
    : t("sms_off");
  document.getElementById("uploads-refused-list").replaceChildren(
    ...(u.refused.length ? u.refused.map((r) =>
      el("tr", { "data-rating": r.rating }, el("td", {}, r.number), el("td", {}, r.item), el("td", { class: "num" }, r.attempts),
        el("td", {}, `HTTP ${r.last_status ?? "—"} ${r.last_error}`)))
      : [el("tr", {}, el("td", { colspan: 4, class: "none" }, t("uploads_refused_none")))]),
  );
}

async function uploads() {
  try {
    renderUploads(await api(hallApi("/uploads")));
  } catch {}
  setTimeout(uploads, CHARTS_MS);
}

exportButtons();
// -- printers: what the server says, drawn as it comes ----------------------------------------
const PRINTER_ROLES = new Set(["manager", "admin"]);

function printerMessage(p) {
  return cfg.lang === "en" ? p.message_en : p.message;
}

function renderPrinters(view) {
  const kiosks = view.kiosks.filter((k) => k.printer.kind !== "none" || k.help_at);
  document.getElementById("printers").replaceChildren(
    ...(kiosks.length ? kiosks.map((k) => {
      const away = k.agent && !k.connected;
      return el("li", { class: `printer state-${k.printer.state}`, "data-kiosk": k.id, "data-state": k.printer.state },
        el("strong", {}, k.name), " ", el("span", { class: "badge" }, printerMessage(k.printer)),
        away ? el("span", { class: "agent-offline" }, ` · ${t("agent_offline")}`) : "",
        k.printer.since ? el("small", {}, ` ${k.printer.since.slice(11, 19)}`) : "",
        k.printer.detail && !["ok", "unknown"].includes(k.printer.state) ? el("div", { class: "detail" }, k.printer.detail) : "",
        k.help_at ? helpCall(k) : "");
    }) : [el("li", { class: "none" }, t("printers_none"))]),
  );
  document.getElementById("print-failed").replaceChildren(
    ...(view.failed.length ? view.failed.map((f) =>
      el("tr", { "data-ticket": f.ticket, "data-number": f.number, class: f.partial ? "partial" : "" },
        el("td", {}, f.number), el("td", {}, f.item_name),
        el("td", {}, f.partial ? el("strong", {}, t("print_partial")) : "", f.partial ? el("br") : "", f.detail),
        el("td", { class: "no-print" }, el("button", { type: "button", class: "reprint", onclick: (e) => reprint(f, e.target) }, t("reprint")))))
      : [el("tr", {}, el("td", { colspan: 4, class: "none" }, t("print_failed_none")))]),
  );
  document.getElementById("printers-panel").dataset.seen = String(Date.now());
}

// A citizen pressed 呼叫工作人员 at this kiosk (its elderly mode): someone goes, then marks it answered.
function helpCall(k) {
  return el("div", { class: "help-call", "data-help": k.id },
    el("strong", {}, t("help_called_at", { time: k.help_at.slice(11, 16) })), " ",
    el("button", { type: "button", onclick: () => api(hallApi(`/kiosks/${encodeURIComponent(k.id)}/help`), { method: "DELETE" }).catch(() => {}) },
      t("help_answered")));
}

function sayPrinters(text, error = false) {
  const message = document.getElementById("printers-message");
  message.textContent = text;
  message.hidden = !text;
  message.classList.toggle("error", error);
}

async function reprint(f, button) {
  button.disabled = true;
  try {
    const r = await api(hallApi(`/tickets/${encodeURIComponent(f.ticket)}/print`), { method: "POST", body: {} });
    sayPrinters(t("reprint_sent", { number: r.number, kiosk: r.kiosk }));
  } catch (e) {
    if (e instanceof Unauthorized) return;
    sayPrinters(e instanceof Problem ? e.message : t("offline"), true);
    button.disabled = false;
  }
}

function watchPrinters(session) {
  const panel = document.getElementById("printers-panel");
  panel.hidden = false;
  let attempt = 0;
  const open = () => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${scheme}//${location.host}/ws/v1/halls/${encodeURIComponent(cfg.hall)}/printers${session.token ? `?token=${encodeURIComponent(session.token)}` : ""}`);
    ws.onopen = () => {
      if (panel.dataset.status === "offline") sayPrinters("");
      attempt = 0;
      panel.dataset.status = "online";
    };
    ws.onmessage = (e) => {
      const view = JSON.parse(e.data);
      if (view.type === "printers") renderPrinters(view);
    };
    ws.onclose = () => {
      panel.dataset.status = "offline";
      sayPrinters(t("printers_feed_lost"), true);
      setTimeout(open, Math.min(10000, 500 * 2 ** Math.min(attempt++, 5)));
    };
  };
  open();
}

start((session) => {
  poll();
  charts();
  uploads();
  if (PRINTER_ROLES.has(session.role)) watchPrinters(session);
});
