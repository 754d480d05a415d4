// The kiosk's small parts: elements, tiles, the on-screen keyboards and the pinyin search.

export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

export function tile(title, sub, onTap, cls = "") {
  const b = el("button", `tile ${cls}`);
  b.type = "button";
  b.append(el("span", "tile-title", title));
  if (sub) b.append(el("span", "tile-sub", sub));
  b.addEventListener("click", onTap);
  return b;
}

// The items whose pinyin initials (or pinyin) start with what was typed, then those containing it.
export function matches(items, query) {
  if (!query) return [];
  const all = [...items];
  const starts = all.filter((i) => i.initials.startsWith(query) || i.pinyin.startsWith(query));
  const inside = all.filter((i) => !starts.includes(i) && (i.initials.includes(query) || i.pinyin.includes(query)));
  return [...starts, ...inside].slice(0, 12);
}

export function keyboard(container, keys, onKey, t) {
  const buttons = keys.map((k) => {
    const b = el("button", "key", k);
    b.type = "button";
    b.dataset.key = k;
    b.addEventListener("click", () => onKey(k));
    return b;
  });
  const del = el("button", "key wide", t("delete"));
  del.type = "button";
  del.dataset.t = "delete";
  del.addEventListener("click", () => onKey("DEL"));
  const clear = el("button", "key wide", t("clear"));
  clear.type = "button";
  clear.dataset.t = "clear";
  clear.addEventListener("click", () => onKey("CLR"));
  container.replaceChildren(...buttons, del, clear);
}

export function typed(value, key, max) {
  if (key === "DEL") return value.slice(0, -1);
  if (key === "CLR") return "";
  return value.length < max ? value + key : value;
}
