// Webhooks (admin): list, create (the signing secret shown once), pause/resume, test, delivery
// log, delete.
import { h, fill } from "../dom.js";
import { get, post, put, del, seg } from "../api.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, field, select, fmtTime, toast, confirmDialog, busy, secretPanel } from "../ui.js";

page({
  path: "/admin/webhooks",
  title: "Webhooks",
  role: "admin",
  nav: { label: "Webhooks", order: 63 },
  async render(ctx) {
    const area = h("div", null, spinner("Loading webhooks"));
    const reveal = h("div");
    const status = h("div", { "aria-live": "polite" });
    const deliveries = h("div");
    const create = h("button", { type: "submit", class: "primary" }, "Create webhook");
    const form = h(
      "form",
      {
        class: "form",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(create, status, async () => {
              const events = form.events.value.split(",").map((s) => s.trim()).filter(Boolean);
              const w = await post("/api/webhooks", { url: form.url.value.trim(), event_types: events, channel_type: form.channel.value });
              fill(reveal, secretPanel(`Signing secret of webhook ${w.id}`, w.secret, "Deliveries carry an HMAC-SHA256 signature made with this secret. It is shown only now."));
              form.reset();
              await load();
            }, "Creating");
          },
        },
      },
      field("URL", h("input", { type: "url", name: "url", required: true, placeholder: "https://hooks.example.com/breakwater" })),
      field("Events", h("input", { name: "events", value: "*" }), "Comma-separated event types, or * for all."),
      field("Channel", select("channel", ["generic", "slack", "discord"], "generic")),
      h("div", { class: "actions" }, create),
      status
    );
    fill(ctx.view, h("h1", null, "Webhooks"), area, deliveries, h("section", { class: "card" }, h("h2", null, "New webhook"), form), reveal);

    async function load() {
      let data;
      try {
        data = await get("/api/webhooks");
      } catch (err) {
        if (ctx.alive()) fill(area, errorBox(err));
        return;
      }
      if (!ctx.alive()) return;
      const items = data.items || [];
      if (!items.length) {
        fill(area, emptyState("No webhooks yet.", "Create one below to be told about gateway, sandbox and approval events."));
        return;
      }
      fill(
        area,
        table(
          [
            { label: "ID", cell: (w) => String(w.id) },
            { label: "Channel", cell: (w) => badge(w.channel_type, "muted") },
            { label: "URL", cell: (w) => h("span", { class: "mono" }, w.url) },
            { label: "Events", cell: (w) => (w.event_types || []).join(", ") },
            { label: "State", cell: (w) => badge(w.is_active ? "active" : "paused", w.is_active ? "ok" : "warn") },
            { label: "Created", cell: (w) => fmtTime(w.created_at) },
            {
              label: "Actions",
              cell: (w) =>
                h(
                  "div",
                  { class: "row-actions" },
                  h("button", { type: "button", on: { click: (ev) => busy(ev.currentTarget, status, async () => { await put(`/api/webhooks/${seg(w.id)}`, { is_active: !w.is_active }); await load(); }, "Saving") } }, w.is_active ? "Pause" : "Resume"),
                  h("button", { type: "button", on: { click: (ev) => busy(ev.currentTarget, status, async () => { await post(`/api/webhooks/${seg(w.id)}/test`); toast("Test event sent.", "ok"); }, "Sending") } }, "Test"),
                  h("button", { type: "button", on: { click: () => showDeliveries(w) } }, "Deliveries"),
                  h("button", {
                    type: "button",
                    class: "danger",
                    on: {
                      click: async (ev) => {
                        if (!(await confirmDialog(`Delete webhook ${w.id} (${w.url})?`, { confirmLabel: "Delete", danger: true }))) return;
                        await busy(ev.currentTarget, status, async () => { await del(`/api/webhooks/${seg(w.id)}`); await load(); }, "Deleting");
                      },
                    },
                  }, "Delete")
                ),
            },
          ],
          items,
          { caption: "Webhooks" }
        )
      );
    }

    async function showDeliveries(w) {
      fill(deliveries, spinner("Loading deliveries"));
      try {
        const list = await get(`/api/webhooks/${seg(w.id)}/deliveries?limit=100`);
        fill(
          deliveries,
          h("h2", null, `Deliveries of webhook ${w.id}`),
          list.length
            ? table(
                [
                  { label: "Status", cell: (d) => badge(d.status, d.status === "success" ? "ok" : d.status === "failed" ? "bad" : "warn") },
                  { label: "Event", cell: (d) => d.event_type },
                  { label: "HTTP", cell: (d) => String(d.response_code ?? "—") },
                  { label: "Attempt", cell: (d) => String(d.attempt) },
                  { label: "Created", cell: (d) => fmtTime(d.created_at) },
                  { label: "Delivered", cell: (d) => fmtTime(d.delivered_at) },
                  { label: "Error", cell: (d) => d.error_message || "—" },
                ],
                list,
                { caption: "Deliveries" }
              )
            : emptyState("No deliveries yet.", "Send a test event to see one.")
        );
      } catch (err) {
        fill(deliveries, errorBox(err));
      }
    }
    await load();
  },
});
