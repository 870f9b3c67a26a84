// The dashboard in a real browser (Debian's Chromium, headless) against the full local stack and
// its simulated gateway. Every test asserts on what the page shows and on the API state after it;
// any console error or uncaught page error fails the test (lib.mjs newPage).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { env, launch, newPage, shot, settled, uniqueName, adminApi, dropAdminKey, request, resetLoginLimits, pem, ensureInference } from "./lib.mjs";

const XSS = '<img src=x onerror="window.__bwXss=1">';
// A label key with markup but no "=" (the form splits key=value at the first one).
const XSS_KEY = "<b>bold</b><script>window.__bwXss=3</script>".replace("=", "%");
let browser;
let adminState; // storage state of the admin's browser session (logged in once, through the UI)
const gwName = uniqueName("bt-gw");
const labelEnv = uniqueName("env");

before(async () => {
  resetLoginLimits();
  await ensureInference();
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  // What the suite registered, whichever test stopped early (404 when already gone is fine).
  await adminApi("DELETE", `/api/gateway/${gwName}`);
  await dropAdminKey();
});

async function asAdmin(fn, opts = {}) {
  const t = await newPage(browser, { storageState: adminState, ...opts });
  try {
    await fn(t);
    t.check();
  } finally {
    await t.close();
  }
}

test("login: a wrong password shows the API's detail, the right one reaches the overview", async () => {
  const t = await newPage(browser);
  try {
    const { page } = t;
    t.allowHttpErrors(401);
    await page.goto("/");
    await page.waitForURL(/#\/login/);
    await page.getByLabel("E-mail").fill("nobody-" + uniqueName() + "@example.com");
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").getByText("Invalid email or password").waitFor();
    await shot(page, "login");

    await page.getByLabel("E-mail").fill(env.adminEmail);
    await page.getByLabel("Password").fill(env.adminPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.locator("#who").getByText(env.adminEmail).waitFor();
    await settled(page);
    await page.getByRole("heading", { name: "Gateway status" }).waitFor();
    await shot(page, "overview");
    t.check();
    adminState = await t.context.storageState();
    // The session is real on the server: the page's own cookie is authenticated.
    const check = await page.request.get("/api/auth/check");
    assert.equal((await check.json()).authenticated, true);
  } finally {
    await t.close();
  }
});

test("gateways: register through the form with PEM uploads, then see it connected", async () => {
  await asAdmin(async ({ page }) => {
    await page.goto("/#/gateways/new");
    await page.getByRole("heading", { name: "Register gateway" }).waitFor();
    await page.getByLabel("Name").fill(gwName);
    await page.getByLabel("Endpoint").fill(env.simEndpoint);
    await page.getByLabel("CA certificate (PEM)").setInputFiles(pem("ca.crt"));
    await page.getByLabel("Client certificate (PEM)").setInputFiles(pem("client.crt"));
    await page.getByLabel("Client key (PEM)").setInputFiles(pem("client.key"));
    await page.getByLabel("Description").fill("registered by the browser suite");
    await page.getByLabel("Labels").fill(`env=${labelEnv}\nsuite=browser`);
    await shot(page, "gateway-register");
    await page.getByRole("button", { name: "Register" }).click();

    await page.waitForURL(new RegExp("#/gateways/" + gwName + "$"));
    await page.getByRole("heading", { name: gwName }).waitFor();
    // Live health from the gateway itself (polled by the page).
    await page.locator(".health").getByText(/Health: \w+ · version/).waitFor({ timeout: 20000 });
    // Test connection: progress, then the gateway's answer.
    await page.getByRole("button", { name: "Test connection" }).click();
    await page.locator(".test-result").getByText(/^Connected: version /).waitFor({ timeout: 20000 });
    await settled(page);
    await page.locator("[data-setting]").first().waitFor({ timeout: 20000 });
    await shot(page, "gateway-detail");
  });
  const info = await adminApi("GET", `/api/gateway/${gwName}/info`);
  assert.equal(info.status, 200, info.text);
  assert.equal(info.json.endpoint, env.simEndpoint);
  assert.deepEqual(info.json.labels, { env: labelEnv, suite: "browser" });
  assert.equal(info.json.description, "registered by the browser suite");
  assert.deepEqual([info.json.has_ca_cert, info.json.has_client_cert, info.json.has_client_key], [true, true, true]);
  assert.equal(info.json.connected, true);
});

test("gateways: the list filters by label and shows live health", async () => {
  await asAdmin(async ({ page }) => {
    await page.goto("/#/gateways");
    await page.getByRole("heading", { name: "Gateways" }).waitFor();
    await page.getByLabel("Labels (key:value, all must match)").fill(`env:${labelEnv}`);
    await page.getByRole("button", { name: "Apply label filter" }).click();
    await page.waitForURL(/label=/);
    const rows = page.locator("table.data tbody tr");
    await rows.first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll("table.data tbody tr").length === 1);
    assert.equal(await rows.first().getAttribute("data-gateway"), gwName);
    await rows.first().locator(".gw-status").getByText("connected").waitFor({ timeout: 20000 });
    await page.getByText(/refreshes every 5 s/).waitFor();
    await shot(page, "gateways-filtered");

    // A label nobody has: an empty state that says what to do.
    await page.goto("/#/gateways?label=" + encodeURIComponent("env:none-" + uniqueName()));
    await page.getByText("No gateway has these labels.").waitFor();

    await page.goto("/#/gateways");
    await page.locator(`tr[data-gateway="${env.simName}"]`).waitFor();
    await shot(page, "gateways");
  });
  const list = await adminApi("GET", `/api/gateway/list?label=env:${labelEnv}`);
  assert.deepEqual(list.json.items.map((g) => g.name), [gwName]);
});

test("gateways: description and labels are edited on the detail page", async () => {
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gwName}`);
    const editor = page.getByRole("region", { name: "Description and labels" });
    await editor.getByLabel("Description").fill("edited in the browser");
    await editor.getByLabel("Labels").fill(`env=${labelEnv}\nsuite=browser\ntier=gold`);
    await editor.getByRole("button", { name: "Save" }).click();
    await editor.getByText("Saved.").waitFor();
    await page.locator(".gw-description").getByText("edited in the browser", { exact: true }).waitFor();
    await page.locator(".gw-labels").getByText("tier=gold").waitFor();
  });
  const info = await adminApi("GET", `/api/gateway/${gwName}/info`);
  assert.equal(info.json.description, "edited in the browser");
  assert.deepEqual(info.json.labels, { env: labelEnv, suite: "browser", tier: "gold" });
  const audit = await adminApi("GET", `/api/audit?action=gateway.update_metadata&gateway=${gwName}`);
  assert.equal(audit.json.total, 1);
});

test("gateways: the settings editor writes through to the gateway, and deletes", async () => {
  const key = "ocsf_json_enabled";
  // The simulator is shared by the stack's gateways: start from whatever it holds now.
  const before = await adminApi("GET", `/api/gateway/${gwName}/settings`);
  assert.equal(before.status, 200, before.text);
  const want = before.json.settings[key] !== true;
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gwName}`);
    const row = page.locator(`[data-setting="${key}"]`);
    await row.waitFor({ timeout: 20000 });
    await row.getByLabel(`Type of ${key}`).selectOption("boolean");
    await row.getByLabel(`Value of ${key}`).selectOption(String(want));
    await row.getByRole("button", { name: "Save" }).click();
    await page.getByText(`Setting ${key} saved.`).waitFor({ timeout: 20000 });
    await settled(page);
    await shot(page, "gateway-settings");
  });
  const cfg = await adminApi("GET", `/api/gateway/${gwName}/settings`);
  assert.equal(cfg.json.settings[key], want);
  const audit = await adminApi("GET", `/api/audit?action=gateway.setting_update&gateway=${gwName}`);
  assert.ok(audit.json.total >= 1, "the settings write was audited");

  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gwName}`);
    const row = page.locator(`[data-setting="${key}"]`);
    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByText(`Setting ${key} deleted.`).waitFor({ timeout: 20000 });
    await row.getByText("unset").waitFor();
  });
  const after = await adminApi("GET", `/api/gateway/${gwName}/settings`);
  assert.equal(after.json.settings[key], null);
});

test("gateways: cluster inference is shown and set through the detail page", async () => {
  const model = uniqueName("bt-model");
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gwName}`);
    const card = page.getByRole("region", { name: "Inference" });
    // The default route ensureInference() set up is shown as text.
    await card.locator(".inf-provider").getByText("bt-inference", { exact: true }).waitFor({ timeout: 20000 });
    await card.getByLabel("Provider").fill("bt-inference");
    await card.getByLabel("Model").fill(model);
    await card.getByLabel("Route name").fill("sandbox-system");
    await card.getByLabel("Timeout (seconds)").fill("45");
    await card.getByLabel("Verify the endpoint").uncheck();
    await card.getByRole("button", { name: "Save inference" }).click();
    await page.getByText("Inference configuration saved.").waitFor({ timeout: 20000 });
    await card.locator(".inf-model").getByText(model, { exact: true }).waitFor();
    await shot(page, "gateway-inference");
  });
  const got = await adminApi("GET", `/api/gateways/${gwName}/inference?route_name=sandbox-system`);
  assert.equal(got.status, 200, got.text);
  assert.equal(got.json.model_id, model);
  assert.equal(got.json.timeout_secs, 45);
  const audit = await adminApi("GET", `/api/audit?action=inference.update&gateway=${gwName}`);
  assert.ok(audit.json.total >= 1, "the inference write was audited");
});

test("XSS probe: markup in a description, labels and an error detail renders as text", async () => {
  const name = uniqueName("bt-xss");
  const reg = await adminApi("POST", "/api/gateway/register", { name, endpoint: env.simEndpoint, description: XSS, labels: { probe: XSS } });
  assert.equal(reg.status, 201, reg.text);
  await asAdmin(async (t) => {
    const { page } = t;
    // This gateway has no client certificate, so its health answers 503 (not connected); the
    // invalid label below is a 400.
    t.allowHttpErrors(503, 400);
    await page.goto("/#/gateways?label=" + encodeURIComponent("probe:" + XSS));
    const row = page.locator(`tr[data-gateway="${name}"]`);
    await row.waitFor();
    await row.getByText(XSS, { exact: true }).waitFor();
    await row.getByText("probe=" + XSS, { exact: true }).waitFor();
    await page.goto(`/#/gateways/${name}`);
    await page.locator(".gw-description").getByText(XSS, { exact: true }).waitFor();
    await page.locator(".gw-labels").getByText("probe=" + XSS, { exact: true }).waitFor();
    // The metadata editor holds the same strings as form values, not markup.
    assert.equal(await page.getByLabel("Description", { exact: true }).inputValue(), XSS);
    await shot(page, "xss-probe");

    // An error detail that echoes markup back (an invalid label key) is shown as text too.
    await page.goto("/#/gateways/new");
    await page.getByLabel("Name").fill(uniqueName("bt-bad"));
    await page.getByLabel("Endpoint").fill(env.simEndpoint);
    await page.getByLabel("Labels").fill(`${XSS_KEY}=x`);
    await page.getByRole("button", { name: "Register" }).click();
    await page.getByRole("alert").getByText(`Invalid label key '${XSS_KEY}'`).waitFor();

    assert.equal(await page.locator("#view img, #view script, #view b").count(), 0, "no element was created from API text");
    assert.equal(await page.evaluate(() => window.__bwXss), undefined, "no handler ran");

    // Unregister through the list's button and its confirmation dialog.
    await page.goto("/#/gateways?label=" + encodeURIComponent("probe:" + XSS));
    await page.getByRole("button", { name: "Unregister " + name }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Unregister" }).click();
    await page.getByText(`Gateway "${name}" unregistered.`).waitFor();
    await page.locator(`tr[data-gateway="${name}"]`).waitFor({ state: "detached" });
  });
  const gone = await adminApi("GET", `/api/gateway/${name}/info`);
  assert.equal(gone.status, 404, gone.text);
});

test("service principals: the key is shown once, works, is gone after a reload, and rotates", async () => {
  const name = uniqueName("bt-sp");
  let key;
  await asAdmin(async ({ page, context }) => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.goto("/#/admin/service-principals");
    await page.getByRole("heading", { name: "Service principals" }).waitFor();
    await settled(page);
    await page.getByLabel("Name").fill(name);
    await page.getByLabel("Role").selectOption("operator");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    const panel = page.getByRole("region", { name: `API key for ${name} (created)` });
    await panel.waitFor();
    key = (await panel.locator("code.secret").textContent()).trim();
    assert.match(key, /^bw_[A-Za-z0-9_-]{43}$/);
    await panel.getByRole("button", { name: "Copy" }).click();
    await panel.getByText(/Copied\.|Selected/).waitFor();
    await page.getByRole("cell", { name, exact: true }).waitFor();
    await shot(page, "service-principals");
    await page.reload();
    await page.getByRole("cell", { name, exact: true }).waitFor();
    assert.equal(await page.getByText(key).count(), 0, "the key is not shown again");
  });
  const me = await request("GET", "/api/auth/check", { bearer: key });
  assert.equal(me.json.authenticated, true);
  assert.equal(me.json.role, "operator");

  // Rotation: a new key is shown once and the old one stops working.
  let rotated;
  await asAdmin(async ({ page }) => {
    await page.goto("/#/admin/service-principals");
    await page.getByRole("row").filter({ has: page.getByRole("cell", { name, exact: true }) }).getByRole("button", { name: "Rotate key" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Rotate" }).click();
    const panel = page.getByRole("region", { name: `API key for ${name} (rotated)` });
    await panel.waitFor();
    rotated = (await panel.locator("code.secret").textContent()).trim();
  });
  assert.notEqual(rotated, key);
  assert.equal((await request("GET", "/api/auth/check", { bearer: key })).json.authenticated, false, "the old key is dead");
  assert.equal((await request("GET", "/api/auth/check", { bearer: rotated })).json.authenticated, true);
  key = rotated;
  const list = await adminApi("GET", "/api/auth/service-principals");
  const sp = list.json.find((s) => s.name === name);
  assert.ok(sp, "listed by the API");
  assert.equal(sp.role, "operator");
  assert.equal(key.startsWith(sp.key_prefix), true);
  assert.equal(JSON.stringify(list.json).includes(key), false, "the API never lists the key");
});

test("users: invite a user, who accepts in their own browser; revoke their sessions; delete them", async () => {
  const email = uniqueName("bt-user") + "@example.com";
  let link;
  await asAdmin(async ({ page }) => {
    await page.goto("/#/admin/users");
    await page.getByRole("heading", { name: "Invite a user" }).waitFor();
    await settled(page);
    await page.getByLabel("E-mail").fill(email);
    await page.getByLabel("Role").selectOption("operator");
    await page.getByRole("button", { name: "Invite" }).click();
    const panel = page.getByRole("region", { name: `Invite link for ${email}` });
    await panel.waitFor();
    link = (await panel.locator("code.secret").textContent()).trim();
    assert.ok(link.startsWith(env.url + "/#/invite?token="), link);
    await page.getByRole("row").filter({ hasText: email }).getByText("pending invite").waitFor();
    await shot(page, "users");
  });
  let users = await adminApi("GET", "/api/auth/users");
  assert.equal(users.json.find((u) => u.email === email).pending_invite, true);

  const invited = await newPage(browser);
  try {
    const { page } = invited;
    await page.goto(link.slice(env.url.length));
    await page.getByRole("heading", { name: "Accept invite" }).waitFor();
    await page.getByLabel("Password", { exact: true }).fill("browser-suite-pw-1");
    await page.getByLabel("Confirm password").fill("browser-suite-pw-1");
    await shot(page, "accept-invite");
    await page.getByRole("button", { name: "Activate account" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await page.locator("#who").getByText(`${email} · operator`).waitFor();
    // An operator sees no admin navigation.
    assert.equal(await page.getByRole("link", { name: "Users" }).count(), 0);
    await settled(page);
    invited.check();
  } finally {
    await invited.close();
  }
  users = await adminApi("GET", "/api/auth/users");
  const u = users.json.find((x) => x.email === email);
  assert.equal(u.pending_invite, false);
  assert.equal(u.role, "operator");

  // The admin sees the new user's session and revokes it.
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/admin/users/${u.id}/sessions`);
    await page.getByRole("heading", { name: `Sessions of ${email}` }).waitFor();
    await page.getByRole("button", { name: "Revoke", exact: true }).first().waitFor();
    await shot(page, "sessions");
    await page.getByRole("button", { name: "Revoke all sessions" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Revoke all" }).click();
    await page.getByText("No active sessions.").waitFor();
  });
  const sessions = await adminApi("GET", `/api/auth/users/${u.id}/sessions`);
  assert.deepEqual(sessions.json, []);

  await asAdmin(async ({ page }) => {
    await page.goto("/#/admin/users");
    await page.getByRole("button", { name: "Delete " + email }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByText(`User ${email} deleted.`).waitFor();
    // The toast comes first, the reloaded table right after it.
    await page.getByRole("cell", { name: email, exact: true }).waitFor({ state: "detached" });
  });
  users = await adminApi("GET", "/api/auth/users");
  assert.equal(users.json.some((x) => x.email === email), false);
});

test("groups and gateway roles: create, add a member, gateway role, edit, remove the member, delete", async () => {
  const group = uniqueName("bt-group");
  await asAdmin(async ({ page }) => {
    await page.goto("/#/admin/groups");
    await page.getByRole("heading", { name: "Groups" }).waitFor();
    await settled(page);
    await page.getByLabel("Name").fill(group);
    await page.getByLabel("Global role").selectOption("viewer");
    await page.getByLabel("Description").fill("made by the browser suite");
    await page.getByRole("button", { name: "Create group" }).click();
    await page.getByRole("link", { name: group }).click();
    await page.getByRole("heading", { name: `Group ${group}` }).waitFor();
    await page.getByLabel("User").selectOption({ label: env.adminEmail });
    await page.getByRole("button", { name: "Add member" }).click();
    await page.getByRole("cell", { name: env.adminEmail, exact: true }).waitFor();
    await shot(page, "group-detail");
    await page.getByRole("link", { name: "Gateway roles" }).click();
    await page.getByRole("heading", { name: `Gateway roles of ${group}` }).waitFor();
    await page.getByLabel("Gateway", { exact: true }).selectOption(gwName);
    await page.getByLabel("Role on that gateway").selectOption("operator");
    await page.getByRole("button", { name: "Set role" }).click();
    await page.getByRole("cell", { name: gwName, exact: true }).waitFor();
    await shot(page, "gateway-roles");
    await page.goto("/#/admin/groups");
    await page.getByRole("cell", { name: group }).waitFor();
    await shot(page, "groups");
  });
  const groups = await adminApi("GET", "/api/auth/groups");
  const g = groups.json.find((x) => x.name === group);
  assert.ok(g);
  assert.equal(g.member_count, 1);
  const roles = await adminApi("GET", `/api/auth/groups/${g.id}/gateway-roles`);
  assert.deepEqual(roles.json.map((r) => [r.gateway_name, r.role]), [[gwName, "operator"]]);

  // Edit it, remove the member, then delete it, all from its page.
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/admin/groups/${g.id}`);
    await page.getByRole("heading", { name: `Group ${group}` }).waitFor();
    await page.getByLabel("Global role").selectOption("operator");
    await page.getByLabel("Description").fill("edited");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Group saved.").waitFor();
    await page.getByRole("button", { name: "Remove " + env.adminEmail }).click();
    await page.getByText("No members yet.").waitFor();
    const after = await adminApi("GET", `/api/auth/groups/${g.id}`);
    assert.equal(after.json.role, "operator");
    assert.equal(after.json.description, "edited");
    assert.deepEqual(after.json.members, []);
    await page.getByRole("button", { name: "Delete group" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.waitForURL(/#\/admin\/groups$/);
    await page.getByText(`Group ${group} deleted.`).waitFor();
  });
  const deleted = await adminApi("GET", `/api/auth/groups/${g.id}`);
  assert.equal(deleted.status, 404);
});

test("audit log: filter by gateway and action, export CSV and JSON with the same filters", async () => {
  await asAdmin(async ({ page }) => {
    await page.goto("/#/audit");
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    await page.getByLabel("Gateway").fill(gwName);
    await page.getByLabel("Action").fill("gateway.register");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/action=gateway.register/);
    await settled(page);
    await page.getByText("Entries 1–1 of 1").waitFor();
    const row = page.locator("table.data tbody tr");
    assert.equal(await row.count(), 1);
    await row.getByText("gateway.register").waitFor();
    await row.getByText(env.adminEmail).waitFor();
    await shot(page, "audit");

    const [csvDl] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
    assert.equal(csvDl.suggestedFilename(), "audit_log.csv");
    const csv = fs.readFileSync(await csvDl.path(), "utf8");
    const lines = csv.split("\r\n").filter(Boolean);
    assert.equal(lines[0], "id,timestamp,actor,actor_role,action,resource_type,resource_id,gateway,detail,client_ip,request_id");
    assert.equal(lines.length, 2, csv);
    assert.ok(lines[1].includes(",gateway.register,gateway," + gwName + "," + gwName + ","), lines[1]);

    const [jsonDl] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export JSON" }).click()]);
    assert.equal(jsonDl.suggestedFilename(), "audit_log.json");
    const entries = JSON.parse(fs.readFileSync(await jsonDl.path(), "utf8"));
    assert.equal(entries.length, 1);
    assert.equal(entries[0].action, "gateway.register");
    assert.equal(entries[0].gateway, gwName);
    assert.equal(entries[0].actor, env.adminEmail);

    // A filter that matches nothing shows an empty state, not an empty table.
    await page.goto("/#/audit?action=" + uniqueName("no.such.action"));
    await page.getByText("No audit entries match.").waitFor();
  });
  const api = await adminApi("GET", `/api/audit?gateway=${gwName}&action=gateway.register`);
  assert.equal(api.json.total, 1);
});

test("catalog, keyboard and themes: pages reachable by keyboard, dark theme toggles and persists", async () => {
  await asAdmin(async ({ page }) => {
    await page.goto("/#/catalog/presets");
    await page.getByRole("heading", { name: "Policy presets" }).waitFor();
    await settled(page);
    await shot(page, "presets");
    await page.goto("/#/catalog/templates");
    await settled(page);
    await shot(page, "templates");

    // Keyboard: on a fresh load the skip link comes first, then the brand and the navigation.
    await page.goto("/#/");
    await page.reload();
    await settled(page);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Gateways");
    await page.keyboard.press("Enter");
    await page.waitForURL(/#\/gateways$/);
    assert.equal(await page.getByRole("link", { name: "Gateways", exact: true }).getAttribute("aria-current"), "page");
    // The new page's content has the focus, not the link that was left.
    assert.equal(await page.evaluate(() => document.activeElement.id), "main");

    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await bg();
    await page.getByRole("button", { name: "Dark theme" }).click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    assert.notEqual(await bg(), light);
    await settled(page);
    await shot(page, "gateways-dark");
    await page.reload();
    await page.getByRole("button", { name: "Light theme" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
  });
  // With no stored choice the system preference applies.
  await asAdmin(async ({ page }) => {
    await page.goto("/#/");
    await page.getByRole("button", { name: "Light theme" }).waitFor();
    await settled(page);
    await shot(page, "overview-dark");
  }, { colorScheme: "dark" });
});

test("sessions: a session revoked elsewhere sends the page back to login; setup is closed", async () => {
  const t = await newPage(browser);
  try {
    const { page } = t;
    t.allowHttpErrors(401); // the revoked session's next call
    await page.goto("/#/setup");
    await page.getByRole("heading", { name: "Setup is complete" }).waitFor();
    await page.goto("/#/login");
    await page.getByLabel("E-mail").fill(env.adminEmail);
    await page.getByLabel("Password").fill(env.adminPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    await settled(page);
    // Revoke exactly this browser's session through the API.
    const users = await adminApi("GET", "/api/auth/users");
    const admin = users.json.find((u) => u.email === env.adminEmail);
    const cookie = (await t.context.cookies()).find((c) => c.name === "sg_session");
    const sessions = await adminApi("GET", `/api/auth/users/${admin.id}/sessions`);
    // This browser logged in last: its session is the newest one.
    const mine = sessions.json.reduce((a, b) => (b.id > a.id ? b : a));
    const r = await adminApi("DELETE", `/api/auth/users/${admin.id}/sessions/${mine.id}`);
    assert.equal(r.status, 200, r.text);
    const probe = await request("GET", "/api/auth/check", { cookie: `sg_session=${cookie.value}` });
    assert.equal(probe.json.authenticated, false, "the revoked session is dead on the server");
    await page.goto("/#/gateways");
    await page.waitForURL(/#\/login\?next=/);
    await page.getByText("Your session has ended. Please log in again.").waitFor();
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    t.check();
  } finally {
    await t.close();
  }
});

test("logout: the session ends on the server and the login page returns", async () => {
  const t = await newPage(browser, { storageState: adminState });
  try {
    const { page } = t;
    await page.goto("/#/gateways");
    await page.getByRole("heading", { name: "Gateways" }).waitFor();
    await settled(page);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/#\/login/);
    await page.getByRole("heading", { name: "Log in" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Log out" }).isVisible(), false);
    const check = await page.request.get("/api/auth/check");
    assert.equal((await check.json()).authenticated, false);
    // The old cookie is dead on the server too, not only dropped by the browser.
    const cookie = adminState.cookies.find((c) => c.name === "sg_session");
    const old = await request("GET", "/api/auth/check", { cookie: `sg_session=${cookie.value}` });
    assert.equal(old.json.authenticated, false);
    t.check();
  } finally {
    await t.close();
  }
  const out = await adminApi("GET", "/api/audit?action=user.logout&limit=1");
  assert.equal(out.json.entries[0].actor, env.adminEmail);
});
