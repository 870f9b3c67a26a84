// Sandbox workflows of the dashboard in a real browser against the stack's simulated gateway
// ($BW_SIM_NAME, registered by scripts/stack.sh up): the create wizard's progress bar, the exec
// console, a network rule added and deleted in the policy view, revisions/diff, GitOps dry run and
// apply, pin/unpin, an approval, providers (the credential never shown back), webhooks (secret
// shown once, the delivery log of a real local receiver). Each test asserts on the page and on
// the API state afterwards; console errors fail it (lib.mjs newPage).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { env, launch, newPage, shot, settled, uniqueName, adminApi, dropAdminKey, resetLoginLimits, ensureInference } from "./lib.mjs";

const gw = env.simName;
const simControl = process.env.BW_SIM_CONTROL;
const XSS = '<img src=x onerror="window.__bwXss=1">';
const sbName = uniqueName("bt-sb");
const providerName = uniqueName("bt-prov");
const ruleKey = uniqueName("bt_rule").replace(/-/g, "_");
const sbApi = `/api/gateways/${gw}/sandboxes/${sbName}`;
let browser;
let adminState;
let webhookId = null;

before(async () => {
  resetLoginLimits();
  await ensureInference();
  browser = await launch();
  const t = await newPage(browser);
  try {
    const { page } = t;
    await page.goto("/#/login");
    await page.getByLabel("E-mail").fill(env.adminEmail);
    await page.getByLabel("Password").fill(env.adminPassword);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Overview" }).waitFor();
    adminState = await t.context.storageState();
  } finally {
    await t.close();
  }
});

after(async () => {
  if (browser) await browser.close();
  await adminApi("DELETE", sbApi);
  await adminApi("DELETE", `/api/gateways/${gw}/providers/${providerName}`);
  if (webhookId !== null) await adminApi("DELETE", `/api/webhooks/${webhookId}`);
  await dropAdminKey();
});

async function asAdmin(fn) {
  const t = await newPage(browser, { storageState: adminState });
  try {
    await fn(t);
    t.check();
  } finally {
    await t.close();
  }
}

async function simControlPost(path, body) {
  assert.ok(simControl, "BW_SIM_CONTROL is needed to seed draft chunks");
  const r = await fetch(simControl + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

test("sandbox create wizard: the operation's progress bar reaches ready; a label with markup renders as text", async () => {
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gw}/sandboxes/new`);
    await page.getByRole("heading", { name: `New sandbox on ${gw}` }).waitFor();
    // A template pre-fills the presets (web-dev: npm, docker, slack), applied after ready.
    await page.getByLabel("Template").selectOption("web-dev");
    await page.waitForFunction(() => ["npm", "docker", "slack"].every((p) => document.querySelector(`input[name=preset][value=${p}]`)?.checked));
    await page.getByLabel("Name").fill(sbName);
    await page.getByLabel("Description").fill("made by the browser suite");
    await page.getByLabel("Labels").fill(`suite=browser\nxss=${XSS}`);
    await shot(page, "sandbox-create");
    await page.getByRole("button", { name: "Create sandbox" }).click();
    // The operation's bar, then its final state: 100 % and the sandbox ready.
    const bar = page.locator("#view progress[aria-label='Creating the sandbox']");
    await bar.waitFor({ timeout: 30000 });
    const open = page.getByRole("link", { name: "Open the sandbox" });
    await open.waitFor({ timeout: 90000 });
    assert.equal(await bar.evaluate((b) => b.value), 100);
    await page.getByRole("status").getByText("Creating the sandbox: succeeded").waitFor();
    await page.locator("#view .ok-box").getByText("ready", { exact: true }).waitFor();
    await shot(page, "sandbox-create-done");

    await open.click();
    await page.getByRole("heading", { name: sbName }).waitFor();
    await settled(page);
    // The markup is a chip's text, not an element.
    await page.locator("#view .chip", { hasText: `xss=${XSS}` }).waitFor();
    assert.equal(await page.locator("#view img").count(), 0);
    assert.equal(await page.evaluate(() => window.__bwXss), undefined);
    await shot(page, "sandbox-detail");

    const s = await adminApi("GET", sbApi);
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.phase, "ready");
    assert.equal(s.json.labels.xss, XSS);
    assert.equal(s.json.description, "made by the browser suite");
    const ops = await adminApi("GET", `/api/operations?resource_type=sandbox&gateway=${gw}&limit=20`);
    const op = ops.json.operations.find((o) => o.result && o.result.name === sbName);
    assert.ok(op, "the create operation is listed");
    assert.deepEqual([...op.result.presets_applied].sort(), ["docker", "npm", "slack"]);

    await page.goto(`/#/gateways/${gw}/sandboxes`);
    await page.getByRole("link", { name: sbName }).waitFor();
    await shot(page, "sandboxes");
  });
});

test("exec console: one command shows its stdout, stderr and exit code", async () => {
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}`);
    await page.getByRole("heading", { name: "Run a command" }).waitFor();
    // Keyboard only: type the command and press Enter.
    await page.getByLabel("Command", { exact: true }).fill("sh -c 'echo out-line; echo err-line >&2; exit 3'");
    await page.getByLabel("Command", { exact: true }).press("Enter");
    const result = page.locator("#view .exec-result").first();
    await result.waitFor({ timeout: 60000 });
    assert.equal((await result.locator(".exec-stdout").textContent()).trim(), "out-line");
    assert.equal((await result.locator(".exec-stderr").textContent()).trim(), "err-line");
    assert.equal((await result.locator(".exec-exit").textContent()).trim(), "exit code 3");
    await result.scrollIntoViewIfNeeded();
    await shot(page, "exec");
    // The operation the console started is on record with the same result.
    const ops = await adminApi("GET", "/api/operations?resource_type=exec&gateway=" + gw + "&limit=1");
    assert.equal(ops.status, 200, ops.text);
    assert.equal(ops.json.operations[0].result.exit_code, 3);
  });
});

test("policy view: add a network rule, edit it, delete it (checked at GET .../policy)", async () => {
  await asAdmin(async (t) => {
    const { page } = t;
    t.allowHttpErrors(404); // GET .../policy/pin answers 404 while nothing is pinned
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}/policy`);
    await page.getByRole("heading", { name: "Network rules" }).waitFor();
    await settled(page);
    await page.getByLabel("Key").fill(ruleKey);
    await page.getByLabel("Endpoints").fill("api.example.com:443");
    await page.getByLabel("Binaries").fill("/usr/bin/curl");
    await page.getByRole("button", { name: "Save rule" }).click();
    const row = page.locator("#view table.data tr", { has: page.locator("code", { hasText: ruleKey }) });
    await row.waitFor({ timeout: 30000 });
    await settled(page);
    let pol = await adminApi("GET", sbApi + "/policy");
    assert.equal(pol.status, 200, pol.text);
    const added = pol.json.policy.network_policies[ruleKey];
    assert.ok(added, "the rule is in the policy");
    assert.deepEqual(added.endpoints.map((e) => [e.host, e.port]), [["api.example.com", 443]]);
    assert.deepEqual(added.binaries.map((b) => b.path), ["/usr/bin/curl"]);
    await shot(page, "policy");

    // Edit: a second endpoint.
    await page.getByRole("button", { name: `Edit rule ${ruleKey}` }).click();
    await page.getByLabel("Endpoints").fill("api.example.com:443\nuploads.example.com:443");
    await page.getByRole("button", { name: "Save rule" }).click();
    await row.getByText("uploads.example.com:443").waitFor({ timeout: 30000 });
    pol = await adminApi("GET", sbApi + "/policy");
    assert.deepEqual(pol.json.policy.network_policies[ruleKey].endpoints.map((e) => e.host).sort(), ["api.example.com", "uploads.example.com"]);

    await settled(page);
    await page.getByRole("button", { name: `Delete rule ${ruleKey}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.locator("#view code", { hasText: ruleKey }).waitFor({ state: "detached", timeout: 30000 });
    pol = await adminApi("GET", sbApi + "/policy");
    assert.equal(pol.status, 200, pol.text);
    assert.equal(pol.json.policy.network_policies[ruleKey], undefined, "the rule is gone");
  });
});

test("policy view: revisions diff, GitOps export + dry run + apply, pin and unpin", async () => {
  await asAdmin(async (t) => {
    const { page } = t;
    t.allowHttpErrors(404, 423);
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}/policy`);
    await page.getByRole("heading", { name: "Revisions", exact: true }).waitFor();
    await settled(page);
    // The add and delete of the previous test made revisions: compare the two newest.
    await page.getByRole("button", { name: "Compare" }).click();
    await page.locator("#view .diff h3", { hasText: "Differences" }).waitFor({ timeout: 30000 });
    await page.locator("#view .side-by-side pre").nth(1).waitFor();
    assert.equal(await page.locator("#view .side-by-side pre").count(), 2);
    await page.locator("#view .diff .diff-list, #view .diff p.muted").first().waitFor();
    // Changed revisions: the side-by-side panes mark the lines that differ.
    if (await page.locator("#view .diff .diff-list").count()) {
      assert.ok((await page.locator("#view .diff-pane .diff-del, #view .diff-pane .diff-add").count()) > 0, "changed lines are marked");
    }
    await shot(page, "policy-diff");

    // Export, change nothing: the dry run says up to date; then edit the YAML (drop nothing,
    // add a rule by merge) and apply after its dry run.
    await page.getByRole("button", { name: "Export YAML" }).click();
    const yaml = page.getByLabel("Policy YAML");
    await page.waitForFunction(() => (document.querySelector("textarea[name=yaml]") || {}).value?.startsWith("# managed-by"));
    const exported = await yaml.inputValue();
    const apply = page.getByRole("button", { name: "Apply", exact: true });
    assert.equal(await apply.isDisabled(), true, "Apply waits for a dry run");
    await page.getByRole("button", { name: "Preview (dry run)" }).click();
    await page.locator("#view h3", { hasText: "Dry run:" }).waitFor({ timeout: 30000 });
    const gitKey = ruleKey + "_git";
    const edited = exported.replace(/^  network_policies:\n/m, `  network_policies:\n    ${gitKey}:\n      endpoints:\n      - host: git.example.com\n        port: 443\n      name: ${gitKey}\n`);
    assert.notEqual(edited, exported, "the export has a network_policies block to extend");
    await yaml.fill(edited);
    assert.equal(await apply.isDisabled(), true, "an edit needs a new dry run");
    await page.getByRole("button", { name: "Preview (dry run)" }).click();
    await page.locator("#view .diff-add", { hasText: gitKey }).waitFor({ timeout: 30000 });
    let pol = await adminApi("GET", sbApi + "/policy");
    assert.equal(pol.json.policy.network_policies[gitKey], undefined, "a dry run changes nothing");
    await shot(page, "policy-gitops-dry-run");
    await apply.click();
    await page.getByRole("dialog").getByRole("button", { name: "Apply" }).click();
    // The rule's row (not the dry run's diff, which names it too) once the page re-read the policy.
    await page.getByRole("button", { name: `Delete rule ${gitKey}` }).waitFor({ timeout: 30000 });
    pol = await adminApi("GET", sbApi + "/policy");
    assert.ok(pol.json.policy.network_policies[gitKey], "the applied rule is in the policy");

    // Pin with a reason, see writes refused with the API's detail, unpin.
    await settled(page);
    await page.getByLabel("Reason").fill("release freeze");
    await page.getByRole("button", { name: "Pin current version" }).click();
    await page.locator("#view .notice", { hasText: "release freeze" }).waitFor({ timeout: 30000 });
    const pin = await adminApi("GET", sbApi + "/policy/pin");
    assert.equal(pin.status, 200, pin.text);
    assert.equal(pin.json.reason, "release freeze");
    await settled(page);
    await page.getByRole("button", { name: `Delete rule ${gitKey}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.getByRole("alert").getByText("Unpin first").waitFor({ timeout: 30000 });
    await shot(page, "policy-pinned");
    await page.getByRole("button", { name: "Unpin" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Unpin" }).click();
    await page.getByRole("button", { name: "Pin current version" }).waitFor({ timeout: 30000 });
    assert.equal((await adminApi("GET", sbApi + "/policy/pin")).status, 404);
    pol = await adminApi("GET", sbApi + "/policy");
    assert.ok(pol.json.policy.network_policies[gitKey], "the refused delete changed nothing");
  });
});

test("policy view: filesystem path added and removed; a refused process change shows the gateway's detail", async () => {
  await asAdmin(async (t) => {
    const { page } = t;
    t.allowHttpErrors(404, 400);
    const fsPath = "/data-" + uniqueName("bt");
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}/policy`);
    await page.getByRole("heading", { name: "Filesystem" }).waitFor();
    await settled(page);
    await page.getByLabel("Path", { exact: true }).fill(fsPath);
    await page.getByLabel("Access").selectOption("rw");
    await page.getByRole("button", { name: "Add path" }).click();
    await page.getByRole("button", { name: `Remove path ${fsPath}` }).waitFor({ timeout: 30000 });
    let pol = await adminApi("GET", sbApi + "/policy");
    assert.ok(pol.json.policy.filesystem.read_write.includes(fsPath), "the path is read-write in the policy");
    await settled(page);
    await page.getByRole("button", { name: `Remove path ${fsPath}` }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Remove" }).click();
    await page.getByRole("button", { name: `Remove path ${fsPath}` }).waitFor({ state: "detached", timeout: 30000 });
    pol = await adminApi("GET", sbApi + "/policy");
    assert.ok(!pol.json.policy.filesystem.read_write.includes(fsPath), "the path is gone");

    // The gateway keeps process settings of a live sandbox: the page shows its reason verbatim.
    await settled(page);
    const want = await adminApi("PUT", sbApi + "/policy/process", { run_as_user: "root", run_as_group: "sandbox" });
    assert.equal(want.status, 400, want.text);
    await page.getByLabel("Run as user").fill("root");
    await page.getByRole("button", { name: "Save process settings" }).click();
    await page.getByRole("alert").getByText(want.json.detail, { exact: true }).waitFor({ timeout: 30000 });
    assert.equal((await adminApi("GET", sbApi + "/policy")).json.policy.process.run_as_user, pol.json.policy.process.run_as_user);
  });
});

test("sandbox detail: logs with a level filter and follow; an SSH session shown as text and revoked", async () => {
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}`);
    await page.getByRole("heading", { name: "Logs" }).waitFor();
    await settled(page);
    const logs = page.getByRole("log", { name: "Sandbox logs" });
    await page.getByRole("button", { name: "Show logs" }).click();
    await logs.locator(".log-line").first().waitFor({ timeout: 30000 });
    await logs.getByText("loaded policy from gateway", { exact: false }).first().waitFor();
    // Minimum level warn: no INFO line is left.
    await page.getByLabel("Minimum level").selectOption("warn");
    await page.getByRole("button", { name: "Show logs" }).click();
    await page.waitForFunction(() => {
      const lines = [...document.querySelectorAll("[role=log] .log-line .badge")].map((b) => b.textContent);
      return lines.length > 0 && lines.every((l) => l !== "INFO");
    }, null, { timeout: 30000 });
    // Follow: a command run elsewhere shows up without pressing the button.
    await page.getByLabel("Minimum level").selectOption("");
    await page.getByLabel("Follow").check();
    const marker = "follow-" + uniqueName();
    const ex = await adminApi("POST", sbApi + "/exec", { command: ["echo", marker] });
    assert.equal(ex.status, 202, ex.text);
    const op = await adminApi("GET", `/api/operations/${ex.json.operation_id}?wait=30`);
    assert.equal(op.json.status, "succeeded", op.text);
    const before = await logs.locator(".log-line").count();
    await page.waitForFunction((n) => document.querySelectorAll("[role=log] .log-line").length > n, before, { timeout: 30000 });
    await page.getByLabel("Follow").uncheck();
    await shot(page, "sandbox-logs");

    await page.getByRole("button", { name: "Create SSH session" }).click();
    const panel = page.getByRole("region", { name: "Session token" });
    await panel.waitFor({ timeout: 30000 });
    const token = (await panel.locator("code.secret").textContent()).trim();
    assert.ok(token.length > 0);
    const session = page.locator("#view dl.ssh-session");
    await session.getByText(/^https?:\/\/127\.0\.0\.1:\d+$/).waitFor();
    const s = await adminApi("GET", sbApi);
    await session.getByText(s.json.id, { exact: true }).waitFor();
    await shot(page, "sandbox-ssh");
    await page.getByRole("button", { name: "Revoke this session" }).click();
    await page.getByText("Session revoked.").waitFor({ timeout: 30000 });
    // Revoked at the gateway (the simulator's state shows its sessions).
    const state = await (await fetch(simControl + "/state")).json();
    const mine = (state.ssh_sessions || []).find((x) => x.token === token);
    assert.ok(mine, "the simulator knows the session the page created");
    assert.equal(mine.revoked, true);
  });
});

test("sandbox detail: description and labels editor; policy page: apply a preset", async () => {
  await asAdmin(async (t) => {
    const { page } = t;
    t.allowHttpErrors(404);
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}`);
    await page.getByRole("heading", { name: "Description and labels" }).waitFor();
    await settled(page);
    const editor = page.locator("section", { has: page.getByRole("heading", { name: "Description and labels" }) });
    await editor.getByLabel("Description").fill("edited by the browser suite");
    await editor.getByLabel("Labels").fill("suite=browser\nstage=edited");
    await editor.getByRole("button", { name: "Save" }).click();
    await page.locator("#view .chip", { hasText: "stage=edited" }).waitFor({ timeout: 30000 });
    const s = await adminApi("GET", sbApi);
    assert.equal(s.json.description, "edited by the browser suite");
    assert.deepEqual(s.json.labels, { suite: "browser", stage: "edited" });

    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}/policy`);
    await page.getByRole("heading", { name: "Presets" }).waitFor();
    await settled(page);
    await page.getByLabel("Preset").selectOption("jira");
    await page.getByRole("button", { name: "Apply preset" }).click();
    await page.getByRole("button", { name: "Delete rule atlassian" }).waitFor({ timeout: 30000 });
    const pol = await adminApi("GET", sbApi + "/policy");
    assert.ok(pol.json.policy.network_policies.atlassian, "the preset's rule is in the policy");
  });
});

test("approvals inbox: approve a seeded draft chunk; its rule lands in the policy", async () => {
  const chunkRule = uniqueName("bt_chunk").replace(/-/g, "_");
  const seeded = await simControlPost("/seed-chunks", {
    sandbox: sbName,
    chunks: [{ rule_name: chunkRule, rationale: "curl reached example.org", confidence: 0.9, proposed_rule: { name: chunkRule, endpoints: [{ host: "example.org", port: 443 }], binaries: [{ path: "/usr/bin/curl" }] } }],
  });
  const chunkId = seeded.chunk_ids[0];
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}/approvals`);
    await page.getByRole("heading", { name: `Approvals for ${sbName}` }).waitFor();
    const row = page.getByRole("table", { name: "Draft policy chunks" }).locator("tbody tr", { hasText: chunkRule });
    await row.waitFor({ timeout: 30000 });
    await row.getByText("example.org:443").waitFor();
    await row.getByText("90 %").waitFor();
    await shot(page, "approvals");
    await row.getByRole("button", { name: `Approve ${chunkRule}` }).click();
    await row.waitFor({ state: "detached", timeout: 30000 });
    // Approve all: every clean chunk goes, the security-flagged ones stay.
    await page.getByRole("button", { name: "Approve all", exact: true }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Approve all", exact: true }).click();
    await page.getByText(/^Approved \d+, skipped \d+; policy v\d+\.$/).waitFor({ timeout: 30000 });
  });
  const left = await adminApi("GET", sbApi + "/approvals/pending");
  assert.ok(left.json.every((c) => c.security_notes), "only flagged chunks are left pending");
  const pending = await adminApi("GET", sbApi + "/approvals/pending");
  assert.equal(pending.status, 200, pending.text);
  assert.equal(pending.json.find((c) => c.id === chunkId), undefined, "the chunk is no longer pending");
  const pol = await adminApi("GET", sbApi + "/policy");
  assert.ok(pol.json.policy.network_policies[chunkRule], "the approved rule is in the policy");
});

test("approvals: reject with a reason, undo an approval, a workflow's vote tally, the gateway-wide inbox", async () => {
  const [ruleA, ruleB, ruleC] = ["a", "b", "c"].map((x) => uniqueName("bt_" + x).replace(/-/g, "_"));
  const chunk = (name, host) => ({ rule_name: name, rationale: "seeded by the browser suite", proposed_rule: { name, endpoints: [{ host, port: 443 }], binaries: [{ path: "/usr/bin/curl" }] } });
  const seeded = await simControlPost("/seed-chunks", { sandbox: sbName, chunks: [chunk(ruleA, "a.example.org"), chunk(ruleB, "b.example.org")] });
  const [idA] = seeded.chunk_ids;
  const wfPath = sbApi + "/approval-workflow";
  try {
    await asAdmin(async ({ page }) => {
      await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}/approvals`);
      await page.getByRole("button", { name: `Reject ${ruleA}` }).waitFor({ timeout: 30000 });
      await page.getByRole("button", { name: `Reject ${ruleA}` }).click();
      const dlg = page.getByRole("dialog");
      await dlg.getByLabel(/Reason/).fill("not needed by this agent");
      await dlg.getByRole("button", { name: "Reject" }).click();
      await page.getByRole("button", { name: `Reject ${ruleA}` }).waitFor({ state: "detached", timeout: 30000 });
      const rejected = await adminApi("GET", sbApi + "/approvals?status_filter=rejected");
      assert.equal(rejected.status, 200, rejected.text);
      const a = rejected.json.chunks.find((c) => c.id === idA);
      assert.ok(a, "the chunk is rejected at the gateway");
      assert.equal(a.rejection_reason, "not needed by this agent");

      // Edit B's endpoint, approve it (the edited rule lands), then undo it from the "approved"
      // view: its rule leaves the policy.
      await page.getByRole("button", { name: `Edit ${ruleB}` }).click();
      await page.getByRole("dialog").getByLabel(/Endpoints/).fill("b2.example.org:8443");
      await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
      await page.getByRole("table", { name: "Draft policy chunks" }).getByText("b2.example.org:8443").waitFor({ timeout: 30000 });
      await page.getByRole("button", { name: `Approve ${ruleB}` }).click();
      await page.getByRole("button", { name: `Approve ${ruleB}` }).waitFor({ state: "detached", timeout: 30000 });
      const approvedB = (await adminApi("GET", sbApi + "/policy")).json.policy.network_policies[ruleB];
      assert.ok(approvedB, "approved rule in the policy");
      assert.deepEqual(approvedB.endpoints.map((e) => [e.host, e.port]), [["b2.example.org", 8443]]);
      await page.getByLabel("Show").selectOption("approved");
      await page.getByRole("button", { name: `Undo ${ruleB}` }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Undo" }).click();
      await page.getByText(/^Undone: policy v\d+\.$/).waitFor({ timeout: 30000 });
      assert.equal((await adminApi("GET", sbApi + "/policy")).json.policy.network_policies[ruleB], undefined, "undone rule left the policy");
      await page.getByRole("table", { name: "Approval history" }).waitFor();
      await shot(page, "approvals-history");

      // Under a two-approval workflow one approve is a vote: the page shows the tally.
      const wf = await adminApi("PUT", wfPath, { required_approvals: 2, distinct_actors: true });
      assert.equal(wf.status, 200, wf.text);
      await simControlPost("/seed-chunks", { sandbox: sbName, chunks: [chunk(ruleC, "c.example.org")] });
      await page.goto(`/#/gateways/${gw}/approvals`);
      await page.getByRole("heading", { name: `Approvals inbox of ${gw}` }).waitFor();
      await page.getByRole("link", { name: sbName }).waitFor({ timeout: 30000 });
      await page.getByRole("button", { name: `Approve ${ruleC}` }).click();
      await page.getByText(`Vote recorded for ${ruleC}: 1 of 2 approvals.`).waitFor({ timeout: 30000 });
      await page.getByRole("button", { name: `Votes ${ruleC}` }).click();
      const tally = page.locator("#view .notice", { hasText: ruleC });
      await tally.getByText("pending, 1 of 2 approvals.", { exact: false }).waitFor({ timeout: 30000 });
      await tally.getByText(`${env.adminEmail}: approve`, { exact: false }).waitFor();
      await shot(page, "approvals-inbox");
      assert.equal((await adminApi("GET", sbApi + "/policy")).json.policy.network_policies[ruleC], undefined, "one vote of two changes nothing");
    });
  } finally {
    await adminApi("DELETE", wfPath);
  }
});

test("providers: create one with a credential; the value never appears in the page afterwards", async () => {
  const secret = "sk-bt-" + uniqueName("secret");
  const secret2 = "sk-bt-" + uniqueName("rotated");
  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gw}/providers`);
    await page.getByRole("heading", { name: `Providers on ${gw}` }).waitFor();
    await settled(page);
    await page.getByLabel("Name").fill(providerName);
    await page.getByLabel("Type").selectOption("openai");
    await page.getByLabel("API key").fill(secret);
    await page.getByLabel("Configuration").fill("OPENAI_BASE_URL=https://api.example.com/v1");
    await page.getByRole("button", { name: "Save provider" }).click();
    const row = page.locator("#view table.data tbody tr", { hasText: providerName });
    await row.waitFor({ timeout: 30000 });
    await row.getByText("OPENAI_API_KEY (redacted)").waitFor();
    await row.getByRole("button", { name: "Environment" }).click();
    await page.getByRole("heading", { name: `Environment of provider ${providerName}` }).waitFor({ timeout: 30000 });
    await shot(page, "providers");
    const html = await page.content();
    assert.ok(!html.includes(secret), "the credential is not in the DOM");
    const values = await page.$$eval("input, textarea", (els) => els.map((e) => e.value));
    assert.ok(!values.some((v) => v.includes(secret)), "no form control keeps the credential");
    // The key reached the gateway (the simulator's state holds it in clear).
    const simProvider = async () => (await (await fetch(simControl + "/state")).json()).providers.find((x) => x.name === providerName);
    assert.equal((await simProvider()).credentials.OPENAI_API_KEY, secret);

    // Update: a new key (sent under the type's credential key) and a config change.
    await page.reload();
    await row.waitFor({ timeout: 30000 });
    assert.ok(!(await page.content()).includes(secret));
    await row.getByRole("button", { name: "Edit" }).click();
    assert.equal(await page.getByLabel("API key").inputValue(), "", "the form never holds the stored key");
    await page.getByLabel("API key").fill(secret2);
    await page.getByLabel("Configuration").fill("OPENAI_BASE_URL=https://api2.example.com/v1");
    await page.getByRole("button", { name: "Save provider" }).click();
    await row.getByText("OPENAI_BASE_URL=https://api2.example.com/v1").waitFor({ timeout: 30000 });
    const after = await simProvider();
    assert.equal(after.credentials.OPENAI_API_KEY, secret2);
    assert.equal(after.config.OPENAI_BASE_URL, "https://api2.example.com/v1");
    const html2 = await page.content();
    assert.ok(!html2.includes(secret) && !html2.includes(secret2), "neither key is in the DOM");
    await shot(page, "providers-updated");
  });
  const p = await adminApi("GET", `/api/gateways/${gw}/providers/${providerName}`);
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json.type, "openai");
  assert.equal(p.json.credentials.OPENAI_API_KEY, "[REDACTED]");
  assert.ok(!p.text.includes(secret));

  await asAdmin(async ({ page }) => {
    await page.goto(`/#/gateways/${gw}/providers`);
    const row = page.locator("#view table.data tbody tr", { hasText: providerName });
    await row.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await row.waitFor({ state: "detached", timeout: 30000 });
  });
  assert.equal((await adminApi("GET", `/api/gateways/${gw}/providers/${providerName}`)).status, 404);
});

test("webhooks: create one (secret shown once), send a test event, see it delivered in the log", async () => {
  const hits = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hits.push({ headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${server.address().port}/hook-${uniqueName()}`;
  try {
    await asAdmin(async ({ page }) => {
      await page.goto("/#/admin/webhooks");
      await page.getByRole("heading", { name: "Webhooks", exact: true }).waitFor();
      await settled(page);
      await page.getByLabel("URL").fill(url);
      await page.getByLabel("Events").fill("webhook.test");
      await page.getByRole("button", { name: "Create webhook" }).click();
      const panel = page.getByRole("region", { name: /Signing secret of webhook/ });
      await panel.waitFor({ timeout: 30000 });
      const secret = (await panel.locator("code.secret").textContent()).trim();
      assert.match(secret, /^[0-9a-f]{64}$/);
      webhookId = Number(/webhook (\d+)/.exec(await panel.getAttribute("aria-label"))[1]);
      const w = await adminApi("GET", `/api/webhooks/${webhookId}`);
      assert.equal(w.status, 200, w.text);
      assert.equal(w.json.url, url);
      assert.equal(w.json.secret, undefined);

      const row = page.locator("#view table.data tbody tr", { hasText: url });
      await row.getByRole("button", { name: "Test" }).click();
      await page.getByText("Test event sent.").waitFor({ timeout: 30000 });
      // The worker fans out and delivers within a second or two; re-open the log until then.
      const deadline = Date.now() + 45000;
      for (;;) {
        await row.getByRole("button", { name: "Deliveries" }).click();
        await page.getByRole("heading", { name: `Deliveries of webhook ${webhookId}` }).waitFor({ timeout: 30000 });
        if (await page.getByRole("table", { name: "Deliveries" }).locator(".badge", { hasText: /^success$/ }).count()) break;
        assert.ok(Date.now() < deadline, "the test delivery did not succeed in time");
        await page.waitForTimeout(1000);
      }
      await page.getByRole("table", { name: "Deliveries" }).getByRole("cell", { name: "webhook.test" }).first().waitFor();
      await shot(page, "webhooks");
      // Shown once: a reload has no secret anywhere.
      await page.reload();
      await row.waitFor({ timeout: 30000 });
      assert.ok(!(await page.content()).includes(secret), "the secret is not shown again");
      assert.ok(hits.length >= 1, "the receiver got the delivery");
      assert.equal(hits[0].headers["x-shoreguard-event"], "webhook.test");
      const d = await adminApi("GET", `/api/webhooks/${webhookId}/deliveries`);
      assert.equal(d.status, 200, d.text);
      assert.ok(d.json.some((x) => x.status === "success" && x.response_code === 200));

      // Pause, then delete.
      await row.getByRole("button", { name: "Pause" }).click();
      await row.getByText("paused", { exact: true }).waitFor({ timeout: 30000 });
      assert.equal((await adminApi("GET", `/api/webhooks/${webhookId}`)).json.is_active, false);
      await row.getByRole("button", { name: "Delete" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
      await row.waitFor({ state: "detached", timeout: 30000 });
      assert.equal((await adminApi("GET", `/api/webhooks/${webhookId}`)).status, 404);
      webhookId = null;
    });
  } finally {
    server.close();
  }
});

test("viewer: the sandbox, policy, approvals and providers pages show no write controls", async () => {
  const email = uniqueName("bt-viewer") + "@example.com";
  const inv = await adminApi("POST", "/api/auth/users", { email, role: "viewer" });
  assert.equal(inv.status, 201, inv.text);
  const t = await newPage(browser);
  try {
    const { page } = t;
    t.allowHttpErrors(404); // no pin
    await page.goto("/#/invite?token=" + encodeURIComponent(inv.json.invite_token));
    await page.getByLabel("Password", { exact: true }).fill("browser-suite-pw-2");
    await page.getByLabel("Confirm password").fill("browser-suite-pw-2");
    await page.getByRole("button", { name: "Activate account" }).click();
    await page.locator("#who").getByText(`${email} · viewer`).waitFor();

    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}`);
    await page.getByRole("heading", { name: "Logs" }).waitFor();
    await settled(page);
    for (const name of ["Delete sandbox", "Run", "Create SSH session", "Save"])
      assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, name);
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}/policy`);
    await page.getByRole("heading", { name: "Network rules" }).waitFor();
    await settled(page);
    await page.getByRole("table", { name: "Network rules" }).waitFor();
    for (const name of ["Save rule", "Add path", "Pin current version", "Preview (dry run)", "Save process settings"])
      assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, name);
    assert.equal(await page.getByRole("button", { name: /^Delete rule / }).count(), 0);
    await page.getByRole("button", { name: "Export YAML" }).waitFor(); // reads stay open
    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}/approvals`);
    await page.getByRole("heading", { name: `Approvals for ${sbName}` }).waitFor();
    await settled(page);
    assert.equal(await page.getByRole("button", { name: "Approve all", exact: true }).count(), 0);
    assert.equal(await page.getByRole("button", { name: /^(Approve|Reject|Edit) / }).count(), 0);
    await page.goto(`/#/gateways/${gw}/providers`);
    await page.getByRole("heading", { name: `Providers on ${gw}` }).waitFor();
    await settled(page);
    assert.equal(await page.getByRole("button", { name: "Save provider" }).count(), 0);
    t.check();
  } finally {
    await t.close();
    const users = await adminApi("GET", "/api/auth/users");
    const u = (users.json || []).find((x) => x.email === email);
    if (u) await adminApi("DELETE", `/api/auth/users/${u.id}`);
  }
});

test("sandbox create: Cancel on the progress bar ends the operation as cancelled", async () => {
  const name = uniqueName("bt-cancel");
  // A slow gateway (ready after 30 s) leaves time to cancel while the worker waits for ready.
  const before = await simControlPost("/config", {});
  await simControlPost("/config", { ready_delay: 30 });
  try {
    await asAdmin(async ({ page }) => {
      await page.goto(`/#/gateways/${gw}/sandboxes/new`);
      await page.getByLabel("Name").fill(name);
      await page.getByRole("button", { name: "Create sandbox" }).click();
      await page.getByRole("status").getByText("Waiting for ready state").waitFor({ timeout: 60000 });
      await page.getByRole("button", { name: "Cancel", exact: true }).click();
      await page.getByRole("alert").getByText(/cancel/i).waitFor({ timeout: 60000 });
      await shot(page, "sandbox-create-cancelled");
    });
    const ops = await adminApi("GET", `/api/operations?resource_type=sandbox&gateway=${gw}&limit=50`);
    const op = ops.json.operations.find((o) => o.status === "failed" && o.error_code === "cancelled" && o.created_at && Date.now() - Date.parse(o.created_at) < 120000);
    assert.ok(op, "a cancelled create is on record: " + ops.text.slice(0, 500));
  } finally {
    await simControlPost("/config", { ready_delay: before.ready_delay });
    await adminApi("DELETE", `/api/gateways/${gw}/sandboxes/${name}`);
  }
});

test("sandbox pages: a refused create shows the API's detail; delete through the page", async () => {
  await asAdmin(async (t) => {
    const { page } = t;
    t.allowHttpErrors(400, 404);
    await page.goto(`/#/gateways/${gw}/sandboxes/new`);
    await page.getByLabel("Name").fill("bad name!");
    await page.getByRole("button", { name: "Create sandbox" }).click();
    await page.getByRole("alert").getByText("Invalid sandbox name: must match [a-zA-Z0-9][a-zA-Z0-9._-]*").waitFor({ timeout: 30000 });

    await page.goto(`/#/gateways/${gw}/sandboxes/${sbName}`);
    await page.getByRole("heading", { name: sbName }).waitFor();
    await settled(page);
    await page.getByRole("button", { name: "Delete sandbox" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
    await page.waitForURL(new RegExp(`#/gateways/${gw}/sandboxes$`), { timeout: 30000 });
    await page.getByRole("heading", { name: `Sandboxes on ${gw}` }).waitFor();
  });
  // Gone at the gateway (the simulator keeps a deleted sandbox DELETING for a moment).
  const deadline = Date.now() + 20000;
  let r;
  do {
    r = await adminApi("GET", sbApi);
    if (r.status === 404) break;
    await new Promise((res) => setTimeout(res, 500));
  } while (Date.now() < deadline);
  assert.equal(r.status, 404, r.text);
});
