// Notices to residents (/notices): a planner issues one (POST /api/v1/notices) or withdraws one
// (DELETE /api/v1/notices/{id}); the API's rules on roles and sites apply as they are. The
// times are typed in the notice's site's zone and sent as instants; each language's reason is
// sent on its own, so neither notice carries the other language's words.
import { toast } from "./actions.js";
import { tr } from "./strings.js";
import { siteInstant, zoneOf } from "./zones.js";

/** The API's answer, or an Error in words the planner can act on (a field's label, not its key). */
async function call(url, method, body, form) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new Error(tr("js.network"));
  }
  if (response.status === 401) {
    window.location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    return null;
  }
  const answer = await response.json().catch(() => null);
  if (response.ok) return answer;
  const detail = answer?.detail;
  if (Array.isArray(detail)) {
    const label = (name) => form?.querySelector(`[name="${name}"]`)?.closest("label")?.firstChild?.textContent.trim();
    throw new Error(detail.map((e) => `${label(e.loc?.at(-1)) ?? tr("js.failed")}: ${e.msg}`).join("; "));
  }
  const said = typeof detail === "string" ? ` (${detail})` : ` (HTTP ${response.status})`;
  throw new Error(`${tr("js.failed")}${said}`);
}

const form = document.getElementById("notice-form");
if (form) {
  const buildings = JSON.parse(form.dataset.buildings || "{}");
  const choices = document.getElementById("notice-buildings");
  const offer = () => {
    choices.replaceChildren(...(buildings[form.elements.site.value] || []).map((b) => new Option(b, b)));
  };
  form.elements.site.addEventListener("change", offer);
  offer();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { elements } = form;
    const refusal = form.querySelector(".refusal");
    const button = form.querySelector("button[type=submit]");
    const text = (name) => elements[name].value.trim();
    const body = {
      site: elements.site.value,
      service: elements.service.value,
      starts_at: siteInstant(elements.starts_at.value, zoneOf(form, elements.site.value)),
      reason_zh: text("reason_zh"),
      reason_en: text("reason_en"),
      urgent: elements.urgent.checked,
    };
    if (elements.ends_at.value) body.ends_at = siteInstant(elements.ends_at.value, zoneOf(form, elements.site.value));
    for (const name of ["building", "asset"]) if (text(name)) body[name] = text(name);
    refusal.hidden = true;
    button.disabled = true;
    try {
      if (await call("/api/v1/notices", "POST", body, form)) {
        sessionStorage.setItem("fd-notice-toast", tr("js.notice_published"));
        window.location.reload();
      }
    } catch (failure) {
      refusal.textContent = failure.message;
      refusal.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-withdraw]");
  if (!button || !window.confirm(tr("js.notice_withdraw_confirm"))) return;
  const refusal = button.parentElement.querySelector(".form-error");
  button.disabled = true;
  try {
    if (await call(`/api/v1/notices/${encodeURIComponent(button.dataset.withdraw)}`, "DELETE")) {
      sessionStorage.setItem("fd-notice-toast", tr("js.notice_withdrawn"));
      window.location.reload();
    }
  } catch (failure) {
    refusal.textContent = failure.message;
    refusal.hidden = false;
    button.disabled = false;
  }
});

// the result of the action before the reload
const carried = sessionStorage.getItem("fd-notice-toast");
if (carried) {
  sessionStorage.removeItem("fd-notice-toast");
  toast(carried);
}
