// Staff login: the session goes into an HttpOnly cookie; then on to the page asked for.
import { config, t } from "./session.js";

const form = document.getElementById("login");
const error = document.getElementById("error");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  error.textContent = "";
  const body = { username: form.username.value.trim(), password: form.password.value };
  const resp = await fetch("/api/v1/auth/session", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify(body),
  });
  form.password.value = "";
  if (resp.ok) {
    location.assign(config.next || `/terminal/${config.hall}`);
    return;
  }
  const problem = await resp.json().catch(() => ({}));
  if (resp.status === 429) {
    const seconds = Number(resp.headers.get("Retry-After") || problem.retry_after_s || 900);
    error.textContent = t("locked", { minutes: Math.ceil(seconds / 60) });
  } else if (resp.status === 401) {
    error.textContent = t("bad_login");
  } else {
    error.textContent = problem.detail || `HTTP ${resp.status}`;
  }
  form.password.focus();
});
