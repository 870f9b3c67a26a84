// The overview: gateway counts by health, catalog sizes, the latest audit entries (admins).
import { h, fill } from "../dom.js";
import { get, seg } from "../api.js";
import { session } from "../session.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, badge, statusDot, table, timeCell } from "../ui.js";

function statCard(title, value, sub, href) {
  return h("div", { class: "card" }, h("div", { class: "muted" }, title), h("div", { class: "stat" }, value), sub ? h("div", { class: "muted small" }, sub) : null, href ? h("a", { href }, "Open") : null);
}

page({
  path: "/",
  title: "Overview",
  nav: { label: "Overview", order: 0 },
  async render(ctx) {
    fill(ctx.view, h("h1", null, "Overview"), spinner());
    const [gws, presets, templates, audit] = await Promise.allSettled([
      get("/api/gateway/list"),
      get("/api/policies/presets"),
      get("/api/sandbox-templates"),
      session.has("admin") ? get("/api/audit?limit=10") : Promise.resolve(null),
    ]);
    if (!ctx.alive()) return;
    const out = [h("h1", null, "Overview")];
    const cards = h("div", { class: "cards" });
    if (gws.status === "fulfilled") {
      const items = gws.value.items;
      const up = items.filter((g) => g.connected).length;
      cards.append(statCard("Gateways", String(items.length), `${up} connected`, "#/gateways"));
    }
    if (presets.status === "fulfilled") cards.append(statCard("Policy presets", String(presets.value.length), null, "#/catalog/presets"));
    if (templates.status === "fulfilled") cards.append(statCard("Sandbox templates", String(templates.value.length), null, "#/catalog/templates"));
    out.push(cards);
    for (const r of [gws, presets, templates, audit]) if (r.status === "rejected") out.push(errorBox(r.reason));

    out.push(h("h2", null, "Gateway status"));
    if (gws.status === "fulfilled") {
      const items = gws.value.items;
      out.push(
        items.length === 0
          ? emptyState("No gateways registered yet.", "Register a gateway to see its health here.", session.has("admin") ? h("a", { class: "button primary", href: "#/gateways/new" }, "Register a gateway") : null)
          : table(
              [
                { label: "Gateway", cell: (g) => h("a", { href: "#/gateways/" + seg(g.name) }, g.name) },
                { label: "Status", cell: (g) => [statusDot(g.status), g.status] },
                { label: "Version", cell: (g) => g.version || "—" },
                { label: "Last seen", cell: (g) => timeCell(g.last_seen) },
              ],
              items,
              { caption: "Gateways" }
            )
      );
    }
    if (audit.status === "fulfilled" && audit.value) {
      out.push(h("h2", null, "Recent activity"));
      const entries = audit.value.entries;
      out.push(
        entries.length === 0
          ? emptyState("No audit entries yet.")
          : table(
              [
                { label: "When", cell: (e) => timeCell(e.timestamp) },
                { label: "Actor", cell: (e) => e.actor },
                { label: "Action", cell: (e) => badge(e.action, "muted") },
                { label: "Resource", cell: (e) => `${e.resource_type || ""} ${e.resource_id || ""}`.trim() || "—" },
              ],
              entries,
              { caption: "Recent activity" }
            ),
        h("p", null, h("a", { href: "#/audit" }, "Open the audit log"))
      );
    }
    fill(ctx.view, out);
  },
});
