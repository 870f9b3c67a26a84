// Sandboxes of a gateway: list, create wizard (template, image, providers, presets, environment)
// with the operation's progress bar, and the sandbox page (overview, metadata, exec console, logs
// viewer with follow, SSH session, delete). The policy lives on its own page (policy.js).
import { h, fill } from "../dom.js";
import { get, post, patch, del, seg, query, api as call } from "../api.js";
import { session } from "../session.js";
import { page, go } from "../router.js";
import { followOperation } from "../operations.js";
import {
  errorBox, spinner, emptyState, table, badge, labelChips, field, select, parseLabels, formatLabels,
  fmtTime, toast, confirmDialog, busy, secretPanel,
} from "../ui.js";

const PHASE = { ready: "ok", provisioning: "warn", error: "bad", deleting: "muted", unknown: "muted" };
const gwApi = (gw) => "/api/gateways/" + seg(gw);

page({
  path: "/gateways/:gw/sandboxes",
  title: (ctx) => `Sandboxes · ${ctx.params.gw}`,
  async render(ctx) {
    const gw = ctx.params.gw;
    const head = [h("p", null, h("a", { href: "#/gateways/" + seg(gw) }, "← " + gw)), h("h1", null, "Sandboxes on ", gw)];
    const area = h("div", null, spinner("Loading sandboxes"));
    fill(
      ctx.view,
      head,
      h("div", { class: "toolbar" }, session.has("operator") ? h("a", { class: "button primary", href: `#/gateways/${seg(gw)}/sandboxes/new` }, "New sandbox") : null, h("button", { type: "button", on: { click: () => ctx.reload() } }, "Refresh")),
      area
    );
    let data;
    try {
      data = await get(gwApi(gw) + "/sandboxes");
    } catch (err) {
      if (ctx.alive()) fill(area, errorBox(err));
      return;
    }
    if (!ctx.alive()) return;
    const items = data.items || [];
    if (!items.length) {
      fill(area, emptyState("No sandboxes on this gateway.", "Create one with the New sandbox button."));
      return;
    }
    fill(
      area,
      table(
        [
          { label: "Name", cell: (s) => h("a", { href: `#/gateways/${seg(gw)}/sandboxes/${seg(s.name)}` }, s.name) },
          { label: "Phase", cell: (s) => badge(s.phase, PHASE[s.phase]) },
          { label: "Labels", cell: (s) => labelChips(s.labels) },
          { label: "Image", cell: (s) => h("span", { class: "mono" }, s.image || "default") },
          { label: "Policy", cell: (s) => (s.current_policy_version ? `v${s.current_policy_version}` : "—") },
          { label: "Created", cell: (s) => (s.created_at_ms ? fmtTime(new Date(s.created_at_ms).toISOString()) : "—") },
        ],
        items,
        { caption: "Sandboxes" }
      )
    );
  },
});

page({
  path: "/gateways/:gw/sandboxes/new",
  title: "New sandbox",
  role: "operator",
  async render(ctx) {
    const gw = ctx.params.gw;
    fill(ctx.view, h("h1", null, "New sandbox on ", gw), spinner("Loading templates, presets and providers"));
    const [templates, presets, providers] = await Promise.allSettled([get("/api/sandbox-templates"), get("/api/policies/presets"), get(gwApi(gw) + "/providers")]);
    if (!ctx.alive()) return;
    const status = h("div", { "aria-live": "polite" });
    const launch = h("button", { type: "submit", class: "primary" }, "Create sandbox");
    const presetBoxes = (presets.status === "fulfilled" ? presets.value : []).map((p) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "preset", value: p.name }), " ", p.name));
    const providerBoxes = (providers.status === "fulfilled" ? providers.value.items || [] : []).map((p) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "provider", value: p.name }), " ", p.name, " (", p.type, ")"));
    const tplSelect = select("template", [["", "— none —"], ...(templates.status === "fulfilled" ? templates.value.map((t) => [t.name, t.name]) : [])], "");
    const form = h(
      "form",
      {
        class: "form",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(launch, status, async () => {
              const env = {};
              for (const line of form.environment.value.split("\n")) {
                const t = line.trim();
                if (!t) continue;
                const i = t.indexOf("=");
                if (i <= 0) throw new Error(`Environment line "${t}" is not KEY=value`);
                env[t.slice(0, i)] = t.slice(i + 1);
              }
              const body = {
                name: form.elements.namedItem("name").value.trim(),
                image: form.image.value.trim(),
                gpu: form.gpu.checked,
                providers: [...form.querySelectorAll("input[name=provider]:checked")].map((x) => x.value),
                presets: [...form.querySelectorAll("input[name=preset]:checked")].map((x) => x.value),
                environment: env,
                description: form.description.value.trim() || undefined,
                labels: parseLabels(form.labels.value),
              };
              const started = await post(gwApi(gw) + "/sandboxes", body);
              const op = await followOperation(status, started.operation_id, "Creating the sandbox", ctx.alive);
              if (!ctx.alive()) return;
              const r = op.result || {};
              const name = r.name || body.name;
              const failed = r.presets_failed || [];
              status.append(
                h(
                  "div",
                  { class: r.warning || failed.length ? "notice" : "ok-box", role: "status" },
                  "Sandbox ", h("strong", null, name), " is ", badge(r.phase || "unknown", PHASE[r.phase]), ". ",
                  r.warning ? h("div", null, r.warning) : null,
                  failed.map((f) => h("div", null, `Preset ${f.preset} failed: ${f.error}`)),
                  h("a", { class: "button primary", href: `#/gateways/${seg(gw)}/sandboxes/${seg(name)}` }, "Open the sandbox")
                )
              );
              toast(`Sandbox ${name} is ${r.phase || "created"}.`, "ok");
            }, "Starting");
          },
        },
      },
      field("Template", tplSelect, "A template pre-fills image and presets."),
      field("Name", h("input", { name: "name", autocomplete: "off" })),
      field("Image", h("input", { name: "image", placeholder: "gateway default" })),
      h("div", { class: "field" }, h("label", null, h("input", { type: "checkbox", name: "gpu" }), " GPU")),
      h("fieldset", null, h("legend", null, "Providers"), providerBoxes.length ? providerBoxes : h("p", { class: "muted" }, "No providers on this gateway.")),
      h("fieldset", null, h("legend", null, "Policy presets"), presetBoxes.length ? presetBoxes : h("p", { class: "muted" }, "No presets installed.")),
      field("Environment", h("textarea", { name: "environment", placeholder: "KEY=value" }), "One KEY=value per line."),
      field("Description", h("textarea", { name: "description" })),
      field("Labels", h("textarea", { name: "labels" }), "One key=value per line."),
      h("div", { class: "actions" }, launch, h("a", { class: "button", href: `#/gateways/${seg(gw)}/sandboxes` }, "Cancel")),
      status
    );
    tplSelect.addEventListener("change", async () => {
      if (!tplSelect.value) return;
      try {
        const t = await get("/api/sandbox-templates/" + seg(tplSelect.value));
        const sb = t.sandbox || t;
        if (sb.image) form.image.value = sb.image;
        if (typeof sb.gpu === "boolean") form.gpu.checked = sb.gpu;
        const want = new Set(sb.presets || []);
        form.querySelectorAll("input[name=preset]").forEach((x) => (x.checked = want.has(x.value)));
        const provs = new Set(sb.providers || []);
        form.querySelectorAll("input[name=provider]").forEach((x) => (x.checked = provs.has(x.value)));
        if (sb.environment) form.environment.value = Object.entries(sb.environment).map(([k, v]) => `${k}=${v}`).join("\n");
      } catch (err) {
        fill(status, errorBox(err, "Template"));
      }
    });
    const errors = [templates, presets, providers].filter((r) => r.status === "rejected").map((r) => errorBox(r.reason));
    fill(ctx.view, h("h1", null, "New sandbox on ", gw), errors, form);
  },
});

page({
  path: "/gateways/:gw/sandboxes/:sb",
  title: (ctx) => ctx.params.sb,
  async render(ctx) {
    const { gw, sb } = ctx.params;
    const base = `${gwApi(gw)}/sandboxes/${seg(sb)}`;
    const back = h("p", null, h("a", { href: `#/gateways/${seg(gw)}/sandboxes` }, "← Sandboxes on " + gw));
    fill(ctx.view, back, h("h1", null, sb), spinner("Loading sandbox"));
    let s;
    try {
      s = await get(base);
    } catch (err) {
      if (ctx.alive()) fill(ctx.view, back, h("h1", null, sb), errorBox(err));
      return;
    }
    if (!ctx.alive()) return;
    const operator = session.has("operator");
    const status = h("div", { "aria-live": "polite" });
    const sections = [
      back,
      h("h1", null, sb, " ", badge(s.phase, PHASE[s.phase])),
      h(
        "div",
        { class: "toolbar" },
        h("a", { class: "button", href: `#/gateways/${seg(gw)}/sandboxes/${seg(sb)}/approvals` }, "Approvals"),
        h("a", { class: "button", href: `#/gateways/${seg(gw)}/sandboxes/${seg(sb)}/policy` }, "Policy"),
        operator ? h("button", { type: "button", class: "danger", on: { click: (ev) => remove(ev.currentTarget) } }, "Delete sandbox") : null
      ),
      status,
      h(
        "section",
        { class: "card" },
        h("h2", null, "Overview"),
        h(
          "dl",
          { class: "props" },
          h("dt", null, "Image"), h("dd", { class: "mono" }, s.image || "default"),
          h("dt", null, "Namespace"), h("dd", null, s.namespace || "—"),
          h("dt", null, "Created"), h("dd", null, s.created_at_ms ? fmtTime(new Date(s.created_at_ms).toISOString()) : "—"),
          h("dt", null, "Policy version"), h("dd", null, s.current_policy_version ? `v${s.current_policy_version}` : "—"),
          h("dt", null, "GPU"), h("dd", null, s.gpu ? "yes" : "no"),
          h("dt", null, "Description"), h("dd", null, s.description || "—"),
          h("dt", null, "Labels"), h("dd", null, labelChips(s.labels)),
          h("dt", null, "ID"), h("dd", { class: "mono" }, s.id || "—")
        )
      ),
    ];
    if (operator) sections.push(metaEditor(base, s, ctx), execConsole(base, ctx), sshSection(base));
    sections.push(logsViewer(base, ctx));
    fill(ctx.view, sections);

    async function remove(button) {
      if (!(await confirmDialog(`Delete the sandbox ${sb}? Everything in it is lost.`, { confirmLabel: "Delete", danger: true }))) return;
      await busy(button, status, async () => {
        await del(base);
        toast(`Sandbox ${sb} deleted.`, "ok");
        go(`/gateways/${seg(gw)}/sandboxes`);
      }, "Deleting");
    }
  },
});

function metaEditor(base, s, ctx) {
  const status = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const form = h(
    "form",
    {
      on: {
        submit: async (ev) => {
          ev.preventDefault();
          await busy(save, status, async () => {
            await patch(base, { description: form.description.value, labels: parseLabels(form.labels.value) });
            toast("Saved.", "ok");
            ctx.reload();
          }, "Saving");
        },
      },
    },
    field("Description", h("textarea", { name: "description", value: s.description || "" })),
    field("Labels", h("textarea", { name: "labels", value: formatLabels(s.labels) })),
    h("div", { class: "actions" }, save),
    status
  );
  return h("section", { class: "card" }, h("h2", null, "Description and labels"), form);
}

// One command at a time: stdout, stderr and the exit code of each.
function execConsole(base, ctx) {
  const out = h("div", { class: "exec-out", "aria-live": "polite" });
  const status = h("div");
  const run = h("button", { type: "submit", class: "primary" }, "Run");
  const form = h(
    "form",
    {
      class: "form-inline",
      on: {
        submit: async (ev) => {
          ev.preventDefault();
          const command = form.command.value.trim();
          if (!command) return;
          await busy(run, status, async () => {
            const timeout = Number(form.timeout.value) || 0;
            const started = await call("POST", base + "/exec", { command, timeout_seconds: timeout });
            const op = await followOperation(status, started.operation_id, "Running", ctx.alive);
            const r = op.result || {};
            const code = r.exit_code === null || r.exit_code === undefined ? "none" : String(r.exit_code);
            out.prepend(
              h(
                "div",
                { class: "card exec-result" },
                h("div", { class: "mono" }, "$ ", command),
                h("h3", { class: "small" }, "stdout"),
                h("pre", { class: "json exec-stdout" }, r.stdout || ""),
                h("h3", { class: "small" }, "stderr"),
                h("pre", { class: "json exec-stderr warn-text" }, r.stderr || ""),
                h("div", { class: ["exec-exit", r.exit_code === 0 ? "muted" : "warn-text"] }, `exit code ${code}`)
              )
            );
            status.textContent = "";
          }, "Starting");
        },
      },
    },
    field("Command", h("input", { name: "command", class: "mono", autocomplete: "off" }), "Split with shell word rules; use sh -c '...' for pipes and redirections."),
    field("Timeout (s)", h("input", { name: "timeout", type: "number", min: "0", max: "3600", value: "60" })),
    run
  );
  return h("section", { class: "card" }, h("h2", null, "Run a command"), form, status, out);
}

// An SSH session: the gateway's fields shown as text (the token once), and revoke.
function sshSection(base) {
  const status = h("div", { "aria-live": "polite" });
  const out = h("div");
  const open = h("button", { type: "button" }, "Create SSH session");
  open.addEventListener("click", () =>
    busy(open, status, async () => {
      const x = await post(base + "/ssh");
      const revoke = h("button", { type: "button", class: "danger" }, "Revoke this session");
      revoke.addEventListener("click", () =>
        busy(revoke, status, async () => {
          const r = await call("DELETE", base + "/ssh", { token: x.token });
          fill(out, h("p", { class: "muted" }, r.revoked ? "Session revoked." : "The gateway had no such session."));
        }, "Revoking")
      );
      fill(
        out,
        h(
          "dl",
          { class: "props ssh-session" },
          h("dt", null, "Gateway"), h("dd", { class: "mono" }, `${x.gateway_scheme}://${x.gateway_host}:${x.gateway_port}`),
          h("dt", null, "Sandbox ID"), h("dd", { class: "mono" }, x.sandbox_id),
          h("dt", null, "Host key fingerprint"), h("dd", { class: "mono" }, x.host_key_fingerprint || "—"),
          h("dt", null, "Expires"), h("dd", null, x.expires_at_ms ? fmtTime(new Date(x.expires_at_ms).toISOString()) : "—")
        ),
        secretPanel("Session token", x.token, "Use it to open the SSH tunnel through the gateway. It is shown only now."),
        revoke
      );
    }, "Opening")
  );
  return h("section", { class: "card" }, h("h2", null, "SSH session"), h("div", { class: "actions" }, open), status, out);
}

const LEVELS = ["", "error", "warn", "info", "debug", "trace"];

// Logs with filters; "Follow" re-reads every 3 s while the page is open.
function logsViewer(base, ctx) {
  const box = h("div", { class: "log-box", tabindex: "0", role: "log", "aria-label": "Sandbox logs" });
  const status = h("div", { "aria-live": "polite" });
  const load = h("button", { type: "submit" }, "Show logs");
  const follow = h("input", { type: "checkbox", name: "follow" });
  let timer = null;
  const form = h(
    "form",
    {
      class: "form-inline",
      on: {
        submit: (ev) => {
          ev.preventDefault();
          busy(load, status, read, "Loading logs");
        },
      },
    },
    field("Lines", h("input", { name: "lines", type: "number", min: "1", max: "10000", value: "200" })),
    field("Minimum level", select("min_level", LEVELS.map((l) => [l, l || "any"]), "")),
    field("Sources", h("input", { name: "sources", placeholder: "sandbox,gateway", autocomplete: "off" })),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "ocsf_only" }), " OCSF only"),
    h("label", { class: "check" }, follow, " Follow"),
    load
  );
  async function read() {
    const q = query({
      lines: form.lines.value,
      min_level: form.min_level.value,
      sources: form.sources.value.trim(),
      ocsf_only: form.ocsf_only.checked ? "true" : "",
    });
    const lines = await get(base + "/logs" + q);
    if (!ctx.alive()) return;
    fill(
      box,
      lines.length
        ? lines.map((l) =>
            h(
              "p",
              { class: "log-line" },
              h("span", { class: "muted" }, new Date(l.timestamp_ms).toISOString().slice(11, 23), " "),
              badge(l.level, l.level === "ERROR" ? "bad" : l.level === "WARN" ? "warn" : "muted"),
              ` [${l.source || "?"}] ${l.message}`,
              l.fields && Object.keys(l.fields).length ? h("span", { class: "muted" }, " " + Object.entries(l.fields).map(([k, v]) => `${k}=${v}`).join(" ")) : null
            )
          )
        : h("p", { class: "muted" }, "No log lines match.")
    );
    if (follow.checked) box.scrollTop = box.scrollHeight;
  }
  follow.addEventListener("change", () => {
    if (timer) clearInterval(timer);
    timer = null;
    if (!follow.checked) return;
    timer = setInterval(() => {
      if (!ctx.alive()) return clearInterval(timer);
      read().catch((err) => fill(status, errorBox(err)));
    }, 3000);
    busy(null, status, read, "Loading logs");
  });
  if (ctx.onLeave) ctx.onLeave(() => timer && clearInterval(timer));
  return h("section", { class: "card logs" }, h("h2", null, "Logs"), form, status, box);
}
