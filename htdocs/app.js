// The placeholder dashboard: reads the public REST API and renders every API string as text
// (textContent only), so nothing from the API can become markup.
"use strict";

async function getJSON(path) {
  const resp = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.detail || resp.statusText);
  return body;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

async function main() {
  const status = document.getElementById("gw-status");
  try {
    const v = await getJSON("/version");
    document.getElementById("version").textContent = "v" + v.version;
    const list = await getJSON("/api/gateway/list");
    const table = document.getElementById("gw-table");
    const tbody = table.querySelector("tbody");
    for (const gw of list.items) {
      const tr = document.createElement("tr");
      cell(tr, gw.name);
      cell(tr, gw.endpoint);
      cell(tr, gw.status);
      cell(tr, Object.entries(gw.labels).map(([k, v]) => k + "=" + v).join(", "));
      tbody.appendChild(tr);
    }
    status.textContent = list.total === 0
      ? "No gateways registered yet. Register one with POST /api/gateway/register."
      : list.total + " gateway(s)";
    table.hidden = list.total === 0;
  } catch (err) {
    status.textContent = "Could not load gateways: " + err.message;
  }
}

document.addEventListener("DOMContentLoaded", main);
