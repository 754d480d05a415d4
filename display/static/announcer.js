// The announcement queue of one screen: calls are spoken one after another, each with a chime
// and repeated, never cut off and never dropped, however many windows call at once. Calls
// older than maxAgeMs when they reach the screen (a reconnect replaying what it missed) are
// shown but not spoken; while the browser blocks audio the newest few are held for the tap.

export class Announcer {
  // speakers: {chime(): Promise, speak(call): Promise}; each resolves when done (or fails).
  // ageOf(call): how old the call is in ms by the hall's clock (null: unknown, treated as fresh).
  constructor({ chime, speak, repeat = 2, gapMs = 400, timeoutMs = 12000, maxAgeMs = 60000, holdMax = 5, ageOf = () => null }) {
    this.chime = chime;
    this.speak = speak;
    this.repeat = repeat;
    this.gapMs = gapMs;
    this.timeoutMs = timeoutMs;
    this.maxAgeMs = maxAgeMs;
    this.holdMax = holdMax;
    this.ageOf = ageOf;
    this.queue = [];
    this.busy = false;
    this.enqueued = []; // every call received, in order
    this.log = []; // what was announced, in order (for the screen's tests and diagnostics)
    this.stale = []; // calls received too late to be spoken (shown only)
    this.held = []; // calls waiting for the tap that lets the browser play audio
    this.blocked = false; // set by block() when the browser refuses audio until a tap
  }

  fresh(call) {
    const age = this.ageOf(call);
    return age === null || age === undefined || Number.isNaN(age) || age <= this.maxAgeMs;
  }

  enqueue(call) {
    this.enqueued.push({ number: call.number, window: call.window });
    if (!this.fresh(call)) {
      this.stale.push({ number: call.number, window: call.window });
      return;
    }
    if (this.blocked) {
      this.#hold(call);
      return;
    }
    this.queue.push(call);
    if (!this.busy) this.#drain();
  }

  // The browser refused to play: stop announcing and keep calls until unblock().
  block() {
    this.blocked = true;
  }

  // The tap came: announce what was held (still fresh), then go on as usual.
  unblock() {
    if (!this.blocked) return;
    this.blocked = false;
    const held = this.held.filter((c) => this.fresh(c));
    this.held = [];
    this.queue.unshift(...held);
    if (!this.busy && this.queue.length) this.#drain();
  }

  #hold(call) {
    this.held.push(call);
    // Bounded: a screen nobody taps for an hour must not recite the morning afterwards.
    if (this.held.length > this.holdMax) this.held.splice(0, this.held.length - this.holdMax);
  }

  get pending() {
    return this.queue.length + (this.busy ? 1 : 0);
  }

  async #step(promiseFactory) {
    // A speech engine that never answers must not stop the hall: give up after a while.
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(resolve, this.timeoutMs); });
    try {
      await Promise.race([Promise.resolve().then(promiseFactory).catch(() => {}), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #drain() {
    this.busy = true;
    try {
      while (this.queue.length && !this.blocked) {
        const call = this.queue.shift();
        await this.#step(() => this.chime());
        if (this.blocked) {
          // The chime was refused: this call and those behind it wait for the tap.
          for (const c of [call, ...this.queue.splice(0)]) this.#hold(c);
          break;
        }
        this.log.push({ number: call.number, window: call.window, at: Date.now() });
        for (let i = 0; i < this.repeat; i++) {
          await this.#step(() => this.speak(call));
          await new Promise((r) => setTimeout(r, this.gapMs));
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

// Browser speakers: zh-CN speech synthesis when the system has a Chinese voice, otherwise the
// server's offline audio for the call, otherwise nothing (the chime still plays).
export function browserSpeakers({ hall, onBlocked }) {
  const synth = window.speechSynthesis;
  const chineseVoice = () => (synth ? synth.getVoices().find((v) => /^zh(-|_|$)/i.test(v.lang)) : null);

  function play(url) {
    return new Promise((resolve, reject) => {
      const audio = new Audio(url);
      audio.onended = resolve;
      audio.onerror = reject;
      audio.play().catch((err) => {
        if (err && err.name === "NotAllowedError") onBlocked();
        reject(err);
      });
    });
  }

  return {
    chime: () => play("/display/chime.wav"),
    speak(call) {
      const voice = chineseVoice();
      if (voice) {
        return new Promise((resolve) => {
          const u = new SpeechSynthesisUtterance(call.speech);
          u.voice = voice;
          u.lang = voice.lang;
          u.rate = 0.9;
          u.onend = resolve;
          u.onerror = resolve;
          synth.speak(u);
        });
      }
      return play(`/display/${encodeURIComponent(hall)}/calls/${encodeURIComponent(call.number)}/${encodeURIComponent(call.window)}.wav`);
    },
  };
}
