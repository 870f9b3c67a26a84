// The audit log (admin): filters, paging and CSV/JSON export links with the same filters.
import { h, fill } from "../dom.js";
import { get, query } from "../api.js";
import { page, go } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, field, fmtTime } from "../ui.js";

const FILTERS = ["actor", "action", "resource_type", "gateway", "since", "until"];
const PAGE = 100;

page({
  path: "/audit",
  title: "Audit log",
  role: "admin",
  nav: { label: "Audit log", order: 50 },
  async render(ctx) {
    const f = {};
    for (const k of FILTERS) f[k] = ctx.query.get(k) || "";
    const offset = Math.max(0, parseInt(ctx.query.get("offset") || "0", 10) || 0);
    const inputs = {
      actor: h("input", { name: "actor", value: f.actor, placeholder: "admin@example.com or sp:name" }),
      action: h("input", { name: "action", value: f.action, placeholder: "gateway.register" }),
      resource_type: h("input", { name: "resource_type", value: f.resource_type, list: "audit-rtypes", placeholder: "gateway" }),
      gateway: h("input", { name: "gateway", value: f.gateway }),
      since: h("input", { name: "since", value: f.since, placeholder: "2026-04-20 or ISO-8601" }),
      until: h("input", { name: "until", value: f.until, placeholder: "2026-04-21T12:00:00Z" }),
    };
    const rtypes = h("datalist", { id: "audit-rtypes" }, ["gateway", "user", "service_principal", "group", "session", "auth"].map((v) => h("option", { value: v })));
    const form = h(
      "form",
      {
        class: "toolbar",
        role: "search",
        on: {
          submit: (ev) => {
            ev.preventDefault();
            const q = {};
            for (const k of FILTERS) q[k] = inputs[k].value.trim();
            go("/audit" + query(q));
          },
        },
      },
      field("Actor", inputs.actor),
      field("Action", inputs.action),
      field("Resource type", inputs.resource_type),
      field("Gateway", inputs.gateway),
      field("Since", inputs.since),
      field("Until", inputs.until),
      rtypes,
      h("button", { type: "submit", class: "primary" }, "Apply filters"),
      h("a", { class: "button", href: "#/audit" }, "Clear")
    );
    const filterQuery = {};
    for (const k of FILTERS) filterQuery[k] = f[k];
    const exports = h(
      "div",
      { class: "toolbar" },
      h("span", { class: "muted" }, "Export the filtered log:"),
      h("a", { class: "button", href: "/api/audit/export" + query({ ...filterQuery, format: "csv" }), download: "audit_log.csv" }, "Export CSV"),
      h("a", { class: "button", href: "/api/audit/export" + query({ ...filterQuery, format: "json" }), download: "audit_log.json" }, "Export JSON")
    );
    const area = h("div", null, spinner("Loading the audit log"));
    fill(ctx.view, h("h1", null, "Audit log"), form, exports, area);

    let data;
    try {
      data = await get("/api/audit" + query({ ...filterQuery, limit: PAGE, offset }));
    } catch (err) {
      if (ctx.alive()) fill(area, errorBox(err));
      return;
    }
    if (!ctx.alive()) return;
    if (data.entries.length === 0) {
      fill(area, emptyState("No audit entries match.", "Loosen the filters or clear them."));
      return;
    }
    const pageLink = (off, label) => {
      const q = { ...filterQuery, offset: off || "" };
      return h("a", { class: "button", href: "#/audit" + query(q) }, label);
    };
    fill(
      area,
      h("p", { class: "muted", role: "status" }, `Entries ${offset + 1}–${offset + data.entries.length} of ${data.total}`),
      table(
        [
          { label: "Time", cell: (e) => h("time", { datetime: e.timestamp }, fmtTime(e.timestamp)) },
          { label: "Actor", cell: (e) => e.actor },
          { label: "Role", cell: (e) => (e.actor_role ? badge(e.actor_role) : "—") },
          { label: "Action", cell: (e) => h("code", null, e.action) },
          { label: "Resource", cell: (e) => [e.resource_type || "", e.resource_id ? h("span", { class: "mono" }, " " + e.resource_id) : null] },
          { label: "Gateway", cell: (e) => e.gateway || "—" },
          { label: "Detail", cell: (e) => (e.detail === null || e.detail === undefined ? "—" : h("code", { class: "small" }, JSON.stringify(e.detail))) },
          { label: "IP", cell: (e) => e.client_ip || "—" },
        ],
        data.entries,
        { caption: "Audit entries" }
      ),
      h(
        "div",
        { class: "pager" },
        offset > 0 ? pageLink(Math.max(0, offset - PAGE), "← Newer") : null,
        offset + data.entries.length < data.total ? pageLink(offset + PAGE, "Older →") : null
      )
    );
  },
});
