// The Stelltron console: public figures of the running host, refreshed when the live event feed
// says something changed. Plain JavaScript, no build step, no wallet: it only reads public routes.
"use strict";

const FACTORS = [
  ["f_sd", "supply/demand", "#2f6db5"],
  ["f_soc", "state of charge", "#2e8b57"],
  ["f_dist", "distance", "#8e44ad"],
  ["f_time", "time of day", "#f2a900"],
  ["f_quality", "quality", "#c0392b"],
];
const FEED_LIMIT = 40;

async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function text(value, digits = 2) {
  return typeof value === "number" ? value.toLocaleString("en", { maximumFractionDigits: digits }) : String(value ?? "–");
}

function facts(element, pairs) {
  element.replaceChildren(...pairs.flatMap(([label, value, cls]) => {
    const dt = document.createElement("dt");
    dt.textContent = label;
    const dd = document.createElement("dd");
    dd.textContent = value;
    if (cls) dd.className = cls;
    return [dt, dd];
  }));
}

// ---- Charts: drawn on canvases, nothing imported ----

function frame(canvas) {
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, canvas.width, canvas.height);
  context.font = "11px system-ui, sans-serif";
  return context;
}

function lineChart(canvas, series, { min, max } = {}) {
  const context = frame(canvas);
  const pad = { left: 44, right: 10, top: 10, bottom: 20 };
  const values = series.flatMap((line) => line.points.map((point) => point[1]));
  const times = series.flatMap((line) => line.points.map((point) => point[0]));
  const points = Math.max(0, ...series.map((line) => line.points.length));
  canvas.dataset.points = String(points);
  if (values.length === 0) {
    context.fillStyle = "#5b6b75";
    context.fillText("no data yet", pad.left, canvas.height / 2);
    return;
  }
  const low = min ?? Math.min(...values), high = max ?? Math.max(...values);
  const span = high - low || 1, first = Math.min(...times), last = Math.max(...times), duration = last - first || 1;
  const x = (t) => pad.left + ((t - first) / duration) * (canvas.width - pad.left - pad.right);
  const y = (v) => canvas.height - pad.bottom - ((v - low) / span) * (canvas.height - pad.top - pad.bottom);
  context.strokeStyle = "#d8e0e5";
  context.fillStyle = "#5b6b75";
  for (let step = 0; step <= 4; step++) {
    const value = low + (span * step) / 4;
    context.beginPath();
    context.moveTo(pad.left, y(value));
    context.lineTo(canvas.width - pad.right, y(value));
    context.stroke();
    context.fillText(text(value), 4, y(value) + 4);
  }
  context.fillText(new Date(first).toLocaleTimeString(), pad.left, canvas.height - 5);
  const lastLabel = new Date(last).toLocaleTimeString();
  context.fillText(lastLabel, canvas.width - pad.right - context.measureText(lastLabel).width, canvas.height - 5);
  for (const line of series) {
    context.strokeStyle = line.color;
    context.fillStyle = line.color;
    context.lineWidth = 2;
    context.beginPath();
    line.points.forEach(([t, v], index) => (index === 0 ? context.moveTo(x(t), y(v)) : context.lineTo(x(t), y(v))));
    context.stroke();
    for (const [t, v] of line.points) context.fillRect(x(t) - 2, y(v) - 2, 4, 4);
  }
}

function depthChart(canvas, book) {
  const context = frame(canvas);
  const levels = [...book.buy.map((level) => ["buy", level]), ...book.sell.map((level) => ["sell", level])];
  canvas.dataset.levels = String(levels.length);
  if (levels.length === 0) {
    context.fillStyle = "#5b6b75";
    context.fillText("the book is empty", 10, canvas.height / 2);
    return;
  }
  const widest = Math.max(...levels.map(([, level]) => level.kwh));
  const row = Math.min(22, (canvas.height - 10) / levels.length);
  levels.sort((a, b) => b[1].price - a[1].price).forEach(([side, level], index) => {
    const width = (level.kwh / widest) * (canvas.width - 150);
    context.fillStyle = side === "buy" ? "#2e8b57" : "#c0392b";
    context.fillRect(80, 5 + index * row, width, row - 4);
    context.fillStyle = "#1d2a33";
    context.fillText(`${side} ${text(level.price)}`, 4, 5 + index * row + row / 2 + 3);
    context.fillText(`${text(level.kwh, 3)} kWh`, 84 + width, 5 + index * row + row / 2 + 3);
  });
}

// ---- Panels ----

async function showPrice() {
  const history = await getJSON("/api/v1/ledger/price-history?limit=200");
  const prices = [...history.prices].reverse().map((entry) => ({ t: Date.parse(entry.timestamp), ...entry }));
  lineChart(document.getElementById("price-chart"), [{ color: "#2f6db5", points: prices.map((p) => [p.t, p.price]) }]);
  lineChart(document.getElementById("factor-chart"),
    FACTORS.map(([key, , color]) => ({ color, points: prices.filter((p) => p.breakdown && key in p.breakdown).map((p) => [p.t, p.breakdown[key]]) })));
  const latest = prices[prices.length - 1];
  document.getElementById("price-now").textContent = latest
    ? `${text(latest.price)} LT/kWh · supply ${latest.supply}, demand ${latest.demand} · ${history.total_records} quotes recorded`
    : "no quote recorded yet";
}

async function showBook() {
  const book = await getJSON("/api/v1/market/depth");
  depthChart(document.getElementById("depth-chart"), book);
  const kwh = (side) => book[side].reduce((sum, level) => sum + level.kwh, 0);
  document.getElementById("depth-summary").textContent =
    `${text(kwh("sell"), 3)} kWh offered at ${book.sell.length} prices, ${text(kwh("buy"), 3)} kWh wanted at ${book.buy.length}`;
}

async function showLedger() {
  const [supply, verify] = await Promise.all([getJSON("/api/v1/tokens/supply"), getJSON("/api/v1/ledger/verify")]);
  facts(document.getElementById("ledger"), [
    ["minted", `${text(supply.total_minted)} LT`],
    ["burned", `${text(supply.total_burned)} LT`],
    ["circulating", `${text(supply.circulating_supply)} LT`],
    ["mint events", text(supply.total_mint_events, 0)],
    ["journal", verify.valid ? `valid over ${verify.entries} entries` : `BROKEN at entry ${verify.broken_seq ?? "?"}`, verify.valid ? "ok" : "bad"],
    ["head hash", String(verify.head_hash ?? "").slice(0, 16) + "…"],
  ]);
}

async function showDepin() {
  const stats = await getJSON("/api/v1/depin/stats");
  facts(document.getElementById("depin"), [
    ["health", stats.network_health, stats.network_health === "healthy" ? "ok" : ""],
    ["nodes", `${stats.network_nodes} online of ${stats.total_nodes}`],
    ["reliability", text(stats.average_reliability)],
    ["energy routed", `${text(stats.total_kwh_routed, 3)} kWh`],
    ["rewards paid", `${text(stats.rewards_paid)} LT`],
  ]);
}

async function showPlugins() {
  const health = await getJSON("/health");
  const body = document.querySelector("#plugins tbody");
  body.replaceChildren(...health.plugins.map((plugin) => {
    const row = document.createElement("tr");
    for (const value of [plugin.id, plugin.version, plugin.abi, (plugin.slots ?? []).join(", ") || "–", plugin.routes]) {
      const cell = document.createElement("td");
      cell.textContent = String(value);
      row.append(cell);
    }
    return row;
  }));
}

// A panel whose plugin is not loaded answers 404: it says so instead of failing the page.
async function refresh(panels) {
  await Promise.all(panels.map((panel) => panel().catch((error) => console.warn(error.message))));
}

let pending = null;
function refreshSoon() {
  clearTimeout(pending);
  pending = setTimeout(() => refresh([showPrice, showBook, showLedger, showDepin]), 250);
}

// ---- The live feed ----

function summary(event) {
  const payload = event.payload ?? {};
  const fields = ["device_id", "tokens_minted", "kwh", "price", "kwh_amount", "token_price", "status", "id"];
  return fields.filter((key) => key in payload).map((key) => `${key}=${typeof payload[key] === "object" ? "…" : payload[key]}`).join(" ");
}

function listen() {
  const status = document.getElementById("status");
  const feed = document.getElementById("feed");
  const count = document.getElementById("feed-count");
  const source = new EventSource("/iot/events");
  source.onopen = () => { status.textContent = "live: events as they commit"; status.className = "status live"; };
  source.onerror = () => { status.textContent = "reconnecting…"; status.className = "status down"; };
  source.onmessage = (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    const item = document.createElement("li");
    item.dataset.type = event.type;
    const time = document.createElement("span");
    time.className = "time";
    time.textContent = new Date(event.timestamp ?? Date.now()).toLocaleTimeString();
    const type = document.createElement("span");
    type.className = "type";
    type.textContent = event.type;
    item.append(time, type, document.createTextNode(summary(event)));
    feed.prepend(item);
    while (feed.children.length > FEED_LIMIT) feed.lastChild.remove();
    const received = Number(count.dataset.count) + 1;
    count.dataset.count = String(received);
    count.textContent = `${received} received`;
    refreshSoon();
  };
}

document.getElementById("factor-legend").replaceChildren(...FACTORS.map(([key, label, color]) => {
  const item = document.createElement("li");
  item.style.setProperty("--swatch", color);
  item.textContent = `${key} ${label}`;
  return item;
}));
refresh([showPlugins, showPrice, showBook, showLedger, showDepin]);
listen();
setInterval(() => refresh([showPrice, showBook, showLedger, showDepin]), 15000);
