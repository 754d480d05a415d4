// Statistics over a period: the table by any grouping, four charts of the same grouping, CSV and
// Excel exports. Times past the hall's alert thresholds are marked in the table.
import { api, cfg, download, duration, el, hallApi, loadChart, pct, start, status, t } from "./common.js";

const form = document.getElementById("query");

function params() {
  const d = Object.fromEntries(new FormData(form));
  return new URLSearchParams({ from: d.from, to: d.to, by: d.by });
}

const COLUMNS = [
  ["issued", (r) => r.issued ?? "—"],
  ["called", (r) => r.called],
  ["served", (r) => r.served],
  ["no_show", (r) => r.no_show],
  ["no_show_rate", (r) => pct(r.no_show_rate)],
  ["transferred", (r) => r.transferred],
  ...["wait", "service"].flatMap((kind) =>
    ["mean", "p50", "p90", "max"].map((f) => [`${kind}|${f}`, (r) => duration(r[kind][`${f}_s`]), [kind, `${f}_s`]]),
  ),
  ["rated", (r) => r.satisfaction.rated],
  ["good_rate", (r) => pct(r.satisfaction.good_rate)],
  ["bad", (r) => r.satisfaction.bad],
  ["open_s", (r) => (r.window_time ? duration(r.window_time.open_s) : "—")],
  ["idle_waiting_s", (r) => (r.window_time ? duration(r.window_time.idle_waiting_s) : "—")],
  ["paused_s", (r) => (r.window_time ? duration(r.window_time.paused_s) : "—")],
  ["alerts", (r) => r.alerts.total],
];

const head = (key) => key.split("|").map((k) => t(k)).join(" ");
const LEVELS = ["warning", "yellow", "red"];

// A time past its threshold (the server says which, `over`): bold, with a ⚠ that names the level
// and the threshold in words (not a colour alone).
function cell(r, [key, f, timed]) {
  const level = timed && r.over && r.over[timed[0]] ? r.over[timed[0]][timed[1]] : null;
  if (!level) return el("td", { class: "num" }, f(r));
  const limit = r.thresholds[timed[0]][LEVELS.indexOf(level)];
  const says = t("over_threshold", { level: t(`level_${level}`), limit: duration(limit) });
  return el("td", { class: `num over over-${level}`, title: says, "data-over": level, "data-figure": key },
    f(r), " ", el("span", { class: "mark", role: "img", "aria-label": says }, "⚠"));
}

// The row's name: a channel in the page's words, else as the server names it (a window, item, clerk…).
const rowName = (by, r) => (by === "channel" ? t(`channel_${r.key}`) : r.name);

function render(answer) {
  const table = document.getElementById("table");
  const thead = el("thead", {}, el("tr", {}, el("th", {}, t(`by_${answer.by}`)), COLUMNS.map(([k]) => el("th", { class: "num" }, head(k)))));
  const row = (r, cls) => el("tr", { class: cls, "data-key": r.key }, el("td", {}, cls === "total" ? r.name : rowName(answer.by, r)),
    COLUMNS.map((c) => cell(r, c)));
  table.replaceChildren(thead, el("tbody", {}, answer.rows.map((r) => row(r))), el("tfoot", {}, row({ ...answer.total, name: t("total") }, "total")));
}

// 考勤: by clerk or day when the statistics are, else by window; then the sessions concerned.
const ATTENDANCE = [
  ["att_sessions", (r) => r.sessions],
  ["att_on_time_rate", (r) => pct(r.on_time_rate)],
  ["att_late", (r) => r.late],
  ["att_late_s", (r) => duration(r.late_s)],
  ["att_early", (r) => r.early],
  ["att_early_s", (r) => duration(r.early_s)],
  ["att_absent", (r) => r.absent],
  ["att_covered", (r) => r.covered],
];

function renderAttendance(answer, by) {
  const which = by === "clerk" ? "clerks" : by === "day" ? "days" : "windows";
  const cols = which === "clerks" ? [...ATTENDANCE, ["alerts", (r) => r.alerts]] : ATTENDANCE;
  const row = (r, cls) => el("tr", { class: cls, "data-key": r.key }, el("td", {}, r.name ?? r.key), cols.map(([, f]) => el("td", { class: "num" }, f(r))));
  document.getElementById("attendance").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", {}, t(`by_${which === "clerks" ? "clerk" : which === "days" ? "day" : "window"}`)), cols.map(([k]) => el("th", { class: "num" }, t(k))))),
    el("tbody", {}, answer[which].map((r) => row(r))),
    which === "clerks" ? "" : el("tfoot", {}, row({ ...answer.total, name: t("total") }, "total")),
  );
  const sessions = [
    ["att_day", (s) => s.day], ["window", (s) => s.window_name], ["att_session", (s) => s.session],
    ["att_opened_at", (s) => s.opened_at ?? "—"], ["att_closed_at", (s) => s.closed_at ?? "—"],
    ["att_late_s", (s) => duration(s.late_s)], ["att_early_s", (s) => duration(s.early_s)],
    ["att_absent", (s) => (s.absent ? "✗" : "")], ["att_on_duty", (s) => s.on_duty.join(" → ")],
  ];
  document.getElementById("attendance-sessions").replaceChildren(
    el("thead", {}, el("tr", {}, sessions.map(([k]) => el("th", {}, t(k))))),
    el("tbody", {}, answer.sessions.map((s) => el("tr", { "data-window": s.window }, sessions.map(([, f]) => el("td", {}, f(s)))))),
  );
}

async function show() {
  const p = params();
  try {
    status("");
    render(await api(hallApi(`/stats?${p}`)));
    renderAttendance(await api(hallApi(`/attendance?from=${p.get("from")}&to=${p.get("to")}`)), p.get("by"));
    // The charts draw the grouping chosen (by item: one bar per item, by day: one point per day).
    const period = `?from=${p.get("from")}&to=${p.get("to")}&by=${p.get("by")}`;
    await Promise.all(
      ["wait-by-hour", "service-by-window", "arrivals-served", "satisfaction"].map((c) => loadChart(`chart-${c}`, hallApi(`/charts/${c}${period}`))),
    );
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  show();
});

for (const fmt of ["csv", "xlsx"]) {
  document.getElementById(`export-${fmt}`).addEventListener("click", () => {
    const p = params();
    download(hallApi(`/stats.${fmt}?${p}&words=1`), `hallq-${cfg.hall}-${p.get("by")}-${p.get("from")}-${p.get("to")}.${fmt}`).catch((e) =>
      status(`${t("error")}: ${e.message}`),
    );
  });
}

document.getElementById("export-attendance").addEventListener("click", () => {
  const p = params();
  download(hallApi(`/attendance.xlsx?from=${p.get("from")}&to=${p.get("to")}&words=1`), `hallq-${cfg.hall}-attendance-${p.get("from")}-${p.get("to")}.xlsx`).catch((e) =>
    status(`${t("error")}: ${e.message}`),
  );
});

start(show);
