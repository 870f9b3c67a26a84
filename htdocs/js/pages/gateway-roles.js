// Per-gateway role overrides of a user, a service principal or a group (admin).
import { h, fill } from "../dom.js";
import { get, put, del, seg } from "../api.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, field, select, toast, busy } from "../ui.js";

const KINDS = {
  users: { list: "/api/auth/users", back: "#/admin/users", backLabel: "Users", label: (x) => x.email },
  "service-principals": { list: "/api/auth/service-principals", back: "#/admin/service-principals", backLabel: "API keys", label: (x) => x.name },
  groups: { list: "/api/auth/groups", back: "#/admin/groups", backLabel: "Groups", label: (x) => x.name },
};

page({
  path: "/admin/roles/:kind/:id",
  title: "Gateway roles",
  role: "admin",
  async render(ctx) {
    const kind = KINDS[ctx.params.kind];
    if (!kind) {
      fill(ctx.view, errorBox(new Error("Unknown kind of subject.")));
      return;
    }
    const id = ctx.params.id;
    const api = `/api/auth/${ctx.params.kind}/${seg(id)}/gateway-roles`;
    const back = h("p", null, h("a", { href: kind.back }, "← " + kind.backLabel));
    fill(ctx.view, back, spinner("Loading gateway roles"));
    let roles, subjects, gateways;
    try {
      [roles, subjects, gateways] = await Promise.all([get(api), get(kind.list), get("/api/gateway/list")]);
    } catch (err) {
      if (ctx.alive()) fill(ctx.view, back, errorBox(err));
      return;
    }
    if (!ctx.alive()) return;
    const subject = subjects.find((s) => String(s.id) === String(id));
    const title = subject ? kind.label(subject) : `#${id}`;
    const status = h("div", { "aria-live": "polite" });
    const setBtn = h("button", { type: "submit", class: "primary" }, "Set role");
    const form = h(
      "form",
      {
        class: "form-inline card",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(setBtn, status, async () => {
              await put(`${api}/${seg(form.gateway.value)}`, { role: form.role.value });
              toast("Gateway role set.", "ok");
              ctx.reload();
            }, "Saving");
          },
        },
      },
      field("Gateway", select("gateway", gateways.items.map((g) => g.name))),
      field("Role on that gateway", select("role", ["viewer", "operator", "admin"], "viewer")),
      setBtn
    );
    fill(
      ctx.view,
      back,
      h("h1", null, "Gateway roles of ", title),
      h("p", { class: "muted" }, "On a gateway's own routes these replace the global role (a group's global role can still raise it)."),
      gateways.items.length ? form : emptyState("No gateways registered.", "Register a gateway first."),
      status,
      roles.length
        ? table(
            [
              { label: "Gateway", cell: (r) => r.gateway_name },
              { label: "Role", cell: (r) => badge(r.role) },
              {
                label: "Actions",
                cell: (r) =>
                  h("button", {
                    type: "button",
                    class: "danger",
                    on: {
                      click: (ev) =>
                        busy(ev.currentTarget, status, async () => {
                          await del(`${api}/${seg(r.gateway_name)}`);
                          ctx.reload();
                        }, "Removing"),
                    },
                  }, "Remove"),
              },
            ],
            roles,
            { caption: "Gateway roles" }
          )
        : emptyState("No per-gateway roles.", "The global role applies on every gateway.")
    );
  },
});
