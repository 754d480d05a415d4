// The page's session: JSON requests with the session cookie and its CSRF token, and logout.
//
// The cookie is HttpOnly, so no script can read it; the CSRF token comes with the page (its
// config block) and goes with every request that changes something.

export const config = JSON.parse(document.getElementById("config").textContent);

export class ApiError extends Error {
  constructor(status, problem) {
    // A problem in the page's language when the server words it (`says`), else its detail.
    super((problem && ((problem.says && problem.says[config.lang]) || problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["X-CSRF-Token"] = config.csrf || "";
    headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: method === "GET" ? undefined : JSON.stringify(body || {}),
  });
  if (resp.status === 401 && config.hall) {
    // The session ended (logout elsewhere, password reset, account disabled): log in again.
    location.assign(`/terminal/${config.hall}/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, null);
  }
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => null);
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body),
  patch: (path, body) => request("PATCH", path, body),
};

export function bindLogout() {
  const button = document.getElementById("logout");
  if (!button) return;
  button.addEventListener("click", async () => {
    try {
      await api.post("/api/v1/auth/logout");
    } finally {
      location.assign(`/terminal/${config.hall}/login`);
    }
  });
}

// The i18n block of the page, with {name} placeholders filled in.
const words = JSON.parse((document.getElementById("i18n") || { textContent: "{}" }).textContent);
export function t(key, values = {}) {
  const s = words[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));
}

// Is the keyboard busy with typing (so single-letter shortcuts must not fire)?
export function typing(target) {
  if (!target || !target.tagName) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  return !["checkbox", "radio", "button", "submit"].includes(target.type);
}
