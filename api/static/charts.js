// The asset page's charts: one uPlot chart per metric from the JSON API's telemetry history,
// in the site's local time, with the asset's alarm episodes shaded from start to resolution.
/* global uPlot */

const config = JSON.parse(document.getElementById("chart-config").textContent);
const container = document.getElementById("charts");
const base = `/api/v1/assets/${encodeURIComponent(config.site)}/${encodeURIComponent(config.asset)}`;

// range -> [seconds shown, bucket for downsampling]: a few hundred points per chart at most
const RANGES = {
  "1h": [3600, null],
  "6h": [6 * 3600, "1m"],
  "24h": [86400, "5m"],
  "7d": [7 * 86400, "30m"],
  "30d": [30 * 86400, "2h"],
};

let range = config.range;
const charts = new Map();

function colour(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) {
    window.location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    throw new Error("login");
  }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

/** Alarm episodes as [from, to] in epoch seconds (to: null while still open). */
async function episodes(start) {
  const params = new URLSearchParams({ site: config.site, asset: config.asset, limit: "500" });
  const page = await getJSON(`/api/v1/alarms?${params}`);
  return page.items
    .filter((a) => a.state !== "pending" || a.fired_at)
    .map((a) => ({
      from: Date.parse(a.started_at) / 1000,
      to: a.resolved_at ? Date.parse(a.resolved_at) / 1000 : null,
    }))
    .filter((e) => e.to === null || e.to >= start);
}

/** A uPlot plugin shading each episode under the series. */
function bands(list) {
  return {
    hooks: {
      drawClear: [
        (u) => {
          const { ctx, bbox } = u;
          const min = u.scales.x.min;
          const max = u.scales.x.max;
          ctx.save();
          ctx.fillStyle = colour("--band", "rgba(198, 40, 40, 0.18)");
          for (const e of list) {
            const from = u.valToPos(Math.max(e.from, min), "x", true);
            const to = u.valToPos(Math.min(e.to ?? max, max), "x", true);
            if (to >= from) ctx.fillRect(from, bbox.top, Math.max(to - from, 2), bbox.height);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** A uPlot plugin drawing the rules' limits as dashed lines, each with its value. */
function limitLines(metric) {
  return {
    hooks: {
      draw: [
        (u) => {
          const { ctx, bbox } = u;
          ctx.save();
          ctx.setLineDash([6, 4]);
          ctx.lineWidth = 1;
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          for (const limit of metric.limits) {
            const y = u.valToPos(limit.value, "y", true);
            if (y < bbox.top || y > bbox.top + bbox.height) continue;
            ctx.strokeStyle = colour(`--${limit.severity}`, "#c62828");
            ctx.fillStyle = ctx.strokeStyle;
            ctx.beginPath();
            ctx.moveTo(bbox.left, y);
            ctx.lineTo(bbox.left + bbox.width, y);
            ctx.stroke();
            ctx.fillText(String(limit.value), bbox.left + 4, y - 3);
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** A value as the legend shows it under the cursor: a state in words, a number with its unit. */
function shown(metric, value) {
  if (value == null) return "—";
  if (metric.step) return metric.states[value ? 1 : 0];
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return metric.unit ? `${text} ${metric.unit}` : text;
}

/** The y range: the data's, widened to take in the rules' limits (so the lines show). */
function yRange(metric) {
  if (metric.step) return [-0.1, 1.1];
  return (u, min, max) => {
    const values = [min, max, ...metric.limits.map((l) => l.value)].filter((v) => v != null);
    const low = Math.min(...values);
    const high = Math.max(...values);
    const pad = (high - low) * 0.08 || Math.abs(high) * 0.1 || 1;
    return [low - pad, high + pad];
  };
}

function widthOf(figure) {
  return Math.max(Math.floor(figure.getBoundingClientRect().width), 240);
}

function box(metric) {
  let figure = container.querySelector(`figure[data-metric="${metric.name}"]`);
  if (!figure) {
    figure = document.createElement("figure");
    figure.className = "chart";
    figure.dataset.metric = metric.name;
    const caption = document.createElement("figcaption");
    const label = metric.label || metric.name;
    caption.textContent = metric.unit ? `${label} (${metric.unit})` : label;
    caption.title = metric.name;
    figure.append(caption, document.createElement("div"));
    container.append(figure);
  }
  return figure;
}

/** Room for the longest y label (counters run to six or seven digits). */
function axisWidth(u, values) {
  const longest = Math.max(3, ...(values || []).map((v) => String(v).length));
  return longest * 7 + 20;
}

/** Tick labels in the site's local time, 24-hour clock, the date too beyond a day. */
function timeLabels(seconds) {
  const options = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: config.zone };
  if (seconds > 86400) Object.assign(options, { month: "2-digit", day: "2-digit" });
  const format = new Intl.DateTimeFormat(document.documentElement.lang || "en", options);
  return (u, splits) => splits.map((ts) => format.format(new Date(ts * 1000)));
}

async function draw(metric, start, end, list) {
  const [, every] = RANGES[range];
  const params = new URLSearchParams({
    metric: metric.name,
    start: new Date(start * 1000).toISOString(),
    end: new Date(end * 1000).toISOString(),
  });
  if (every) params.set("every", every);
  if (every && metric.step) params.set("agg", "max");  // a true anywhere in a bucket shows
  const history = await getJSON(`${base}/telemetry?${params}`);
  const xs = history.points.map((p) => Date.parse(p.ts) / 1000);
  const ys = history.points.map((p) => (typeof p.value === "boolean" ? Number(p.value) : p.value));
  const figure = box(metric);
  figure.dataset.points = String(xs.length);
  figure.dataset.bands = String(list.length);
  figure.dataset.limits = String(metric.limits.length);
  const holder = figure.querySelector("div");
  charts.get(metric.name)?.destroy();
  charts.delete(metric.name);
  holder.textContent = "";
  holder.className = xs.length ? "" : "chart-empty muted";
  if (!xs.length) {
    holder.textContent = container.dataset.empty;
    return;
  }
  const ink = colour("--muted", "#5f6b7a");
  const grid = colour("--line", "#d9dde3");
  const plot = new uPlot(
    {
      width: widthOf(figure),
      height: 150,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), config.zone),
      scales: { x: { time: true, min: start, max: end }, y: { range: yRange(metric) } },
      legend: { show: true, live: true },
      cursor: { drag: { x: false, y: false } },
      axes: [
        { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, space: 70, values: timeLabels(end - start) },
        {
          stroke: ink,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: metric.step ? 70 : axisWidth,
          ...(metric.step
            ? { splits: () => [0, 1], values: (u, splits) => splits.map((v) => metric.states[v ? 1 : 0]) }
            : {}),
        },
      ],
      series: [
        { label: config.time_label, value: (u, ts) => (ts == null ? "—" : timeLabels(0)(u, [ts])[0]) },
        {
          label: metric.label || metric.name,
          value: (u, v) => shown(metric, v),
          stroke: colour("--accent", "#0b5cab"),
          width: 1.5,
          points: { show: xs.length < 60 },
          ...(metric.step ? { paths: uPlot.paths.stepped({ align: 1 }) } : {}),
        },
      ],
      plugins: [bands(list), limitLines(metric)],
    },
    [xs, ys],
    holder,
  );
  charts.set(metric.name, plot);
}

async function load() {
  const [seconds] = RANGES[range];
  const end = Date.now() / 1000;
  const start = end - seconds;
  config.metrics.forEach(box);  // in the catalogue's order, whichever answer comes first
  try {
    const list = await episodes(start);
    await Promise.all(config.metrics.map((metric) => draw(metric, start, end, list)));
    container.dataset.loaded = range;
  } catch (error) {
    container.dataset.error = error.message;
  }
}

document.getElementById("chart-ranges")?.addEventListener("click", (event) => {
  const tab = event.target.closest("[data-range]");
  if (!tab) return;
  range = tab.dataset.range;
  for (const other of tab.parentElement.children) other.setAttribute("aria-selected", String(other === tab));
  load();
});

let pending = null;
function soon() {
  clearTimeout(pending);
  pending = setTimeout(load, 800);
}
document.body.addEventListener("fd:alarm", (event) => {
  if (event.detail?.site === config.site && event.detail?.asset === config.asset) soon();
});
window.addEventListener("resize", () => {
  for (const plot of charts.values()) plot.setSize({ width: widthOf(plot.root.closest("figure")), height: 150 });
});
setInterval(load, 60_000);
container.setAttribute("aria-busy", "true");
window.addEventListener("load", () => load().then(() => container.removeAttribute("aria-busy")));
