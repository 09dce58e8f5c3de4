// Wall-clock times of a site. A datetime-local field holds a time with no zone; the console
// shows every time in the site's zone, so a typed time is read in that zone too (not the
// browser's, which may be another: a laptop left on UTC). The page names the zones: <main
// data-zone> is its own, <main data-site-zones> maps each site it offers to its zone, and an
// element may carry its own data-zone (a plan's slot, in the plan's site).

const pad = (n) => String(n).padStart(2, "0");

/** The zone a time typed in ``element`` is read in: the chosen ``site``'s, else the nearest
 * data-zone, else the page's; undefined (the browser's own) only on a page that names none. */
export function zoneOf(element, site) {
  const main = document.querySelector("main[data-zone]");
  const zones = JSON.parse(main?.dataset.siteZones || "{}");
  return (site && zones[site]) || element?.closest("[data-zone]")?.dataset.zone || main?.dataset.zone || undefined;
}

/** The wall clock of ``zone`` at ``date``, field by field. */
function wallClock(date, zone) {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
  const fields = {};
  for (const part of format.formatToParts(date)) fields[part.type] = part.value;
  fields.hour = pad(Number(fields.hour) % 24);
  return fields;
}

/** Minutes ``zone`` is ahead of UTC at the instant ``date``. */
function offsetAt(date, zone) {
  const f = wallClock(date, zone);
  const asUtc = Date.UTC(Number(f.year), Number(f.month) - 1, Number(f.day), Number(f.hour), Number(f.minute), Number(f.second));
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

/** A datetime-local ``value`` (2026-05-01T08:00) read in ``zone``, as an ISO instant with that
 * zone's offset at that time (2026-05-01T08:00:00+08:00). The offset is looked up twice, at
 * the time taken as UTC and again at the instant found, so a time next to a daylight-saving
 * change takes the offset in force then. */
export function siteInstant(value, zone) {
  const [day, clock] = value.split("T");
  const [year, month, date] = day.split("-").map(Number);
  const [hour, minute, second = 0] = clock.split(":").map((n) => Math.floor(Number(n)));
  const wall = Date.UTC(year, month - 1, date, hour, minute, second);
  let offset = offsetAt(new Date(wall), zone);
  offset = offsetAt(new Date(wall - offset * 60000), zone);
  const sign = offset < 0 ? "-" : "+";
  const size = Math.abs(offset);
  return `${day}T${pad(hour)}:${pad(minute)}:${pad(second)}${sign}${pad(Math.floor(size / 60))}:${pad(size % 60)}`;
}

/** An instant (ISO text) as ``zone``'s wall clock, the way a datetime-local field holds it. */
export function siteLocal(iso, zone) {
  const f = wallClock(new Date(iso), zone);
  return `${f.year}-${f.month}-${f.day}T${f.hour}:${f.minute}`;
}
