// Registered devices: a kiosk, screen or evaluator page in a hall that requires them keeps its
// device token in localStorage. Without one it registers, shows its six-digit code full screen
// and asks for its token every few seconds; once a manager approves it, the token is stored and
// the page goes on by itself. A refused token (revoked) brings the registration back.

export class Device {
  // {hall, kind, place, name, required, lang, words: {lang: {key: text}}} (the catalogue's `device` words)
  constructor({ hall, kind, place = "", name = "", required = false, lang = "zh-CN", words = {} }) {
    Object.assign(this, { hall, kind, place, name, required, lang, words });
    this.key = `hallq.device.${hall}.${kind}`;
    this.listeners = [];
    this.waiters = [];
    this.polling = false;
    this.checking = false;
  }

  get token() {
    return this.required ? localStorage.getItem(this.key) : null;
  }

  headers() {
    return this.token ? { "X-Device-Token": this.token } : {};
  }

  query() {
    return this.token ? { device: this.token } : {};
  }

  // Called once the device holds an approved token again (after a revocation and a new approval).
  onApproved(fn) {
    this.listeners.push(fn);
  }

  // Resolves when the page may start: at once in a hall without registration, else with a token
  // the server still accepts.
  async ready() {
    if (!this.required) return;
    if (this.token) {
      const state = await this.verify();
      if (state !== "refused") {
        this.mark("approved");
        return;
      }
      localStorage.removeItem(this.key);
    }
    await new Promise((resolve) => {
      this.waiters.push(resolve);
      this.register();
    });
  }

  // "ok", "refused" (401/403: revoked or unknown) or "unreachable".
  async verify() {
    try {
      const r = await fetch(`${this.api()}/devices/self`, { headers: this.headers(), cache: "no-store" });
      if (r.ok) {
        const me = await r.json();
        this.follow(me);
        return "ok";
      }
      return r.status === 401 || r.status === 403 ? "refused" : "unreachable";
    } catch {
      return "unreachable";
    }
  }

  // The server refused this device (a 401/403 answer, or its websocket closed as revoked).
  lost() {
    if (!this.required || this.polling) return;
    localStorage.removeItem(this.key);
    localStorage.removeItem(`${this.key}.pending`);
    this.register();
  }

  // A websocket went away: if it was closed for a revoked device, or the token is refused now, register again.
  async suspect(code) {
    if (!this.required || this.polling || this.checking) return;
    if (code === 4401) return this.lost();
    this.checking = true;
    try {
      if (this.token && (await this.verify()) === "refused") this.lost();
      else if (!this.token) this.lost();
    } finally {
      this.checking = false;
    }
  }

  api() {
    return `/api/v1/halls/${encodeURIComponent(this.hall)}`;
  }

  t(key) {
    return (this.words[this.lang] || this.words["zh-CN"] || {})[key] ?? key;
  }

  mark(state) {
    document.body.dataset.device = state;
  }

  // A device approved for another kiosk or window than this page's goes to its own page.
  follow(me) {
    const bound = me.kiosk || me.window;
    if (bound && this.place && bound !== this.place) {
      location.replace(location.pathname.replace(/[^/]+$/, encodeURIComponent(bound)) + location.search);
    }
  }

  async register() {
    this.polling = true;
    this.mark("registering");
    let pending = null;
    try {
      pending = JSON.parse(localStorage.getItem(`${this.key}.pending`) || "null");
    } catch {
      pending = null;
    }
    while (this.polling) {
      try {
        if (!pending) {
          const r = await fetch(`${this.api()}/devices`, {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ kind: this.kind, place: this.place, name: this.name.slice(0, 80) }),
          });
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          pending = await r.json();
          localStorage.setItem(`${this.key}.pending`, JSON.stringify({ id: pending.id, claim: pending.claim, code: pending.code }));
        }
        this.show(pending.code, this.t("waiting"));
        const r = await fetch(`${this.api()}/devices/${encodeURIComponent(pending.id)}/claim`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ claim: pending.claim }),
        });
        const answer = await r.json().catch(() => ({}));
        if (r.ok && answer.status === "approved" && answer.token) {
          localStorage.setItem(this.key, answer.token);
          localStorage.removeItem(`${this.key}.pending`);
          this.polling = false;
          this.hide();
          this.mark("approved");
          this.follow(answer.device || {});
          for (const resolve of this.waiters.splice(0)) resolve();
          for (const fn of this.listeners) fn();
          return;
        }
        if (r.status === 404 || r.status === 409) {
          // Expired, refused or taken already: start a new registration.
          localStorage.removeItem(`${this.key}.pending`);
          pending = null;
          continue;
        }
      } catch {
        this.show(pending ? pending.code : "······", this.t("offline"));
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  show(code, state) {
    let box = document.getElementById("device-registration");
    if (!box) {
      if (!document.querySelector("link[data-device-css]")) {
        const link = document.createElement("link");
        link.rel = "stylesheet";
        link.href = "/static/common/device.css";
        link.dataset.deviceCss = "";
        document.head.append(link);
      }
      box = document.createElement("div");
      box.id = "device-registration";
      box.className = "device-registration";
      box.setAttribute("role", "alertdialog");
      const where = [this.t(this.kind), this.name || this.place].filter(Boolean).join(" · ");
      const inner = document.createElement("div");
      inner.className = "dr-box";
      for (const [tag, cls, text] of [["h1", "dr-title", this.t("title")], ["p", "dr-what", where], ["div", "dr-code", ""],
        ["p", "dr-help", this.t("wait")], ["p", "dr-state", ""]]) {
        const e = document.createElement(tag);
        e.className = cls;
        e.textContent = text;
        inner.append(e);
      }
      box.append(inner);
      document.body.append(box);
    }
    const spaced = code.length === 6 ? `${code.slice(0, 3)} ${code.slice(3)}` : code;
    box.querySelector(".dr-code").textContent = spaced;
    box.querySelector(".dr-code").dataset.code = code;
    box.querySelector(".dr-state").textContent = state;
    box.hidden = false;
  }

  hide() {
    const box = document.getElementById("device-registration");
    if (box) box.remove();
  }
}

// A page's device from its config block: config.device = {required, kind, place, name}.
export function deviceOf(config) {
  return new Device({ hall: config.hall, lang: config.lang, ...(config.device || {}) });
}
