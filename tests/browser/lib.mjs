// Helpers of the browser suite: the stack's environment (docs/stack-contract.md), a Node-side API
// client (verifies the stack's self-signed certificate), the Chromium launcher (Debian's
// /usr/bin/chromium, never a downloaded browser) and pages that fail on any console error.
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));

export const env = (() => {
  const need = ["BW_URL", "BW_TLS_CERT", "BW_ADMIN_EMAIL", "BW_ADMIN_PASSWORD_FILE", "BW_SIM_ENDPOINT", "BW_SIM_CERTS"];
  const missing = need.filter((k) => !process.env[k]);
  if (missing.length) throw new Error("browser tests need the stack environment; missing: " + missing.join(", "));
  return {
    url: process.env.BW_URL.replace(/\/$/, ""),
    ca: fs.readFileSync(process.env.BW_TLS_CERT),
    adminEmail: process.env.BW_ADMIN_EMAIL,
    adminPassword: fs.readFileSync(process.env.BW_ADMIN_PASSWORD_FILE, "utf8").trim(),
    simEndpoint: process.env.BW_SIM_ENDPOINT,
    simCerts: process.env.BW_SIM_CERTS,
    simName: process.env.BW_SIM_NAME || "local-sim",
    dbSocket: process.env.BW_DB_SOCKET,
    dbName: process.env.BW_DB_NAME || "breakwater",
    chromium: process.env.BW_CHROMIUM || "/usr/bin/chromium",
    out: process.env.BW_BROWSER_OUT || path.resolve(here, "../../test-output/browser"),
  };
})();

export function uniqueName(prefix = "bt") {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

// --- Node-side API client -------------------------------------------------------------------------
// request(method, path, {body, bearer, cookie, csrf}) -> {status, headers, text, json}
export function request(method, p, opts = {}) {
  const u = new URL(env.url + p);
  const headers = { Accept: "application/json" };
  let payload;
  if (opts.body !== undefined) {
    payload = Buffer.from(JSON.stringify(opts.body));
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(payload.length);
  }
  if (opts.bearer) headers.Authorization = "Bearer " + opts.bearer;
  if (opts.cookie) headers.Cookie = opts.cookie;
  if (opts.csrf) headers["X-CSRF-Token"] = opts.csrf;
  return new Promise((resolve, reject) => {
    const req = https.request(
      { method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers, ca: env.ca, servername: "localhost" },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      }
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

// An admin API key for the test's own checks (created once through a login session).
let adminKey = null;
export async function adminApi(method, p, body) {
  if (!adminKey) {
    const login = await request("POST", "/api/auth/login", { body: { email: env.adminEmail, password: env.adminPassword } });
    assert.equal(login.status, 200, "admin login for the API client: " + login.text);
    const cookie = String(login.headers["set-cookie"][0]).split(";")[0];
    const sp = await request("POST", "/api/auth/service-principals", { cookie, csrf: login.json.csrf_token, body: { name: uniqueName("browser-suite"), role: "admin" } });
    assert.equal(sp.status, 201, sp.text);
    adminKey = sp.json.key;
    await request("POST", "/api/auth/logout", { cookie, csrf: login.json.csrf_token });
  }
  return request(method, p, { body, bearer: adminKey });
}

// Deletes the suite's own admin key (the last call made with it).
export async function dropAdminKey() {
  if (!adminKey) return;
  const list = await request("GET", "/api/auth/service-principals", { bearer: adminKey });
  const me = (list.json || []).find((s) => adminKey.startsWith(s.key_prefix) && s.name.startsWith("browser-suite-"));
  if (me) await request("DELETE", `/api/auth/service-principals/${me.id}`, { bearer: adminKey });
  adminKey = null;
}

// Login limiter and lockout counters are per client IP / e-mail and shared with the other suites
// (tests/e2e/conftest.py empties them the same way before each of its tests).
export function resetLoginLimits() {
  if (!env.dbSocket) return;
  try {
    execFileSync("mariadb", ["--socket=" + env.dbSocket, "-uroot", env.dbName, "-e", "DELETE FROM rate_hits; DELETE FROM login_failures;"], { stdio: "pipe" });
  } catch (err) {
    console.error("# could not reset the login limiter: " + err.message);
  }
}

// --- browser --------------------------------------------------------------------------------------
export async function launch() {
  fs.mkdirSync(env.out, { recursive: true });
  return chromium.launch({
    executablePath: env.chromium,
    headless: true,
    // root in a container: Chromium's sandbox needs user namespaces it may not have.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
}

const RESOURCE_ERROR = /^Failed to load resource: the server responded with a status of (\d+)/;

// A page whose console errors and page errors are collected; check() fails the test on any of
// them, except HTTP error statuses the test declared with allowHttpErrors (Chromium logs every
// non-2xx fetch as a console error, and some tests provoke one on purpose).
export async function newPage(browser, { storageState, colorScheme = "light" } = {}) {
  const context = await browser.newContext({
    baseURL: env.url,
    ignoreHTTPSErrors: true, // the stack's self-signed certificate; the Node client verifies it
    acceptDownloads: true,
    storageState,
    colorScheme,
    viewport: { width: 1280, height: 860 },
  });
  const page = await context.newPage();
  const problems = [];
  const allowed = new Set();
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const m = RESOURCE_ERROR.exec(msg.text());
    if (m && allowed.has(Number(m[1]))) return;
    problems.push(`console error: ${msg.text()} (${msg.location().url || "?"})`);
  });
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  return {
    page,
    context,
    allowHttpErrors(...codes) {
      codes.forEach((c) => allowed.add(c));
    },
    check() {
      assert.deepEqual(problems, [], "the page logged errors");
    },
    async close() {
      await context.close();
    },
  };
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(env.out, name + ".png"), fullPage: true });
}

// The dashboard re-renders asynchronously; wait until no spinner is left in the view.
export async function settled(page) {
  await page.waitForFunction(() => !document.querySelector("#view .loading, #view .spinner"), null, { timeout: 15000 });
}

export function pem(name) {
  return path.join(env.simCerts, name);
}

// The stack's simulator starts without cluster inference, and the gateway page asks for it: a
// 404 there is a console error. Every gateway of these suites points at that simulator, so one
// default route (with its provider) set up front keeps their pages free of expected errors.
export async function ensureInference() {
  const base = `/api/gateways/${env.simName}`;
  const prov = await adminApi("POST", `${base}/providers`, { name: "bt-inference", type: "nvidia", api_key: "bt-inference-key" });
  assert.ok(prov.status === 201 || prov.status === 409, prov.text);
  const cur = await adminApi("GET", `${base}/inference`);
  if (cur.status === 200) return;
  const set = await adminApi("PUT", `${base}/inference`, { provider_name: "bt-inference", model_id: "bt-model", verify: false });
  assert.equal(set.status, 200, set.text);
}
