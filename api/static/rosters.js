// Rosters, handovers and rounds: buttons and forms post to the JSON API (the session cookie
// authenticates them), so the API's rules on roles and on the order of checkpoints apply as
// they are; a refusal shows the API's own message (e.g. which checkpoint comes next).
import { post, reason, toast } from "./actions.js";
import { tr } from "./strings.js";

function later(action) {
  // the toast stays readable for a moment before the page shows the new state
  setTimeout(action, 600);
}

const handlers = {
  async acknowledge(button) {
    await post(`/api/v1/handovers/${button.dataset.handover}/acknowledge`);
    later(() => location.reload());
    return tr("js.rosters_acknowledged");
  },
  async cover(button) {
    await post(`/api/v1/posts/${button.dataset.post}/covers`, {
      day: button.dataset.day,
      shift: button.dataset.shift,
      technician_id: Number(button.dataset.technician),
    });
    later(() => location.reload());
    return tr("js.rosters_covered", { name: button.dataset.name });
  },
  async "start-round"(button) {
    const round = await post(`/api/v1/routes/${button.dataset.route}/rounds`);
    if (!round) return null;
    later(() => (button.dataset.reload ? location.reload() : (location.href = `/rounds/${round.id}`)));
    return tr("js.rounds_started");
  },
  async "retire-route"(button) {
    await post(`/api/v1/routes/${button.dataset.route}`, undefined, "DELETE");
    later(() => location.reload());
    return tr("js.rosters_saved");
  },
  async "from-template"(button) {
    const route = await post("/api/v1/routes/from-template", {
      site: button.dataset.site,
      template: button.dataset.template,
      lang: button.dataset.lang,
    });
    later(() => location.reload());
    return route && tr("js.rounds_route_added", { name: route.name });
  },
};

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-roster-action]");
  if (!button || button.disabled || !(button.dataset.rosterAction in handlers)) return;
  if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
  button.disabled = true;
  try {
    const message = await handlers[button.dataset.rosterAction](button);
    if (message) toast(message);
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  } finally {
    button.disabled = false;
  }
});

async function shrink(file) {
  // a phone photo is several MB: drawn again at most 1600 px wide, as a JPEG, it fits the API's
  // body limit; the server checks and re-encodes it all the same
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.8));
}

async function upload(form, key, file) {
  const url = `/api/v1/rounds/${form.dataset.round}/visits/${form.dataset.checkpoint}/photos?item=${encodeURIComponent(key)}`;
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "image/jpeg", Accept: "application/json" },
    body: await shrink(file),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw new Error(reason(response.status, body));
  }
}

document.querySelector(".visit-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const results = [...form.querySelectorAll("fieldset.item")].map((item) => {
    const key = item.dataset.key;
    return {
      key,
      ok: form.elements[key].value === "ok",
      note: form.elements[`${key}-note`].value.trim(),
    };
  });
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const round = await post(`/api/v1/rounds/${form.dataset.round}/visits`, {
      token: form.dataset.token,
      results,
    });
    if (!round) return;
    for (const item of form.querySelectorAll("fieldset.item")) {
      const file = form.elements[`${item.dataset.key}-photo`]?.files?.[0];
      if (file) {
        try {
          await upload(form, item.dataset.key, file);
        } catch (error) {
          toast(`${tr("js.rounds_photo_failed")}: ${error.message}`, "error");
        }
      }
    }
    const failed = results.filter((r) => !r.ok).length;
    toast(failed ? tr("js.rounds_recorded_findings", { n: failed }) : tr("js.rounds_recorded"));
    later(() => (location.href = `/rounds/${round.id}`));
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
    button.disabled = false;
  }
});

document.getElementById("handover-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const incoming = form.elements.incoming.value;
  const postId = form.elements.post.value;
  try {
    await post("/api/v1/handovers", {
      site: form.dataset.site,
      post_id: postId ? Number(postId) : null,
      incoming_technician_id: incoming ? Number(incoming) : null,
      incidents: form.elements.incidents.value,
      keys: form.elements.keys.value,
      notes: form.elements.notes.value,
    });
    toast(tr("js.rosters_handover_written"));
    later(() => location.reload());
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  }
});

// Setting up (planners): posts with their shifts, roster lines, a year's holidays, routes.
function onSubmit(id, build) {
  document.getElementById(id)?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    try {
      const [url, payload, method] = build(form.elements, form);
      await post(url, payload, method);
      toast(tr("js.rosters_saved"));
      later(() => location.reload());
    } catch (error) {
      toast(`${tr("js.refused")}: ${error.message}`, "error");
    }
  });
}

const number = (value) => (value === "" ? null : Number(value));

onSubmit("post-form", (f, form) => {
  const shifts = [...form.querySelectorAll(".shift-row")]
    .map((row) => {
      const n = row.dataset.row;
      return {
        name: f[`shift-name-${n}`].value.trim(),
        starts: f[`shift-starts-${n}`].value,
        ends: f[`shift-ends-${n}`].value,
        headcount: number(f[`shift-headcount-${n}`].value) ?? 1,
        holiday_headcount: number(f[`shift-holiday-${n}`].value),
        weekdays: [...row.querySelectorAll(`input[name="shift-weekdays-${n}"]:checked`)].map((box) =>
          Number(box.value),
        ),
      };
    })
    .filter((shift) => shift.name);
  const skill = f.skill.value.trim();
  const wanted = f.wanted_skills.value.split(/[\s,，]+/).filter(Boolean);
  return [
    "/api/v1/posts",
    { site: f.site.value.trim(), name: f.name.value.trim(), skill: skill || null, wanted_skills: wanted, shifts },
  ];
});

onSubmit("line-form", (f) => [
  `/api/v1/posts/${f.post.value}/roster-lines`,
  {
    technician_id: Number(f.technician.value),
    pattern: f.pattern.value.split(/[\s,，]+/).filter(Boolean),
    anchor: f.anchor.value,
    off_on_holidays: f.off_on_holidays.checked,
  },
]);

onSubmit("holiday-form", (f, form) => {
  const dates = (text, workday) =>
    text
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const [day, ...name] = line.split(/\s+/);
        return { day, name: name.join(" "), workday };
      });
  const holidays = [...dates(f.lines.value, false), ...dates(f.workdays.value, true)];
  return [`/api/v1/sites/${form.dataset.site}/holidays/${f.year.value}`, { holidays }, "PUT"];
});

onSubmit("route-form", (f, form) => {
  const checkpoints = f.checkpoints.value
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [name, items = ""] = line.split(/[:：](.*)/s);
      const texts = items.split(/[;；]/).map((text) => text.trim()).filter(Boolean);
      return {
        name: name.trim(),
        items: (texts.length ? texts : [name.trim()]).map((text, i) => ({ key: `item${i + 1}`, text })),
      };
    });
  return [
    "/api/v1/routes",
    {
      site: form.dataset.site,
      name: f.name.value.trim(),
      times: f.times.value.split(/[\s,，]+/).filter(Boolean),
      window: f.window.value.trim() || "2h",
      checkpoints,
    },
  ];
});
