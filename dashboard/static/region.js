// 区域总览: the hall and every hall below it (city → county → township), live today.
import { Unauthorized, api, cfg, duration, el, hallApi, pct, start, status, t } from "./common.js";

const POLL_MS = 5000;

function cells(f) {
  return [
    el("td", { class: "num" }, f.issued), el("td", { class: "num" }, f.served), el("td", { class: "num" }, f.waiting),
    el("td", { class: "num" }, f.longest_wait_s === null ? "—" : duration(f.longest_wait_s)),
    el("td", { class: "num" }, f.mean_wait_s === null ? "—" : duration(f.mean_wait_s)),
    el("td", { class: "num" }, `${f.open_windows}/${f.windows}`),
    el("td", { class: "num" + (f.alerts_red ? " level-red" : f.alerts_yellow ? " level-yellow" : "") }, `${f.alerts_red}/${f.alerts_yellow}`),
    el("td", { class: "num" }, pct(f.good_rate)),
  ];
}

function render(r) {
  const q = cfg.lang === "en" ? "?lang=en" : "";
  document.getElementById("region").replaceChildren(
    ...r.halls.map((h) =>
      el("tr", { "data-hall": h.id },
        el("td", { class: `depth-${h.depth}` },
          el("a", { href: `/dashboard/${encodeURIComponent(h.id)}/${q}` }, h.name), " ", el("span", { class: "chip" }, t(`level_${h.level}`))),
        ...cells(h.today)),
    ),
  );
  document.getElementById("region-total").replaceChildren(el("tr", { "data-hall": "total" }, el("th", {}, t("total")), ...cells(r.total)));
  document.getElementById("updated").textContent = `${t("updated")} ${r.now.slice(11, 19)}`;
}

async function poll() {
  try {
    render(await api(hallApi("/region")));
    status("");
  } catch (e) {
    if (!(e instanceof Unauthorized)) status(t("offline"));
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

start(poll);
