// NoKV dashboard: polls the silo's JSON API (/api/overview, docs/dashboard.md) once a second and renders it.
// Plain DOM and SVG, no libraries: the page must work on a machine with no internet access.
"use strict";

const REFRESH_MS = 1000;
const $ = (id) => document.getElementById(id);

function fmtNumber(v, digits = 0) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  return Number(v).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function fmtBytes(v) {
  if (!v) return "0 B";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function fmtMs(v) { return v ? `${fmtNumber(v, v < 10 ? 2 : 1)} ms` : "–"; }

function fmtDuration(seconds) {
  if (!seconds) return "–";
  const s = Math.floor(seconds), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function badge(text) { return el("span", { class: `badge badge-${text}` }, text); }

function renderTotals(o) {
  const t = o.totals;
  $("cluster-id").textContent = `cluster ${o.clusterId}`;
  $("served-by").textContent = o.servedBy ? `served by store ${o.servedBy}` : "";
  $("total-stores").textContent = `${t.storesUp} / ${t.stores}`;
  $("total-shards").textContent = `${t.shardsWithLeader} / ${t.shards}`;
  $("total-writes").textContent = fmtNumber(t.writesPerSecond);
  $("total-gets").textContent = fmtNumber(t.getsPerSecond);
  $("total-write-p99").textContent = fmtMs(t.writeP99Ms);
  $("total-data").textContent = fmtBytes(t.dataBytes);
  $("total-requests").textContent = fmtNumber(t.requests);
  $("total-requests").dataset.value = String(t.requests);
}

function renderStores(stores) {
  const body = $("stores-table").tBodies[0];
  body.replaceChildren(...stores.map((s) => {
    const e = s.engine;
    return el("tr", { "data-store": s.id, "data-state": s.state },
      el("td", {}, `store ${s.id}`),
      el("td", { title: s.error || "" }, badge(s.state)),
      el("td", { class: "muted" }, s.silo || "–"),
      el("td", {}, fmtDuration(s.uptimeSeconds)),
      el("td", {}, fmtNumber(s.replicas)),
      el("td", {}, fmtNumber(s.leaders)),
      el("td", {}, fmtNumber(s.writesPerSecond)),
      el("td", {}, fmtNumber(s.getsPerSecond)),
      el("td", {}, fmtMs(s.writeP99Ms)),
      el("td", {}, e ? fmtBytes(e.liveTableBytes) : "–"),
      el("td", {}, e ? fmtBytes(e.memtableBytes) : "–"),
      el("td", {}, e ? fmtNumber(e.levelFiles[0] || 0) : "–"),
      el("td", {}, e ? fmtNumber(e.flushes) : "–"),
      el("td", {}, e ? fmtNumber(e.compactions) : "–"),
      el("td", {}, e ? fmtNumber(e.walSyncs) : "–"),
      el("td", {}, e ? `${fmtNumber(e.stallSeconds, 2)} s` : "–"),
      el("td", {}, e ? `${fmtNumber(e.blockCacheHitRate * 100, 1)}%` : "–"),
      el("td", {}, s.workingSetBytes ? fmtBytes(s.workingSetBytes) : "–"));
  }));
}

function renderShards(shards) {
  const body = $("shards-table").tBodies[0];
  body.replaceChildren(...shards.map((s) => {
    const range = `[${s.start === "" ? "−∞" : `"${s.start}"`}, ${s.end === "" ? "+∞" : `"${s.end}"`})`;
    const replicas = el("td", {}, ...s.replicas.map((r) => el("span", { class: "replica", title: r.error || `peer ${r.peer}, first index ${r.firstIndex}` },
      `${r.store}: `, badge(r.role), ` ${fmtNumber(r.lastIndex)}/${fmtNumber(r.appliedIndex)}`)));
    return el("tr", { "data-shard": s.id },
      el("td", {}, String(s.id)),
      el("td", {}, range),
      el("td", {}, fmtNumber(s.epoch)),
      el("td", {}, s.leader ? `store ${s.leader}` : badge("error")),
      el("td", {}, fmtNumber(s.term)),
      el("td", { class: "commit" }, fmtNumber(s.commitIndex)),
      el("td", {}, fmtNumber(s.appliedIndex)),
      el("td", {}, fmtBytes(s.sizeBytes)),
      el("td", {}, fmtNumber(s.keys)),
      el("td", {}, fmtNumber(s.writesPerSecond, 1)),
      el("td", {}, fmtNumber(s.readsPerSecond, 1)),
      replicas);
  }));
}

function renderEvents(events) {
  const list = $("events");
  if (!events.length) {
    list.replaceChildren(el("li", { class: "muted" }, "No events yet."));
    return;
  }
  list.replaceChildren(...events.slice(0, 50).map((e) => el("li", {},
    el("time", { datetime: new Date(e.unixMs).toISOString() }, new Date(e.unixMs).toLocaleTimeString()),
    el("span", { class: "kind" }, e.kind.replaceAll("_", " ")),
    el("span", { class: "muted" }, `shard ${e.shard}, store ${e.store}`),
    el("span", {}, e.detail))));
}

function renderController(c) {
  if (!c) return;
  $("controller-state").textContent = c.leader ? `controller group led by store ${c.leader}, term ${fmtNumber(c.term)}, commit ${fmtNumber(c.commitIndex)}` : "controller group has no leader";
  $("hot-keys").classList.remove("muted");
  $("operations").classList.remove("muted");
  $("hot-keys").replaceChildren(c.hotKeys.length
    ? el("table", {}, el("tbody", {}, ...c.hotKeys.map((k) => el("tr", { class: "hot-key" }, el("td", {}, k.key), el("td", {}, `shard ${k.shard}`), el("td", {}, `${fmtNumber(k.requestsPerSecond, 1)}/s`)))))
    : el("span", { class: "muted" }, "No hot keys."));
  const stores = (op) => op.from && op.to ? `, store ${op.from} \u2192 ${op.to}` : op.to ? `, store ${op.to}` : "";
  const since = (ms) => `${fmtNumber(Math.max(0, (Date.now() - ms) / 1000), 0)} s`;
  $("operations").replaceChildren(c.operations.length
    ? el("table", {}, el("tbody", {}, ...c.operations.map((op) => el("tr", { class: "operation" },
        el("td", {}, `#${op.id} ${op.kind.replaceAll("_", " ")}`),
        el("td", {}, `shard ${op.shard}${stores(op)}`),
        el("td", {}, `step ${op.step} for ${since(op.stepSinceUnixMs)} (started ${since(op.createdUnixMs)} ago)`),
        el("td", { class: "muted" }, op.waiting ? `waiting: ${op.waiting}` : "")))))
    : el("span", { class: "muted" }, c.operationsError ? `Operations unknown: ${c.operationsError}` : "No operations in progress."));
}

// A line chart over the series: x is time, y from 0 to the largest value shown (with a little headroom).
function renderChart(svg, series, lines) {
  const W = 600, H = 200, left = 44, bottom = 18, top = 8;
  const ns = "http://www.w3.org/2000/svg";
  const points = series.slice(-120);
  let max = 0;
  for (const p of points) for (const l of lines) max = Math.max(max, p[l.key] || 0);
  max = max > 0 ? max * 1.15 : 1;
  const x0 = points.length ? points[0].unixMs : 0, x1 = points.length ? points[points.length - 1].unixMs : 1;
  const sx = (t) => left + ((t - x0) / Math.max(1, x1 - x0)) * (W - left - 4);
  const sy = (v) => top + (1 - v / max) * (H - top - bottom);
  const nodes = [];
  const axis = document.createElementNS(ns, "path");
  axis.setAttribute("class", "axis");
  axis.setAttribute("d", `M${left},${top} V${H - bottom} H${W}`);
  nodes.push(axis);
  for (const frac of [0.5, 1]) {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("class", "tick");
    t.setAttribute("x", "2");
    t.setAttribute("y", String(sy((max / 1.15) * frac) + 4));
    t.textContent = fmtNumber((max / 1.15) * frac, max < 10 ? 2 : 0);
    nodes.push(t);
  }
  const label = document.createElementNS(ns, "text");
  label.setAttribute("class", "tick");
  label.setAttribute("x", String(W - 90));
  label.setAttribute("y", String(H - 4));
  label.textContent = points.length ? `last ${Math.round((x1 - x0) / 1000)} s` : "no data yet";
  nodes.push(label);
  for (const l of lines) {
    const pl = document.createElementNS(ns, "polyline");
    pl.setAttribute("points", points.map((p) => `${sx(p.unixMs).toFixed(1)},${sy(p[l.key] || 0).toFixed(1)}`).join(" "));
    pl.setAttribute("stroke", l.color);
    pl.setAttribute("data-series", l.key);
    nodes.push(pl);
  }
  svg.replaceChildren(...nodes);
  svg.dataset.points = String(points.length);
}

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function render(o) {
  renderTotals(o);
  renderStores(o.stores);
  renderShards(o.shards);
  renderEvents(o.events);
  renderController(o.controller);
  renderChart($("throughput-chart"), o.series, [
    { key: "writesPerSecond", color: css("--write") },
    { key: "getsPerSecond", color: css("--get") },
    { key: "scansPerSecond", color: css("--scan") },
  ]);
  renderChart($("latency-chart"), o.series, [
    { key: "writeP99Ms", color: css("--write") },
    { key: "writeP50Ms", color: css("--write-dim") },
    { key: "getP99Ms", color: css("--get") },
    { key: "getP50Ms", color: css("--get-dim") },
  ]);
}

async function refresh() {
  const connection = $("connection");
  try {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 4000);
    const response = await fetch("api/overview", { cache: "no-store", signal: controller.signal });
    clearTimeout(timer);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const overview = await response.json();
    window.nokvLast = overview; // the last answer, for tests and the browser console
    render(overview);
    connection.textContent = "live";
    connection.className = "badge badge-up";
    $("updated").textContent = `updated ${new Date(overview.unixMs).toLocaleTimeString()}`;
    document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
  } catch (e) {
    connection.textContent = "disconnected";
    connection.className = "badge badge-down";
    connection.title = String(e);
  } finally {
    setTimeout(refresh, REFRESH_MS);
  }
}

refresh();
