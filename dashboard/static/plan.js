// 排班建议: the plan of a day (default: the next opening day) beside the windows usually open,
// today's forecast against arrivals, and the forecast's accuracy over recent days; CSV export.
import { api, cfg, download, duration, el, hallApi, pct, start, status, t } from "./common.js";

const form = document.getElementById("query");
const dayInput = document.getElementById("plan-day");
const SVG = "http://www.w3.org/2000/svg";

const num = (x, digits = 1) => (x === null || x === undefined ? "—" : Number(x).toFixed(digits));
const minutes = (s) => (s === null || s === undefined ? "—" : `${Math.round(s / 60)}′`);

function planRow(s, groups) {
  const gaps = [
    ...Object.entries(s.short).map(([g, n]) => el("span", { class: "tag short", title: groups[g] }, `${groups[g]} ${t("short_by", { n })}`)),
    ...Object.entries(s.idle).map(([g, n]) => el("span", { class: "tag idle", title: groups[g] }, `${groups[g]} ${t("idle_by", { n })}`)),
    ...s.lacking.map((g) => el("span", { class: "tag lacking" }, `${groups[g]}: ${t("lacking")}`)),
  ];
  const sim = s.simulated;
  const met = sim ? (sim.met ? t("met_yes") : t("met_no")) : "—";
  return el(
    "tr",
    { "data-start": s.start, class: s.lacking.length ? "lacking" : null },
    el("td", {}, `${s.start}–${s.end}`),
    el("td", { class: "num" }, `${num(s.arrivals.mean)} (${num(s.arrivals.low, 0)}–${num(s.arrivals.high, 0)})`),
    el("td", { class: "num" }, s.booked),
    el("td", { class: "num plan-windows" }, s.windows),
    el("td", { class: "num" }, num(s.usual)),
    el("td", {}, gaps.length ? gaps : "—"),
    el("td", { class: "num" }, duration(s.erlang.mean_wait_s)),
    el("td", { class: "num" }, sim ? duration(sim.mean_wait_s) : "—"),
    el("td", { class: "num" }, sim ? duration(sim.p90_wait_s) : "—"),
    el("td", { class: sim && !sim.met ? "missed" : "ok" }, met),
  );
}

function renderPlan(p) {
  const groups = Object.fromEntries(p.groups.map((g) => [g.key, g.name]));
  const kinds = p.kinds.map((k) => t(`kind_${k}`)).join("、");
  document.getElementById("plan-title").textContent =
    t("plan_title", { day: p.day, weekday: t(`weekday_${p.weekday}`) }) + (kinds ? ` · ${kinds}` : "");
  document.getElementById("plan-lead").textContent = t("plan_lead", {
    mean: num(p.total.mean, 0), low: num(p.total.low, 0), high: num(p.total.high, 0), level: pct(p.level).replace(".0", ""),
    booked: p.booked, target: minutes(p.target_wait_s), p90: minutes(p.p90_wait_s),
  });
  document.getElementById("plan-check").textContent = p.check.met_share === null ? "" : t("plan_check", { share: pct(p.check.met_share) });
  document.getElementById("plan-history").textContent = p.history.days
    ? t("plan_history", { days: p.history.days, from: p.history.from, to: p.history.to })
    : t("plan_no_history");
  const heads = ["half_hour", "forecast", "booked", "plan_windows", "usual_windows", "short_idle", "erlang_wait", "sim_wait", "sim_p90", "met"];
  document.getElementById("plan-table").replaceChildren(
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, t(h))))),
    el("tbody", {}, p.slots.map((s) => planRow(s, groups))),
  );
  const gHead = el("tr", {}, el("th", {}, t("groups")), p.slots.map((s) => el("th", { class: "num" }, s.start)));
  const gRows = p.groups.map((g) =>
    el(
      "tr",
      { "data-group": g.key },
      el("td", { title: g.windows.map((w) => w.name).join("、") }, g.name),
      p.slots.map((s) => el("td", { class: s.short[g.key] ? "num short" : s.idle[g.key] ? "num idle" : "num" }, `${s.open[g.key]}/${g.windows.length}`)),
    ),
  );
  document.getElementById("groups-table").replaceChildren(el("thead", {}, gHead), el("tbody", {}, gRows));
}

function chart(rows) {
  const w = 900, h = 220, pad = 30;
  const top = Math.max(1, ...rows.map((r) => Math.max(r.forecast.high, r.actual ?? 0)));
  const x = (i) => pad + (i * (w - 2 * pad)) / rows.length;
  const y = (v) => h - pad - (v * (h - 2 * pad)) / top;
  const bw = (w - 2 * pad) / rows.length;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("today_forecast"));
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
  };
  rows.forEach((r, i) => {
    add("rect", { x: x(i) + 2, y: y(r.forecast.high), width: bw - 4, height: Math.max(1, y(r.forecast.low) - y(r.forecast.high)), fill: "#bfdbfe", class: "band" });
    add("line", { x1: x(i) + 2, x2: x(i) + bw - 2, y1: y(r.forecast.mean), y2: y(r.forecast.mean), stroke: "#1d4ed8", "stroke-width": 2 });
    if (r.actual !== null) add("rect", { x: x(i) + bw / 3, y: y(r.actual), width: bw / 3, height: h - pad - y(r.actual), fill: "#16a34a", class: "actual" });
    add("text", { x: x(i) + bw / 2, y: h - 10, "text-anchor": "middle", "font-size": 11 }, r.start);
  });
  add("text", { x: pad, y: 14, "font-size": 12 }, `${t("forecast")} (${t("booked")} +) · ${t("actual")}`);
  return svg;
}

function renderToday(d) {
  document.getElementById("today-so-far").textContent = t("so_far", { forecast: num(d.so_far.forecast), actual: d.so_far.actual });
  document.getElementById("today-chart").replaceChildren(chart(d.slots));
  document.getElementById("today-table").replaceChildren(
    el("thead", {}, el("tr", {}, [t("half_hour"), t("forecast"), t("actual")].map((h) => el("th", {}, h)))),
    el("tbody", {}, d.slots.map((r) => el("tr", {}, el("td", {}, `${r.start}–${r.end}`),
      el("td", { class: "num" }, `${num(r.forecast.mean)} (${num(r.forecast.low, 0)}–${num(r.forecast.high, 0)})`),
      el("td", { class: "num" }, r.actual ?? "—")))),
  );
}

function renderAccuracy(a) {
  const heads = ["acc_day", "acc_actual", "acc_forecast", "acc_mape", "acc_day_error", "acc_naive", "acc_waits_met"];
  document.getElementById("accuracy-table").replaceChildren(
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, t(h))))),
    el("tbody", {}, a.days.slice().reverse().map((r) => el("tr", {}, el("td", {}, r.day), el("td", { class: "num" }, r.actual),
      el("td", { class: "num" }, num(r.forecast, 0)), el("td", { class: "num" }, pct(r.mape_half_hour)),
      el("td", { class: "num" }, pct(r.error_day)), el("td", { class: "num" }, r.naive ? pct(r.naive.error_day) : "—"),
      el("td", { class: "num" }, pct(r.waits_met_share))))),
  );
}

async function show() {
  status("");
  const q = dayInput.value ? `?day=${dayInput.value}` : "";
  try {
    const [plan, today, acc] = await Promise.all([api(hallApi(`/plan${q}`)), api(hallApi("/plan/today")), api(hallApi("/plan/accuracy?days=20"))]);
    dayInput.value = plan.day;
    renderPlan(plan);
    renderToday(today);
    renderAccuracy(acc);
    document.body.dataset.loaded = "1";
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  show();
});
document.getElementById("export-csv").addEventListener("click", () => {
  const q = dayInput.value ? `?day=${dayInput.value}&words=1` : "?words=1";
  download(hallApi(`/plan.csv${q}`), `hallq-${cfg.hall}-plan-${dayInput.value || "next"}.csv`).catch((e) => status(`${t("error")}: ${e.message}`));
});

start(show);
