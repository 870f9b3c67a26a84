// Providers of a gateway: list (credential values never shown), create and update with secret
// fields that are write-only (the form is cleared after each save), the redacted environment a
// provider gives sandboxes, delete.
import { h, fill } from "../dom.js";
import { get, post, put, del, seg } from "../api.js";
import { session } from "../session.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, field, select, toast, confirmDialog, busy } from "../ui.js";

function kv(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    const i = t.indexOf("=");
    if (i <= 0) throw new Error(`"${t}" is not KEY=value`);
    out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

page({
  path: "/gateways/:gw/providers",
  title: (ctx) => `Providers · ${ctx.params.gw}`,
  async render(ctx) {
    const gw = ctx.params.gw;
    const base = `/api/gateways/${seg(gw)}/providers`;
    const operator = session.has("operator");
    const status = h("div", { "aria-live": "polite" });
    const area = h("div", null, spinner("Loading providers"));
    let types = [];
    try {
      types = await get(base + "/types");
    } catch {
      /* the type list only helps the form */
    }
    if (!ctx.alive()) return;
    const save = h("button", { type: "submit", class: "primary" }, "Save provider");
    const form = h(
      "form",
      {
        class: "form",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(save, status, async () => {
              const name = form.elements.namedItem("name").value.trim();
              const body = { type: form.type.value, credentials: kv(form.credentials.value), config: kv(form.config.value) };
              const existing = form.dataset.editing === name;
              const apiKey = form.api_key.value;
              if (existing) {
                // PUT has no api_key: it goes under the type's credential key (explicit ones win).
                const t = types.find((x) => x.type === body.type);
                if (apiKey && t && t.cred_key && !(t.cred_key in body.credentials)) body.credentials[t.cred_key] = apiKey;
                await put(`${base}/${seg(name)}`, body);
              }
              else await post(base, { name, api_key: apiKey || undefined, ...body });
              form.reset();
              delete form.dataset.editing;
              toast(`Provider ${name} saved.`, "ok");
              await load();
            }, "Saving");
          },
        },
      },
      field("Name", h("input", { name: "name", required: true, autocomplete: "off" })),
      field("Type", select("type", types.length ? types.map((t) => [t.type, t.label || t.type]) : [["generic", "generic"]])),
      field("API key", h("input", { type: "password", name: "api_key", autocomplete: "off" }), "Write-only: sent to the gateway, never shown again."),
      field("Extra credentials", h("textarea", { name: "credentials", autocomplete: "off" }), "KEY=value per line; write-only."),
      field("Configuration", h("textarea", { name: "config" }), "KEY=value per line."),
      h("div", { class: "actions" }, save),
      status
    );
    const envBox = h("div", { "aria-live": "polite" });
    fill(ctx.view, h("p", null, h("a", { href: "#/gateways/" + seg(gw) }, "← " + gw)), h("h1", null, "Providers on ", gw), area, envBox, operator ? h("section", { class: "card" }, h("h2", null, "Add or update a provider"), form) : null);

    async function load() {
      let data;
      try {
        data = await get(base);
      } catch (err) {
        if (ctx.alive()) fill(area, errorBox(err));
        return;
      }
      if (!ctx.alive()) return;
      const items = data.items || [];
      if (!items.length) {
        fill(area, emptyState("No providers on this gateway.", "Providers hold the credentials sandboxes use for model APIs and code hosts."));
        return;
      }
      fill(
        area,
        table(
          [
            { label: "Name", cell: (p) => p.name },
            { label: "Type", cell: (p) => badge(p.type, "muted") },
            { label: "Credentials", cell: (p) => Object.keys(p.credentials || {}).map((k) => `${k} (redacted)`).join(", ") || "—" },
            { label: "Config", cell: (p) => Object.entries(p.config || {}).map(([k, v]) => `${k}=${v}`).join(", ") || "—" },
            {
              label: "Actions",
              cell: (p) =>
                operator
                  ? h(
                      "div",
                      { class: "row-actions" },
                      h("button", { type: "button", on: { click: (ev) => showEnv(p, ev.currentTarget) } }, "Environment"),
                      h("button", {
                        type: "button",
                        on: {
                          click: () => {
                            form.elements.namedItem("name").value = p.name;
                            form.type.value = p.type;
                            form.config.value = Object.entries(p.config || {}).map(([k, v]) => `${k}=${v}`).join("\n");
                            form.dataset.editing = p.name;
                            form.elements.namedItem("name").focus();
                          },
                        },
                      }, "Edit"),
                      h("button", {
                        type: "button",
                        class: "danger",
                        on: {
                          click: async () => {
                            if (!(await confirmDialog(`Delete provider ${p.name}?`, { confirmLabel: "Delete", danger: true }))) return;
                            try {
                              await del(`${base}/${seg(p.name)}`);
                              toast(`Provider ${p.name} deleted.`, "ok");
                              await load();
                            } catch (err) {
                              toast(err.message, "error");
                            }
                          },
                        },
                      }, "Delete")
                    )
                  : h("button", { type: "button", on: { click: (ev) => showEnv(p, ev.currentTarget) } }, "Environment"),
            },
          ],
          items,
          { caption: "Providers" }
        )
      );
    }
    async function showEnv(p, button) {
      await busy(button, envBox, async () => {
        const e = await get(`${base}/${seg(p.name)}/env`);
        fill(
          envBox,
          h(
            "section",
            { class: "card" },
            h("h2", null, `Environment of provider ${p.name}`),
            (e.env || []).length
              ? table(
                  [
                    { label: "Variable", cell: (x) => h("span", { class: "mono" }, x.key) },
                    { label: "Source", cell: (x) => x.source || "—" },
                    { label: "Value", cell: (x) => h("span", { class: "mono" }, x.redacted_value || "[REDACTED]") },
                  ],
                  e.env,
                  { caption: "Provider environment" }
                )
              : emptyState("No environment variables.", null)
          )
        );
      }, "Loading environment");
    }
    await load();
  },
});
