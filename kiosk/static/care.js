// What the kiosk does for the people who find it hard (适老化): the idle countdown that warns
// before going home and can be cancelled, the elderly mode's read-aloud, the call for a member of
// staff, and the sign that a long list scrolls. No rule of the hall lives here.

// The countdown shows in the last `warn` seconds before an untouched kiosk goes home; any touch
// or key (the "keep going" button included) cancels it and starts the wait again.
export function idleGuard({ idleS, atHome, goHome, t, els }) {
  let last = Date.now();
  const touched = () => {
    last = Date.now();
    els.box.hidden = true;
  };
  for (const kind of ["pointerdown", "keydown"]) document.addEventListener(kind, touched, true);
  els.stay.addEventListener("click", touched);
  return {
    // Called once a second; `slower`: the elderly mode gives twice the time.
    check(slower) {
      const limit = idleS * (slower ? 2 : 1);
      const warn = Math.min(20, Math.floor(limit / 2));
      const left = Math.ceil(limit - (Date.now() - last) / 1000);
      if (atHome()) {
        els.box.hidden = true;
      } else if (left <= 0) {
        els.box.hidden = true;
        goHome();
      } else if (left <= warn) {
        els.count.textContent = t("idle_in").replace("{s}", String(left));
        els.box.hidden = false;
      }
      document.body.dataset.idleLeft = els.box.hidden ? "" : String(left);
    },
    touched,
  };
}

// Read a text aloud: the browser's own voice of the page's language when it has one, else (in
// Chinese) the server's espeak-ng voice, asked for by key (the server speaks only its own words).
export function speaker(base) {
  let audio = null;
  const voiceFor = (lang) => {
    const voices = (window.speechSynthesis && window.speechSynthesis.getVoices()) || [];
    const want = lang === "en" ? "en" : "zh";
    return voices.find((v) => v.lang.toLowerCase().replace("_", "-").startsWith(want)) || null;
  };
  function stop() {
    if (window.speechSynthesis) window.speechSynthesis.cancel();
    if (audio) audio.pause();
    audio = null;
  }
  return {
    stop,
    // query: what the server would speak ("prompt=care_home", "item=…", "ticket=…"); text: the same words here.
    say(query, text, lang) {
      stop();
      const voice = voiceFor(lang);
      document.body.dataset.spoken = query;
      if (voice && text) {
        const u = new SpeechSynthesisUtterance(text);
        u.voice = voice;
        u.lang = voice.lang;
        u.rate = 0.85;
        window.speechSynthesis.speak(u);
      } else if (lang !== "en") {
        audio = new Audio(`${base}/speech.wav?${query}`);
        audio.play().catch(() => {});
      }
    },
  };
}

// A box that scrolls says so, until its end is in sight.
export function scrollHint(box, hint) {
  const update = () => {
    const more = box.scrollHeight - box.clientHeight - box.scrollTop > 4;
    hint.hidden = !more;
    box.classList.toggle("scrolls", more);
  };
  box.addEventListener("scroll", update, { passive: true });
  window.addEventListener("resize", update);
  return update;
}

// When the hall (or an item) issues next, in words: "今天 13:30", "明天 08:30", "12月7日星期一 08:30".
export function whenText(iso, today, lang, timeZone, t) {
  const at = new Date(iso);
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 16);
  const next = new Date(`${today}T12:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  if (day === today) return `${t("today")} ${time}`;
  if (day === next.toISOString().slice(0, 10)) return `${t("tomorrow")} ${time}`;
  return `${dayText(at, lang, timeZone)} ${time}`;
}

export function dayText(date, lang, timeZone) {
  return date.toLocaleDateString(lang === "en" ? "en-GB" : "zh-CN", { weekday: "long", month: "long", day: "numeric", timeZone });
}
