// Users (admin): list, invite (link shown once), delete, and each user's sessions.
import { h, fill } from "../dom.js";
import { get, post, del, seg } from "../api.js";
import { session } from "../session.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, field, select, fmtTime, timeCell, toast, confirmDialog, busy, secretPanel } from "../ui.js";

const ROLES = ["viewer", "operator", "admin"];

page({
  path: "/admin/users",
  title: "Users",
  role: "admin",
  nav: { label: "Users", order: 60 },
  async render(ctx) {
    const area = h("div", null, spinner("Loading users"));
    const reveal = h("div");
    const status = h("div", { "aria-live": "polite" });
    const invite = h("button", { type: "submit", class: "primary" }, "Invite");
    const form = h(
      "form",
      {
        class: "form-inline card",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(invite, status, async () => {
              const u = await post("/api/auth/users", { email: form.email.value.trim(), role: form.role.value });
              const link = `${location.origin}/#/invite?token=${encodeURIComponent(u.invite_token)}`;
              fill(reveal, secretPanel(`Invite link for ${u.email}`, link, "Send this link to the user. It is shown only now and works once."));
              form.reset();
              await load();
            }, "Inviting");
          },
        },
      },
      field("E-mail", h("input", { type: "email", name: "email", required: true })),
      field("Role", select("role", ROLES, "viewer")),
      invite
    );
    fill(ctx.view, h("h1", null, "Users"), h("h2", null, "Invite a user"), form, status, reveal, h("h2", null, "All users"), area);

    async function load() {
      let users;
      try {
        users = await get("/api/auth/users");
      } catch (err) {
        if (ctx.alive()) fill(area, errorBox(err));
        return;
      }
      if (!ctx.alive()) return;
      if (!users.length) {
        fill(area, emptyState("No users."));
        return;
      }
      fill(
        area,
        table(
          [
            { label: "E-mail", cell: (u) => u.email },
            { label: "Role", cell: (u) => badge(u.role) },
            { label: "Status", cell: (u) => badge(u.pending_invite ? "pending invite" : u.is_active ? "active" : "inactive") },
            { label: "Created", cell: (u) => fmtTime(u.created_at) },
            {
              label: "Actions",
              cell: (u) =>
                h(
                  "div",
                  { class: "row-actions" },
                  h("a", { class: "button", href: `#/admin/users/${seg(u.id)}/sessions` }, "Sessions"),
                  h("a", { class: "button", href: `#/admin/roles/users/${seg(u.id)}` }, "Gateway roles"),
                  u.email === session.me.email ? null : h("button", { type: "button", class: "danger", "aria-label": "Delete " + u.email, on: { click: () => remove(u) } }, "Delete")
                ),
            },
          ],
          users,
          { caption: "Users" }
        )
      );
    }

    async function remove(u) {
      if (!(await confirmDialog(`Delete the user ${u.email}? Their sessions end at once.`, { confirmLabel: "Delete", danger: true }))) return;
      try {
        await del("/api/auth/users/" + seg(u.id));
        toast(`User ${u.email} deleted.`, "ok");
        await load();
      } catch (err) {
        toast(err.message, "error");
      }
    }
    await load();
  },
});

page({
  path: "/admin/users/:id/sessions",
  title: "Sessions",
  role: "admin",
  async render(ctx) {
    const id = ctx.params.id;
    const area = h("div", null, spinner("Loading sessions"));
    const status = h("div", { "aria-live": "polite" });
    const revokeAll = h("button", { type: "button", class: "danger" }, "Revoke all sessions");
    let who = `user ${id}`;
    try {
      const users = await get("/api/auth/users");
      const u = users.find((x) => String(x.id) === String(id));
      if (u) who = u.email;
    } catch {
      /* the heading falls back to the id */
    }
    if (!ctx.alive()) return;
    revokeAll.addEventListener("click", async () => {
      if (!(await confirmDialog(`End every session of ${who}? They must log in again.`, { confirmLabel: "Revoke all", danger: true }))) return;
      await busy(revokeAll, status, async () => {
        await del(`/api/auth/users/${seg(id)}/sessions`);
        toast("Sessions revoked.", "ok");
        await load();
      }, "Revoking");
    });
    fill(ctx.view, h("p", null, h("a", { href: "#/admin/users" }, "← Users")), h("h1", null, "Sessions of ", who), h("div", { class: "toolbar" }, revokeAll), status, area);

    async function load() {
      let items;
      try {
        items = await get(`/api/auth/users/${seg(id)}/sessions`);
      } catch (err) {
        if (ctx.alive()) fill(area, errorBox(err));
        return;
      }
      if (!ctx.alive()) return;
      if (!items.length) {
        fill(area, emptyState("No active sessions.", "A session starts when the user logs in."));
        return;
      }
      fill(
        area,
        table(
          [
            { label: "Started", cell: (s) => fmtTime(s.created_at) },
            { label: "Last seen", cell: (s) => timeCell(s.last_seen) },
            { label: "Expires", cell: (s) => fmtTime(s.expires_at) },
            { label: "Client IP", cell: (s) => s.client_ip || "—" },
            { label: "User agent", cell: (s) => h("span", { class: "small" }, s.user_agent || "—") },
            {
              label: "Actions",
              cell: (s) =>
                h("button", {
                  type: "button",
                  class: "danger",
                  on: {
                    click: async (ev) => {
                      await busy(ev.currentTarget, status, async () => {
                        await del(`/api/auth/users/${seg(id)}/sessions/${seg(s.id)}`);
                        toast("Session revoked.", "ok");
                        await load();
                      }, "Revoking");
                    },
                  },
                }, "Revoke"),
            },
          ],
          items,
          { caption: "Sessions" }
        )
      );
    }
    await load();
  },
});
