// A window's own screen above the counter: its name, current number, clerk, leave notice.
import { deviceOf } from "/static/common/device.js";
import { HallView, connect, messages } from "/static/common/hallq.js";

const config = JSON.parse(document.getElementById("config").textContent);
const t = messages();
const view = new HallView();
const $ = (id) => document.getElementById(id);

function draw() {
  const w = view.windows.get(config.window);
  if (!w) return;
  document.body.dataset.state = w.state;
  $("ws-name").textContent = w.name;
  const paused = w.state === "paused" || w.state === "closed";
  $("ws-label").textContent = paused ? t[w.state] : t.now_serving;
  $("ws-number").textContent = w.ticket ? w.ticket.number : paused ? "" : t.none;
  $("ws-clerk").textContent = w.clerk ? `${w.clerk.name} · ${t.clerk} ${w.clerk.staff_no}` : "";
  const notice = $("ws-notice");
  if (w.state === "paused" && w.pause) {
    notice.hidden = false;
    notice.textContent = w.pause.until ? `${w.pause.reason} · ${t.until} ${w.pause.until.slice(11, 16)}` : w.pause.reason;
  } else if (w.state === "closed") {
    notice.hidden = false;
    notice.textContent = t.window_closed;
  } else {
    notice.hidden = true;
  }
  document.body.dataset.seq = String(view.seq);
}

const device = deviceOf(config); // in a hall that requires registered devices: this screen's token
await device.ready();
const feed = connect({
  hall: config.hall,
  query: () => ({ window: config.window, ...device.query() }),
  onStatus: (status, code) => {
    $("offline").hidden = status === "online";
    document.body.dataset.status = status;
    if (status === "offline") device.suspect(code);
  },
  onMessage: (msg) => {
    const change = view.apply(msg);
    if (change.snapshot || change.event) draw();
  },
});
device.onApproved(() => feed.retry());
