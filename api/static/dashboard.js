// Every page's script: live refresh (live.js) the action buttons (actions.js), the
// work-order forms and dialogs (orders.js).
import "./live.js";
import "./actions.js";
import "./orders.js";
