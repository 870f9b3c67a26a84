// The global catalogs: policy presets and sandbox templates (read-only).
import { h, fill } from "../dom.js";
import { get, seg } from "../api.js";
import { page } from "../router.js";
import { errorBox, spinner, emptyState, table, badge, jsonBlock } from "../ui.js";

function listPage(path, title, api, navOrder, extraCols) {
  page({
    path,
    title,
    nav: { label: title, order: navOrder },
    async render(ctx) {
      fill(ctx.view, h("h1", null, title), spinner());
      let items;
      try {
        items = await get(api);
      } catch (err) {
        if (ctx.alive()) fill(ctx.view, h("h1", null, title), errorBox(err));
        return;
      }
      if (!ctx.alive()) return;
      const cols = [
        { label: "Name", cell: (p) => h("a", { href: "#" + path + "/" + seg(p.name) }, p.name) },
        ...extraCols,
        { label: "Description", cell: (p) => p.description || "" },
      ];
      fill(ctx.view, h("h1", null, title), items.length ? table(cols, items, { caption: title }) : emptyState(`No ${title.toLowerCase()} installed.`, "They are YAML files in the server's data directory."));
    },
  });
  page({
    path: path + "/:name",
    title: (ctx) => ctx.params.name,
    async render(ctx) {
      const back = h("p", null, h("a", { href: "#" + path }, "← " + title));
      fill(ctx.view, back, h("h1", null, ctx.params.name), spinner());
      try {
        const item = await get(api + "/" + seg(ctx.params.name));
        if (ctx.alive()) fill(ctx.view, back, h("h1", null, ctx.params.name), item.description ? h("p", null, item.description) : null, jsonBlock(item));
      } catch (err) {
        if (ctx.alive()) fill(ctx.view, back, h("h1", null, ctx.params.name), errorBox(err));
      }
    },
  });
}

listPage("/catalog/presets", "Policy presets", "/api/policies/presets", 40, []);
listPage("/catalog/templates", "Sandbox templates", "/api/sandbox-templates", 41, [{ label: "Category", cell: (t) => (t.category ? badge(t.category, "muted") : "—") }]);
