// 后台管理: edit the hall's settings, departments, items and windows; every change is previewed
// as a diff, then saved as a new revision (in force at once or from a chosen day).
//
// No rule of the hall lives here: the page turns a form into the entry as written in the config
// files, the server validates it with the catalogue's own models and answers with the diff, or
// with the fields at fault (problem+json `errors`), which are shown next to their inputs.
import { Problem, api, cfg, download, el, hallApi, start, status, t } from "./common.js";
import { clone, get, input, read } from "./fields.js";
import { withLimits } from "./schema.js";
import { showHolidays } from "./holidays.js";

const $ = (id) => document.getElementById(id);
const ADMIN = (rest) => hallApi(`/admin${rest}`);
const CASE_TYPES = ["immediate", "promised", "joint", "escalated"];
const PUBLICS = ["content", "legal_basis", "procedure", "requirements", "time_limit", "fee"];

let doc = null; // GET …/admin/catalog
let users = [];
let tab = "items";
let pending = null; // the request a confirm would send: {path, body, type, kind, id, query}

// -- small helpers ------------------------------------------------------------------------------
const entries = (kind) => (doc ? doc.document[kind] : []);
const nameOf = (kind, id) => (entries(kind).find((e) => e.id === id) || { name: id }).name;

function show(...ids) {
  for (const id of ["list", "editor", "confirm"]) $(id).hidden = !ids.includes(id);
}

function shown(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? JSON.stringify(v) : v)).join("、") || "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// -- what each kind of entry shows --------------------------------------------------------------
// Retired entries stay choosable (marked), so editing something that still refers to one does not
// silently change it.
const mark = (e) => (e.retired ? `${e.name} (${t("retired")})` : e.name);

function departmentOptions() {
  return entries("departments").map((d) => [d.id, mark(d)]);
}

// Each field's limits (min, max, pattern, required, whether it may be empty) are not written here:
// `specs` adds them from the JSON schema of the model that validates the entry (cfg.schemas).
const SPECS = {
  hall: () => [
    { path: "name", label: "f_name" },
    { path: "notice", label: "f_notice", kind: "textarea", wide: true, rows: 3 },
    { path: "voice.screens", label: "f_voice_screens", kind: "list" },
    { path: "voice.template", label: "f_voice_template" },
    { path: "voice.repeat", label: "f_voice_repeat", kind: "number" },
    { path: "voice.max_age_s", label: "f_voice_max_age", kind: "number" },
    { path: "enforce_hours", label: "f_enforce_hours", kind: "checkbox" },
    { path: "opening.hours", label: "f_opening_hours", kind: "hours" },
    { path: "opening.weekdays", label: "f_opening_weekdays", kind: "numbers" },
    { path: "calendar.closed_days", label: "f_closed_days", kind: "lines" },
    { path: "calendar.working_days", label: "f_working_days", kind: "lines" },
    { path: "supervision.wait_s", label: "f_alert_wait", kind: "numbers" },
    { path: "supervision.paused_s", label: "f_alert_paused", kind: "numbers" },
    { path: "supervision.closed_s", label: "f_alert_closed", kind: "numbers" },
    { path: "supervision.rating_days", label: "f_rating_days", kind: "number" },
    { path: "policy.priority_ratio", label: "f_priority_ratio", kind: "number" },
    { path: "policy.ageing_s", label: "f_ageing_s", kind: "number" },
    { path: "provincial.enabled", label: "f_provincial_enabled", kind: "checkbox" },
    { path: "provincial.endpoint", label: "f_provincial_endpoint" },
    { path: "provincial.hall_code", label: "f_provincial_hall_code" },
    { path: "provincial.region_code", label: "f_provincial_region_code" },
  ],
  departments: () => [
    { path: "id", label: "f_id" },
    { path: "name", label: "f_name" },
    { path: "short_name", label: "f_short_name" },
  ],
  items: () => [
    { path: "id", label: "f_id" },
    { path: "name", label: "f_name" },
    { path: "department", label: "f_department", kind: "select", options: departmentOptions() },
    { path: "prefix", label: "f_prefix" },
    { path: "case_type", label: "f_case_type", kind: "select", options: CASE_TYPES.map((c) => [c, t(`case_${c}`)]) },
    { path: "promised_days", label: "f_promised_days", kind: "number" },
    { path: "daily_quota", label: "f_daily_quota", kind: "number" },
    { path: "expected_service_s", label: "f_expected_service_s", kind: "number" },
    { path: "hours.hours", label: "f_hours", kind: "hours",
      write: (e, v) => { e.hours = v.length ? { ...(e.hours || {}), hours: v } : null; } },
    { path: "hours.weekdays", label: "f_weekdays", kind: "numbers",
      write: (e, v) => { if (e.hours && v && v.length) e.hours.weekdays = v; } },
    { path: "_windows", label: "f_windows", kind: "checks", wide: true,
      value: (e) => entries("windows").filter((w) => w.items.includes(e.id)).map((w) => w.id),
      groups: [{ label: t("tab_windows"), options: entries("windows").map((w) => [w.id, mark(w)]) }],
      write: (e, v) => { editing.windows = v; } },
    { path: "materials", label: "f_materials", kind: "lines", wide: true },
    ...PUBLICS.map((p) => ({ path: `publics.${p}`, label: `f_${p}`, kind: "textarea", wide: p === "content" || p === "requirements" })),
    { path: "alerts.wait_s", label: "f_alert_wait", kind: "numbers" },
    { path: "alerts.service_s", label: "f_alert_service", kind: "numbers" },
  ],
  windows: () => [
    { path: "id", label: "f_id" },
    { path: "name", label: "f_name" },
    { path: "call_name", label: "f_call_name" },
    { path: "kind", label: "f_kind", kind: "select", options: [["dedicated", t("kind_dedicated")], ["comprehensive", t("kind_comprehensive")]] },
    { path: "zone", label: "f_zone" },
    // AB岗: the clerks' usernames; empty leaves the post to the clerks' own `post` (older configs)
    { path: "a_post", label: "f_a_post", optional: true, write: (e, v) => { e.a_post = v || null; } },
    { path: "b_post", label: "f_b_post", optional: true, write: (e, v) => { e.b_post = v || null; } },
    { path: "items", label: "f_items", kind: "checks", wide: true,
      groups: entries("departments").map((d) => ({
        label: mark(d), options: entries("items").filter((i) => i.department === d.id).map((i) => [i.id, `${i.prefix} ${mark(i)}`]),
      })).filter((g) => g.options.length) },
    { path: "scheduled", label: "f_scheduled", kind: "rows", wide: true },
  ],
};

const specs = (kind) => withLimits(SPECS[kind](), cfg.schemas && cfg.schemas[kind]);

const BLANK = {
  departments: () => ({ id: "", name: "" }),
  items: () => ({ id: "", name: "", department: entries("departments").find((d) => !d.retired)?.id || "", prefix: "", case_type: "immediate",
    expected_service_s: 600, materials: [], publics: Object.fromEntries(PUBLICS.map((p) => [p, ""])) }),
  windows: () => ({ id: "", name: "", kind: "comprehensive", items: [], scheduled: [] }),
};

// -- the editor ----------------------------------------------------------------------------------
let editing = null; // {kind, entry (the original, or a blank one), isNew}

function openEditor(kind, entry, isNew) {
  editing = { kind, entry: clone(entry), isNew };
  const form = $("editor");
  form.dataset.kind = kind;
  $("editor-title").textContent = kind === "hall" ? t("tab_hall") : `${t(isNew ? "add" : "edit")} · ${t(`tab_${kind}`)}${isNew ? "" : ` · ${entry.name}`}`;
  $("fields").replaceChildren(...specs(kind).map((spec) => {
    const box = el("div", { class: `field${spec.wide ? " wide" : ""}`, "data-field": spec.path },
      el("span", {}, t(spec.label)), input({ ...spec, readonly: spec.path === "id" && !isNew }, spec.value ? spec.value(entry) : get(entry, spec.path)),
      el("small", { class: "field-error", hidden: true }));
    return box;
  }));
  form.elements.effective.value = "";
  clearErrors();
  show("editor");
  form.querySelector("input, select, textarea")?.focus();
}

function entryFromForm() {
  const form = $("editor");
  const entry = clone(editing.entry);
  for (const spec of specs(editing.kind)) read(form, spec, entry);
  return entry;
}

function clearErrors() {
  $("form-error").hidden = true;
  $("form-error").textContent = "";
  for (const f of document.querySelectorAll(".field")) {
    f.classList.remove("invalid");
    const small = f.querySelector(".field-error");
    small.hidden = true;
    small.textContent = "";
  }
}

// Put each refused field's message next to its input: `items.<id>.hours.hours.0` → the field
// "hours.hours"; anything not on this form goes above it.
function showErrors(problem, kind, id) {
  clearErrors();
  const general = [];
  const fields = [...document.querySelectorAll("#fields .field")];
  for (const e of problem.errors || [{ field: "", message: problem.detail }]) {
    const parts = e.field.split(".");
    let rest = null;
    if (kind === "hall" && parts[0] === "hall") rest = parts.slice(1).join(".");
    else if (parts[0] === kind && parts[1] === id) rest = parts.slice(2).join(".");
    const box = rest === null ? null : fields.find((f) => rest === f.dataset.field || rest.startsWith(`${f.dataset.field}.`) || f.dataset.field.startsWith(`${rest}.`))
      || (rest === "" ? null : fields.find((f) => f.dataset.field.split(".")[0] === rest.split(".")[0]));
    const said = (e.says && e.says[cfg.lang]) || e.message; // the page's language when the server words it
    if (box) {
      box.classList.add("invalid");
      const small = box.querySelector(".field-error");
      small.textContent = small.textContent ? `${small.textContent}; ${said}` : said;
      small.hidden = false;
    } else general.push(e.field ? `${e.field}: ${said}` : said);
  }
  $("form-error").textContent = [t("fix_fields"), ...general].join(" ");
  $("form-error").hidden = false;
}

async function previewEdit(event) {
  event.preventDefault();
  const kind = editing.kind;
  const entry = entryFromForm();
  const body = { base_rev: doc.rev };
  if (kind === "hall") body.hall = entry;
  else body[kind] = [entry];
  if (kind === "items") {
    // The windows that serve the item are chosen on its form: send those whose list changes.
    const chosen = new Set(editing.windows || []);
    const windows = entries("windows").filter((w) => chosen.has(w.id) !== w.items.includes(entry.id)).map((w) => ({
      ...clone(w), items: chosen.has(w.id) ? [...w.items, entry.id] : w.items.filter((i) => i !== entry.id) }));
    if (windows.length) body.windows = windows;
  }
  const effective = $("editor").elements.effective.value;
  if (effective) body.effective = effective;
  await preview({ path: ADMIN("/catalog"), body, kind, id: kind === "hall" ? "" : entry.id, form: true });
}

async function quick(kind, entry, retired) {
  await preview({ path: ADMIN("/catalog"), body: { base_rev: doc.rev, [kind]: [{ ...clone(entry), retired }] }, kind, id: entry.id, form: false });
}

async function preview(request) {
  status("");
  try {
    const plan = request.type
      ? await api(`${request.path}${request.query}&dry_run=true`, { method: "POST", body: request.body, type: request.type })
      : await api(request.path, { method: "POST", body: { ...request.body, dry_run: true } });
    pending = request;
    drawDiff(plan);
    show("confirm");
  } catch (e) {
    if (!(e instanceof Problem)) return status(`${t("error")}: ${e.message}`);
    if (request.form) showErrors(e.problem, request.kind, request.id);
    else status(`${t("error")}: ${e.message}`);
  }
}

async function save() {
  if (!pending) return;
  $("save").disabled = true;
  $("confirm-error").hidden = true;
  try {
    const r = pending.type
      ? await api(`${pending.path}${pending.query}`, { method: "POST", body: pending.body, type: pending.type })
      : await api(pending.path, { method: "POST", body: pending.body });
    pending = null;
    await load();
    status(t("saved", { rev: r.rev, when: r.effective === doc.today ? t("effective_now") : t("effective_from", { day: r.effective }) }));
  } catch (e) {
    $("confirm-error").textContent = e.message;
    $("confirm-error").hidden = false;
  } finally {
    $("save").disabled = false;
  }
}

function drawDiff(plan) {
  $("confirm-when").textContent = `${t("h_rev")} ${plan.rev} · ${plan.effective === doc.today ? t("effective_now") : t("effective_from", { day: plan.effective })}`;
  $("diff").replaceChildren(...diffNodes(plan.diff), ...(plan.ignored && plan.ignored.length ? [el("p", { class: "none" }, t("ignored", { files: plan.ignored.join(", ") }))] : []));
}

// A changed field under the form's label when it has one: "每日限号 (daily_quota)".
function fieldName(field) {
  const last = field.split(".").at(-1);
  const key = { notice: "f_notice", screens: "f_voice_screens", closed_days: "f_closed_days", working_days: "f_working_days" }[last] || `f_${last}`;
  return t(key) === key ? field : `${t(key)} (${field})`;
}

function fieldTable(changes) {
  return el("table", { class: "data" },
    el("thead", {}, el("tr", {}, el("th", {}, t("d_field")), el("th", {}, t("d_before")), el("th", {}, t("d_after")))),
    el("tbody", {}, changes.map((c) => el("tr", { "data-field": c.field },
      el("td", {}, fieldName(c.field)), el("td", { class: "before" }, shown(c.before)), el("td", { class: "after" }, shown(c.after))))));
}

function diffNodes(d) {
  const out = [];
  if (d.hall.length) out.push(el("section", { "data-diff": "hall" }, el("h3", {}, t("d_hall")), fieldTable(d.hall)));
  for (const kind of ["departments", "items", "windows", "kiosks"]) {
    const s = d[kind];
    const parts = [];
    for (const what of ["added", "retired", "restored", "removed"]) {
      if (s[what].length) parts.push(el("p", { "data-what": what }, `${t(`d_${what}`)}：`, s[what].map((e) => `${e.name} (${e.id})`).join("、")));
    }
    for (const c of s.changed) parts.push(el("div", { "data-changed": c.id }, el("h4", {}, `${t("d_changed")}：${c.name} (${c.id})`), fieldTable(c.fields)));
    if (parts.length) out.push(el("section", { "data-diff": kind }, el("h3", {}, t(`d_${kind}`)), ...parts));
  }
  return out.length ? out : [el("p", {}, t("no_change"))];
}

// -- lists ---------------------------------------------------------------------------------------
function actions(kind, e) {
  return el("td", { class: "actions-cell" },
    el("button", { type: "button", "data-action": "edit", onclick: () => openEditor(kind, e, false) }, t("edit")), " ",
    e.retired
      ? el("button", { type: "button", "data-action": "restore", onclick: () => quick(kind, e, false) }, t("restore"))
      : el("button", { type: "button", "data-action": "retire", onclick: () => quick(kind, e, true) }, t("retire")));
}

function table(kind, heads, row) {
  const add = el("button", { type: "button", "data-action": "add", onclick: () => openEditor(kind, BLANK[kind](), true) }, t("add"));
  return [add, el("table", { class: "data", "data-list": kind },
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, t(h))), el("th", {}, ""))),
    el("tbody", {}, entries(kind).map((e) => el("tr", { "data-id": e.id, class: e.retired ? "retired" : "" }, row(e), actions(kind, e)))))];
}

function posts(windowId) {
  const of = (post) => users.filter((u) => u.role === "clerk" && u.post === post && u.windows.includes(windowId)).map((u) => u.name).join("、") || "—";
  return `${of("A")} / ${of("B")}`;
}

const LISTS = {
  hall() {
    const h = doc.document.hall;
    return [el("table", { class: "data" }, el("tbody", {},
      [["f_name", h.name], ["f_notice", h.notice], ["f_voice_screens", (h.voice?.screens || []).join(", ") || "—"],
        ["f_opening_hours", (h.opening?.hours || []).join(", ")], ["f_closed_days", (h.calendar?.closed_days || []).join(", ") || "—"],
        ["f_working_days", (h.calendar?.working_days || []).join(", ") || "—"]].map(([k, v]) => el("tr", {}, el("th", {}, t(k)), el("td", {}, v))))),
    el("button", { type: "button", "data-action": "edit", onclick: () => openEditor("hall", h, false) }, t("edit"))];
  },
  departments: () => table("departments", ["f_id", "f_name", "h_state"], (d) => [el("td", {}, d.id), el("td", {}, d.name), el("td", {}, t(d.retired ? "retired" : "active"))]),
  items: () => table("items", ["f_prefix", "f_name", "f_department", "f_case_type", "f_daily_quota", "h_state"], (i) => [
    el("td", {}, i.prefix), el("td", {}, i.name), el("td", {}, nameOf("departments", i.department)), el("td", {}, t(`case_${i.case_type}`)),
    el("td", {}, i.daily_quota ?? "—"), el("td", {}, t(i.retired ? "retired" : "active"))]),
  windows: () => [
    el("p", {}, el("a", { href: `/terminal/${encodeURIComponent(doc.hall)}/staff` }, t("posts_link"))),
    ...table("windows", ["f_name", "f_kind", "f_items", "f_posts", "h_state"], (w) => [
      el("td", {}, w.name), el("td", {}, t(`kind_${w.kind}`)), el("td", {}, w.items.map((i) => nameOf("items", i)).join("、")),
      el("td", {}, posts(w.id)), el("td", {}, t(w.retired ? "retired" : "active"))])],
  history: () => [el("table", { class: "data", "data-list": "history" },
    el("thead", {}, el("tr", {}, ["h_rev", "h_at", "h_by", "h_effective", "h_summary", "h_state"].map((h) => el("th", {}, t(h))), el("th", {}, ""))),
    el("tbody", {}, doc.revisions.map((r) => el("tr", { "data-rev": r.rev },
      el("td", {}, r.rev), el("td", {}, r.at ? r.at.slice(0, 19).replace("T", " ") : "—"), el("td", {}, r.by),
      el("td", {}, r.effective || "—"), el("td", {}, r.rev ? r.summary : t("config_files")),
      el("td", {}, r.withdrawn ? `${t("withdrawn")} (${r.withdrawn.by})` : r.in_force ? t("in_force") : r.pending ? t("pending") : ""),
      el("td", {}, r.rev ? el("button", { type: "button", onclick: () => showRevision(r.rev) }, t("view")) : "",
        r.pending && r.rev === doc.rev ? [" ", el("button", { type: "button", "data-action": "withdraw", onclick: () => withdraw(r.rev) }, t("withdraw"))] : "")))))],
  transfer: () => {
    const files = el("input", { type: "file", id: "import-files", multiple: true, accept: ".zip,.yaml,.yml" });
    const withHall = el("input", { type: "checkbox", id: "import-with-hall" });
    const effective = el("input", { type: "date", id: "import-effective" });
    return [
      el("h3", {}, t("export")), el("p", {}, t("export_hint")),
      el("button", { type: "button", id: "export", onclick: () => download(ADMIN("/export"), `${doc.hall}-config.zip`) }, t("export")),
      el("h3", {}, t("import")), el("p", {}, t("import_hint")),
      el("p", {}, files), el("p", {}, el("label", {}, withHall, ` ${t("import_with_hall")}`)),
      el("p", {}, el("label", {}, `${t("effective")} `, effective, ` ${t("effective_hint")}`)),
      el("button", { type: "button", id: "import-preview", onclick: () => previewImport(files.files, withHall.checked, effective.value) }, t("import_preview")),
    ];
  },
};

async function previewImport(fileList, withHall, effective) {
  const picked = [...fileList];
  if (!picked.length) return;
  const zip = picked.find((f) => f.name.toLowerCase().endsWith(".zip"));
  if (zip) {
    const query = `?base_rev=${doc.rev}&with_hall=${withHall}${effective ? `&effective=${effective}` : ""}`;
    return preview({ path: ADMIN("/import"), query, body: zip, type: "application/zip", kind: "import", form: false });
  }
  const files = Object.fromEntries(await Promise.all(picked.map(async (f) => [f.name, await f.text()])));
  const body = { base_rev: doc.rev, files, with_hall: withHall, ...(effective ? { effective } : {}) };
  return preview({ path: ADMIN("/import"), body, kind: "import", form: false });
}

async function withdraw(rev) {
  if (!window.confirm(t("withdraw_confirm", { rev }))) return;
  try {
    await api(ADMIN(`/revisions/${rev}/withdraw`), { method: "POST" });
    await load();
    status(t("withdrawn_done", { rev }));
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}

async function showRevision(rev) {
  try {
    const r = await api(ADMIN(`/revisions/${rev}`));
    pending = null;
    $("confirm-when").textContent = `${t("h_rev")} ${r.rev} · ${r.by} · ${r.at ? r.at.slice(0, 16).replace("T", " ") : ""} · ${t("h_effective")} ${r.effective}`;
    $("diff").replaceChildren(...diffNodes(r.diff));
    $("save").hidden = true;
    show("list", "confirm");
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}

function draw() {
  for (const b of document.querySelectorAll("[data-tab]")) b.setAttribute("aria-current", b.dataset.tab === tab ? "page" : "false");
  const inForce = doc.revisions.find((r) => r.in_force);
  const waiting = doc.revisions.filter((r) => r.pending);
  $("rev-line").replaceChildren(t("rev_line", { rev: inForce ? inForce.rev : 0 }),
    ...waiting.map((r) => el("span", { class: "pending" }, t("rev_pending", { rev: r.rev, day: r.effective }))));
  $("list").replaceChildren(...LISTS[tab]());
  $("save").hidden = false;
  show("list");
}

async function load() {
  doc = await api(ADMIN("/catalog"));
  users = await api(hallApi("/users")).catch(() => []);
  document.body.dataset.rev = String(doc.rev);
  draw();
}

$("editor").addEventListener("submit", previewEdit);
$("cancel").addEventListener("click", () => show("list"));
$("save").addEventListener("click", save);
$("back-to-form").addEventListener("click", () => (pending && pending.form ? show("editor") : draw()));
for (const b of document.querySelectorAll("[data-tab]")) b.addEventListener("click", () => { tab = b.dataset.tab; status(""); draw(); });

start(async (session) => {
  try {
    await load();
    await showHolidays(session);
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}, new Set(["manager", "admin"]));
