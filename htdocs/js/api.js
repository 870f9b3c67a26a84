// The dashboard's only door to the server: the public REST API under /api. JSON in and out, the
// session cookie (HttpOnly, never visible here) plus the session's CSRF token in X-CSRF-Token on
// every write, and every failure turned into an ApiError carrying the API's `detail`.

let csrfToken = null;
let onUnauthorized = () => {};

export function setCsrf(token) {
  csrfToken = token || null;
}

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(describe(status, body));
    this.status = status;
    this.body = body;
    this.requestId = body && typeof body === "object" ? body.request_id : undefined;
  }
}

// The problem document's detail, plus each field error of a 422 ("body.name: Field required").
function describe(status, body) {
  let text = "";
  if (body && typeof body === "object" && typeof body.detail === "string") text = body.detail;
  else if (typeof body === "string" && body.trim() !== "") text = body.trim().slice(0, 300);
  else text = status ? `Request failed (HTTP ${status})` : "Request failed";
  if (body && Array.isArray(body.errors)) {
    const parts = body.errors.map((e) => {
      const loc = Array.isArray(e.loc) ? e.loc.join(".") : "";
      return loc ? `${loc}: ${e.msg}` : String(e.msg);
    });
    if (parts.length) text += " — " + parts.join("; ");
  }
  return text;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

// api("GET", "/api/gateway/list") -> parsed JSON (or null for an empty body).
// opts.quiet401: a 401 is the caller's business (login page, session probe).
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method) && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, { detail: `Cannot reach the server (${err.message})` });
  }
  const type = resp.headers.get("Content-Type") || "";
  let data = null;
  if (type.includes("json")) {
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
  } else {
    data = await resp.text();
  }
  if (!resp.ok) {
    const err = new ApiError(resp.status, data);
    if (resp.status === 401 && !opts.quiet401) onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => api("GET", path, undefined, opts);
export const post = (path, body, opts) => api("POST", path, body, opts);
export const put = (path, body, opts) => api("PUT", path, body, opts);
export const patch = (path, body, opts) => api("PATCH", path, body, opts);
export const del = (path, opts) => api("DELETE", path, undefined, opts);

// Path segment from an API value (gateway names, ids).
export const seg = (s) => encodeURIComponent(String(s));

// "?a=1&b=2" from an object, skipping empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else if (v !== undefined && v !== null && v !== "") q.append(k, String(v));
  }
  const s = q.toString();
  return s ? "?" + s : "";
}
