// Sandboxes of a gateway: list, create wizard (template, image, providers, presets, environment)
// with the operation's progress bar, and the sandbox page (overview, metadata, exec console,
// delete). UNTESTED: written against the reference's documented API before it was merged here.
import { h, fill } from "../dom.js";
import { get, post, patch, del, seg, api as call } from "../api.js";
import { session } from "../session.js";
import { page, go } from "../router.js";
import { followOperation } from "../operations.js";
import {
  errorBox, spinner, emptyState, table, badge, labelChips, field, select, parseLabels, formatLabels,
  fmtTime, toast, confirmDialog, busy, jsonBlock,
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
              toast(`Sandbox ${body.name || (op.result && op.result.name)} is ready.`, "ok");
              const name = (op.result && op.result.name) || body.name;
              go(`/gateways/${seg(gw)}/sandboxes/${seg(name)}`);
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
          h("dt", null, "Policy version"), h("dd", null, s.current_policy_version ? `v${s.current_policy_version}` : "—"),
          h("dt", null, "GPU"), h("dd", null, s.gpu ? "yes" : "no"),
          h("dt", null, "Description"), h("dd", null, s.description || "—"),
          h("dt", null, "Labels"), h("dd", null, labelChips(s.labels)),
          h("dt", null, "ID"), h("dd", { class: "mono" }, s.id || "—")
        )
      ),
    ];
    if (operator) sections.push(metaEditor(base, s, ctx), execConsole(base, ctx));
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
            const started = await call("POST", base + "/exec", { command });
            const op = await followOperation(status, started.operation_id, "Running", ctx.alive);
            const r = op.result || {};
            out.prepend(
              h(
                "div",
                { class: "card" },
                h("div", { class: "mono" }, "$ ", command),
                r.stdout ? h("pre", { class: "json" }, r.stdout) : null,
                r.stderr ? h("pre", { class: "json warn-text" }, r.stderr) : null,
                h("div", { class: r.exit_code === 0 ? "muted" : "warn-text" }, `exit code ${r.exit_code}`)
              )
            );
            status.textContent = "";
          }, "Starting");
        },
      },
    },
    field("Command", h("input", { name: "command", class: "mono", autocomplete: "off" })),
    run
  );
  return h("section", { class: "card" }, h("h2", null, "Run a command"), form, status, out);
}
