// Service principals (admin): API keys for automation. The key is shown once, on create and on
// rotate, with a copy button; only its prefix is ever listed.
import { h, fill } from "../dom.js";
import { get, post, del, seg } from "../api.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, field, select, fmtTime, timeCell, toast, confirmDialog, busy, secretPanel } from "../ui.js";

function expiryBadge(iso) {
  if (!iso) return h("span", { class: "muted" }, "never");
  const days = Math.ceil((new Date(iso).getTime() - Date.now()) / 86400000);
  return days <= 0 ? badge("expired") : h("span", { title: fmtTime(iso) }, badge(`${days} d left`, days < 8 ? "warn" : "muted"));
}

page({
  path: "/admin/service-principals",
  title: "Service principals",
  role: "admin",
  nav: { label: "API keys", order: 61 },
  async render(ctx) {
    const area = h("div", null, spinner("Loading service principals"));
    const reveal = h("div");
    const status = h("div", { "aria-live": "polite" });
    const create = h("button", { type: "submit", class: "primary" }, "Create");
    const showKey = (sp, verb) =>
      fill(reveal, secretPanel(`API key for ${sp.name} (${verb})`, sp.key, "Copy it now: Breakwater stores only its hash and will never show it again."));
    const form = h(
      "form",
      {
        class: "form-inline card",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(create, status, async () => {
              const body = { name: form.elements.namedItem("name").value.trim(), role: form.role.value };
              if (form.expires.value) body.expires_at = new Date(form.expires.value + "T23:59:59").toISOString();
              const sp = await post("/api/auth/service-principals", body);
              showKey(sp, "created");
              form.reset();
              await load();
            }, "Creating");
          },
        },
      },
      field("Name", h("input", { name: "name", required: true, autocomplete: "off" })),
      field("Role", select("role", ["viewer", "operator", "admin"], "viewer")),
      field("Expires (optional)", h("input", { type: "date", name: "expires" })),
      create
    );
    fill(ctx.view, h("h1", null, "Service principals"), h("p", { class: "muted" }, "API keys for scripts and CI: send them as Authorization: Bearer <key>."), h("h2", null, "Create a key"), form, status, reveal, h("h2", null, "All keys"), area);

    async function load() {
      let items;
      try {
        items = await get("/api/auth/service-principals");
      } catch (err) {
        if (ctx.alive()) fill(area, errorBox(err));
        return;
      }
      if (!ctx.alive()) return;
      if (!items.length) {
        fill(area, emptyState("No service principals yet.", "Create one above to give a script or CI job its own API key."));
        return;
      }
      fill(
        area,
        table(
          [
            { label: "Name", cell: (s) => s.name },
            { label: "Key prefix", cell: (s) => h("code", null, s.key_prefix + "…") },
            { label: "Role", cell: (s) => badge(s.role) },
            { label: "Created", cell: (s) => fmtTime(s.created_at) },
            { label: "Last used", cell: (s) => timeCell(s.last_used) },
            { label: "Expires", cell: (s) => expiryBadge(s.expires_at) },
            {
              label: "Actions",
              cell: (s) =>
                h(
                  "div",
                  { class: "row-actions" },
                  h("button", { type: "button", on: { click: (ev) => rotate(s, ev.currentTarget) } }, "Rotate key"),
                  h("a", { class: "button", href: `#/admin/roles/service-principals/${seg(s.id)}` }, "Gateway roles"),
                  h("button", { type: "button", class: "danger", "aria-label": "Delete " + s.name, on: { click: () => remove(s) } }, "Delete")
                ),
            },
          ],
          items,
          { caption: "Service principals" }
        )
      );
    }

    async function rotate(s, button) {
      if (!(await confirmDialog(`Rotate the key of ${s.name}? The current key stops working at once.`, { confirmLabel: "Rotate", danger: true }))) return;
      await busy(button, status, async () => {
        const sp = await post(`/api/auth/service-principals/${seg(s.id)}/rotate`);
        showKey(sp, "rotated");
        await load();
      }, "Rotating");
    }

    async function remove(s) {
      if (!(await confirmDialog(`Delete ${s.name}? Its key stops working at once.`, { confirmLabel: "Delete", danger: true }))) return;
      try {
        await del("/api/auth/service-principals/" + seg(s.id));
        toast(`${s.name} deleted.`, "ok");
        await load();
      } catch (err) {
        toast(err.message, "error");
      }
    }
    await load();
  },
});
