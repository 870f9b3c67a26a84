// A sandbox's policy: network rules (add, edit, delete), filesystem paths, process and landlock,
// presets, revisions with a side-by-side diff, GitOps export and apply (a dry-run diff first) and
// pin/unpin. Every write answers with the fresh policy envelope, which re-renders the page.
import { h, fill } from "../dom.js";
import { get, post, put, del, seg, query } from "../api.js";
import { session } from "../session.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, field, select, fmtTime, toast, confirmDialog, busy, jsonBlock } from "../ui.js";

const sbApi = (gw, sb) => `/api/gateways/${seg(gw)}/sandboxes/${seg(sb)}`;
const REV_KIND = { loaded: "ok", pending: "warn", failed: "bad", superseded: "muted" };

export function endpointsText(rule) {
  const eps = (rule && rule.endpoints) || [];
  return eps.map((e) => `${e.host || "?"}:${e.port || (e.ports || []).join("|") || "?"}`).join(", ") || "—";
}

function binariesText(rule) {
  return ((rule && rule.binaries) || []).map((b) => (typeof b === "string" ? b : b.path)).join(", ") || "—";
}

function msTime(ms) {
  return ms ? fmtTime(new Date(Number(ms)).toISOString()) : "—";
}

// "host:port" lines -> endpoints; a missing port is a form error, not a guess.
function parseEndpoints(text) {
  const out = [];
  for (const line of text.split(/[\n,]/)) {
    const t = line.trim();
    if (!t) continue;
    const i = t.lastIndexOf(":");
    const port = Number(t.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Endpoint "${t}" is not host:port (port 1-65535)`);
    out.push({ host: t.slice(0, i), port });
  }
  if (!out.length) throw new Error("A rule needs at least one endpoint (host:port)");
  return out;
}

function parseLines(text) {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

page({
  path: "/gateways/:gw/sandboxes/:sb/policy",
  title: (ctx) => `Policy · ${ctx.params.sb}`,
  async render(ctx) {
    const { gw, sb } = ctx.params;
    const base = sbApi(gw, sb) + "/policy";
    const operator = session.has("operator");
    const back = h("p", null, h("a", { href: `#/gateways/${seg(gw)}/sandboxes/${seg(sb)}` }, "← " + sb));
    const title = h("h1", null, "Policy of ", sb);
    fill(ctx.view, back, title, spinner("Loading policy"));
    let env, pin;
    try {
      [env, pin] = await Promise.all([get(base), loadPin(base)]);
    } catch (err) {
      if (ctx.alive()) fill(ctx.view, back, title, errorBox(err));
      return;
    }
    if (!ctx.alive()) return;
    const status = h("div", { "aria-live": "polite" });
    const policy = env.policy || {};
    const rev = env.revision || {};
    // Every write returns the new envelope; re-render from the server's state.
    const write = (button, label, fn) =>
      busy(button, status, async () => {
        await fn();
        toast(label + ": done.", "ok");
        ctx.reload();
      }, label);

    fill(
      ctx.view,
      back,
      title,
      h(
        "p",
        { class: "muted" },
        `Active version v${env.active_version ?? "—"} · latest revision v${rev.version ?? "—"} `,
        rev.status ? badge(rev.status, REV_KIND[rev.status]) : null,
        rev.policy_hash ? h("span", { class: "mono small" }, " " + rev.policy_hash.slice(0, 16)) : null
      ),
      status,
      pinSection(base, pin, operator, write),
      networkSection(base, policy, operator, write),
      filesystemSection(base, policy, operator, write),
      processSection(base, policy, operator, write),
      operator ? presetSection(base, write) : null,
      revisionsSection(base, ctx),
      gitopsSection(base, operator, ctx),
      h("section", { class: "card" }, h("h2", null, "Full policy (JSON)"), h("details", null, h("summary", null, "Show"), jsonBlock(policy)))
    );
  },
});

// null when there is no active pin (the API's 404).
async function loadPin(base) {
  try {
    return await get(base + "/pin");
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

function pinSection(base, pin, operator, write) {
  const body = [];
  if (pin) {
    body.push(
      h(
        "div",
        { class: "notice", role: "status" },
        h("strong", null, `Pinned at version v${pin.pinned_version}`),
        ` by ${pin.pinned_by || "?"} since ${fmtTime(pin.pinned_at)}`,
        pin.expires_at ? `, until ${fmtTime(pin.expires_at)}` : "",
        h("div", null, "Reason: ", pin.reason || "—"),
        h("div", { class: "small muted" }, "Policy writes and applies are refused until it is unpinned.")
      )
    );
    if (operator) {
      const unpin = h("button", { type: "button" }, "Unpin");
      unpin.addEventListener("click", async () => {
        if (!(await confirmDialog("Unpin this sandbox's policy? Writes are allowed again.", { confirmLabel: "Unpin" }))) return;
        await write(unpin, "Unpin", () => del(base + "/pin"));
      });
      body.push(h("div", { class: "actions" }, unpin));
    }
  } else {
    body.push(h("p", { class: "muted" }, "Not pinned: writes and GitOps applies are allowed."));
    if (operator) {
      const pinBtn = h("button", { type: "submit", class: "primary" }, "Pin current version");
      const form = h(
        "form",
        {
          class: "form-inline",
          on: {
            submit: (ev) => {
              ev.preventDefault();
              const reason = form.reason.value.trim();
              const expires = form.expires.value.trim();
              write(pinBtn, "Pin", () => post(base + "/pin", { reason: reason || null, expires_at: expires || null }));
            },
          },
        },
        field("Reason", h("input", { name: "reason", autocomplete: "off" })),
        field("Expires at", h("input", { name: "expires", placeholder: "2030-01-01T00:00:00Z" }), "Optional, ISO-8601 (UTC without offset)."),
        pinBtn
      );
      body.push(form);
    }
  }
  return h("section", { class: "card" }, h("h2", null, "Pin"), body);
}

function networkSection(base, policy, operator, write) {
  const rules = Object.entries(policy.network_policies || {}).sort((a, b) => a[0].localeCompare(b[0]));
  const save = h("button", { type: "submit", class: "primary" }, "Save rule");
  const cancelEdit = h("button", { type: "button", hidden: true }, "Cancel edit");
  const legend = h("h3", null, "Add a rule");
  const form = h(
    "form",
    {
      class: "form",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          write(save, "Save rule", async () => {
            const key = form.key.value.trim();
            if (!key) throw new Error("The rule needs a key");
            const rule = { name: key, endpoints: parseEndpoints(form.endpoints.value) };
            const bins = parseLines(form.binaries.value);
            if (bins.length) rule.binaries = bins.map((path) => ({ path }));
            await post(base + "/network-rules", { key, rule });
          });
        },
      },
    },
    legend,
    field("Key", h("input", { name: "key", autocomplete: "off" }), "The rule's name in network_policies; an existing key is replaced."),
    field("Endpoints", h("textarea", { name: "endpoints", placeholder: "api.example.com:443" }), "One host:port per line (host globs *.x allowed below a domain)."),
    field("Binaries", h("textarea", { name: "binaries", placeholder: "/usr/bin/curl" }), "Optional: one executable path per line."),
    h("div", { class: "actions" }, save, cancelEdit)
  );
  cancelEdit.addEventListener("click", () => {
    form.reset();
    form.key.readOnly = false;
    legend.textContent = "Add a rule";
    cancelEdit.hidden = true;
  });
  const edit = (key, rule) => {
    form.key.value = key;
    form.key.readOnly = true;
    form.endpoints.value = ((rule && rule.endpoints) || []).map((e) => `${e.host}:${e.port}`).join("\n");
    form.binaries.value = ((rule && rule.binaries) || []).map((b) => (typeof b === "string" ? b : b.path)).join("\n");
    legend.textContent = `Edit rule ${key}`;
    cancelEdit.hidden = false;
    form.endpoints.focus();
  };
  const remove = async (key, button) => {
    if (!(await confirmDialog(`Delete the network rule ${key}?`, { confirmLabel: "Delete", danger: true }))) return;
    await write(button, "Delete rule", () => del(`${base}/network-rules/${seg(key)}`));
  };
  return h(
    "section",
    { class: "card" },
    h("h2", null, "Network rules"),
    rules.length
      ? table(
          [
            { label: "Rule", cell: (r) => h("code", null, r[0]) },
            { label: "Endpoints", cell: (r) => h("span", { class: "mono" }, endpointsText(r[1])) },
            { label: "Binaries", cell: (r) => h("span", { class: "mono" }, binariesText(r[1])) },
            {
              label: "Actions",
              cell: (r) =>
                operator
                  ? h(
                      "div",
                      { class: "row-actions" },
                      h("button", { type: "button", "aria-label": `Edit rule ${r[0]}`, on: { click: () => edit(r[0], r[1]) } }, "Edit"),
                      h("button", { type: "button", class: "danger", "aria-label": `Delete rule ${r[0]}`, on: { click: (ev) => remove(r[0], ev.currentTarget) } }, "Delete")
                    )
                  : "",
            },
          ],
          rules,
          { caption: "Network rules" }
        )
      : emptyState("No network rules.", "Everything outbound is blocked until a rule allows it."),
    operator ? form : null
  );
}

function filesystemSection(base, policy, operator, write) {
  const fs = policy.filesystem || {};
  const rows = [...(fs.read_only || []).map((p) => ({ path: p, access: "ro" })), ...(fs.read_write || []).map((p) => ({ path: p, access: "rw" }))];
  const add = h("button", { type: "submit", class: "primary" }, "Add path");
  const form = h(
    "form",
    {
      class: "form-inline",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          write(add, "Add path", () => post(base + "/filesystem", { path: form.path.value.trim(), access: form.access.value }));
        },
      },
    },
    field("Path", h("input", { name: "path", class: "mono", placeholder: "/data", autocomplete: "off" })),
    field("Access", select("access", [["ro", "read-only"], ["rw", "read-write"]], "ro")),
    add
  );
  return h(
    "section",
    { class: "card" },
    h("h2", null, "Filesystem"),
    h("p", { class: "muted small" }, `Working directory included: ${fs.include_workdir ? "yes" : "no"}. A live sandbox accepts new paths only; removals may be refused by the gateway.`),
    rows.length
      ? table(
          [
            { label: "Path", cell: (r) => h("span", { class: "mono" }, r.path) },
            { label: "Access", cell: (r) => badge(r.access === "rw" ? "read-write" : "read-only", r.access === "rw" ? "warn" : "muted") },
            {
              label: "Actions",
              cell: (r) =>
                operator
                  ? h("button", {
                      type: "button",
                      class: "danger",
                      "aria-label": `Remove path ${r.path}`,
                      on: {
                        click: async (ev) => {
                          const b = ev.currentTarget;
                          if (!(await confirmDialog(`Remove ${r.path} from the filesystem policy?`, { confirmLabel: "Remove", danger: true }))) return;
                          await write(b, "Remove path", () => del(base + "/filesystem" + query({ path: r.path })));
                        },
                      },
                    }, "Remove")
                  : "",
            },
          ],
          rows,
          { caption: "Filesystem paths" }
        )
      : emptyState("No filesystem paths.", "Add read-only or read-write paths the sandbox may use."),
    operator ? form : null
  );
}

function processSection(base, policy, operator, write) {
  const proc = policy.process || {};
  const ll = (policy.landlock || {}).compatibility || "";
  const props = h(
    "dl",
    { class: "props" },
    h("dt", null, "Run as user"), h("dd", { class: "mono" }, proc.run_as_user || "—"),
    h("dt", null, "Run as group"), h("dd", { class: "mono" }, proc.run_as_group || "—"),
    h("dt", null, "Landlock"), h("dd", null, ll || "—")
  );
  if (!operator) return h("section", { class: "card" }, h("h2", null, "Process and landlock"), props);
  const save = h("button", { type: "submit", class: "primary" }, "Save process settings");
  const form = h(
    "form",
    {
      class: "form-inline",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          const body = { run_as_user: form.run_as_user.value.trim(), run_as_group: form.run_as_group.value.trim() };
          if (form.landlock.value) body.landlock_compatibility = form.landlock.value;
          write(save, "Save process settings", () => put(base + "/process", body));
        },
      },
    },
    field("Run as user", h("input", { name: "run_as_user", value: proc.run_as_user || "", autocomplete: "off" })),
    field("Run as group", h("input", { name: "run_as_group", value: proc.run_as_group || "", autocomplete: "off" })),
    field("Landlock", select("landlock", [["", "— unchanged —"], ["best_effort", "best_effort"], ["hard_requirement", "hard_requirement"]], ll)),
    save
  );
  return h("section", { class: "card" }, h("h2", null, "Process and landlock"), props, h("p", { class: "muted small" }, "A live sandbox keeps these fixed; the gateway's refusal is shown here."), form);
}

function presetSection(base, write) {
  const box = h("div", null, spinner("Loading presets"));
  get("/api/policies/presets").then(
    (presets) => {
      if (!presets.length) return fill(box, h("p", { class: "muted" }, "No presets installed."));
      const apply = h("button", { type: "submit" }, "Apply preset");
      const form = h(
        "form",
        {
          class: "form-inline",
          on: {
            submit: (ev) => {
              ev.preventDefault();
              write(apply, "Apply preset", () => post(`${base}/presets/${seg(form.preset.value)}`));
            },
          },
        },
        field("Preset", select("preset", presets.map((p) => p.name))),
        apply
      );
      fill(box, form);
    },
    (err) => fill(box, errorBox(err))
  );
  return h("section", { class: "card" }, h("h2", null, "Presets"), h("p", { class: "muted small" }, "A preset adds its network rules (same keys are replaced)."), box);
}

function revisionsSection(base, ctx) {
  const box = h("div", null, spinner("Loading revisions"));
  const diffBox = h("div", { "aria-live": "polite" });
  get(base + "/revisions" + query({ limit: 50 })).then(
    (revs) => {
      if (!ctx.alive()) return;
      if (!revs.length) return fill(box, emptyState("No revisions yet.", "Each policy change makes one."));
      const versions = revs.map((r) => [String(r.version), `v${r.version} (${r.status})`]);
      const show = h("button", { type: "submit" }, "Compare");
      const form = h(
        "form",
        {
          class: "form-inline",
          on: {
            submit: (ev) => {
              ev.preventDefault();
              busy(show, diffBox, async () => {
                const d = await get(base + "/diff" + query({ version_a: form.version_a.value, version_b: form.version_b.value }));
                fill(diffBox, diffView(d));
              }, "Comparing");
            },
          },
        },
        field("From", select("version_a", versions, versions[Math.min(1, versions.length - 1)][0])),
        field("To", select("version_b", versions, versions[0][0])),
        show
      );
      fill(
        box,
        table(
          [
            { label: "Version", cell: (r) => `v${r.version}` },
            { label: "Status", cell: (r) => badge(r.status, REV_KIND[r.status]) },
            { label: "Hash", cell: (r) => h("span", { class: "mono small" }, (r.policy_hash || "").slice(0, 16) || "—") },
            { label: "Created", cell: (r) => msTime(r.created_at_ms) },
            { label: "Loaded", cell: (r) => msTime(r.loaded_at_ms) },
            { label: "Load error", cell: (r) => r.load_error || "—" },
          ],
          revs,
          { caption: "Policy revisions" }
        ),
        h("h3", null, "Compare two revisions"),
        form
      );
    },
    (err) => fill(box, errorBox(err))
  );
  return h("section", { class: "card" }, h("h2", null, "Revisions"), box, diffBox);
}

// The structural diff as lists, then the two policies side by side.
export function diffSummary(diff) {
  const d = diff || {};
  const net = d.network_policies || {};
  const items = [];
  for (const k of net.added || []) items.push(h("li", { class: "diff-add" }, "+ rule ", h("code", null, k)));
  for (const k of net.removed || []) items.push(h("li", { class: "diff-del" }, "− rule ", h("code", null, k)));
  for (const k of net.changed || []) items.push(h("li", { class: "diff-chg" }, "~ rule ", h("code", null, k)));
  const fsd = d.filesystem || {};
  for (const [k, v] of Object.entries(fsd)) {
    if (Array.isArray(v)) v.forEach((p) => items.push(h("li", { class: k.includes("removed") ? "diff-del" : "diff-add" }, `${k}: `, h("code", null, String(p)))));
    else if (v === true) items.push(h("li", { class: "diff-chg" }, `filesystem ${k}`));
  }
  for (const [sect, obj] of [["process", d.process], ["landlock", d.landlock]])
    for (const [k, v] of Object.entries(obj || {})) if (v) items.push(h("li", { class: "diff-chg" }, `${sect}: ${k}`));
  return items.length ? h("ul", { class: "diff-list" }, items) : h("p", { class: "muted" }, "No differences.");
}

// Line pairs of two texts aligned by their longest common subsequence: [left|null, right|null].
export function alignLines(a, b) {
  const n = a.length, m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push([a[i++], b[j++]]);
    else if (j < m && (i >= n || lcs[i][j + 1] >= lcs[i + 1][j])) out.push([null, b[j++]]);
    else out.push([a[i++], null]);
  }
  return out;
}

// The two policies as JSON, side by side, removed lines marked on the left and added on the right.
function sideBySide(d) {
  const a = JSON.stringify(d.policy_a ?? null, null, 2).split("\n");
  const b = JSON.stringify(d.policy_b ?? null, null, 2).split("\n");
  const rows = a.length * b.length > 4e6 ? a.map((x, k) => [x, b[k] ?? null]) : alignLines(a, b);
  const line = (text, kind) => h("span", { class: ["diff-line", text === null ? "diff-gap" : kind] }, (text ?? "") + "\n");
  const left = h("pre", { class: "json diff-pane", "aria-label": `Policy v${d.version_a}` }, rows.map(([x, y]) => line(x, y === null || x !== y ? "diff-del" : null)));
  const right = h("pre", { class: "json diff-pane", "aria-label": `Policy v${d.version_b}` }, rows.map(([x, y]) => line(y, x === null || x !== y ? "diff-add" : null)));
  return h("div", { class: "side-by-side" }, h("div", null, h("h4", null, `v${d.version_a}`), left), h("div", null, h("h4", null, `v${d.version_b}`), right));
}

function diffView(d) {
  return h("div", { class: "diff" }, h("h3", null, `Differences v${d.version_a} → v${d.version_b}`), diffSummary(d.diff), sideBySide(d));
}

function gitopsSection(base, operator, ctx) {
  const status = h("div", { "aria-live": "polite" });
  const yaml = h("textarea", { name: "yaml", class: "mono yaml", rows: "14", spellcheck: "false", readOnly: !operator });
  const exportBtn = h("button", { type: "button" }, "Export YAML");
  const dryBtn = h("button", { type: "button" }, "Preview (dry run)");
  const applyBtn = h("button", { type: "button", class: "primary", disabled: true }, "Apply");
  const mode = select("mode", [["replace", "replace"], ["merge", "merge (network rules only)"]], "replace");
  const preview = h("div", { "aria-live": "polite" });
  let checked = null; // the {yaml, mode} the last dry run saw; Apply sends exactly that
  const invalidate = () => {
    checked = null;
    applyBtn.disabled = true;
  };
  yaml.addEventListener("input", invalidate);
  mode.addEventListener("change", invalidate);
  exportBtn.addEventListener("click", () =>
    busy(exportBtn, status, async () => {
      const e = await get(base + "/export");
      yaml.value = e.yaml;
      invalidate();
      fill(preview);
      fill(status, h("p", { class: "muted" }, `Exported version v${e.version} (hash ${String(e.policy_hash).slice(0, 16)}).`));
    }, "Exporting")
  );
  dryBtn.addEventListener("click", () =>
    busy(dryBtn, status, async () => {
      const sent = { yaml: yaml.value, mode: mode.value };
      if (!sent.yaml.trim()) throw new Error("Paste or export a policy YAML first");
      const r = await post(base + "/apply", { ...sent, dry_run: true });
      fill(preview, h("h3", null, "Dry run: ", r.status), diffSummary(r.diff));
      checked = sent;
      applyBtn.disabled = false;
    }, "Checking")
  );
  applyBtn.addEventListener("click", async () => {
    if (!checked) return;
    if (!(await confirmDialog("Apply this policy to the sandbox?", { confirmLabel: "Apply" }))) return;
    await busy(applyBtn, status, async () => {
      const r = await post(base + "/apply", { ...checked, dry_run: false });
      toast(r.status === "applied" ? `Applied as version ${r.applied_version}.` : `Nothing to apply (${r.status}).`, "ok");
      ctx.reload();
    }, "Applying");
  });
  return h(
    "section",
    { class: "card" },
    h("h2", null, "GitOps"),
    h("p", { class: "muted small" }, "Export gives byte-stable YAML for a repository; Apply always shows a dry-run diff first."),
    field("Policy YAML", yaml),
    operator ? field("Mode", mode) : null,
    h("div", { class: "actions" }, exportBtn, operator ? [dryBtn, applyBtn] : null),
    status,
    preview
  );
}

