// The page's share of the translation table (rendered into #fd-strings by base.html).
const table = JSON.parse(document.getElementById("fd-strings")?.textContent || "{}");

/** The string of `key` with `{name}` filled from `values`; the key itself if it is missing.
 * A count of one takes `key.one` where the table gives it ("1 finding"), as on the server. */
export function tr(key, values = {}) {
  const text = (values.n === 1 && table[`${key}.one`]) || table[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

/** A duration as the server writes it (pages.span): 45s, 12m, 3h 20m, 2d 4h. */
export function span(seconds) {
  let rest = Math.abs(Math.trunc(seconds));
  const parts = [];
  for (const [size, unit] of [[86400, "d"], [3600, "h"], [60, "m"], [1, "s"]]) {
    const value = Math.floor(rest / size);
    rest -= value * size;
    if (value) parts.push(`${value}${tr(`unit.${unit}`)}`);
  }
  return parts.length ? parts.slice(0, 2).join(" ") : `0${tr("unit.s")}`;
}
