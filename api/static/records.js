// The register, its import, the maintenance record and the compliance list: forms post to the
// JSON API (the session cookie authenticates them), so the API's checks and roles apply as they
// are; a refused import shows each bad row and column the API names.
import { post, reason, toast } from "./actions.js";
import { tr } from "./strings.js";

function later(action) {
  setTimeout(action, 600);
}

function blank(value) {
  const text = (value ?? "").trim();
  return text === "" ? null : text;
}

document.getElementById("register-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const body = {};
  for (const name of ["name", "maker", "model", "install_date", "registration_code", "building", "floor"]) {
    body[name] = blank(form.elements[name].value);
  }
  try {
    const url = `/api/v1/assets/${encodeURIComponent(form.dataset.site)}/${encodeURIComponent(form.dataset.asset)}/register`;
    await post(url, body, "PUT");
    toast(tr("js.records_saved"));
    later(() => location.reload());
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  }
});

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
}

function report(errors) {
  const table = document.createElement("table");
  table.className = "import-errors";
  const head = table.createTHead().insertRow();
  for (const key of ["js.records_row", "js.records_column", "js.records_problem"]) {
    const th = document.createElement("th");
    th.textContent = tr(key);
    head.append(th);
  }
  const body = table.createTBody();
  for (const e of errors) {
    const row = body.insertRow();
    cell(row, String(e.row));
    cell(row, e.column ?? "");
    cell(row, e.message);
  }
  return table;
}

document.getElementById("import-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const file = form.elements.file.files?.[0];
  const result = document.getElementById("import-result");
  if (!file) return;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  result.replaceChildren();
  try {
    const response = await fetch("/api/v1/assets/import", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "text/csv", Accept: "application/json" },
      body: file,
    });
    const body = await response.json().catch(() => null);
    const summary = document.createElement("p");
    if (response.ok) {
      summary.className = "import-ok";
      summary.textContent = tr("js.records_imported", { n: body.imported });
      result.append(summary);
      toast(summary.textContent);
    } else {
      summary.className = "error";
      summary.setAttribute("role", "alert");
      summary.textContent = `${tr("js.records_refused_file")}: ${reason(response.status, body)}`;
      result.append(summary);
      if (Array.isArray(body?.errors)) {
        const wrap = document.createElement("div");
        wrap.className = "table-wrap";
        wrap.append(report(body.errors));
        result.append(wrap);
      }
    }
  } catch {
    toast(tr("js.network"), "error");
  } finally {
    button.disabled = false;
  }
});

async function compliance(form, url, fields) {
  const body = { site: form.elements.site.value.trim(), item: form.elements.item.value };
  const asset = blank(form.elements.asset.value);
  if (asset) body.asset = asset;
  for (const name of fields) {
    const value = blank(form.elements[name].value);
    if (value) body[name] = value;
  }
  try {
    await post(url, body);
    toast(tr("js.records_saved"));
    later(() => location.reload());
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  }
}

document.getElementById("done-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  compliance(event.target, "/api/v1/compliance/done", ["done_on", "next_due", "note"]);
});

document.getElementById("due-form")?.addEventListener("submit", (event) => {
  event.preventDefault();
  compliance(event.target, "/api/v1/compliance", ["due_on", "note"]);
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-records-action]");
  if (!button) return;
  if (button.dataset.recordsAction === "print") {
    window.print();
  } else if (button.dataset.recordsAction === "fill-done") {
    const row = button.closest("tr");
    const form = document.getElementById("done-form");
    form.elements.site.value = row.dataset.site;
    form.elements.item.value = row.dataset.item;
    form.elements.asset.value = row.dataset.asset;
    form.scrollIntoView({ behavior: "smooth", block: "center" });
    form.elements.done_on.focus();
  }
});
