// Shared widgets: toasts, error boxes, spinners and progress, confirm dialogs, empty states,
// tables, badges, form fields, time formatting and the copy button. All text goes in as text.
import { h, fill, uid } from "./dom.js";

// --- toasts -------------------------------------------------------------------------------------
export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const item = h(
    "div",
    { class: ["toast", "toast-" + kind], role: kind === "error" ? "alert" : "status" },
    h("span", null, message),
    h("button", { type: "button", class: "link", "aria-label": "Dismiss", on: { click: () => item.remove() } }, "×")
  );
  box.appendChild(item);
  setTimeout(() => item.remove(), kind === "error" ? 10000 : 4000);
}

// --- errors, loading, empty states --------------------------------------------------------------
export function errorBox(err, prefix) {
  const detail = err && err.message ? err.message : String(err);
  return h(
    "div",
    { class: "error-box", role: "alert" },
    prefix ? h("strong", null, prefix + ": ") : null,
    h("span", { class: "detail" }, detail),
    err && err.requestId ? h("span", { class: "muted small" }, ` (request ${err.requestId})`) : null
  );
}

export function spinner(label = "Loading") {
  return h("p", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), label + "…");
}

// An indeterminate progress bar with a label, for actions that take seconds (gateway calls).
export function progress(label) {
  return h("div", { class: "progress", role: "status" }, h("progress", { "aria-label": label }), h("span", null, label + "…"));
}

export function emptyState(title, hint, action) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, title), hint ? h("p", { class: "muted" }, hint) : null, action || null);
}

// Runs fn while the button is disabled and shows a progress bar in `status` (if given); errors
// land in `status` (or a toast) with the API's detail. Returns fn's result or undefined.
export async function busy(button, status, fn, label = "Working") {
  if (button) button.disabled = true;
  const bar = progress(label);
  if (status) fill(status, bar);
  try {
    const result = await fn();
    // fn may have put its own result into `status`; only the progress bar goes.
    bar.remove();
    return result;
  } catch (err) {
    if (status) fill(status, errorBox(err));
    else toast(err.message, "error");
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// --- confirm dialog -----------------------------------------------------------------------------
export function confirmDialog(message, { confirmLabel = "Confirm", danger = false } = {}) {
  return new Promise((resolve) => {
    const titleId = uid("dlg");
    const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId });
    const done = (ok) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    dialog.append(
      h("p", { id: titleId }, message),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", on: { click: () => done(false) } }, "Cancel"),
        h("button", { type: "button", class: danger ? "danger" : "primary", on: { click: () => done(true) } }, confirmLabel)
      )
    );
    dialog.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      done(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    dialog.querySelector(".actions button:last-child").focus();
  });
}

// --- tables, badges -----------------------------------------------------------------------------
// columns: [{label, cell: (row) => node|string, class?}]
export function table(columns, rows, { caption, rowClass } = {}) {
  return h(
    "table",
    { class: "data" },
    caption ? h("caption", { class: "sr-only" }, caption) : null,
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col", class: c.class }, c.label)))),
    h(
      "tbody",
      null,
      rows.map((row) => h("tr", { class: rowClass ? rowClass(row) : null }, columns.map((c) => h("td", { class: c.class }, c.cell(row)))))
    )
  );
}

const BADGE_KIND = {
  healthy: "ok", connected: "ok", compatible: "ok", active: "ok", SERVING: "ok",
  degraded: "warn", unknown: "muted", newer: "warn", pending: "warn", "pending invite": "warn",
  unreachable: "bad", offline: "bad", disconnected: "bad", unsupported: "bad", expired: "bad",
  admin: "bad", operator: "warn", viewer: "muted",
};

export function badge(text, kind) {
  const k = kind || BADGE_KIND[text] || "muted";
  return h("span", { class: "badge badge-" + k }, text === null || text === undefined ? "—" : String(text));
}

export function statusDot(status) {
  const k = BADGE_KIND[status] || "muted";
  return h("span", { class: "dot dot-" + k, "aria-hidden": "true" });
}

export function labelChips(labels) {
  const entries = Object.entries(labels || {});
  if (!entries.length) return h("span", { class: "muted" }, "—");
  return h("span", { class: "chips" }, entries.map(([k, v]) => h("span", { class: "chip" }, `${k}=${v}`)));
}

// --- forms --------------------------------------------------------------------------------------
// field("Name", h("input", {...}), "hint") -> a label + control + hint block wired by ids.
export function field(label, control, hint) {
  const id = control.id || uid("in");
  control.id = id;
  const hintId = hint ? id + "-hint" : null;
  if (hintId) control.setAttribute("aria-describedby", hintId);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("small", { id: hintId, class: "muted" }, hint) : null);
}

export function select(name, options, value) {
  return h(
    "select",
    { name },
    options.map((o) => {
      const [val, text] = Array.isArray(o) ? o : [o, o];
      return h("option", { value: val, selected: val === value }, text);
    })
  );
}

// "a=b\nc=d" <-> {a: "b", c: "d"}
export function parseLabels(text) {
  const out = {};
  for (const line of text.split(/[\n,]/)) {
    const t = line.trim();
    if (!t) continue;
    const i = t.indexOf("=");
    if (i <= 0) throw new Error(`Label "${t}" is not key=value`);
    out[t.slice(0, i).trim()] = t.slice(i + 1).trim();
  }
  return out;
}

export function formatLabels(labels) {
  return Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join("\n");
}

// --- time ---------------------------------------------------------------------------------------
export function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return isNaN(d) ? String(iso) : d.toLocaleString();
}

export function timeAgo(iso) {
  if (!iso) return "never";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function timeCell(iso) {
  return h("time", { datetime: iso || null, title: fmtTime(iso) }, timeAgo(iso));
}

// --- secrets shown once -------------------------------------------------------------------------
// A panel holding a value the API reveals exactly once (API key, invite link) with a copy button.
export function secretPanel(title, value, note) {
  const status = h("span", { class: "muted small", role: "status" });
  const code = h("code", { class: "secret", tabindex: "0" }, value);
  const copy = h(
    "button",
    {
      type: "button",
      class: "primary",
      on: {
        click: async () => {
          try {
            await navigator.clipboard.writeText(value);
            status.textContent = "Copied.";
          } catch {
            const range = document.createRange();
            range.selectNodeContents(code);
            const sel = window.getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
            status.textContent = "Selected: press Ctrl+C to copy.";
          }
        },
      },
    },
    "Copy"
  );
  const panel = h(
    "div",
    { class: "secret-panel", role: "region", "aria-label": title },
    h("p", null, h("strong", null, title)),
    h("p", { class: "warn-text" }, note),
    h("div", { class: "secret-row" }, code, copy, status),
    h("button", { type: "button", class: "link", on: { click: () => panel.remove() } }, "I have stored it — hide")
  );
  return panel;
}

// JSON shown read-only (catalog entries, raw config).
export function jsonBlock(value) {
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}
