// The notifications file editor: the whole file goes to PUT /api/v1/notify-config, which checks
// it as a whole; a refusal names the route or receiver and the field, and is shown under the
// text (the file in force stays as it was).
import { toast } from "./actions.js";
import { tr } from "./strings.js";

const form = document.getElementById("notify-config-form");
const error = document.getElementById("notify-config-error");

form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  let response;
  try {
    response = await fetch("/api/v1/notify-config", {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ text: form.elements.text.value }),
    });
  } catch {
    error.textContent = tr("js.network");
    error.hidden = false;
    return;
  }
  const body = await response.json().catch(() => null);
  if (response.ok) {
    toast(tr("js.notify_saved"));
    return;
  }
  const detail = body?.detail;
  error.textContent = typeof detail === "string" ? detail
    : Array.isArray(detail) ? detail.map((e) => e.msg).join("; ")
    : `${tr("js.failed")} (HTTP ${response.status})`;
  error.hidden = false;
});
