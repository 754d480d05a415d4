// 全国节假日安排: the years of the national holiday calendar this server knows, and a year an
// admin adds from the State Council's notice (one holiday a line, one swapped working day a line).
// The server checks the table (server/domain/national.py); this page only turns lines into it.
import { api, t } from "./common.js";

const $ = (id) => document.getElementById(id);

async function refresh() {
  const cal = await api("/api/v1/calendar");
  const c = cal.coverage;
  $("holiday-known").textContent = t("holiday_known", { first: cal.years[0], last: cal.years[cal.years.length - 1], until: c.covered_until, days: c.days_left });
  $("holiday-form").elements.year.value = c.next_year;
}

// "春节 2027-02-05 2027-02-11" → {name, start, end}; "2027-02-14 春节" → {date, for}
function parse(form) {
  const lines = (name) => form.elements[name].value.split("\n").map((l) => l.trim()).filter(Boolean);
  const holidays = lines("holidays").map((line) => {
    const [name, start, end] = line.split(/\s+/);
    return { name, start, end: end || start };
  });
  const workdays = lines("workdays").map((line) => {
    const [date, name] = line.split(/\s+/);
    return { date, for: name || "" };
  });
  return { year: Number(form.elements.year.value), source: form.elements.source.value.trim(), holidays, workdays };
}

async function add(e) {
  e.preventDefault();
  const out = $("holiday-result");
  out.className = "";
  try {
    const body = parse(e.target);
    await api("/api/v1/calendar/years", { method: "POST", body });
    out.textContent = t("holiday_added", { year: body.year });
    e.target.reset();
    await refresh();
  } catch (err) {
    out.className = "error";
    out.textContent = `${t("error")}: ${err.message}`;
  }
}

export async function showHolidays(session) {
  const box = $("holidays");
  if (!box) return;
  box.hidden = false;
  $("holiday-form").hidden = session.role !== "admin";
  $("holiday-form").addEventListener("submit", add);
  await refresh();
}
