// The dispatcher's queue of residents' requests: each form posts its fields as JSON to the API
// named in data-api (the session cookie authenticates it, the API's rules apply), then the page
// is loaded again; a refusal shows under the form in the page's language: the residents'
// refusals carry a code (beside the API's English detail) whose text the page holds in
// #fd-refusals; anything else is "failed" with the API's detail in parentheses.
import { tr } from "./strings.js";

const refusals = JSON.parse(document.getElementById("fd-refusals")?.textContent || "{}");

function said(key, values) {
  const text = refusals[key];
  return text === undefined ? null : text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function reason(status, body) {
  const detail = body?.detail;
  const why = body?.code ? said(`r.refused.${body.code}`, body.params ?? {}) : null;
  if (why !== null) {
    const field = body.field ? said(`r.field.${body.field}`, {}) ?? body.field : null;
    return field ? `${field}: ${why}` : why;
  }
  if (typeof detail === "string") return `${tr("js.failed")} (${detail})`;
  if (Array.isArray(detail)) {
    const fields = detail.map((e) => `${e.loc?.at(-1) ?? ""}: ${e.msg}`).join("; ");
    return `${tr("js.failed")} (${fields})`;
  }
  return `${tr("js.failed")} (HTTP ${status})`;
}

function payload(form) {
  const body = {};
  for (const element of form.elements) {
    if (!element.name || element.value === "") continue;
    body[element.name] = "number" in element.dataset || element.name === "rating" ? Number(element.value) : element.value;
  }
  return body;
}

// A request came in or changed (the event stream, live.js): say so, without reloading under
// the dispatcher's hands (a reason half typed would be lost).
document.body.addEventListener("fd:request", () => {
  const changed = document.getElementById("queue-changed");
  if (changed) changed.hidden = false;
});

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-api]");
  if (!form) return;
  event.preventDefault();
  const error = form.querySelector(".form-error");
  const button = form.querySelector("button[type=submit]");
  if (error) error.textContent = "";
  if (button) button.disabled = true;
  try {
    const response = await fetch(form.dataset.api, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload(form)),
    });
    if (response.status === 401) {
      window.location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
      return;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(reason(response.status, body));
    // a request taken by phone: its tracking link is shown once, for the dispatcher to text
    const taken = form.parentElement.querySelector("#taken-link");
    if (body?.tracking_url && taken) {
      const link = taken.querySelector("[data-tracking-url]");
      link.href = body.tracking_url;
      link.textContent = body.tracking_url;
      taken.hidden = false;
      form.reset();
      return;
    }
    window.location.reload();
  } catch (failure) {
    if (error) error.textContent = failure.message || tr("js.network");
  } finally {
    if (button) button.disabled = false;
  }
});

// Call (拨打): the phone is masked on every list; the button asks the API for it in full (a
// POST, recorded as request.phone_revealed with who and when) and puts a tel: link in place of
// the masked number, on this page only: a reload masks it again.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-reveal]");
  if (!button) return;
  const holder = button.closest("[data-call]");
  const error = holder?.querySelector(".form-error");
  if (error) error.textContent = "";
  button.disabled = true;
  try {
    const response = await fetch(button.dataset.reveal, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    });
    if (response.status === 401) {
      window.location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
      return;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok || typeof body?.phone !== "string") throw new Error(reason(response.status, body));
    const link = document.createElement("a");
    link.className = "req-tel";
    link.href = `tel:${body.phone.replace(/[^0-9+]/g, "")}`;
    link.textContent = body.phone;
    holder.querySelector(".req-phone")?.replaceWith(link);
    button.remove();
    link.focus();
  } catch (failure) {
    if (error) error.textContent = failure.message || tr("js.network");
    button.disabled = false;
  }
});
