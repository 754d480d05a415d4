// The announcement queue of one screen: calls are spoken one after another, each with a chime
// and repeated, never cut off and never dropped, however many windows call at once.

export class Announcer {
  // speakers: {chime(): Promise, speak(call): Promise}; each resolves when done (or fails).
  constructor({ chime, speak, repeat = 2, gapMs = 400, timeoutMs = 12000 }) {
    this.chime = chime;
    this.speak = speak;
    this.repeat = repeat;
    this.gapMs = gapMs;
    this.timeoutMs = timeoutMs;
    this.queue = [];
    this.busy = false;
    this.enqueued = []; // every call received, in order
    this.log = []; // what was announced, in order (for the screen's tests and diagnostics)
    this.blocked = null; // set by the screen when the browser blocks audio until a tap
  }

  enqueue(call) {
    this.enqueued.push({ number: call.number, window: call.window });
    this.queue.push(call);
    if (!this.busy) this.#drain();
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
      while (this.queue.length) {
        const call = this.queue.shift();
        this.log.push({ number: call.number, window: call.window, at: Date.now() });
        await this.#step(() => this.chime());
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
