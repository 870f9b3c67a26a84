// Approvals inbox of a sandbox: pending draft policy chunks (approve, reject, approve all) with
// the proposed rule, security notes and confidence, and the decision history.
import { h, fill } from "../dom.js";
import { get, post, seg } from "../api.js";
import { session } from "../session.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, toast, busy, confirmDialog } from "../ui.js";

const sbApi = (gw, sb) => `/api/gateways/${seg(gw)}/sandboxes/${seg(sb)}`;

function endpoints(rule) {
  const eps = (rule && rule.endpoints) || [];
  return eps.map((e) => `${e.host || "?"}:${e.port || "?"}`).join(", ") || "—";
}

page({
  path: "/gateways/:gw/sandboxes/:sb/approvals",
  title: "Approvals",
  async render(ctx) {
    const { gw, sb } = ctx.params;
    const base = sbApi(gw, sb) + "/approvals";
    const back = h("p", null, h("a", { href: `#/gateways/${seg(gw)}/sandboxes/${seg(sb)}` }, "← " + sb));
    const status = h("div", { "aria-live": "polite" });
    const area = h("div", null, spinner("Loading pending approvals"));
    const operator = session.has("operator");
    const allBtn = h("button", { type: "button", class: "primary" }, "Approve all");
    allBtn.addEventListener("click", async () => {
      if (!(await confirmDialog("Approve every pending chunk that has no security notes?", { confirmLabel: "Approve all" }))) return;
      await busy(allBtn, status, async () => {
        const r = await post(base + "/approve-all", { include_security_flagged: false });
        toast(`Approved ${r.chunks_approved}, skipped ${r.chunks_skipped}; policy v${r.policy_version}.`, "ok");
        ctx.reload();
      }, "Approving");
    });
    fill(ctx.view, back, h("h1", null, "Approvals for ", sb), operator ? h("div", { class: "toolbar" }, allBtn) : null, status, area);
    let chunks;
    try {
      chunks = await get(base + "/pending");
    } catch (err) {
      if (ctx.alive()) fill(area, errorBox(err));
      return;
    }
    if (!ctx.alive()) return;
    if (!chunks.length) {
      fill(area, emptyState("Nothing waits for approval.", "Blocked network access of this sandbox shows up here as proposed rules."));
      return;
    }
    const act = (verb, chunk, button) =>
      busy(button, status, async () => {
        await post(`${base}/${seg(chunk.id)}/${verb}`, verb === "reject" ? { reason: "" } : undefined);
        toast(`Chunk ${chunk.rule_name || chunk.id}: ${verb} done.`, "ok");
        ctx.reload();
      }, verb);
    fill(
      area,
      table(
        [
          { label: "Rule", cell: (c) => [h("strong", null, c.rule_name || c.id), h("div", { class: "small muted" }, c.rationale || "")] },
          { label: "Endpoints", cell: (c) => h("span", { class: "mono" }, endpoints(c.proposed_rule)) },
          { label: "Binary", cell: (c) => h("span", { class: "mono" }, c.binary || "—") },
          { label: "Security notes", cell: (c) => (c.security_notes ? h("span", { class: "warn-text" }, c.security_notes) : "—") },
          { label: "Confidence", cell: (c) => (typeof c.confidence === "number" ? `${Math.round(c.confidence * 100)} %` : "—") },
          { label: "Hits", cell: (c) => String(c.hit_count ?? "—") },
          {
            label: "Actions",
            cell: (c) =>
              operator
                ? h(
                    "div",
                    { class: "row-actions" },
                    h("button", { type: "button", class: "primary", on: { click: (ev) => act("approve", c, ev.currentTarget) } }, "Approve"),
                    h("button", { type: "button", class: "danger", on: { click: (ev) => act("reject", c, ev.currentTarget) } }, "Reject")
                  )
                : badge(c.status || "pending"),
          },
        ],
        chunks,
        { caption: "Pending chunks" }
      )
    );
  },
});
