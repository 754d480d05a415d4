// What every dashboard page shares: its settings and words, the login, and fetching with the token.
//
// The token from POST /api/v1/auth/login lives in sessionStorage (gone when the tab closes)
// and goes with every request as `Authorization: Bearer`. A 401 shows the login form again.

const dataBlock = (id) => {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : {};
};

export const cfg = dataBlock("config");
export const words = dataBlock("i18n");
export const t = (key, vars = {}) => (words[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => vars[k] ?? "");

const KEY = "hallq.dashboard";
const READERS = new Set(["manager", "admin", "chief"]);

function session() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

export class Unauthorized extends Error {}

// A refused request: the message, and the problem+json answer (its `errors` name fields).
export class Problem extends Error {
  constructor(detail, problem, status) {
    super(detail);
    this.problem = problem;
    this.status = status;
  }
}

// `type`: send `body` as it is with this content type (a file), instead of as JSON.
export async function api(path, { method = "GET", body, as = "json", type } = {}) {
  const s = session();
  // A bearer token from this page's sign-in, or the staff pages' session cookie (sent by the
  // browser) with its CSRF token: one sign-in for the dashboard, the devices and the staff pages.
  const headers = s && s.token ? { Authorization: `Bearer ${s.token}` } : s && s.csrf ? { "X-CSRF-Token": s.csrf } : {};
  if (body !== undefined) headers["Content-Type"] = type || "application/json";
  const sep = path.includes("?") ? "&" : "?";
  const url = cfg.lang === "en" && !path.includes("lang=") ? `${path}${sep}lang=en` : path;
  const payload = body === undefined ? undefined : type ? body : JSON.stringify(body);
  const r = await fetch(url, { method, headers, body: payload });
  if (r.status === 401) {
    sessionStorage.removeItem(KEY);
    showLogin();
    throw new Unauthorized();
  }
  if (!r.ok) {
    let detail = r.statusText;
    let problem = {};
    try {
      problem = await r.json();
      detail = (problem.says && problem.says[cfg.lang]) || problem.detail || detail; // in the page's language when worded
    } catch {}
    throw new Problem(detail, problem, r.status);
  }
  if (as === "text") return r.text();
  if (as === "blob") return r.blob();
  return r.json();
}

export const hallApi = (rest) => `/api/v1/halls/${encodeURIComponent(cfg.hall)}${rest}`;

// Buttons `data-export="alerts.csv"` download that file of the hall's API (today's, or all open),
// worded for people in the page's language (api() adds lang=en on an English page).
export function exportButtons(root = document) {
  for (const b of root.querySelectorAll("button[data-export]")) {
    const file = b.dataset.export;
    b.addEventListener("click", () =>
      download(hallApi(`/${file}?words=1`), `hallq-${cfg.hall}-${file}`).catch((e) => status(`${t("error")}: ${e.message}`)),
    );
  }
}

export async function download(path, filename) {
  const blob = await api(path, { as: "blob" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

export function status(message) {
  const el = document.getElementById("status");
  el.textContent = message || "";
  el.hidden = !message;
}

let started = false;
let onReady = () => {};
let readers = READERS;

function showLogin() {
  document.getElementById("main").hidden = true;
  document.getElementById("login").hidden = false;
  document.getElementById("logout").hidden = true;
  document.getElementById("who").textContent = "";
}

function showMain(s) {
  document.getElementById("login").hidden = true;
  document.getElementById("main").hidden = false;
  document.getElementById("logout").hidden = false;
  document.getElementById("who").textContent = s.name || s.username; // a name, not half of a login
  if (!started) {
    started = true;
    onReady(s);
  }
}

// start(ready): run `ready(session)` once someone allowed to read the dashboard is logged in
// (`roles`: only these may use the page).
export function start(ready, roles = READERS) {
  onReady = ready;
  readers = roles;
  const form = document.getElementById("login-form");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const err = document.getElementById("login-error");
    err.hidden = true;
    const data = Object.fromEntries(new FormData(form));
    const r = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: data.username, password: data.password }),
    });
    const s = r.ok ? await r.json() : null;
    if (!s || !readers.has(s.role)) {
      err.hidden = false;
      return;
    }
    sessionStorage.setItem(KEY, JSON.stringify(s));
    // The devices and staff pages sign in with a session cookie: open it too, with the same words.
    await fetch("/api/v1/auth/session", {
      method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
      body: JSON.stringify({ username: data.username, password: data.password }),
    }).catch(() => {});
    form.reset();
    showMain(s);
  });
  document.getElementById("logout").addEventListener("click", async () => {
    const s = session();
    if (s && s.token) await fetch("/api/v1/auth/logout", { method: "POST", headers: { Authorization: `Bearer ${s.token}` } }).catch(() => {});
    const cookie = await fetch("/api/v1/auth/session", { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).catch(() => null);
    if (cookie && cookie.csrf) await fetch("/api/v1/auth/logout", { method: "POST", headers: { "X-CSRF-Token": cookie.csrf }, credentials: "same-origin" }).catch(() => {});
    sessionStorage.removeItem(KEY);
    location.reload();
  });
  const s = session();
  if (s && readers.has(s.role)) showMain(s);
  else cookieSession().then((c) => (c && readers.has(c.role) ? showMain(c) : showLogin()));
}

// Formatting
// Signed in on a staff page (the devices or staff page, the terminal's login): that session
// serves the dashboard too, through its cookie and CSRF token.
async function cookieSession() {
  try {
    const r = await fetch("/api/v1/auth/session", { credentials: "same-origin" });
    if (!r.ok) return null;
    const who = await r.json();
    const s = { ...who, token: null, csrf: who.csrf };
    sessionStorage.setItem(KEY, JSON.stringify(s));
    return s;
  } catch {
    return null;
  }
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}:${String(m).padStart(2, "0")}:${String(sec).padStart(2, "0")}`;
  return `${m}:${String(sec).padStart(2, "0")}`;
}

export const pct = (x) => (x === null || x === undefined ? "—" : `${(100 * x).toFixed(1)}%`);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

// Charts come from the server as SVG text: parse it as SVG (never as HTML) and put it in place.
export async function loadChart(boxId, path) {
  const box = document.getElementById(boxId);
  if (!box) return;
  const text = await api(path, { as: "text" });
  const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
  box.replaceChildren(document.importNode(svg, true));
}

export function alertText(a) {
  const subject = [a.number, a.item_name, a.window_name].filter(Boolean).join(" · ");
  let amount = "";
  if (a.kind === "wait" || a.kind === "service" || a.kind === "unattended" || a.kind === "idle") amount = duration(a.value);
  else if (a.kind === "deadline") amount = a.value > 0 ? `+${a.value}d` : `${-a.value}d`;
  else if (a.kind === "review") amount = `+${a.value}d`;
  return { kind: t(`kind_${a.kind}`), level: t(`level_${a.level}`), subject, amount };
}

// Every table of the dashboard sorts by a click on its column's heading (again: the other way).
// Numbers (and durations like 12:30 or 5 min) sort as numbers, other text in the page's language.
document.addEventListener("click", (e) => {
  const th = e.target.closest("thead th");
  const table = th && th.closest("table");
  if (!table || !table.tBodies[0]) return;
  const col = [...th.parentElement.children].indexOf(th);
  const down = th.getAttribute("aria-sort") === "ascending";
  for (const other of th.parentElement.children) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", down ? "descending" : "ascending");
  const key = (row) => {
    const text = (row.cells[col] ? row.cells[col].textContent : "").trim();
    const n = Number.parseFloat(text.replace(/[^\d.:-]/g, "").replace(/^(\d+):(\d+)$/, (_, a, b) => `${a}.${b}`));
    return Number.isNaN(n) ? text : n;
  };
  const rows = [...table.tBodies[0].rows].filter((r) => r.cells.length > 1);
  const collator = new Intl.Collator(cfg.lang === "en" ? "en" : "zh-CN", { numeric: true });
  rows.sort((a, b) => {
    const x = key(a), y = key(b);
    const c = typeof x === "number" && typeof y === "number" ? x - y : collator.compare(String(x), String(y));
    return down ? -c : c;
  });
  table.tBodies[0].append(...rows);
});
