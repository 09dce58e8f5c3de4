// Work-order actions beyond the lifecycle buttons: choosing a technician, ticking checklist
// steps, notes, parts used, resolving with cause and action, closing a P1 with a reason, and
// the new-order form. Each posts to the JSON API; a refusal shows the API's own message.
import { handlers, post, toast } from "./actions.js";
import { refreshAll } from "./live.js";
import { tr } from "./strings.js";
import { siteInstant, siteLocal, zoneOf } from "./zones.js";

const orders = (id) => `/api/v1/work-orders/${id}`;

Object.assign(handlers, {
  async "assign-to"(button) {
    const order = await post(`${orders(button.dataset.order)}/assign`, {
      technician_ids: [Number(button.dataset.technician)],
    });
    return order && tr("js.assigned_to", { number: order.number, name: button.dataset.name });
  },
  async tick(button) {
    const order = await post(`${orders(button.dataset.order)}/checklist/${button.dataset.item}`, {
      result: button.dataset.result,
    });
    return order && tr("js.ticked");
  },
  resolve(button) {
    return ask("resolve", button);
  },
  reading(button) {
    const form = document.getElementById("reading-form");
    if (form) form.elements.item.value = button.dataset.item;
    const shown = ask("reading", button);
    document.getElementById("reading-number").textContent = button.dataset.step || "";
    return shown;
  },
  "close-reason"(button) {
    return ask("reason", button);
  },
});

function ask(name, button) {
  const dialog = document.getElementById(`${name}-dialog`);
  const form = document.getElementById(`${name}-form`);
  if (!dialog || !form) return null;
  const item = form.elements.item?.value;
  form.reset();
  if (form.elements.item) form.elements.item.value = item;
  form.elements.order.value = button.dataset.order;
  if (form.elements.to) form.elements.to.value = button.dataset.to;
  document.getElementById(`${name}-number`).textContent = button.dataset.number || "";
  dialog.showModal();
  return null;
}

/** A dialog's form: on "confirm", post what it asks for; the dialog stays open on a refusal. */
function onConfirm(name, send) {
  document.getElementById(`${name}-form`)?.addEventListener("submit", async (event) => {
    const form = event.target;
    if (event.submitter?.value !== "confirm") return;
    event.preventDefault();
    try {
      const message = await send(form.elements);
      document.getElementById(`${name}-dialog`).close();
      if (message) toast(message);
      refreshAll();
    } catch (error) {
      toast(`${tr("js.refused")}: ${error.message}`, "error");
    }
  });
}

onConfirm("resolve", async ({ order, cause, action }) => {
  const moved = await post(`${orders(order.value)}/transition`, {
    to: "resolved",
    cause: cause.value,
    action: action.value,
  });
  return moved && tr("js.transition_done", { number: moved.number, status: tr(`wo_status.${moved.status}`) });
});

// a meter or gauge read off: a number when it is one, else the text as written
onConfirm("reading", async ({ order, item, value, note }) => {
  const text = value.value.trim();
  const number = Number(text.replace(",", "."));
  await post(`${orders(order.value)}/checklist/${item.value}`, {
    result: "reading",
    value: text !== "" && Number.isFinite(number) ? number : text,
    ...(note.value ? { note: note.value } : {}),
  });
  return tr("js.ticked");
});

onConfirm("reason", async ({ order, to, note }) => {
  const moved = await post(`${orders(order.value)}/transition`, { to: to.value, note: note.value });
  return moved && tr("js.transition_done", { number: moved.number, status: tr(`wo_status.${moved.status}`) });
});

/** A form on the page (not a dialog): post, then clear it and refresh the live regions. */
function onSubmit(id, send) {
  document.getElementById(id)?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const message = await send(form);
      if (message) toast(message);
      form.reset();
      refreshAll();
    } catch (error) {
      toast(`${tr("js.refused")}: ${error.message}`, "error");
    } finally {
      if (button) button.disabled = false;
    }
  });
}

onSubmit("note-form", async (form) => {
  const order = await post(`${orders(form.dataset.order)}/notes`, { note: form.elements.note.value });
  return order && tr("js.note_done");
});

/** The parts list as the server renders it now: each option says how many are available, and
 * every part used, reserved or returned changes that, so the choices are read again. */
async function refreshPartChoices(form) {
  const response = await fetch(window.location.pathname, { credentials: "same-origin" });
  if (!response.ok) return;
  const fresh = new DOMParser()
    .parseFromString(await response.text(), "text/html")
    .querySelector("#parts-form select[name=part_id]");
  if (!fresh) return;
  const select = form.elements.part_id;
  const chosen = select.value;
  select.replaceChildren(...[...fresh.options].map((option) => document.importNode(option, true)));
  if ([...select.options].some((option) => option.value === chosen && !option.disabled)) select.value = chosen;
}

onSubmit("parts-form", async (form) => {
  const lines = await post(`${orders(form.dataset.order)}/parts`, {
    part_id: Number(form.elements.part_id.value),
    action: form.elements.action.value,
    quantity: Number(form.elements.quantity.value),
  });
  // read again in the background: the form stays the user's to fill in meanwhile, and a list
  // that could not be read again stays as it was
  if (lines) refreshPartChoices(form).catch(() => null);
  return lines && tr("js.parts_done");
});

// a new order: what was asked of the API, only the fields given; then its page
document.getElementById("new-order-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = {};
  for (const [name, value] of new FormData(form)) {
    if (value !== "") body[name] = value;
  }
  try {
    const order = await post("/api/v1/work-orders", body);
    if (order) window.location.href = `/work-orders/${order.id}`;
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  }
});

// parts: a delivery received, or a count corrected with its reason (planners, /parts)
Object.assign(handlers, {
  stock(button) {
    const dialog = document.getElementById("stock-dialog");
    const form = document.getElementById("stock-form");
    if (!dialog || !form) return null;
    form.reset();
    const mode = button.dataset.mode;
    form.elements.part.value = button.dataset.part;
    form.elements.site.value = button.dataset.site;
    form.elements.mode.value = mode;
    form.elements.on_hand.value = button.dataset.onHand;
    for (const el of form.querySelectorAll("[data-mode]")) el.hidden = el.dataset.mode !== mode;
    form.elements.quantity.required = mode === "receive";
    form.elements.on_hand.required = mode === "adjust";
    form.elements.note.required = mode === "adjust";
    form.elements.note.minLength = mode === "adjust" ? 2 : 0;
    document.getElementById("stock-target").textContent = `${button.dataset.sku} · ${button.dataset.siteName || button.dataset.site}`;
    dialog.showModal();
    return null;
  },
});

onConfirm("stock", async ({ part, site, mode, quantity, on_hand: onHand, note }) => {
  if (mode.value === "receive") {
    await post(`/api/v1/parts/${part.value}/stock`, {
      site: site.value,
      quantity: Number(quantity.value),
      ...(note.value ? { note: note.value } : {}),
    });
    return tr("js.stock_received");
  }
  await post(`/api/v1/parts/${part.value}/adjust`, {
    site: site.value,
    on_hand: Number(onHand.value),
    reason: note.value,
  });
  return tr("js.stock_adjusted");
});

// plans: a new one (planners), and pausing one
Object.assign(handlers, {
  async "resume-plan"(button) {
    await post(`/api/v1/maintenance-plans/${button.dataset.plan}/resume`, {});
    window.location.reload();
    return tr("js.plan_resumed");
  },
  async "pause-plan"(button) {
    await post(`/api/v1/maintenance-plans/${button.dataset.plan}`, {}, "DELETE");
    window.location.reload();
    return tr("js.plan_paused");
  },
});

// the plan form shows the fields of its kind of schedule: interval, crontab or counter
const planForm = document.getElementById("plan-form");
const showSchedule = (kind) => {
  for (const name of ["every", "cron", "meter"]) {
    for (const field of planForm.querySelectorAll(`.schedule-${name}`)) field.hidden = name !== kind;
  }
};
planForm?.elements.schedule_kind.addEventListener("change", (event) => showSchedule(event.target.value));
planForm?.elements.cron.addEventListener("input", () => {
  // the words beside the field are the saved rule's: an edited one is read back on saving
  planForm.querySelector(".cron-words").textContent = "";
});

planForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const { elements } = form;
  const body = {};
  const own = ["schedule_kind", "every", "cron", "meter_metric", "meter_every", "checklist"];
  for (const [name, value] of new FormData(form)) {
    if (!own.includes(name) && value !== "") body[name] = value;
  }
  // the time typed in the plan's site's zone, as an instant; an asset named makes it that asset's plan
  body.starts_at = siteInstant(body.starts_at, zoneOf(form, elements.site.value));
  if (body.asset) delete body.kind;
  // exactly one kind of schedule goes: the one chosen, as it is written
  const kind = elements.schedule_kind.value;
  if (kind === "every") body.every = elements.every.value.trim();
  if (kind === "cron") body.cron = elements.cron.value.trim().replace(/\s+/g, " ");
  if (kind === "meter") {
    body.meter = { metric: elements.meter_metric.value.trim(), every: Number(elements.meter_every.value) };
  }
  body.description = elements.description.value;
  body.checklist = elements.checklist.value.split("\n").map((line) => line.trim()).filter(Boolean);
  const edited = form.dataset.plan;
  if (edited && form.dataset.noticeBefore) body.notice_before = form.dataset.noticeBefore;
  try {
    const plan = edited
      ? await post(`/api/v1/maintenance-plans/${edited}`, body, "PUT")
      : await post("/api/v1/maintenance-plans", body);
    if (plan && edited) window.location.reload();
    if (plan) window.location.href = `/plans/${plan.id}`;
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  }
});

// people (planners): a technician added or edited, a shift, an absence (and who took over)
// times typed in the roster's zone, the one the page shows its shifts in
const instant = (field) => siteInstant(field.value, zoneOf(field));

Object.assign(handlers, {
  "edit-technician"(button) {
    const form = document.getElementById("technician-form");
    if (!form) return null;
    const body = JSON.parse(button.dataset.body);
    form.reset();
    form.elements.id.value = button.dataset.technician;
    form.dataset.body = button.dataset.body;
    form.elements.name.value = body.name;
    form.elements.phone.value = body.phone || "";
    form.elements.seniority.value = body.seniority;
    for (const option of form.elements.sites.options) option.selected = body.sites.includes(option.value);
    for (const box of form.querySelectorAll("input[name=skills]")) box.checked = body.skills.includes(box.value);
    const cert = body.certifications[0];
    if (cert) {
      form.elements.cert_kind.value = cert.kind;
      form.elements.cert_number.value = cert.number;
      form.elements.cert_expires.value = cert.expires_on;
    }
    document.getElementById("technician-form-title").textContent = `${tr("js.editing")} ${body.name}`;
    form.scrollIntoView({ block: "start" });
    return null;
  },
});

onSubmit("technician-form", async (form) => {
  const { elements } = form;
  const id = elements.id.value;
  const kept = id ? JSON.parse(form.dataset.body || "{}") : {};
  const certifications = (kept.certifications || []).filter((c) => c.kind !== elements.cert_kind.value);
  if (elements.cert_kind.value && elements.cert_expires.value) {
    certifications.unshift({
      kind: elements.cert_kind.value,
      number: elements.cert_number.value,
      expires_on: elements.cert_expires.value,
    });
  }
  const body = {
    ...kept,
    name: elements.name.value,
    phone: elements.phone.value || null,
    seniority: elements.seniority.value,
    sites: [...elements.sites.selectedOptions].map((o) => o.value),
    skills: [...form.querySelectorAll("input[name=skills]:checked")].map((b) => b.value),
    certifications,
  };
  if (id) await post(`/api/v1/technicians/${id}`, body, "PUT");
  else await post("/api/v1/technicians", body);
  window.location.reload();
  return tr("js.saved");
});

// a shift or an absence not ended yet: edited in its form (PUT), or cancelled (DELETE)

const editIn = (formId, button, fill) => {
  const form = document.getElementById(formId);
  if (!form) return null;
  const body = JSON.parse(button.dataset.body);
  form.elements.id.value = button.dataset.shift || button.dataset.absence;
  form.dataset.body = button.dataset.body;
  form.elements.technician_id.value = String(body.technician_id);
  form.elements.starts_at.value = siteLocal(body.starts_at, zoneOf(form));
  form.elements.ends_at.value = siteLocal(body.ends_at, zoneOf(form));
  fill(form.elements, body);
  form.querySelector("h2").textContent = `${tr("js.editing")} #${form.elements.id.value}`;
  form.scrollIntoView({ block: "start" });
  return null;
};

Object.assign(handlers, {
  "edit-shift": (button) => editIn("shift-form", button, (elements, body) => {
    elements.on_call.checked = body.on_call;
  }),
  "edit-absence": (button) => editIn("absence-form", button, (elements, body) => {
    elements.reason.value = body.reason;
  }),
  async "cancel-shift"(button) {
    await post(`/api/v1/shifts/${button.dataset.shift}`, {}, "DELETE");
    sessionStorage.setItem("fd-toast", tr("js.shift_cancelled"));
    window.location.reload();
    return null;
  },
  async "cancel-absence"(button) {
    const done = await post(`/api/v1/absences/${button.dataset.absence}`, {}, "DELETE");
    sessionStorage.setItem("fd-toast", tr(done?.orders_stay ? "js.absence_cancelled_moved" : "js.absence_cancelled"));
    window.location.reload();
    return null;
  },
});

onSubmit("shift-form", async ({ elements, dataset }) => {
  const id = elements.id.value;
  const kept = id ? JSON.parse(dataset.body || "{}") : {};
  const body = {
    ...kept,
    technician_id: Number(elements.technician_id.value),
    starts_at: instant(elements.starts_at),
    ends_at: instant(elements.ends_at),
    on_call: elements.on_call.checked,
  };
  if (id) await post(`/api/v1/shifts/${id}`, body, "PUT");
  else await post("/api/v1/shifts", body);
  sessionStorage.setItem("fd-toast", tr("js.saved"));
  window.location.reload();
  return null;
});

onSubmit("absence-form", async ({ elements }) => {
  const id = elements.id.value;
  const body = {
    technician_id: Number(elements.technician_id.value),
    starts_at: instant(elements.starts_at),
    ends_at: instant(elements.ends_at),
    reason: elements.reason.value,
  };
  const absence = id
    ? await post(`/api/v1/absences/${id}`, body, "PUT")
    : await post("/api/v1/absences", body);
  sessionStorage.setItem("fd-toast", tr("js.absence_done", { n: absence?.reassigned ?? 0 }));
  window.location.reload();
  return null;
});

// a message that outlives the reload that shows its result
const carried = sessionStorage.getItem("fd-toast");
if (carried) {
  sessionStorage.removeItem("fd-toast");
  toast(carried);
}

// an instant shown in a datetime-local field in its site's zone (as it is read back)
for (const input of document.querySelectorAll("input[data-instant]")) {
  input.value = siteLocal(input.dataset.instant, zoneOf(input, input.form?.elements.site?.value));
}

// a new part in the catalogue, stocked at one site (planners, /parts)
onSubmit("part-form", async ({ elements }) => {
  await post("/api/v1/parts", {
    sku: elements.sku.value,
    name: elements.name.value,
    unit: elements.unit.value || "pcs",
    unit_cost: Number(elements.unit_cost.value || 0),
    stock: elements.site.value
      ? [{
        site: elements.site.value,
        on_hand: Number(elements.on_hand.value || 0),
        reorder_point: Number(elements.reorder_point.value || 0),
      }]
      : [],
  });
  return tr("js.part_added");
});
