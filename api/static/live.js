// Live pages: the API's event stream (SSE) tells htmx which regions to fetch again, and the
// ages and SLA countdowns tick between refreshes. EventSource reconnects by itself and sends
// Last-Event-ID, so the stream resumes where it broke; a refresh on every (re)connect covers
// what happened while it was down.
import { span, tr } from "./strings.js";

// Event names of /api/v1/events (rules/alarms.py, maintenance/*.py). EventSource delivers a
// named event only to a listener of that name, so each is listed; the regions also poll.
const EVENTS = {
  alarm: ["fired", "pending", "resolved", "escalated", "discarded", "inhibited", "unmuted",
    "silenced", "acknowledged"],
  work_order: ["created", "playbook", "alarm", "priority", "alarm_resolved", "assigned",
    "reassigned", "escalated", "transition", "checklist", "note", "sla_breached",
    "target_missed"],
  part: ["reserve", "release", "consume", "return", "low_stock"],
  notice: ["published", "cancelled"],
  request: ["received", "accepted", "rejected", "feedback", "feedback_low", "followed_up",
    "review_closed"],
  asset: ["presence"],
};

const state = document.getElementById("live-state");

function show(mode) {
  if (!state) return;
  state.dataset.state = mode;
  const label = state.querySelector(".live-label");
  if (label) label.textContent = tr({ on: "js.live_on", down: "js.live_down" }[mode] || "js.live_connecting");
}

export function refreshAll() {
  document.body.dispatchEvent(new CustomEvent("fd:refresh"));
}

function announce(category, event) {
  let detail = {};
  try { detail = JSON.parse(event.data); } catch { /* keep-alives carry nothing */ }
  document.body.dispatchEvent(new CustomEvent(`fd:${category}`, { detail }));
}

let source = null;

function connect() {
  source = new EventSource("/api/v1/events");
  source.addEventListener("open", () => { show("on"); refreshAll(); });
  source.addEventListener("error", () => {
    show("down");
    if (source.readyState === EventSource.CLOSED) {
      // refused (e.g. the token expired): the regions' next poll sends the page to the login
      setTimeout(connect, 5000);
    }
  });
  for (const [category, names] of Object.entries(EVENTS)) {
    for (const name of names) {
      source.addEventListener(`${category}.${name}`, (event) => announce(category, event));
    }
  }
}

function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll("[data-since]")) {
    el.textContent = tr("time.ago", { span: span((now - Number(el.dataset.since)) / 1000) });
  }
  for (const el of document.querySelectorAll("[data-due]")) {
    const left = (Number(el.dataset.due) - now) / 1000;
    const late = left < 0 || el.classList.contains("breached");
    el.classList.toggle("breached", late);
    el.textContent = late && left < 0 ? tr("sla.overdue", { span: span(-left) }) : tr("sla.left", { span: span(left) });
    el.closest(".card, .order-head")?.classList.toggle("breached", late);
  }
}

// A live region is not redrawn under someone who is filling in a field in it: a note, a
// sign-off remark or a chosen contractor would be lost to another user's change (or to the
// refresh that follows the page's own connection). A field changed by hand holds the region
// until the visitor acts (a button, a submit) or for a minute at most; the region's next event
// or poll then brings it up to date.
const TYPED = "textarea, select, input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit]):not([type=button])";
const HOLD_MS = 60_000;

function edited(event) {
  const region = event.target.closest?.(".live");
  if (region && event.target.matches(TYPED)) region.dataset.editedAt = String(Date.now());
}
function acted() {
  for (const region of document.querySelectorAll(".live[data-edited-at]")) delete region.dataset.editedAt;
}
document.addEventListener("input", edited, true);
document.addEventListener("change", edited, true);
document.addEventListener("submit", acted, true);
document.addEventListener("click", (event) => {
  if (event.target.closest?.("button, [data-action], a")) acted();
}, true);
document.addEventListener("htmx:beforeSwap", (event) => {
  const region = event.detail.target;
  if (!region?.classList?.contains("live")) return;
  const typing = document.activeElement;
  const held = Date.now() - Number(region.dataset.editedAt || 0) < HOLD_MS;
  if (held || (typing?.matches?.(TYPED) && region.contains(typing))) event.detail.shouldSwap = false;
});

document.addEventListener("htmx:afterSwap", tick);
setInterval(tick, 10_000);
connect();
