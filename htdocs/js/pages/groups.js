// Groups (admin): list and create; a group's page edits it and its members.
import { h, fill } from "../dom.js";
import { get, post, put, del, seg } from "../api.js";
import { page, go } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, field, select, fmtTime, toast, confirmDialog, busy } from "../ui.js";

const ROLES = ["viewer", "operator", "admin"];

page({
  path: "/admin/groups",
  title: "Groups",
  role: "admin",
  nav: { label: "Groups", order: 62 },
  async render(ctx) {
    const area = h("div", null, spinner("Loading groups"));
    const status = h("div", { "aria-live": "polite" });
    const create = h("button", { type: "submit", class: "primary" }, "Create group");
    const form = h(
      "form",
      {
        class: "form-inline card",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(create, status, async () => {
              const g = await post("/api/auth/groups", { name: form.elements.namedItem("name").value.trim(), role: form.role.value, description: form.description.value.trim() || null });
              toast(`Group ${g.name} created.`, "ok");
              form.reset();
              await load();
            }, "Creating");
          },
        },
      },
      field("Name", h("input", { name: "name", required: true, autocomplete: "off" })),
      field("Global role", select("role", ROLES, "viewer")),
      field("Description", h("input", { name: "description" })),
      create
    );
    fill(ctx.view, h("h1", null, "Groups"), h("p", { class: "muted" }, "Members get the group's global role (if higher than their own) and its per-gateway roles."), form, status, area);

    async function load() {
      let groups;
      try {
        groups = await get("/api/auth/groups");
      } catch (err) {
        if (ctx.alive()) fill(area, errorBox(err));
        return;
      }
      if (!ctx.alive()) return;
      if (!groups.length) {
        fill(area, emptyState("No groups yet.", "Create one above, then add members."));
        return;
      }
      fill(
        area,
        table(
          [
            { label: "Name", cell: (g) => h("a", { href: "#/admin/groups/" + seg(g.id) }, g.name) },
            { label: "Global role", cell: (g) => badge(g.role) },
            { label: "Members", cell: (g) => String(g.member_count ?? "—") },
            { label: "Description", cell: (g) => g.description || "" },
            { label: "Created", cell: (g) => fmtTime(g.created_at) },
          ],
          groups,
          { caption: "Groups" }
        )
      );
    }
    await load();
  },
});

page({
  path: "/admin/groups/:id",
  title: "Group",
  role: "admin",
  async render(ctx) {
    const id = ctx.params.id;
    const api = "/api/auth/groups/" + seg(id);
    const back = h("p", null, h("a", { href: "#/admin/groups" }, "← Groups"));
    fill(ctx.view, back, spinner("Loading group"));
    let g, users;
    try {
      [g, users] = await Promise.all([get(api), get("/api/auth/users")]);
    } catch (err) {
      if (ctx.alive()) fill(ctx.view, back, errorBox(err));
      return;
    }
    if (!ctx.alive()) return;
    const status = h("div", { "aria-live": "polite" });
    const save = h("button", { type: "submit", class: "primary" }, "Save");
    const edit = h(
      "form",
      {
        class: "form-inline",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(save, status, async () => {
              await put(api, { name: edit.elements.namedItem("name").value.trim(), role: edit.role.value, description: edit.description.value.trim() || null });
              toast("Group saved.", "ok");
              ctx.reload();
            }, "Saving");
          },
        },
      },
      field("Name", h("input", { name: "name", value: g.name, required: true })),
      field("Global role", select("role", ROLES, g.role)),
      field("Description", h("input", { name: "description", value: g.description || "" })),
      save
    );
    const members = g.members || [];
    const memberIds = new Set(members.map((m) => m.id));
    const candidates = users.filter((u) => !memberIds.has(u.id));
    const addBtn = h("button", { type: "submit" }, "Add member");
    const addForm = h(
      "form",
      {
        class: "form-inline",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(addBtn, status, async () => {
              await post(api + "/members", { user_id: Number(addForm.user.value) });
              ctx.reload();
            }, "Adding");
          },
        },
      },
      field("User", select("user", candidates.map((u) => [String(u.id), u.email]))),
      addBtn
    );
    const delBtn = h("button", { type: "button", class: "danger" }, "Delete group");
    delBtn.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete the group ${g.name}? Members lose its roles at once.`, { confirmLabel: "Delete", danger: true }))) return;
      await busy(delBtn, status, async () => {
        await del(api);
        toast(`Group ${g.name} deleted.`, "ok");
        go("/admin/groups");
      }, "Deleting");
    });
    fill(
      ctx.view,
      back,
      h("h1", null, "Group ", g.name),
      h("div", { class: "toolbar" }, h("a", { class: "button", href: `#/admin/roles/groups/${seg(id)}` }, "Gateway roles"), delBtn),
      status,
      h("section", { class: "card" }, h("h2", null, "Settings"), edit),
      h(
        "section",
        { class: "card" },
        h("h2", null, "Members"),
        members.length
          ? table(
              [
                { label: "E-mail", cell: (m) => m.email },
                { label: "Own role", cell: (m) => badge(m.role) },
                {
                  label: "Actions",
                  cell: (m) =>
                    h("button", {
                      type: "button",
                      class: "danger",
                      "aria-label": "Remove " + m.email,
                      on: {
                        click: (ev) =>
                          busy(ev.currentTarget, status, async () => {
                            await del(`${api}/members/${seg(m.id)}`);
                            ctx.reload();
                          }, "Removing"),
                      },
                    }, "Remove"),
                },
              ],
              members,
              { caption: "Members" }
            )
          : emptyState("No members yet.", "Add users below."),
        candidates.length ? addForm : h("p", { class: "muted" }, "Every user is already a member.")
      )
    );
  },
});
