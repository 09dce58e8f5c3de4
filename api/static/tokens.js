// API tokens (unscoped admins, /tokens): the form posts to the JSON API, whose checks and
// refusals are the ones shown; the secret in its answer is shown this once, in a box to copy,
// and is nowhere else afterwards. Revoking goes through DELETE, after a confirm.
import { handlers, post, toast } from "./actions.js";
import { tr } from "./strings.js";

const DAY_MS = 86_400_000;

handlers["revoke-token"] = async (button) => {
  const token = await post(`/api/v1/tokens/${button.dataset.token}`, {}, "DELETE");
  if (!token) return null;
  const item = button.closest(".token-item");
  item?.classList.add("revoked");
  const when = item?.querySelector(".token-revoked");
  if (when) when.textContent = new Date(token.revoked_at).toLocaleString();
  button.remove();
  return tr("js.token_revoked", { name: token.name });
};

const form = document.getElementById("token-form");
form?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const { elements } = form;
  const refusal = form.querySelector(".refusal");
  const button = form.querySelector("button[type=submit]");
  const sites = [...form.querySelectorAll("input[name=sites]:checked")].map((box) => box.value);
  const days = elements.expiry_days.value.trim();
  const technician = elements.technician_id.value;
  const body = {
    name: elements.name.value.trim(),
    role: elements.role.value,
    safety_manager: elements.safety_manager.checked,
    sites: sites.length ? sites : null,
    technician_id: technician ? Number(technician) : null,
    expires_at: days ? new Date(Date.now() + Number(days) * DAY_MS).toISOString() : null,
  };
  refusal.hidden = true;
  button.disabled = true;
  try {
    const made = await post("/api/v1/tokens", body);
    if (!made) return;
    document.getElementById("token-secret-value").value = made.token;
    document.getElementById("token-secret").hidden = false;
    form.reset();
    toast(tr("js.token_created", { name: made.name }));
  } catch (error) {
    refusal.textContent = tr("js.token_refused", { reason: error.message });
    refusal.hidden = false;
  } finally {
    button.disabled = false;
  }
});

document.getElementById("token-copy")?.addEventListener("click", async () => {
  const box = document.getElementById("token-secret-value");
  box.select();
  try {
    await navigator.clipboard.writeText(box.value);
    toast(tr("js.token_copied"));
  } catch {
    document.execCommand?.("copy");
  }
});
