// Statistics over a period: the table by any grouping, four charts, CSV and Excel exports.
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
  [`wait|mean`, (r) => duration(r.wait.mean_s)],
  [`wait|p50`, (r) => duration(r.wait.p50_s)],
  [`wait|p90`, (r) => duration(r.wait.p90_s)],
  [`wait|max`, (r) => duration(r.wait.max_s)],
  [`service|mean`, (r) => duration(r.service.mean_s)],
  [`service|p50`, (r) => duration(r.service.p50_s)],
  [`service|p90`, (r) => duration(r.service.p90_s)],
  [`service|max`, (r) => duration(r.service.max_s)],
  ["rated", (r) => r.satisfaction.rated],
  ["good_rate", (r) => pct(r.satisfaction.good_rate)],
  ["bad", (r) => r.satisfaction.bad],
  ["open_s", (r) => (r.window_time ? duration(r.window_time.open_s) : "—")],
  ["idle_waiting_s", (r) => (r.window_time ? duration(r.window_time.idle_waiting_s) : "—")],
  ["paused_s", (r) => (r.window_time ? duration(r.window_time.paused_s) : "—")],
  ["alerts", (r) => r.alerts.total],
];

const head = (key) => key.split("|").map((k) => t(k)).join(" ");

function render(answer) {
  const table = document.getElementById("table");
  const thead = el("thead", {}, el("tr", {}, el("th", {}, t(`by_${answer.by}`)), COLUMNS.map(([k]) => el("th", { class: "num" }, head(k)))));
  const row = (r, cls) => el("tr", { class: cls, "data-key": r.key }, el("td", {}, r.name), COLUMNS.map(([, f]) => el("td", { class: "num" }, f(r))));
  table.replaceChildren(thead, el("tbody", {}, answer.rows.map((r) => row(r))), el("tfoot", {}, row({ ...answer.total, name: t("total") }, "total")));
}

async function show() {
  const p = params();
  try {
    status("");
    render(await api(hallApi(`/stats?${p}`)));
    const period = `?from=${p.get("from")}&to=${p.get("to")}`;
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

start(show);
