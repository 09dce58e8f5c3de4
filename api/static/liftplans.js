// A plan's slots: the planner moves one (its order and the residents' notice follow). The API
// refuses a slot that would overlap another lift of the building with a 409 naming that lift
// and its time; the refusal shows as it is.
import { post, toast } from "./actions.js";
import { tr } from "./strings.js";
import { siteInstant, zoneOf } from "./zones.js";

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.move-slot");
  if (!form) return;
  event.preventDefault();
  const input = form.elements.starts_at;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    // the time typed in the plan's site's zone, as an instant (as the plan form sends its first due time)
    const startsAt = siteInstant(input.value, zoneOf(input));
    const moved = await post(
      `/api/v1/maintenance-plans/${form.dataset.plan}/occurrences/${form.dataset.occurrence}/move`,
      { starts_at: startsAt },
    );
    if (!moved) return;
    toast(tr("js.liftplans_moved", { asset: moved.asset, at: new Date(moved.due_at).toLocaleString() }));
    setTimeout(() => location.reload(), 600);
  } catch (error) {
    toast(`${tr("js.refused")}: ${error.message}`, "error");
  } finally {
    button.disabled = false;
  }
});
