// Gateways: the list with live health (polled), label filter, register form (mTLS PEM upload) and
// the detail page (info, version notice, live health, test connection, metadata, settings and
// cluster inference).
import { h, fill, clear } from "../dom.js";
import { get, post, patch, put, del, seg, query } from "../api.js";
import { session } from "../session.js";
import { page, go } from "../router.js";
import {
  errorBox, spinner, progress, emptyState, table, badge, statusDot, labelChips, field, select,
  parseLabels, formatLabels, timeCell, fmtTime, toast, confirmDialog, busy, jsonBlock,
} from "../ui.js";

const LIST_POLL_MS = 5000;
const HEALTH_POLL_MS = 10000;
const HEALTH_POLL_DOWN_MS = 5000;

// "env:prod, team:a" -> ["env:prod", "team:a"]
function labelTerms(text) {
  return text.split(",").map((t) => t.trim()).filter(Boolean);
}

// --- list ---------------------------------------------------------------------------------------
page({
  path: "/gateways",
  title: "Gateways",
  nav: { label: "Gateways", order: 10 },
  async render(ctx) {
    const labelFilter = ctx.query.get("label") || "";
    const textInput = h("input", { type: "search", name: "q", placeholder: "name, description, endpoint" });
    const labelInput = h("input", { type: "text", name: "label", value: labelFilter, placeholder: "env:prod, team:core" });
    const updated = h("span", { class: "muted small", role: "status" });
    const area = h("div", null, spinner("Loading gateways"));
    let items = null; // null until the first answer
    let rowsByName = new Map();

    const filterForm = h(
      "form",
      {
        class: "toolbar",
        role: "search",
        on: {
          submit: (ev) => {
            ev.preventDefault();
            const v = labelInput.value.trim();
            go("/gateways" + (v ? "?label=" + encodeURIComponent(v) : ""));
          },
        },
      },
      field("Filter", textInput),
      field("Labels (key:value, all must match)", labelInput),
      h("button", { type: "submit" }, "Apply label filter"),
      labelFilter ? h("a", { class: "button", href: "#/gateways" }, "Clear") : null,
      h("button", { type: "button", on: { click: () => refresh(true) } }, "Refresh"),
      session.has("admin") ? h("a", { class: "button primary", href: "#/gateways/new" }, "Register gateway") : null
    );
    textInput.addEventListener("input", () => draw());

    fill(ctx.view, h("h1", null, "Gateways"), filterForm, updated, area);

    function visible() {
      const q = textInput.value.trim().toLowerCase();
      if (!items) return [];
      if (!q) return items;
      return items.filter((g) => [g.name, g.description || "", g.endpoint].some((s) => s.toLowerCase().includes(q)));
    }

    function statusCell(g) {
      return h("span", { class: "gw-status" }, statusDot(g.status), g.status);
    }

    function draw() {
      const rows = visible();
      rowsByName = new Map();
      if (!items) return;
      if (items.length === 0) {
        fill(
          area,
          labelFilter
            ? emptyState("No gateway has these labels.", "Change or clear the label filter.")
            : emptyState("No gateways registered yet.", "Register a gateway with its endpoint and mTLS certificates.", session.has("admin") ? h("a", { class: "button primary", href: "#/gateways/new" }, "Register a gateway") : null)
        );
        return;
      }
      if (rows.length === 0) {
        fill(area, emptyState("No gateway matches the filter."));
        return;
      }
      const columns = [
        { label: "Status", cell: (g) => statusCell(g) },
        { label: "Name", cell: (g) => h("a", { href: "#/gateways/" + seg(g.name) }, g.name) },
        { label: "Description", cell: (g) => g.description || "" },
        { label: "Endpoint", cell: (g) => h("span", { class: "mono" }, `${g.scheme}://${g.endpoint}`) },
        { label: "Labels", cell: (g) => labelChips(g.labels) },
        { label: "Version", cell: (g) => g.version || "—" },
        { label: "Last seen", cell: (g) => timeCell(g.last_seen) },
      ];
      if (session.has("admin"))
        columns.push({ label: "Actions", cell: (g) => h("button", { type: "button", class: "danger", "aria-label": "Unregister " + g.name, on: { click: () => unregister(g.name) } }, "Unregister") });
      const t = table(columns, rows, { caption: "Registered gateways" });
      t.querySelectorAll("tbody tr").forEach((tr, i) => {
        tr.dataset.gateway = rows[i].name;
        rowsByName.set(rows[i].name, tr);
      });
      fill(area, t);
    }

    // Same gateways as drawn: update the live cells in place (keeps keyboard focus in the table).
    function patchRows(next) {
      const shown = visible().map((g) => g.name);
      const same = shown.length === rowsByName.size && shown.every((n) => rowsByName.has(n));
      if (!same) return false;
      for (const g of next) {
        const tr = rowsByName.get(g.name);
        if (!tr) continue;
        fill(tr.cells[0], statusCell(g));
        fill(tr.cells[5], g.version || "—");
        fill(tr.cells[6], timeCell(g.last_seen));
      }
      return true;
    }

    async function refresh(manual) {
      try {
        const data = await get("/api/gateway/list" + query({ label: labelTerms(labelFilter) }));
        if (!ctx.alive()) return;
        const sameSet = items !== null && data.items.length === items.length && data.items.every((g, i) => g.name === items[i].name);
        items = data.items;
        if (!(sameSet && patchRows(items))) draw();
        updated.textContent = `${items.length} gateway(s) · updated ${new Date().toLocaleTimeString()} · refreshes every ${LIST_POLL_MS / 1000} s`;
      } catch (err) {
        if (!ctx.alive()) return;
        if (manual || !items) fill(area, errorBox(err));
        else updated.textContent = "Refresh failed: " + err.message;
      }
    }

    async function unregister(name) {
      const ok = await confirmDialog(`Unregister gateway "${name}"? Breakwater forgets it and its certificates; the gateway itself keeps running.`, { confirmLabel: "Unregister", danger: true });
      if (!ok) return;
      try {
        await del("/api/gateway/" + seg(name));
        toast(`Gateway "${name}" unregistered.`, "ok");
        await refresh(true);
      } catch (err) {
        toast(err.message, "error");
      }
    }

    await refresh(true);
    const timer = setInterval(() => refresh(false), LIST_POLL_MS);
    ctx.onLeave(() => clearInterval(timer));
  },
});

// --- register -----------------------------------------------------------------------------------
async function fileBase64(input) {
  const file = input.files && input.files[0];
  if (!file) return null;
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

page({
  path: "/gateways/new",
  title: "Register gateway",
  role: "admin",
  render(ctx) {
    const status = h("div", { "aria-live": "polite" });
    const submit = h("button", { type: "submit", class: "primary" }, "Register");
    const pem = (name) => h("input", { type: "file", name, accept: ".pem,.crt,.key,application/x-pem-file" });
    const form = h(
      "form",
      {
        class: "form",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(submit, status, async () => {
              const body = {
                name: form.name.value.trim(),
                endpoint: form.endpoint.value.trim(),
                scheme: form.scheme.value,
                auth_mode: form.auth_mode.value,
                description: form.description.value.trim() || null,
                labels: parseLabels(form.labels.value),
                metadata: form.gpu.checked ? { gpu: true } : {},
              };
              for (const k of ["ca_cert", "client_cert", "client_key"]) {
                const b64 = await fileBase64(form[k]);
                if (b64) body[k] = b64;
              }
              const gw = await post("/api/gateway/register", body);
              toast(`Gateway "${gw.name}" registered.`, "ok");
              go("/gateways/" + seg(gw.name));
            }, "Registering");
          },
        },
      },
      field("Name", h("input", { name: "name", required: true, autocomplete: "off" }), "Letters, digits, '-', '_' and '.'."),
      field("Endpoint", h("input", { name: "endpoint", required: true, placeholder: "gateway.example.com:8443" }), "host:port of the gateway's gRPC listener."),
      field("Scheme", select("scheme", [["https", "https (TLS / mTLS)"], ["http", "http (plaintext)"]], "https")),
      field("Authentication", select("auth_mode", [["mtls", "mTLS client certificate"], ["api_key", "API key"], ["none", "none"], ["insecure", "insecure"]], "mtls")),
      field("CA certificate (PEM)", pem("ca_cert")),
      field("Client certificate (PEM)", pem("client_cert")),
      field("Client key (PEM)", pem("client_key"), "Stored sealed; never shown again."),
      field("Description", h("textarea", { name: "description", maxlength: "1000" })),
      field("Labels", h("textarea", { name: "labels", placeholder: "env=prod\nteam=core" }), "One key=value per line (at most 20)."),
      h("div", { class: "field" }, h("label", null, h("input", { type: "checkbox", name: "gpu" }), " GPU passthrough available")),
      h("div", { class: "actions" }, submit, h("a", { class: "button", href: "#/gateways" }, "Cancel")),
      status
    );
    fill(ctx.view, h("h1", null, "Register gateway"), form);
    form.name.focus();
  },
});

// --- detail -------------------------------------------------------------------------------------
function versionNotice(gw) {
  if (gw.compatibility === "unsupported")
    return h("div", { class: "error-box", role: "alert" }, `Gateway version ${gw.version} is older than Breakwater supports: most calls will fail. Upgrade the gateway.`);
  if (gw.compatibility === "newer")
    return h("div", { class: "notice" }, `Gateway version ${gw.version} is newer than the versions Breakwater was tested with; it may work, but it is not checked.`);
  if (!gw.version) return h("div", { class: "notice" }, "Version unknown: the gateway has not answered a health probe yet.");
  return null;
}

function settingValueInput(value) {
  const type = typeof value === "boolean" ? "boolean" : Number.isInteger(value) ? "integer" : "string";
  if (type === "boolean") return { type, input: select("value", [["true", "true"], ["false", "false"]], String(value)) };
  return { type, input: h("input", { name: "value", value: value === null || value === undefined ? "" : String(value), inputmode: type === "integer" ? "numeric" : null }) };
}

function typedValue(type, raw) {
  if (type === "boolean") return raw === "true";
  if (type === "integer") {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error("The value must be a whole number.");
    return Number(raw.trim());
  }
  return raw;
}

page({
  path: "/gateways/:name",
  title: (ctx) => ctx.params.name,
  async render(ctx) {
    const name = ctx.params.name;
    const api = "/api/gateway/" + seg(name);
    const admin = session.has("admin");
    fill(ctx.view, h("h1", null, name), spinner("Loading gateway"));
    let gw;
    try {
      gw = await get(api + "/info");
    } catch (err) {
      if (ctx.alive()) fill(ctx.view, h("h1", null, name), errorBox(err), h("a", { href: "#/gateways" }, "Back to gateways"));
      return;
    }
    if (!ctx.alive()) return;

    const healthLine = h("div", { class: "health", role: "status", "aria-live": "polite" }, h("span", { class: "muted" }, "Checking health…"));
    const actionOut = h("div", { "aria-live": "polite" });
    const notice = h("div", null, versionNotice(gw));
    const infoBox = h("div");

    function drawInfo() {
      fill(
        infoBox,
        h(
          "dl",
          { class: "props" },
          h("dt", null, "Endpoint"), h("dd", { class: "mono" }, `${gw.scheme}://${gw.endpoint}`),
          h("dt", null, "Authentication"), h("dd", null, gw.auth_mode || "—"),
          h("dt", null, "Certificates"), h("dd", null, `CA ${gw.has_ca_cert ? "stored" : "none"} · client certificate ${gw.has_client_cert ? "stored" : "none"} · client key ${gw.has_client_key ? "stored" : "none"}`),
          h("dt", null, "Description"), h("dd", { class: "gw-description" }, gw.description || "—"),
          h("dt", null, "Labels"), h("dd", { class: "gw-labels" }, labelChips(gw.labels)),
          h("dt", null, "Version"), h("dd", null, gw.version || "unknown", " ", gw.compatibility ? badge(gw.compatibility) : null),
          h("dt", null, "Status"), h("dd", null, statusDot(gw.status), gw.status, gw.last_status && gw.last_status !== gw.status ? ` (last probe: ${gw.last_status})` : ""),
          h("dt", null, "Registered"), h("dd", null, fmtTime(gw.registered_at)),
          h("dt", null, "Last seen"), h("dd", null, timeCell(gw.last_seen)),
          h("dt", null, "Runtime"), h("dd", null, gw.runtime || "—"),
          h("dt", null, "Metadata"), h("dd", null, Object.keys(gw.metadata || {}).length ? h("code", null, JSON.stringify(gw.metadata)) : "—")
        )
      );
    }
    drawInfo();

    async function reloadInfo() {
      gw = await get(api + "/info");
      if (!ctx.alive()) return;
      drawInfo();
      fill(notice, versionNotice(gw));
    }

    // Live health: every 10 s while connected, every 5 s while not.
    let timer = null;
    async function pollHealth() {
      let down = false;
      try {
        const hres = await get("/api/gateways/" + seg(name) + "/health");
        if (!ctx.alive()) return;
        fill(healthLine, statusDot(hres.status === "healthy" ? "healthy" : "degraded"), `Health: ${hres.status} · version ${hres.version} · checked ${new Date().toLocaleTimeString()}`);
      } catch (err) {
        if (!ctx.alive()) return;
        down = true;
        fill(healthLine, statusDot("disconnected"), `Not connected: ${err.message} · checked ${new Date().toLocaleTimeString()}`);
      }
      timer = setTimeout(pollHealth, down ? HEALTH_POLL_DOWN_MS : HEALTH_POLL_MS);
    }
    ctx.onLeave(() => clearTimeout(timer));

    const testBtn = h("button", { type: "button", class: "primary" }, "Test connection");
    testBtn.addEventListener("click", () =>
      busy(testBtn, actionOut, async () => {
        const r = await post(api + "/test-connection");
        if (!ctx.alive()) return;
        fill(
          actionOut,
          r.success
            ? h("div", { class: "ok-box test-result" }, `Connected: version ${r.version}, health ${r.health_status}` + (r.latency_ms !== undefined && r.latency_ms !== null ? `, ${r.latency_ms} ms` : "") + ".")
            : h("div", { class: "error-box test-result", role: "alert" }, "Connection failed: " + (r.error || "unknown error"))
        );
        await reloadInfo();
      }, "Testing the connection")
    );
    const unregisterBtn = h("button", { type: "button", class: "danger" }, "Unregister");
    unregisterBtn.addEventListener("click", async () => {
      const ok = await confirmDialog(`Unregister gateway "${name}"? The gateway itself keeps running.`, { confirmLabel: "Unregister", danger: true });
      if (!ok) return;
      await busy(unregisterBtn, actionOut, async () => {
        await del(api);
        toast(`Gateway "${name}" unregistered.`, "ok");
        go("/gateways");
      }, "Unregistering");
    });

    const sections = [
      h("p", null, h("a", { href: "#/gateways" }, "← Gateways")),
      h("h1", null, name),
      healthLine,
      notice,
      h(
        "div",
        { class: "toolbar" },
        admin ? testBtn : null,
        h("button", { type: "button", on: { click: () => reloadInfo().catch((e) => toast(e.message, "error")) } }, "Refresh"),
        h("a", { class: "button", href: `#/gateways/${seg(name)}/sandboxes` }, "Sandboxes"),
        h("a", { class: "button", href: `#/gateways/${seg(name)}/providers` }, "Providers"),
        h("a", { class: "button", href: `#/gateways/${seg(name)}/approvals` }, "Approvals"),
        admin ? unregisterBtn : null
      ),
      actionOut,
      h("section", { class: "card", "aria-labelledby": "gw-info-h" }, h("h2", { id: "gw-info-h" }, "Details"), infoBox),
    ];
    if (admin) sections.push(metadataEditor(ctx, api, () => gw, reloadInfo));
    sections.push(inferenceSection(ctx, "/api/gateways/" + seg(name) + "/inference", session.has("operator")));
    sections.push(settingsSection(ctx, api, admin));
    fill(ctx.view, sections);
    pollHealth();
  },
});

function metadataEditor(ctx, api, current, reload) {
  const gw = current();
  const status = h("div", { "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "primary" }, "Save");
  const form = h(
    "form",
    {
      on: {
        submit: async (ev) => {
          ev.preventDefault();
          await busy(save, status, async () => {
            await patch(api, { description: form.description.value.trim() || null, labels: parseLabels(form.labels.value) });
            await reload();
            fill(status, h("div", { class: "ok-box" }, "Saved."));
          }, "Saving");
        },
      },
    },
    field("Description", h("textarea", { name: "description", maxlength: "1000", value: gw.description || "" })),
    field("Labels", h("textarea", { name: "labels", value: formatLabels(gw.labels) }), "One key=value per line."),
    h("div", { class: "actions" }, save),
    status
  );
  return h("section", { class: "card", "aria-labelledby": "gw-meta-h" }, h("h2", { id: "gw-meta-h" }, "Description and labels"), form);
}

// Cluster inference: what the gateway routes sandbox model calls to, and (operator) the form that
// sets it. The gateway validates the endpoint when asked; its answer is shown as text.
function inferenceSection(ctx, api, canWrite) {
  const box = h("div", null, progress("Reading the inference configuration"));
  const status = h("div", { "aria-live": "polite" });
  const section = h("section", { class: "card", "aria-labelledby": "gw-inf-h" }, h("h2", { id: "gw-inf-h" }, "Inference"), box);
  let routeName = ""; // the route shown: the default one until a named route is saved

  function current(inf) {
    return h(
      "dl",
      { class: "props inference-current" },
      h("dt", null, "Provider"), h("dd", { class: "inf-provider" }, inf.provider_name || "—"),
      h("dt", null, "Model"), h("dd", { class: "inf-model mono" }, inf.model_id || "—"),
      h("dt", null, "Route"), h("dd", null, inf.route_name || "default"),
      h("dt", null, "Timeout"), h("dd", null, inf.timeout_secs ? `${inf.timeout_secs} s` : "gateway default"),
      h("dt", null, "Version"), h("dd", null, String(inf.version ?? "—"))
    );
  }

  function form(inf) {
    const save = h("button", { type: "submit", class: "primary" }, "Save inference");
    const f = h(
      "form",
      {
        class: "inference-form",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(save, status, async () => {
              const timeout = f.timeout_secs.value.trim();
              if (timeout && !/^\d+$/.test(timeout)) throw new Error("The timeout must be a whole number of seconds.");
              const answer = await put(api, {
                provider_name: f.provider_name.value.trim(),
                model_id: f.model_id.value.trim(),
                route_name: f.route_name.value.trim(),
                timeout_secs: timeout ? Number(timeout) : 0,
                verify: f.verify.checked,
              });
              routeName = answer.route_name || "";
              toast("Inference configuration saved.", "ok");
              const checked = (answer.validated_endpoints || []).map((e) => `${e.url} (${e.protocol})`);
              fill(status, h("div", { class: "ok-box" }, "Saved.", answer.validation_performed ? ` Endpoints checked by the gateway: ${checked.join(", ") || "none"}.` : " Not validated."));
              await load(false);
            }, "Saving");
          },
        },
      },
      field("Provider", h("input", { name: "provider_name", required: true, maxlength: "253", value: inf.provider_name || "" }), "The name of a provider on this gateway."),
      field("Model", h("input", { name: "model_id", required: true, maxlength: "512", value: inf.model_id || "" })),
      field("Route name", h("input", { name: "route_name", maxlength: "253", value: inf.route_name || "" }), "Empty: the default route."),
      field("Timeout (seconds)", h("input", { name: "timeout_secs", inputmode: "numeric", value: inf.timeout_secs ? String(inf.timeout_secs) : "" }), "0..3600; empty: the gateway's default."),
      field("Verify the endpoint", h("input", { type: "checkbox", name: "verify", checked: true })),
      h("div", { class: "actions" }, save)
    );
    return f;
  }

  async function load(clearStatus = true) {
    let inf = null;
    try {
      inf = await get(api + (routeName ? query({ route_name: routeName }) : ""));
    } catch (err) {
      // 404: nothing configured yet; anything else is shown as the API's detail.
      if (!(err && err.status === 404)) {
        if (ctx.alive()) fill(box, errorBox(err, "Could not read the inference configuration"));
        return;
      }
    }
    if (!ctx.alive()) return;
    if (clearStatus) clear(status);
    fill(
      box,
      inf ? current(inf) : emptyState("No cluster inference is configured.", canWrite ? "Set a provider and a model below." : "An operator can set one."),
      canWrite ? form(inf || {}) : null,
      status
    );
  }

  load();
  return section;
}

function settingsSection(ctx, api, admin) {
  const box = h("div", null, progress("Reading the gateway's settings"));
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "gw-set-h" },
    h("h2", { id: "gw-set-h" }, "Gateway settings"),
    admin ? h("p", { class: "notice" }, "These are the gateway's raw runtime settings. A wrong value can change how every sandbox on it behaves.") : null,
    box
  );

  async function load() {
    try {
      const cfg = await get(api + (admin ? "/settings" : "/config"));
      if (!ctx.alive()) return;
      draw(cfg);
    } catch (err) {
      if (ctx.alive()) fill(box, errorBox(err, "Could not read the settings"));
    }
  }

  function draw(cfg) {
    const entries = Object.entries(cfg.settings || {});
    const out = [h("p", { class: "muted small" }, `Settings revision ${cfg.settings_revision}.`)];
    if (!entries.length) out.push(emptyState("The gateway reports no settings.", admin ? "Add one below." : null));
    else if (!admin)
      out.push(table([{ label: "Key", cell: (e) => h("code", null, e[0]) }, { label: "Value", cell: (e) => (e[1] === null ? h("span", { class: "muted" }, "unset") : JSON.stringify(e[1])) }], entries, { caption: "Settings" }));
    else
      out.push(
        table(
          [
            { label: "Key", cell: (e) => h("code", null, e[0]) },
            { label: "Value", cell: (e) => settingRow(e[0], e[1]) },
          ],
          entries,
          { caption: "Settings" }
        )
      );
    if (admin) out.push(addForm());
    fill(box, out);
  }

  function settingRow(key, value) {
    const initial = settingValueInput(value);
    let input = initial.input;
    const typeSel = select("type", [["string", "string"], ["boolean", "boolean"], ["integer", "integer"]], initial.type);
    input.setAttribute("aria-label", `Value of ${key}`);
    typeSel.setAttribute("aria-label", `Type of ${key}`);
    // Changing the type swaps the value control (a true/false choice for booleans).
    typeSel.addEventListener("change", () => {
      const seed = typeSel.value === "boolean" ? input.value === "true" : typeSel.value === "integer" ? (/^-?\d+$/.test(input.value) ? Number(input.value) : 0) : input.value;
      const next = settingValueInput(seed).input;
      next.setAttribute("aria-label", `Value of ${key}`);
      input.replaceWith(next);
      input = next;
    });
    const status = h("span", { "aria-live": "polite" });
    const save = h("button", { type: "button" }, "Save");
    const remove = h("button", { type: "button", class: "danger" }, "Delete");
    save.addEventListener("click", () =>
      busy(save, status, async () => {
        await put(`${api}/settings/${seg(key)}`, { value: typedValue(typeSel.value, input.value) });
        toast(`Setting ${key} saved.`, "ok");
        await load();
      }, "Saving")
    );
    remove.addEventListener("click", async () => {
      if (!(await confirmDialog(`Delete the setting "${key}" on the gateway?`, { confirmLabel: "Delete", danger: true }))) return;
      await busy(remove, status, async () => {
        await del(`${api}/settings/${seg(key)}`);
        toast(`Setting ${key} deleted.`, "ok");
        await load();
      }, "Deleting");
    });
    return h("div", { class: "row-actions", dataset: { setting: key } }, value === null ? h("span", { class: "muted small" }, "unset ") : null, input, typeSel, save, value === null ? null : remove, status);
  }

  function addForm() {
    const status = h("div", { "aria-live": "polite" });
    const add = h("button", { type: "submit" }, "Add setting");
    const form = h(
      "form",
      {
        class: "form-inline",
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await busy(add, status, async () => {
              const key = form.key.value.trim();
              if (!key) throw new Error("A key is required.");
              await put(`${api}/settings/${seg(key)}`, { value: typedValue(form.type.value, form.value.value) });
              toast(`Setting ${key} saved.`, "ok");
              await load();
            }, "Saving");
          },
        },
      },
      field("New key", h("input", { name: "key" })),
      field("Type", select("type", [["string", "string"], ["boolean", "boolean"], ["integer", "integer"]], "string")),
      field("Value", h("input", { name: "value" })),
      add
    );
    return h("div", null, h("h3", null, "Add a setting"), form, status);
  }

  load();
  return section;
}
