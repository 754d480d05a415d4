// The manager's staff page: add, re-assign, disable and enable accounts, reset passwords, and
// the record of who changed what. The server checks every change (roles, posts, windows).
import { api, bindLogout, config, t } from "./session.js";

const $ = (id) => document.getElementById(id);
const base = `/api/v1/halls/${config.hall}/staff`;
let accounts = [];

bindLogout();

function say(text, error = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", error);
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function button(label, handler, cls = "") {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.className = `small ${cls}`;
  b.addEventListener("click", handler);
  return b;
}

const windowName = (id) => (config.windows.find((w) => w.id === id) || { name: id }).name;
const departmentName = (id) => (config.departments.find((d) => d.id === id) || { name: id || "" }).name;

function draw() {
  const body = $("accounts");
  body.replaceChildren();
  for (const a of accounts) {
    const tr = document.createElement("tr");
    tr.dataset.username = a.username;
    tr.classList.toggle("disabled", a.disabled);
    tr.append(cell(a.username), cell(a.name + (a.disabled ? ` (${t("disabled")})` : "")), cell(a.staff_no), cell(t(a.role)),
      cell(a.windows.map(windowName).join("、")), cell(a.post || ""), cell(departmentName(a.department)));
    const actions = document.createElement("td");
    if (config.roles.includes(a.role) && a.username !== config.user.username) {
      actions.append(
        button(t("edit"), () => edit(a)),
        button(a.disabled ? t("enable") : t("disable"), () => change(a.username, { disabled: !a.disabled })),
        button(t("reset"), () => reset(a.username)),
      );
    }
    if (a.locked_until) actions.append(` ${t("locked_until")} ${a.locked_until.slice(11, 16)}`);
    tr.append(actions);
    body.append(tr);
  }
}

async function load() {
  accounts = await api.get(base);
  draw();
  const changes = await api.get(`${base}/changes`);
  const body = $("changes");
  body.replaceChildren();
  for (const c of changes) {
    const tr = document.createElement("tr");
    const detail = Object.entries(c.detail).map(([k, v]) => Array.isArray(v) && v.length === 2 && c.action !== "added"
      ? `${k}: ${JSON.stringify(v[0])} → ${JSON.stringify(v[1])}` : `${k}: ${JSON.stringify(v)}`).join("; ");
    tr.append(cell(c.at.replace("T", " ").slice(0, 19)), cell(c.by), cell(c.username), cell(t(c.action)), cell(detail));
    body.append(tr);
  }
}

function formBody(form) {
  const body = {
    name: form.name.value.trim(),
    staff_no: form.staff_no.value.trim(),
    role: form.role.value,
    windows: [...form.windows.selectedOptions].map((o) => o.value),
    post: form.post.value || null,
    department: form.department.value || null,
  };
  return body;
}

$("add").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.target;
  const body = { username: form.username.value.trim(), ...formBody(form) };
  if (form.password.value) body.password = form.password.value;
  try {
    const made = await api.post(base, body);
    form.reset();
    say(made.password ? `${made.username} ✓ ${t("new_password")} ${made.password}` : `${made.username} ✓`);
    await load();
  } catch (err) {
    say(err.message, true);
  }
});

async function change(username, body) {
  try {
    await api.patch(`${base}/${encodeURIComponent(username)}`, body);
    say(`${username} ✓ ${t("saved")}`);
    await load();
    return true;
  } catch (err) {
    say(err.message, true);
    return false;
  }
}

async function reset(username) {
  try {
    const answer = await api.post(`${base}/${encodeURIComponent(username)}/password`, {});
    say(`${username}: ${t("new_password")} ${answer.password}`);
    await load();
  } catch (err) {
    say(err.message, true);
  }
}

const dialog = $("edit");
const editForm = dialog.querySelector("form");
let editing = null;

function edit(a) {
  editing = a.username;
  $("edit-username").textContent = a.username;
  $("edit-error").textContent = "";
  editForm.name.value = a.name;
  editForm.staff_no.value = a.staff_no;
  editForm.role.value = a.role;
  for (const o of editForm.windows.options) o.selected = a.windows.includes(o.value);
  editForm.post.value = a.post || "";
  editForm.department.value = a.department || "";
  dialog.showModal();
  editForm.name.focus();
}

editForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    await api.patch(`${base}/${encodeURIComponent(editing)}`, formBody(editForm));
    dialog.close();
    say(`${editing} ✓ ${t("saved")}`);
    await load();
  } catch (err) {
    $("edit-error").textContent = err.message;
  }
});
dialog.querySelector("[data-cancel]").addEventListener("click", () => dialog.close());

load().catch((err) => say(err.message, true));
