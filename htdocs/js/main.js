// The shell: top bar (navigation from the page registry, who is logged in, theme toggle, logout)
// and the router loop that renders one page at a time into #view.
import { h, fill } from "./dom.js";
import { setUnauthorizedHandler } from "./api.js";
import { session } from "./session.js";
import { match, currentLocation, navEntries, go } from "./router.js";
import { errorBox, spinner, toast } from "./ui.js";
import "./pages/index.js";

const view = document.getElementById("view");
let current = null; // {leave: [fn], token}
let renderSeq = 0;
let navigated = false; // false until the first page rendered

function leaveCurrent() {
  if (!current) return;
  for (const fn of current.leave) {
    try {
      fn();
    } catch {
      /* a page's cleanup must not break navigation */
    }
  }
  current = null;
}

function renderNav(path) {
  const nav = document.getElementById("nav");
  if (!session.authenticated) {
    fill(nav);
  } else {
    const items = navEntries().filter((r) => session.has(r.role));
    fill(
      nav,
      h(
        "ul",
        null,
        items.map((r) => {
          const active = path === r.path || (r.path !== "/" && path.startsWith(r.path + "/"));
          return h("li", null, h("a", { href: "#" + r.path, "aria-current": active ? "page" : null }, r.nav.label));
        })
      )
    );
  }
  const who = document.getElementById("who");
  who.textContent = session.authenticated ? `${session.me.email || "API key"} · ${session.role}` : "";
  document.getElementById("logout").hidden = !session.authenticated;
}

async function route() {
  const seq = ++renderSeq;
  leaveCurrent();
  const loc = currentLocation();
  if (!session.me) {
    fill(view, spinner());
    try {
      await session.refresh();
    } catch (err) {
      fill(view, errorBox(err, "Cannot reach the API"));
      return;
    }
    if (seq !== renderSeq) return;
  }
  const found = match(loc.path);
  if (session.me.needs_setup && loc.path !== "/setup") return go("/setup");
  if (!found) {
    renderNav(loc.path);
    fill(view, h("h1", null, "Not found"), h("p", null, "No page at ", h("code", null, loc.path), "."), h("p", null, h("a", { href: "#/" }, "Back to the dashboard")));
    return;
  }
  const { route: r, params } = found;
  if (r.role !== "public" && !session.authenticated) return go("/login?next=" + encodeURIComponent(loc.full));
  renderNav(loc.path);
  if (!session.has(r.role)) {
    fill(view, h("h1", null, "Not allowed"), h("p", null, `This page needs the ${r.role} role; you are ${session.role}.`));
    return;
  }
  const ctx = {
    params,
    query: loc.query,
    view,
    leave: [],
    onLeave(fn) {
      this.leave.push(fn);
    },
    alive: () => seq === renderSeq,
    reload: () => route(),
  };
  current = ctx;
  document.title = (typeof r.title === "function" ? r.title(ctx) : r.title) + " · Breakwater";
  fill(view);
  // After a navigation, keyboard and screen-reader users continue at the new content, not at the
  // link they left (a page may then focus its first field).
  if (navigated) document.getElementById("main").focus();
  navigated = true;
  try {
    await r.render(ctx);
  } catch (err) {
    if (ctx.alive()) fill(view, errorBox(err));
  }
}

// A 401 on any call means the session ended (idle timeout, revoked): back to the login page.
setUnauthorizedHandler(() => {
  if (!session.me || !session.me.authenticated) return;
  session.me = null;
  toast("Your session has ended. Please log in again.", "warn");
  const loc = currentLocation();
  go("/login?next=" + encodeURIComponent(loc.full));
});

function themeButton() {
  const btn = document.getElementById("theme-toggle");
  const effective = () =>
    document.documentElement.getAttribute("data-theme") ||
    (window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  const sync = () => {
    const dark = effective() === "dark";
    btn.setAttribute("aria-pressed", String(dark));
    btn.textContent = dark ? "Light theme" : "Dark theme";
  };
  btn.addEventListener("click", () => {
    const next = effective() === "dark" ? "light" : "dark";
    document.documentElement.setAttribute("data-theme", next);
    try {
      localStorage.setItem("bw-theme", next);
    } catch {
      /* not stored: applies to this page only */
    }
    sync();
  });
  sync();
}

const logoutButton = document.getElementById("logout");
logoutButton.addEventListener("click", async () => {
  logoutButton.disabled = true;
  try {
    await session.logout();
    toast("Logged out.");
  } catch (err) {
    toast(err.message, "error");
  } finally {
    logoutButton.disabled = false;
    session.me = null;
    go("/login");
  }
});

themeButton();
window.addEventListener("hashchange", route);
route();
