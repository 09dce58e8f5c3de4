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
  error.textContent = body?.refusal ? refusedFile(body.refusal, detail)
    : typeof detail === "string" ? detail
    : Array.isArray(detail) ? detail.map((e) => e.msg).join("; ")
    : `${tr("js.failed")} (HTTP ${response.status})`;
  error.hidden = false;
});

/** A refused file in the page's language, from the API's `refusal` parts: the route's (or
 * receiver's) name and the field as the file writes them, then why. A reason this page has
 * no words for shows the API's English sentence. */
function refusedFile(refusal, detail) {
  const key = `js.notify_refused.${refusal.reason}`;
  const why = tr(key, refusal.values || {});
  if (why === key) return typeof detail === "string" ? detail : key;
  const where = refusal.field
    ? tr(`js.notify_refused_at.${refusal.part}`, { name: refusal.name ?? "", field: refusal.field })
    : "";
  return `${where}${why}`;
}

// A person's contacts and role: PUT /api/v1/technicians/{id} takes the whole record, so the
// record is read first and only these two fields change; a refusal of the contacts is said in
// the page's language (refusedRecord).
function refusal(status, body) {
  const detail = body?.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((e) => e.msg).join("; ");
  return `${tr("js.failed")} (HTTP ${status})`;
}

/** A refused record in the page's language: each of the API's errors names its field as the
 * API does (contacts[1], verbatim) and says why from its type and ctx; an error this page has
 * no words for keeps the API's English. */
function refusedRecord(status, body) {
  const detail = body?.detail;
  if (!Array.isArray(detail)) return refusal(status, body);
  return detail.map((e) => {
    const path = (e.loc ?? []).slice(e.loc?.[0] === "body" ? 1 : 0);
    if (e.type === "contact_unusable") path.push("contacts", e.ctx?.position ?? "?");
    const field = path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i ? "." : ""}${p}`)).join("");
    const key = `js.notify_contact_refused.${e.type}`;
    const why = tr(key, e.ctx || {});
    if (why === key) return e.msg;
    return field ? `${tr("js.notify_refused_at.file", { field })}${why}` : why;
  }).join("; ");
}

for (const contacts of document.querySelectorAll(".notify-contacts-form")) {
  contacts.addEventListener("submit", async (event) => {
    event.preventDefault();
    const shown = contacts.querySelector(".notify-contacts-error");
    shown.hidden = true;
    const url = `/api/v1/technicians/${contacts.dataset.technician}`;
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    try {
      const current = await fetch(url, { credentials: "same-origin", headers });
      const record = await current.json();
      if (!current.ok) throw new Error(refusal(current.status, record));
      const { id, open_orders, ...body } = record;
      body.contacts = contacts.elements.contacts.value.split("\n").map((l) => l.trim()).filter(Boolean);
      body.role = contacts.elements.role.value;
      const saved = await fetch(url, {
        method: "PUT", credentials: "same-origin", headers, body: JSON.stringify(body),
      });
      const answer = await saved.json().catch(() => null);
      if (!saved.ok) throw new Error(refusedRecord(saved.status, answer));
      toast(tr("js.notify_contacts_saved"));
    } catch (error) {
      shown.textContent = error.message || tr("js.network");
      shown.hidden = false;
    }
  });
}
