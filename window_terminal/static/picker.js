// Pick a window with a digit key or the arrow keys.
import { bindLogout } from "./session.js";

bindLogout();
const links = [...document.querySelectorAll(".window-link")];
if (links.length) links[0].focus();

document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const n = Number(e.key);
  if (n >= 1 && n <= 9 && links[n - 1]) {
    e.preventDefault();
    links[n - 1].click();
    return;
  }
  const i = links.indexOf(document.activeElement);
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    const next = e.key === "ArrowDown" ? Math.min(links.length - 1, i + 1) : Math.max(0, i - 1);
    links[next]?.focus();
  }
});
