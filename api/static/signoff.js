// The safety manager's sign-off on a lift or electrical order (the order page): the record is
// signed through the JSON API; the page's live region then shows the signature and its digest.
// A planner also sends lift work to a chosen contractor here (an expired contract is refused,
// and the refusal says why).
import { handlers, post } from "./actions.js";
import { refreshAll } from "./live.js";
import { tr } from "./strings.js";

Object.assign(handlers, {
  async "dispatch-contractor"(button) {
    const choice = document.getElementById("contractor-choice");
    const order = await post(`/api/v1/work-orders/${button.dataset.order}/assign`, {
      contractor_id: Number(choice.value),
    });
    refreshAll();
    return order && tr("js.contractor_dispatched", { number: order.number, name: choice.selectedOptions[0].textContent });
  },
  async "sign-off"(button) {
    const note = document.getElementById("sign-off-note")?.value.trim() || null;
    const order = await post(`/api/v1/work-orders/${button.dataset.order}/sign-off`, { note });
    refreshAll();
    return order && tr("js.signed_off", { number: order.number });
  },
});
