// Buttons post to the JSON API itself (the session cookie authenticates them), so the API's
// rules on roles and the lifecycle apply as they are; a refusal shows the API's own message,
// e.g. the 409 of an illegal step, which names the steps allowed.
import { refreshAll } from "./live.js";
import { tr } from "./strings.js";

const toasts = document.getElementById("toasts");

export function toast(text, kind = "ok") {
  if (!toasts) return;
  const item = document.createElement("div");
  item.className = `toast toast-${kind}`;
  item.setAttribute("role", kind === "error" ? "alert" : "status");
  item.textContent = text;
  item.addEventListener("click", () => item.remove());
  toasts.append(item);
  setTimeout(() => item.remove(), kind === "error" ? 15_000 : 5_000);
}

export function reason(status, body) {
  // a refusal with a code the page has words for is said in the page's language
  const coded = body?.code ? tr(`js.refused.${body.code}`, body.params ?? {}) : null;
  if (coded && coded !== `js.refused.${body.code}`) return coded;
  const detail = body?.detail;
  if (typeof detail === "string") return detail;
  if (detail?.message) return detail.message;
  if (Array.isArray(detail)) return detail.map((e) => e.msg).join("; ");
  return `${tr("js.failed")} (HTTP ${status})`;
}

export async function post(url, payload, method = "POST") {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload ?? {}),
    });
  } catch {
    throw new Error(tr("js.network"));
  }
  if (response.status === 401) {
    window.location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
    return null;
  }
  const body = response.status === 204 ? {} : await response.json().catch(() => null);
  if (!response.ok) throw new Error(reason(response.status, body));
  return body;
}

/** The worded cause of the order's last "escalated" entry (nobody could be assigned), or "". */
export function escalationCause(order) {
  const entry = [...(order.timeline || [])].reverse().find((e) => e.event === "escalated" && e.data?.cause);
  if (!entry) return "";
  const skill = entry.data.skill || "";
  const skillName = tr(`skill.${skill}`);
  return tr(`tl.escalated.${entry.data.cause}`, { skill: skillName === `skill.${skill}` ? skill : skillName });
}

/** Button handlers by `data-action`: each returns the toast to show, or nothing (other modules,
 * orders.js, add theirs). A handler that throws shows its message as a refusal. */
export const handlers = {
  async ack(button) {
    await post(`/api/v1/alarms/${button.dataset.alarm}/ack`, {});
    return tr("js.ack_done");
  },
  async transition(button) {
    const order = await post(`/api/v1/work-orders/${button.dataset.order}/transition`, { to: button.dataset.to });
    return order && tr("js.transition_done", { number: order.number, status: tr(`wo_status.${order.status}`) });
  },
  async assign(button) {
    const order = await post(`/api/v1/work-orders/${button.dataset.order}/assign`, {});
    // the rules may find nobody: the order is unchanged, and the page must say so and why
    // (the cause the rules gave, worded in the page's language; the order's page lists every
    // technician with the reasons)
    // (not a refusal: the API took the request, and the answer is that nobody can go)
    if (order && order.assignees.length === 0) {
      refreshAll();
      const why = escalationCause(order);
      toast(why
        ? tr("js.assign_nobody_why", { number: order.number, why })
        : tr("js.assign_nobody", { number: order.number }), "error");
      return null;
    }
    // the rules may choose who already has it: nothing is recorded, and the page says so
    if (order && button.dataset.assignees !== undefined
        && order.assignees.join(",") === button.dataset.assignees) {
      return tr("js.assign_unchanged", { number: order.number });
    }
    return order && tr("js.assign_done", { number: order.number });
  },
  async "lift-silence"(button) {
    await post(`/api/v1/silences/${button.dataset.silence}`, {}, "DELETE");
    return tr("js.silence_lifted");
  },
  silence(button) {
    const dialog = document.getElementById("silence-dialog");
    const form = document.getElementById("silence-form");
    if (!dialog || !form) return null;
    form.elements.site.value = button.dataset.site;
    form.elements.asset.value = button.dataset.asset;
    // from an alarm: this fault only (the default), or the whole asset
    form.elements.fault.value = button.dataset.fault || "";
    document.getElementById("silence-scope").hidden = !button.dataset.fault;
    document.getElementById("silence-fault-name").textContent = tr("js.silence_fault_only", { fault: button.dataset.faultName || "" });
    // the site by its name in the page's language (its key only when it has none)
    form.dataset.target = `${button.dataset.siteName || button.dataset.site} / ${button.dataset.asset}`;
    document.getElementById("silence-target").textContent = form.dataset.target;
    dialog.showModal();
    return null;
  },
};

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || button.disabled || !(button.dataset.action in handlers)) return;
  if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
  button.disabled = true;
  try {
    const message = await handlers[button.dataset.action](button);
    if (message) {
      toast(message);
      refreshAll();
    }
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  } finally {
    button.disabled = false;
  }
});

document.getElementById("silence-form")?.addEventListener("submit", async (event) => {
  const form = event.target;
  if (event.submitter?.value !== "confirm") return;  // "cancel" just closes the dialog
  event.preventDefault();
  const { site, asset, fault, duration, reason: why } = form.elements;
  const only = fault.value && form.elements.scope.value === "fault" ? fault.value : null;
  try {
    await post("/api/v1/silences", {
      site: site.value, asset: asset.value, duration: duration.value, reason: why.value,
      ...(only ? { fault: only } : {}),
    });
    document.getElementById("silence-dialog").close();
    toast(tr("js.silence_done", { target: form.dataset.target || `${site.value} / ${asset.value}`, duration: duration.selectedOptions[0].textContent }));
    form.reset();
    refreshAll();
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  }
});

// Filters apply as soon as they change (each form also works without scripts).
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) event.target.form?.requestSubmit();
});
