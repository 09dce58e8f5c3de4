// Every page's script: live refresh (live.js) and the action buttons (actions.js).
import "./live.js";
import "./actions.js";
