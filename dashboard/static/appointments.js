// 预约: a day's bookings per item and slot, as GET …/appointments?day= answers them (phones masked).
import { api, el, hallApi, start, status, t } from "./common.js";

const hhmm = (iso) => iso.slice(11, 16);

async function show() {
  const day = document.getElementById("appt-day").value;
  try {
    status("");
    const data = await api(hallApi(`/appointments?day=${encodeURIComponent(day)}`));
    const rows = data.items.flatMap((item) =>
      item.slots
        .filter((s) => s.capacity || s.bookings.length)
        .map((s) =>
          el("tr", { "data-item": item.item, "data-slot": s.start },
            el("td", {}, item.name),
            el("td", {}, `${hhmm(s.start)}–${hhmm(s.end)}`),
            el("td", { class: "num" }, s.capacity),
            el("td", { class: "num" }, s.booked),
            el("td", { class: "num" }, s.checked_in),
            el("td", { class: "num" }, s.missed),
            el("td", { class: "num" }, s.cancelled),
            el("td", {}, el("ul", { class: "steps" }, s.bookings.map((b) =>
              el("li", {}, `${b.code} ${b.phone ?? ""} ${t(`appt_status_${b.status}`)}${b.ticket_number ? " → " + b.ticket_number : ""}`)))),
          ),
        ),
    );
    const body = document.getElementById("appointments");
    body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 8 }, t("appt_none")))]));
  } catch (e) {
    status(`${t("error")}: ${e.message}`);
  }
}

document.getElementById("appt-form").addEventListener("submit", (e) => {
  e.preventDefault();
  show();
});
start(show);
