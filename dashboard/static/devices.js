// 设备管理: the hall's devices waiting for approval (with the code each shows), the approved and
// revoked ones with who decided and when; approve (name it, bind it to its kiosk or window) and
// revoke. The page works with the session cookie; every change carries its CSRF token.
import { cfg, el, hallApi, t } from "./common.js";

const $ = (id) => document.getElementById(id);
const KIOSK_KINDS = new Set(["kiosk", "print_agent"]);
const WINDOW_KINDS = new Set(["window_screen", "evaluator"]);
const time = (iso) => (iso ? iso.slice(0, 16).replace("T", " ") : "—");

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = cfg.csrf;
  }
  const r = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) {
    location.assign(`/terminal/${encodeURIComponent(cfg.hall)}/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new Error("log in");
  }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || `HTTP ${r.status}`);
  return data;
}

function say(text, error = false) {
  const m = $("devices-message");
  m.textContent = text;
  m.classList.toggle("error", error);
}

function placeName(d) {
  const bound = d.kiosk || d.window || d.place;
  const list = KIOSK_KINDS.has(d.kind) ? cfg.kiosks : WINDOW_KINDS.has(d.kind) ? cfg.windows : [];
  const found = list.find((x) => x.id === bound);
  return found ? `${found.name} (${bound})` : bound || "—";
}

function approveForm(d) {
  const name = el("input", { name: "name", required: true, maxlength: 80, value: placeName(d) === "—" ? "" : placeName(d), "aria-label": t("device_name") });
  let bind = null;
  if (KIOSK_KINDS.has(d.kind) || WINDOW_KINDS.has(d.kind)) {
    const list = KIOSK_KINDS.has(d.kind) ? cfg.kiosks : cfg.windows;
    bind = el("select", { name: "bind", "aria-label": t(KIOSK_KINDS.has(d.kind) ? "bind_kiosk" : "bind_window") },
      list.map((x) => el("option", { value: x.id, selected: x.id === d.place }, `${x.name} (${x.id})`)));
  }
  const form = el("form", { class: "approve-form", onsubmit: async (e) => {
    e.preventDefault();
    const body = { code: d.code, name: name.value.trim() };
    if (bind) body[KIOSK_KINDS.has(d.kind) ? "kiosk" : "window"] = bind.value;
    try {
      const done = await call("POST", hallApi(`/devices/${encodeURIComponent(d.id)}/approve`), body);
      say(t("device_approved", { name: done.name }));
    } catch (err) {
      say(`${t("error")}: ${err.message}`, true);
    }
    await load();
  } }, name, bind, el("button", { type: "submit", class: "approve" }, t("approve")),
  el("button", { type: "button", class: "refuse", onclick: () => revoke(d) }, t("refuse")));
  return form;
}

async function revoke(d) {
  if (d.status === "approved" && !confirm(t("confirm_revoke"))) return;
  try {
    await call("POST", hallApi(`/devices/${encodeURIComponent(d.id)}/revoke`), {});
    say(t("device_revoked", { name: d.name || d.code }));
  } catch (err) {
    say(`${t("error")}: ${err.message}`, true);
  }
  await load();
}

async function load() {
  const all = await call("GET", hallApi("/devices"));
  const pending = all.filter((d) => d.status === "pending");
  const known = all.filter((d) => d.status !== "pending");
  $("pending").replaceChildren(...(pending.length ? pending.map((d) =>
    el("tr", { "data-device": d.id, "data-code": d.code },
      el("td", { class: "code" }, d.code), el("td", {}, t(`kind_${d.kind}`)), el("td", {}, placeName(d)),
      el("td", {}, d.address), el("td", {}, time(d.registered_at)), el("td", { class: "no-print" }, approveForm(d))))
    : [el("tr", {}, el("td", { colspan: 6 }, t("no_pending")))]));
  $("known").replaceChildren(...(known.length ? known.map((d) =>
    el("tr", { "data-device": d.id, "data-status": d.status, class: d.status },
      el("td", {}, d.name), el("td", {}, t(`kind_${d.kind}`)), el("td", {}, placeName(d)), el("td", { class: "code" }, d.code),
      el("td", {}, t(`status_${d.status}`)), el("td", {}, time(d.last_seen)),
      el("td", {}, d.approved_by ? `${d.approved_by} ${time(d.approved_at)}` : "—"),
      el("td", {}, d.revoked_by ? `${d.revoked_by} ${time(d.revoked_at)}` : "—"),
      el("td", { class: "no-print" }, d.status === "approved" ? el("button", { type: "button", class: "revoke", onclick: () => revoke(d) }, t("revoke")) : "")))
    : [el("tr", {}, el("td", { colspan: 9 }, t("no_devices")))]));
  document.body.dataset.loaded = String(Date.now());
}

$("main").hidden = false;
$("who").textContent = cfg.user.name; // a name, not half of a login
$("logout").hidden = false;
$("logout").addEventListener("click", async () => {
  await call("POST", "/api/v1/auth/logout", {}).catch(() => {});
  location.assign(`/terminal/${encodeURIComponent(cfg.hall)}/login`);
});
load().catch((err) => say(`${t("error")}: ${err.message}`, true));
// New registrations appear by themselves, without a reload (a device waits at its code meanwhile).
setInterval(() => { if (!document.querySelector(".approve-form input:focus, .approve-form select:focus")) load().catch(() => {}); }, 3000);
