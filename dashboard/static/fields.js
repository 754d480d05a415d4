// The admin page's form widgets: each field reads from and writes to a path of an entry as the
// config files write it (text, numbers, lists, lines, hours, check lists, rows of scheduled hours).
import { el, t } from "./common.js";

export const clone = (x) => JSON.parse(JSON.stringify(x));
export const list = (text) => text.split(/[,，、\s]+/).map((s) => s.trim()).filter(Boolean);
export const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);
export const numbers = (text) => list(text).map(Number);

// spec: {path, label, kind: text|number|textarea|select|checkbox|lines|list|numbers|hours|checks|rows, wide, options,
//        and the model's limits (schema.js): min, max, pattern, minLength, maxLength, required, nullable}
export function get(obj, path) {
  return path.split(".").reduce((o, k) => (o === null || o === undefined ? undefined : o[k]), obj);
}

export function set(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === null || o[k] === undefined || typeof o[k] !== "object") o[k] = {};
    o = o[k];
  }
  if (value === undefined) delete o[keys.at(-1)];
  else o[keys.at(-1)] = value;
}

// The HTML pattern attribute is compiled with the `v` flag, where a class's literal "-" is escaped.
const htmlPattern = (pattern) => pattern && pattern.replace(/-\]/g, "\\-]");

// The model's limits as the input's own attributes: the browser shows them (a number's spinner
// stops at them, :invalid marks a value outside); the server still decides (the form is novalidate).
const textLimits = (spec) => ({ required: spec.required, minlength: spec.minLength, maxlength: spec.maxLength });

export function input(spec, value) {
  const name = spec.path;
  switch (spec.kind) {
    case "textarea":
      return el("textarea", { name, rows: spec.rows || 2, ...textLimits(spec) }, value ?? "");
    case "lines":
      return el("textarea", { name, rows: spec.rows || 4 }, (value || []).join("\n"));
    case "number":
      return el("input", { type: "number", name, value: value ?? "", min: spec.min, max: spec.max, required: spec.required });
    case "checkbox":
      return el("input", { type: "checkbox", name, checked: Boolean(value) });
    case "select":
      return el("select", { name }, spec.options.map(([v, label]) => el("option", { value: v, selected: v === value }, label)));
    case "list":
    case "numbers":
      return el("input", { type: "text", name, value: (value || []).join(", ") });
    case "hours":
      return el("input", { type: "text", name, value: (value || []).join(", "), placeholder: t("hours_hint") });
    case "checks":
      return checks(name, spec.groups, value || []);
    case "rows":
      return rows(name, value || []);
    default:
      return el("input", { type: "text", name, value: value ?? "", readonly: spec.readonly || false,
        pattern: htmlPattern(spec.pattern), ...textLimits(spec) });
  }
}

export function read(form, spec, entry) {
  const node = form.querySelector(`[name="${spec.path}"]`);
  let value;
  switch (spec.kind) {
    case "number":
      value = node.value === "" ? (spec.optional ? null : undefined) : Number(node.value);
      break;
    case "checkbox":
      value = node.checked;
      break;
    case "lines":
      value = lines(node.value);
      break;
    case "list":
      value = list(node.value);
      break;
    case "numbers":
      value = node.value.trim() ? numbers(node.value) : spec.optional ? null : undefined;
      break;
    case "hours":
      value = list(node.value);
      break;
    case "checks":
      value = [...form.querySelectorAll(`[data-checks="${spec.path}"] input:checked`)].map((c) => c.value);
      break;
    case "rows":
      value = readRows(form, spec.path);
      break;
    default:
      value = node.value.trim();
      if (spec.optional && value === "") value = undefined;
  }
  spec.write ? spec.write(entry, value) : set(entry, spec.path, value);
}

function checks(name, groups, chosen) {
  const box = el("div", { class: "checks", "data-checks": name });
  for (const g of groups) {
    box.append(el("fieldset", {}, el("legend", {}, g.label),
      g.options.map(([v, label]) => el("label", {}, el("input", { type: "checkbox", value: v, checked: chosen.includes(v), "data-item": v }), ` ${label}`))));
  }
  return box;
}

function rowNode(s = {}) {
  const schedule = s.schedule || {};
  return el("div", { class: "row" },
    el("input", { type: "text", "data-part": "departments", value: (s.departments || []).join(", "), placeholder: t("f_sched_departments") }),
    el("input", { type: "text", "data-part": "items", value: (s.items || []).join(", "), placeholder: t("f_sched_items") }),
    el("input", { type: "text", "data-part": "weekdays", value: (schedule.weekdays || [1, 2, 3, 4, 5]).join(", "), placeholder: t("f_weekdays") }),
    el("input", { type: "text", "data-part": "hours", value: (schedule.hours || []).join(", "), placeholder: t("f_hours") }),
    el("button", { type: "button", onclick: (e) => e.target.closest(".row").remove() }, t("remove_row")));
}

function rows(name, value) {
  const box = el("div", { class: "rows", "data-rows": name }, value.map(rowNode));
  const add = el("button", { type: "button", onclick: () => box.insertBefore(rowNode(), add) }, t("add_row"));
  box.append(add);
  return box;
}

function readRows(form, name) {
  return [...form.querySelectorAll(`[data-rows="${name}"] .row`)].map((row) => {
    const part = (p) => row.querySelector(`[data-part=${p}]`).value;
    return { departments: list(part("departments")), items: list(part("items")),
      schedule: { weekdays: numbers(part("weekdays")), hours: list(part("hours")) } };
  });
}
