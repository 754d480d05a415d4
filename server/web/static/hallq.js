// The hall's live feed for every screen: connect, fold messages into a view, reconnect by itself.
//
// The server sends a snapshot, then events that carry the updated windows and queues, so
// folding is replacing: a screen holds no rule of the hall. After a drop the client
// reconnects with backoff and asks to resume from the last position it saw; the server
// replays what was missed or sends a fresh snapshot.

export class HallView {
  constructor() {
    this.hall = null;
    this.day = null;
    this.seq = 0;
    this.windows = new Map();
    this.queues = new Map();
    this.recentCalls = [];
    this.ticket = null;
    this.clockOffsetMs = 0; // the hall's clock minus this computer's, from the server's `now`
    this.snapshots = 0;
  }

  // The hall's time now, in ms since the epoch, whatever this computer's clock says.
  hallNow() {
    return Date.now() + this.clockOffsetMs;
  }

  // How long ago a call was made, by the hall's clock (null when it carries no time).
  ageOf(call) {
    const at = call && call.at ? Date.parse(call.at) : NaN;
    return Number.isNaN(at) ? null : this.hallNow() - at;
  }

  #heard(now) {
    const t = now ? Date.parse(now) : NaN;
    if (!Number.isNaN(t)) this.clockOffsetMs = t - Date.now();
  }

  // Fold one server message; returns what changed, for the screen to redraw.
  apply(msg) {
    switch (msg.type) {
      case "snapshot": {
        const s = msg.state;
        this.#heard(s.now);
        // Calls this screen had not seen (it was away too long for a replay), oldest first, so a
        // fresh snapshot announces like a replay does; the first snapshot of a page is its start.
        const seen = new Set(this.recentCalls.map(callKey));
        const missed = this.snapshots++ ? s.recent_calls.filter((c) => !seen.has(callKey(c))).reverse() : [];
        this.hall = s.hall;
        this.day = s.day;
        this.seq = msg.seq;
        this.windows = new Map(s.windows.map((w) => [w.id, w]));
        this.queues = new Map(s.queues.map((q) => [q.item, q]));
        this.recentCalls = s.recent_calls.slice();
        return { snapshot: true, calls: missed };
      }
      case "event": {
        this.seq = msg.seq;
        for (const w of msg.windows || []) this.windows.set(w.id, w);
        for (const q of msg.queues || []) this.queues.set(q.item, q);
        if (msg.call) {
          this.recentCalls = [msg.call, ...this.recentCalls.filter(
            (c) => !(c.number === msg.call.number && c.window === msg.call.window))].slice(0, 10);
        }
        // catalog: the hall's catalogue changed (hall administration); refetch what the page shows of it.
        return { event: msg.event, call: msg.call || null, calls: msg.call ? [msg.call] : [], catalog: msg.event.type === "catalog_changed" };
      }
      case "ticket":
        this.seq = Math.max(this.seq, msg.seq);
        this.ticket = msg.ticket;
        return { ticket: msg.ticket };
      case "tick":
        this.#heard(msg.now);
        return { tick: msg };
      default:
        return {};
    }
  }
}

function callKey(c) {
  return `${c.number}|${c.window}|${c.at}`;
}

// connect({hall, query, onMessage, onStatus}) keeps one websocket open to /ws/v1/halls/{hall}.
// `query` may be a function (asked at every connect: a device token may change); onStatus
// hears the close code too (4401: this device was revoked).
export function connect({ hall, query = {}, onMessage, onStatus = () => {} }) {
  let ws = null;
  let seq = null;
  let day = null;
  let attempt = 0;
  let lastHeard = Date.now();
  let tickMs = 15000; // the server's heartbeat period, as its ticks say (every_s)
  let stopped = false;
  let timer = null;

  function url() {
    const params = new URLSearchParams(typeof query === "function" ? query() : query);
    if (seq !== null && day !== null) {
      params.set("since", String(seq));
      params.set("day", day);
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const qs = params.toString();
    return `${scheme}//${location.host}/ws/v1/halls/${encodeURIComponent(hall)}${qs ? "?" + qs : ""}`;
  }

  function open() {
    if (stopped) return;
    ws = new WebSocket(url());
    ws.onopen = () => {
      attempt = 0;
      lastHeard = Date.now();
      onStatus("online");
    };
    ws.onmessage = (e) => {
      lastHeard = Date.now();
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg.type === "snapshot") day = msg.state.day;
      if (msg.type === "tick" && msg.every_s > 0) tickMs = msg.every_s * 1000;
      if (msg.type === "tick" && day && msg.day && msg.day !== day) {
        // A new hall-day began while we were away: start again from a snapshot.
        seq = null;
        day = null;
        ws.close();
        return;
      }
      if (typeof msg.seq === "number" && msg.type !== "pong") seq = msg.seq;
      onMessage(msg);
    };
    ws.onclose = (e) => lost(e.code);
    ws.onerror = () => ws.close();
  }

  function lost(code) {
    onStatus("offline", code);
    if (stopped) return;
    // Exponential backoff with jitter, at most 10 s, so a hall's screens do not stampede.
    const delay = Math.min(10000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt = Math.min(attempt + 1, 6);
    clearTimeout(timer);
    timer = setTimeout(open, delay);
  }

  // A connection that hears nothing — not even the tick — for 1.6 ticks and 2 s (26 s at the
  // usual 15 s) is a hung server or a dead path: show offline at once and connect again. The old
  // socket is dropped, not closed politely: a closing handshake with a frozen server would wait.
  const watchdog = setInterval(() => {
    if (!ws || ws.readyState !== WebSocket.OPEN || Date.now() - lastHeard <= tickMs * 1.6 + 2000) return;
    const dead = ws;
    dead.onclose = dead.onerror = dead.onmessage = null;
    ws = null;
    try {
      dead.close();
    } catch {}
    lost(4408);
  }, 1000);

  open();
  return {
    close() {
      stopped = true;
      clearInterval(watchdog);
      clearTimeout(timer);
      if (ws) ws.close();
    },
    // Connect now rather than after the backoff (the device has just been approved again).
    retry() {
      if (stopped || (ws && ws.readyState <= WebSocket.OPEN)) return;
      attempt = 0;
      clearTimeout(timer);
      open();
    },
    get socket() {
      return ws;
    },
  };
}

// Tiny translation helper: pages embed both languages' strings in a JSON block.
export function messages() {
  const el = document.getElementById("i18n");
  return el ? JSON.parse(el.textContent) : {};
}

// Clock and times in the hall's time zone, whatever the screen's computer is set to.
export function formatClock(date, lang, timeZone) {
  return date.toLocaleTimeString(lang === "en" ? "en-GB" : "zh-CN", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone });
}
