// Long-running operations (202 + operation_id): a progress bar driven by long-polling
// GET /api/operations/{id}?wait=N until the operation is terminal, with a Cancel button for
// operators (POST /api/operations/{id}/cancel; the worker ends a running one at its next step).
import { h, fill } from "./dom.js";
import { get, post, seg } from "./api.js";
import { session } from "./session.js";

const TERMINAL = new Set(["succeeded", "failed"]);

// Renders into `box` and resolves with the final operation record (throws on failed).
export async function followOperation(box, id, label, alive = () => true) {
  const bar = h("progress", { max: 100, "aria-label": label });
  const text = h("span", null, label + "…");
  const cancel = session.has("operator") ? h("button", { type: "button", class: "link" }, "Cancel") : null;
  if (cancel)
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      try {
        await post(`/api/operations/${seg(id)}/cancel`);
        text.textContent = `${label}: cancelling…`;
      } catch (err) {
        // Already finished or not running: the next poll shows the real state.
        text.textContent = `${label}: ${err.message}`;
      }
    });
  fill(box, h("div", { class: "progress", role: "status" }, bar, text, cancel));
  for (;;) {
    const op = await get(`/api/operations/${seg(id)}?wait=20`);
    if (!alive()) return op;
    if (typeof op.progress === "number") bar.value = op.progress;
    text.textContent = `${label}: ${op.status}${op.progress_message ? " — " + op.progress_message : ""}`;
    if (TERMINAL.has(op.status)) {
      if (cancel) cancel.remove();
      if (op.status === "failed") throw new Error(op.error || `${label} failed`);
      bar.value = 100;
      return op;
    }
  }
}
