// Approvals of draft policy chunks: the gateway-wide inbox (pending chunks of every sandbox) and a
// sandbox's inbox (pending / approved / rejected chunks with the proposed rule, security notes and
// confidence; approve — a vote under an approval workflow, with its tally —, reject with a reason,
// edit the proposed rule, undo an approval, approve all) plus the decision history.
import { h, fill } from "../dom.js";
import { get, post, seg, query } from "../api.js";
import { session } from "../session.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, toast, busy, confirmDialog, field, fmtTime } from "../ui.js";

const sbApi = (gw, sb) => `/api/gateways/${seg(gw)}/sandboxes/${seg(sb)}`;
const CHUNK_KIND = { pending: "warn", approved: "ok", rejected: "bad" };

function endpoints(rule) {
  const eps = (rule && rule.endpoints) || [];
  return eps.map((e) => `${e.host || "?"}:${e.port || "?"}`).join(", ") || "—";
}

function binaries(rule) {
  return ((rule && rule.binaries) || []).map((b) => b.path || b).join(", ");
}

// A modal with one text field; resolves with the text or null when cancelled.
function askText(message, label, { confirmLabel = "OK", danger = false, multiline = false, value = "" } = {}) {
  return new Promise((resolve) => {
    const input = multiline ? h("textarea", { name: "answer", value }) : h("input", { name: "answer", value, autocomplete: "off" });
    const dialog = h("dialog", { class: "dialog", "aria-label": message });
    const done = (ok) => {
      dialog.close();
      dialog.remove();
      resolve(ok ? input.value : null);
    };
    const form = h(
      "form",
      { on: { submit: (ev) => (ev.preventDefault(), done(true)) } },
      h("p", null, message),
      field(label, input),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", on: { click: () => done(false) } }, "Cancel"),
        h("button", { type: "submit", class: danger ? "danger" : "primary" }, confirmLabel)
      )
    );
    dialog.append(form);
    dialog.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      done(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    input.focus();
  });
}

// "host:port" lines -> the proposed rule's endpoints, keeping the rule's other fields.
function editedRule(rule, text) {
  const eps = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    const i = t.lastIndexOf(":");
    const port = Number(t.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`Endpoint "${t}" is not host:port`);
    eps.push({ host: t.slice(0, i), port });
  }
  if (!eps.length) throw new Error("The rule needs at least one endpoint");
  const out = { name: rule.name || "", endpoints: eps };
  if (rule.binaries && rule.binaries.length) out.binaries = rule.binaries.map((b) => ({ path: b.path || b }));
  return out;
}

// The chunk table with the actions one operator can take; `after` re-renders.
function chunkTable(gw, sb, chunks, status, after, { showSandbox = false } = {}) {
  const base = sbApi(gw, sb) + "/approvals";
  const operator = session.has("operator");
  const approve = (c, button) =>
    busy(button, status, async () => {
      const r = await post(`${base}/${seg(c.id)}/approve`);
      if (r && r.status === "pending") toast(`Vote recorded for ${c.rule_name}: ${r.votes} of ${r.needed} approvals.`, "ok");
      else toast(`Approved ${c.rule_name}: policy v${r.policy_version}.`, "ok");
      await after();
    }, "Approving");
  const reject = async (c, button) => {
    const reason = await askText(`Reject the rule ${c.rule_name}?`, "Reason (sent back to the proposing agent)", { confirmLabel: "Reject", danger: true });
    if (reason === null) return;
    await busy(button, status, async () => {
      await post(`${base}/${seg(c.id)}/reject`, { reason });
      toast(`Rejected ${c.rule_name}.`, "ok");
      await after();
    }, "Rejecting");
  };
  const edit = async (c, button) => {
    const text = await askText(`Edit the endpoints of ${c.rule_name}`, "Endpoints (host:port per line)", {
      confirmLabel: "Save",
      multiline: true,
      value: ((c.proposed_rule && c.proposed_rule.endpoints) || []).map((e) => `${e.host}:${e.port}`).join("\n"),
    });
    if (text === null) return;
    await busy(button, status, async () => {
      await post(`${base}/${seg(c.id)}/edit`, { proposed_rule: editedRule(c.proposed_rule || {}, text) });
      toast(`Edited ${c.rule_name}.`, "ok");
      await after();
    }, "Saving");
  };
  const undo = async (c, button) => {
    if (!(await confirmDialog(`Undo the approval of ${c.rule_name}? Its rule leaves the policy.`, { confirmLabel: "Undo" }))) return;
    await busy(button, status, async () => {
      const r = await post(`${base}/${seg(c.id)}/undo`);
      toast(`Undone: policy v${r.policy_version}.`, "ok");
      await after();
    }, "Undoing");
  };
  const votes = (c, button) =>
    busy(button, status, async () => {
      const d = await get(`${base}/${seg(c.id)}/decisions`);
      const who = (d.decisions || []).map((x) => `${x.actor || x.voter || "?"}: ${x.decision || x.vote || "?"}`).join(", ");
      fill(
        status,
        h(
          "div",
          { class: "notice", role: "status" },
          h("strong", null, `${c.rule_name}: `),
          d.status === "no_workflow" ? "no approval workflow; one approval decides." : `${d.status}, ${d.votes} of ${d.needed} approvals${d.escalated ? ", escalated" : ""}.`,
          who ? h("div", { class: "small" }, who) : null
        )
      );
    }, "Loading votes");
  const cols = [];
  if (showSandbox) cols.push({ label: "Sandbox", cell: (c) => h("a", { href: `#/gateways/${seg(gw)}/sandboxes/${seg(c._sandbox)}/approvals` }, c._sandbox) });
  cols.push(
    { label: "Rule", cell: (c) => [h("strong", null, c.rule_name || c.id), h("div", { class: "small muted" }, c.rationale || "")] },
    { label: "Endpoints", cell: (c) => h("span", { class: "mono" }, endpoints(c.proposed_rule)) },
    { label: "Binary", cell: (c) => h("span", { class: "mono" }, c.binary || binaries(c.proposed_rule) || "—") },
    { label: "Security notes", cell: (c) => (c.security_notes ? h("span", { class: "warn-text" }, c.security_notes) : "—") },
    { label: "Confidence", cell: (c) => (typeof c.confidence === "number" ? `${Math.round(c.confidence * 100)} %` : "—") },
    { label: "Hits", cell: (c) => String(c.hit_count ?? "—") },
    { label: "Status", cell: (c) => [badge(c.status || "pending", CHUNK_KIND[c.status]), c.rejection_reason ? h("div", { class: "small muted" }, c.rejection_reason) : null] },
    {
      label: "Actions",
      cell: (c) => {
        const b = (label, fn, cls) => h("button", { type: "button", class: cls, "aria-label": `${label} ${c.rule_name}`, on: { click: (ev) => fn(c, ev.currentTarget) } }, label);
        const acts = [b("Votes", votes)];
        if (operator && (c.status || "pending") === "pending") acts.unshift(b("Approve", approve, "primary"), b("Reject", reject, "danger"), b("Edit", edit));
        if (operator && c.status === "approved") acts.unshift(b("Undo", undo));
        return h("div", { class: "row-actions" }, acts);
      },
    }
  );
  return table(cols, chunks, { caption: "Draft policy chunks" });
}

page({
  path: "/gateways/:gw/sandboxes/:sb/approvals",
  title: "Approvals",
  async render(ctx) {
    const { gw, sb } = ctx.params;
    const base = sbApi(gw, sb) + "/approvals";
    const filter = ctx.query && ctx.query.get ? ctx.query.get("status") || "pending" : "pending";
    const back = h("p", null, h("a", { href: `#/gateways/${seg(gw)}/sandboxes/${seg(sb)}` }, "← " + sb), " · ", h("a", { href: `#/gateways/${seg(gw)}/approvals` }, "all sandboxes"));
    const status = h("div", { "aria-live": "polite" });
    const area = h("div", null, spinner("Loading approvals"));
    const history = h("div");
    const operator = session.has("operator");
    const allBtn = h("button", { type: "button", class: "primary" }, "Approve all");
    allBtn.addEventListener("click", async () => {
      if (!(await confirmDialog("Approve every pending chunk that has no security notes?", { confirmLabel: "Approve all" }))) return;
      await busy(allBtn, status, async () => {
        const r = await post(base + "/approve-all", { include_security_flagged: false });
        toast(`Approved ${r.chunks_approved}, skipped ${r.chunks_skipped}; policy v${r.policy_version}.`, "ok");
        await load();
      }, "Approving");
    });
    const filterSel = h(
      "select",
      { name: "status_filter" },
      ["pending", "approved", "rejected"].map((s) => h("option", { value: s, selected: s === filter }, s))
    );
    filterSel.addEventListener("change", () => load());
    fill(
      ctx.view,
      back,
      h("h1", null, "Approvals for ", sb),
      h("div", { class: "toolbar" }, field("Show", filterSel), operator ? allBtn : null),
      status,
      area,
      h("section", { class: "card" }, h("h2", null, "History"), history)
    );

    async function load() {
      let draft, hist;
      try {
        [draft, hist] = await Promise.all([get(base + query({ status_filter: filterSel.value })), get(base + "/history")]);
      } catch (err) {
        if (ctx.alive()) fill(area, errorBox(err));
        return;
      }
      if (!ctx.alive()) return;
      const chunks = draft.chunks || [];
      fill(
        area,
        draft.rolling_summary ? h("p", { class: "muted" }, draft.rolling_summary) : null,
        chunks.length
          ? chunkTable(gw, sb, chunks, status, load)
          : emptyState(`No ${filterSel.value} chunks.`, "Blocked network access of this sandbox shows up here as proposed rules.")
      );
      fill(
        history,
        hist.length
          ? table(
              [
                { label: "Time", cell: (e) => (e.timestamp_ms ? fmtTime(new Date(e.timestamp_ms).toISOString()) : "—") },
                { label: "Event", cell: (e) => badge(e.event_type, "muted") },
                { label: "Description", cell: (e) => e.description || "—" },
              ],
              hist.slice().reverse(),
              { caption: "Approval history" }
            )
          : h("p", { class: "muted" }, "No decisions yet.")
      );
    }
    await load();
  },
});

// Pending chunks of every sandbox of a gateway, read sandbox by sandbox.
page({
  path: "/gateways/:gw/approvals",
  title: (ctx) => `Approvals · ${ctx.params.gw}`,
  async render(ctx) {
    const gw = ctx.params.gw;
    const status = h("div", { "aria-live": "polite" });
    const area = h("div", null, spinner("Loading sandboxes"));
    fill(ctx.view, h("p", null, h("a", { href: "#/gateways/" + seg(gw) }, "← " + gw)), h("h1", null, "Approvals inbox of ", gw), status, area);
    async function load() {
      let list;
      try {
        list = (await get(`/api/gateways/${seg(gw)}/sandboxes`)).items || [];
      } catch (err) {
        if (ctx.alive()) fill(area, errorBox(err));
        return;
      }
      const results = await Promise.allSettled(list.map((s) => get(sbApi(gw, s.name) + "/approvals/pending")));
      if (!ctx.alive()) return;
      const errors = [];
      const bySandbox = [];
      results.forEach((r, i) => {
        if (r.status === "rejected") errors.push(errorBox(r.reason, list[i].name));
        else if (r.value.length) bySandbox.push([list[i].name, r.value.map((c) => ({ ...c, _sandbox: list[i].name }))]);
      });
      fill(
        area,
        errors,
        bySandbox.length
          ? bySandbox.map(([sb, chunks]) => h("section", { class: "card" }, h("h2", null, h("a", { href: `#/gateways/${seg(gw)}/sandboxes/${seg(sb)}/approvals` }, sb), ` — ${chunks.length} pending`), chunkTable(gw, sb, chunks, status, load)))
          : emptyState("Nothing waits for approval on this gateway.", "Proposed network rules of every sandbox show up here.")
      );
    }
    await load();
  },
});
