// The native API with the session cookie. The browser holds no API key: the cookie is
// HttpOnly, and writes carry the CSRF token the server derived from it (GET /web/session).

let csrfToken = "";
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail);
    this.status = status;
    this.body = body;
  }
}

export function setCsrfToken(token) { csrfToken = token; }
export function onUnauthenticated(handler) { onSignedOut = handler; }

export function writeHeaders(extra = {}) {
  return { "X-CSRF-Token": csrfToken, ...extra };
}

async function problemOf(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: keep the status text */ }
  const detail = (body && (body.detail || body.title)) || `${response.status} ${response.statusText}`;
  return new ApiError(response.status, detail, body);
}

// One request; resolves to the parsed JSON (null for 204), rejects with ApiError.
export async function request(method, path, { json, signal, headers = {}, raw = false } = {}) {
  const init = { method, signal, credentials: "same-origin", headers: { ...headers } };
  if (method !== "GET" && method !== "HEAD") Object.assign(init.headers, writeHeaders());
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const error = await problemOf(response);
    if (response.status === 401) onSignedOut(error.message);
    throw error;
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

export const get = (path, opts) => request("GET", path, opts);
export const post = (path, json, opts = {}) => request("POST", path, { ...opts, json });
export const patch = (path, json, opts = {}) => request("PATCH", path, { ...opts, json });
export const del = (path, opts) => request("DELETE", path, opts);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// Markdown → sanitized HTML, rendered by the server (markdown-it-py + nh3).
export async function renderMarkdown(texts) {
  if (texts.length === 0) return [];
  const out = [];
  for (let i = 0; i < texts.length; i += 100) {
    const { html } = await post("/web/render", { texts: texts.slice(i, i + 100) });
    out.push(...html);
  }
  return out;
}
