// 差评整改: every bad review's loop, and the promised cases coming due.
import { api, el, exportButtons, hallApi, start, status, t } from "./common.js";

async function recordStep(ticket, step, note) {
  try {
    await api(hallApi(`/reviews/${encodeURIComponent(ticket)}/steps`), { method: "POST", body: { step, note } });
    await show();
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}

function stepForm(r, allowed) {
  if (r.closed || !allowed.length) return "";
  const select = el("select", { name: "step" }, allowed.map((s) => el("option", { value: s }, t(`step_${s}`))));
  const note = el("input", { name: "note", placeholder: t("note"), required: true, maxlength: 500 });
  return el("form", { class: "step-form", onsubmit: (e) => { e.preventDefault(); recordStep(r.ticket, select.value, note.value); } },
    select, note, el("button", { type: "submit" }, t("record")));
}

async function show() {
  try {
    status("");
    const data = await api(hallApi("/reviews"));
    // Open ones whatever their age, closed ones of the last 30 days.
    const since = new Date(Date.now() - 30 * 864e5).toISOString().slice(0, 10);
    data.reviews = data.reviews.filter((r) => !r.closed || r.rated_on >= since);
    const body = document.getElementById("reviews");
    if (!data.reviews.length) body.replaceChildren(el("tr", {}, el("td", { colspan: 9 }, t("no_reviews"))));
    else
      body.replaceChildren(
        ...data.reviews.map((r) =>
          el("tr", { class: r.closed ? "closed" : "", "data-ticket": r.ticket },
            el("td", {}, `${r.rated_on} ${r.number}`),
            el("td", {}, `${r.item_name} / ${r.window_name ?? "—"}`),
            el("td", { class: "num" }, r.score),
            el("td", {}, r.comment),
            el("td", {}, t(`review_${r.status}`)),
            el("td", {}, r.assignee_name ?? r.assignee ?? t("managers")),
            el("td", {}, r.due ?? "—"),
            el("td", {}, el("ol", { class: "steps" }, r.steps.map((s) => el("li", {}, `${s.at.slice(0, 16).replace("T", " ")} ${t(`step_${s.step}`)} ${s.by_name ?? (s.by === "supervisor" ? t("by_supervision") : s.by)}${s.note ? ": " + s.note : ""}`)))),
            el("td", { class: "no-print" }, stepForm(r, (data.steps[r.status] || []).filter((s) => s !== "assigned"))),
          ),
        ),
      );
    const cases = await api(hallApi("/cases"));
    const cbody = document.getElementById("cases");
    const due = cases.cases.filter((c) => c.level);
    if (!due.length) cbody.replaceChildren(el("tr", {}, el("td", { colspan: 6 }, t("no_cases"))));
    else
      cbody.replaceChildren(
        ...due.map((c) =>
          el("tr", { class: `level-${c.level}` },
            el("td", {}, c.number), el("td", {}, c.item_name), el("td", {}, c.accepted_on), el("td", {}, c.deadline),
            el("td", { class: "num" }, c.working_days_left),
            el("td", { class: "no-print" }, el("button", { type: "button", onclick: async () => {
              try { await api(hallApi(`/cases/${encodeURIComponent(c.ticket)}/conclude`), { method: "POST", body: {} }); await show(); }
              catch (e) { status(`${t("error")}: ${e.message}`); }
            } }, t("conclude"))),
          ),
        ),
      );
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}

exportButtons();
start(show);
