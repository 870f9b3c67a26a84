// Hash routing and the page registry. A page module calls page({...}) once per route; adding the
// sandbox, policy, approval, provider or webhook pages later is one new module under pages/ plus
// one import line in pages/index.js, nothing here.
//
// page({
//   path: "/gateways/:name",        // ":x" matches one URL segment, given decoded in ctx.params
//   title: "Gateway",               // document title (a function of ctx allowed)
//   role: "viewer",                 // "public" | "viewer" | "operator" | "admin"
//   nav: {label, group, order},     // optional: an entry in the navigation for users with role
//   render(ctx) {...},              // fills ctx.view; ctx.onLeave(fn) for timers, ctx.alive()
// })

const routes = [];

export function page(def) {
  const names = [];
  const pattern = def.path
    .split("/")
    .map((part) => {
      if (part.startsWith(":")) {
        names.push(part.slice(1));
        return "([^/]+)";
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  routes.push({ role: "viewer", ...def, re: new RegExp("^" + pattern + "$"), names });
}

export function navEntries() {
  return routes
    .filter((r) => r.nav)
    .sort((a, b) => (a.nav.order || 0) - (b.nav.order || 0));
}

// "#/gateways/a%20b?label=x:y" -> {path: "/gateways/a%20b", query: URLSearchParams}
export function currentLocation() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const q = raw.indexOf("?");
  return {
    path: q < 0 ? raw : raw.slice(0, q),
    query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)),
    full: raw,
  };
}

export function match(path) {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (!m) continue;
    const params = {};
    try {
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
    } catch {
      return null;
    }
    return { route: r, params };
  }
  return null;
}

export function go(path) {
  const target = "#" + path;
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = target;
}

// Only same-dashboard destinations are honoured after login ("/x", never "//host" or a URL).
export function safeNext(next) {
  return typeof next === "string" && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}
