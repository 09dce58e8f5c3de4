// Contractors (planners, /contractors): each form creates (POST) or edits (PATCH) one
// contractor through the JSON API; its technicians are the ticked ones with their licence
// numbers. A refusal shows under the form that was refused, in the API's own words.
import { post, toast } from "./actions.js";
import { tr } from "./strings.js";

function bodyOf(form) {
  const { elements } = form;
  const ticked = (name) => [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
  const minutes = elements.response_minutes.value.trim();
  return {
    name: elements.name.value.trim(),
    phone_24h: elements.phone_24h.value.trim(),
    contract_start: elements.contract_start.value,
    contract_end: elements.contract_end.value,
    response_minutes: minutes ? Number(minutes) : null,
    receiver: elements.receiver.value.trim() || null,
    kinds: ticked("kinds"),
    sites: ticked("sites"),
    active: elements.active.checked,
    technicians: ticked("technician").map((id) => ({
      technician_id: Number(id),
      licence: form.querySelector(`input[name="licence-${id}"]`).value.trim(),
    })),
  };
}

for (const form of document.querySelectorAll("form.contractor-form")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const refusal = form.querySelector(".refusal");
    const button = form.querySelector("button[type=submit]");
    const id = form.dataset.contractor;
    refusal.hidden = true;
    button.disabled = true;
    try {
      const saved = id
        ? await post(`/api/v1/contractors/${id}`, bodyOf(form), "PATCH")
        : await post("/api/v1/contractors", bodyOf(form));
      if (saved) {
        toast(tr("js.contractor_saved", { name: saved.name }));
        window.location.reload();
      }
    } catch (error) {
      refusal.textContent = tr("js.contractor_refused", { reason: error.message });
      refusal.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}
