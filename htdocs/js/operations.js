// Long-running operations (202 + operation_id): a progress bar driven by long-polling
// GET /api/operations/{id}?wait=N until the operation is terminal.
import { h, fill } from "./dom.js";
import { get, seg } from "./api.js";

const TERMINAL = new Set(["succeeded", "failed"]);

// Renders into `box` and resolves with the final operation record (throws on failed).
export async function followOperation(box, id, label, alive = () => true) {
  const bar = h("progress", { max: 100, "aria-label": label });
  const text = h("span", null, label + "…");
  fill(box, h("div", { class: "progress", role: "status" }, bar, text));
  for (;;) {
    const op = await get(`/api/operations/${seg(id)}?wait=20`);
    if (!alive()) return op;
    if (typeof op.progress === "number") bar.value = op.progress;
    text.textContent = `${label}: ${op.status}${op.progress_message ? " — " + op.progress_message : ""}`;
    if (TERMINAL.has(op.status)) {
      if (op.status === "failed") throw new Error(op.error || `${label} failed`);
      bar.value = 100;
      return op;
    }
  }
}
