// Site settings (planners, /sites): the form sends the whole site back (PUT replaces it), the
// fields it shows changed and the rest (contacts, service levels, language) as they were. A
// refusal is shown under the form that was refused, in the API's own words.
import { toast } from "./actions.js";
import { tr } from "./strings.js";

/** PUT the site; a refusal names the field by the form's own label ("Nominal frequency (Hz):
 * ..."), which the API's 422 gives only as a key. */
async function put(form, body) {
  let response;
  try {
    response = await fetch(`/api/v1/sites/${encodeURIComponent(form.dataset.site)}`, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Error(tr("js.network"));
  }
  if (response.status === 401) {
    window.location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    return null;
  }
  const answer = await response.json().catch(() => null);
  if (response.ok) return answer;
  const detail = answer?.detail;
  const label = (name) => form.querySelector(`[name="${name}"]`)?.closest("label")?.firstChild?.textContent.trim();
  if (Array.isArray(detail)) {
    const worded = (e) => {
      const field = label(e.loc?.at(-1));
      return field ? tr("js.site_field", { field, message: e.msg }) : e.msg;
    };
    throw new Error(detail.map(worded).join("; "));
  }
  throw new Error(typeof detail === "string" ? detail : `${tr("js.failed")} (HTTP ${response.status})`);
}

for (const form of document.querySelectorAll("form.site-form")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { elements } = form;
    const refusal = form.querySelector(".refusal");
    const button = form.querySelector("button[type=submit]");
    const body = {
      ...JSON.parse(form.dataset.body || "{}"),
      name: elements.name.value.trim(),
      name_en: elements.name_en.value.trim() || null,
      timezone: elements.timezone.value.trim(),
      supervisor: elements.supervisor.value.trim() || null,
      buildings: elements.buildings.value.split("\n").map((b) => b.trim()).filter(Boolean),
      nominal_voltage_v: Number(elements.nominal_voltage_v.value),
      nominal_frequency_hz: Number(elements.nominal_frequency_hz.value),
    };
    refusal.hidden = true;
    if (button) button.disabled = true;
    try {
      const saved = await put(form, body);
      if (saved) {
        form.dataset.body = JSON.stringify(saved);
        toast(tr("js.site_saved", { name: saved.name }));
      }
    } catch (error) {
      refusal.textContent = tr("js.site_refused", { reason: error.message });
      refusal.hidden = false;
    } finally {
      if (button) button.disabled = false;
    }
  });
}
