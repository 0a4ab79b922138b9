// A backtest's report page (and its read-only shared copy): a progress bar while the run is
// queued or running — live over the WebSocket (`backtest.progress` / `backtest.done` to the
// owner's `user.<id>` group) with a REST refetch when it ends or frames were lost — then the
// summary metrics with their definitions, the equity and drawdown charts (lightweight-charts,
// as portfolio-chart.js), the per-instrument table (portfolio runs), the sweep table and
// walk-forward windows (sweeps) and the trade list (capped at MAX_TRADES rows). The owner also
// gets the share controls: the public link and posting the report into a room.

import { AreaSeries, LineSeries, createChart } from "../vendor/lightweight-charts.standalone.production.mjs";
import { el } from "./api.js";
import { announce, api, fractionPercent, money, pageData, plain, quantity, t, url, weight } from "./portfolio-util.js";
import { connect, on, onResync } from "./realtime.js";

const MAX_TRADES = 500;
// Returns are signed (+12.3%); shares of something (drawdown, exposure, win rate) are not.
const RETURNS = new Set(["net_return", "cagr", "buy_and_hold_return"]);
const SHARES = new Set(["max_drawdown", "volatility", "exposure", "win_rate"]);
const MONEY = new Set(["net_profit", "avg_win", "avg_loss", "best_trade", "worst_trade", "expectancy", "charges_total", "final_equity", "initial_capital"]);
const COUNTS = new Set(["trades", "max_drawdown_duration_days", "avg_duration_days", "max_duration_days"]);
const AXIS = new Intl.NumberFormat("en-IN", { maximumFractionDigits: 0 });
const DAY = new Intl.DateTimeFormat("en-IN", { timeZone: "Asia/Kolkata", day: "numeric", month: "short", year: "numeric" });
const COLORS = { equity: "#0f5bd7", drawdown: "#d0312d", grid: "#eef1f5", text: "#55627a" };

const data = pageData("backtest-report-data");
const root = document.querySelector("[data-backtest-report-page]");
let run = data && data.run;

function metricText(name, value) {
  if (value === null || value === undefined) return t("none");
  if (RETURNS.has(name)) return fractionPercent(value);
  if (SHARES.has(name)) return weight(value);
  if (MONEY.has(name)) return money(value);
  if (COUNTS.has(name)) return quantity(Math.round(Number(value) * 10) / 10);
  return plain(value);
}

function day(value) {
  const at = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(at.getTime()) ? "" : DAY.format(at);
}

function drawMeta() {
  const request = run.request || {};
  const params = request.params || request.grid || {};
  const parts = [
    run.strategy_name,
    Object.entries(params).map(([name, value]) => `${name} ${Array.isArray(value) ? value.join("/") : value}`).join(", "),
    request.universe || (run.instruments || []).slice(0, 8).join(", ") + ((run.instruments || []).length > 8 ? ` +${run.instruments.length - 8}` : ""),
    run.timeframe,
    t(`kind_${run.kind}`),
  ];
  const summary = run.summary || {};
  if (summary.start) parts.push(`${day(summary.start)} – ${day(summary.end)}`);
  root.querySelector("[data-run-meta]").textContent = parts.filter(Boolean).join(" · ");
}

function drawStatus() {
  const box = root.querySelector("[data-status-box]");
  const active = run.status === "queued" || run.status === "running";
  box.hidden = run.status === "done";
  const bar = box.querySelector("[data-progress]");
  bar.hidden = !active;
  bar.value = run.progress || 0;
  bar.textContent = `${run.progress || 0}%`;
  const text = box.querySelector("[data-status-text]");
  if (run.status === "queued") text.textContent = t("queued");
  else if (run.status === "running") text.textContent = t("running", { progress: run.progress || 0 });
  else if (run.status === "failed") text.textContent = t("failed", { error: run.error || t("genericError") });
  box.classList.toggle("bt-status-failed", run.status === "failed");
}

function drawMetrics(summary) {
  root.querySelector("[data-metrics]").replaceChildren(
    ...data.metrics.map((name) =>
      el(
        "div",
        { class: "bt-metric", dataset: { metric: name } },
        el("dt", { text: t(`metric_${name}`) }),
        el("dd", {}, el("span", { class: "bt-metric-value", text: metricText(name, summary[name]) }), el("span", { class: "small muted bt-definition", text: t(`define_${name}`) })),
      ),
    ),
  );
}

function chart(box, label) {
  box.setAttribute("aria-label", label);
  return createChart(box, {
    autoSize: true,
    layout: { background: { color: "#ffffff" }, textColor: COLORS.text, fontFamily: getComputedStyle(document.body).fontFamily },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    rightPriceScale: { borderColor: "#d9dfe8" },
    timeScale: { borderColor: "#d9dfe8" },
    handleScroll: false,
    handleScale: false,
  });
}

/** Points as lightweight-charts wants them: ascending, unique times. */
function points(pairs, scale = 1) {
  const out = [];
  for (const [time, value] of pairs || []) {
    if (value === null || value === undefined) continue;
    if (out.length && out.at(-1).time >= time) continue;
    out.push({ time, value: Number(value) * scale });
  }
  return out;
}

function drawCharts(result) {
  const equityBox = root.querySelector("[data-equity-chart]");
  const drawdownBox = root.querySelector("[data-drawdown-chart]");
  if (equityBox.dataset.drawn) return;
  equityBox.dataset.drawn = "1";
  const equity = chart(equityBox, t("equityLabel"));
  equity.applyOptions({ localization: { locale: "en-IN", priceFormatter: (price) => `₹${AXIS.format(price)}` } });
  equity.addSeries(LineSeries, { color: COLORS.equity, lineWidth: 2, priceLineVisible: false, title: t("equitySeries") }).setData(points(result.equity));
  equity.timeScale().fitContent();
  const drawdown = chart(drawdownBox, t("drawdownLabel"));
  drawdown.applyOptions({ localization: { locale: "en-IN", priceFormatter: (value) => `${value.toFixed(1)}%` } });
  drawdown
    .addSeries(AreaSeries, { lineColor: COLORS.drawdown, topColor: "rgba(208,49,45,0.05)", bottomColor: "rgba(208,49,45,0.35)", lineWidth: 1, priceLineVisible: false, invertFilledArea: true })
    .setData(points(result.drawdown, -100));
  drawdown.timeScale().fitContent();
}

function drawTrades(trades) {
  const withSymbol = trades.some((trade) => trade.symbol);
  root.querySelector("[data-col-symbol]").hidden = !withSymbol;
  const shown = trades.slice(0, MAX_TRADES);
  const note = root.querySelector("[data-trades-note]");
  note.hidden = trades.length <= MAX_TRADES && trades.length > 0;
  note.textContent = trades.length ? t("tradesCapped", { shown: shown.length, total: trades.length }) : t("noTrades");
  root.querySelector("[data-trades-body]").replaceChildren(
    ...shown.map((trade) =>
      el(
        "tr",
        { dataset: { trade: "" } },
        withSymbol ? el("td", { text: trade.symbol || "" }) : null,
        el("td", { text: t(trade.direction) }),
        el("td", { text: day(trade.entry_time) }),
        el("td", { text: day(trade.exit_time) }),
        el("td", { class: "num", text: quantity(trade.quantity) }),
        el("td", { class: "num", text: money(trade.entry_price) }),
        el("td", { class: "num", text: money(trade.exit_price) }),
        el("td", { class: `num ${Number(trade.pnl) >= 0 ? "price-up" : "price-down"}`, text: money(trade.pnl) }),
        el("td", { class: "num", text: fractionPercent(trade.return_pct) }),
        el("td", { class: "num", text: plain(trade.r_multiple) }),
        el("td", { class: "num", text: money(trade.charges) }),
        el("td", { text: trade.reason || "" }),
      ),
    ),
  );
}

function drawInstruments(rows) {
  const box = root.querySelector("[data-instruments-box]");
  box.hidden = !rows || !rows.length;
  if (box.hidden) return;
  box.querySelector("tbody").replaceChildren(
    ...rows.map((row) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", text: row.symbol }),
        el("td", { class: "num", text: metricText("trades", row.trades) }),
        el("td", { class: "num", text: metricText("win_rate", row.win_rate) }),
        el("td", { class: "num", text: money(row.net_profit ?? row.pnl) }),
        el("td", { class: "num", text: metricText("net_return", row.net_return ?? row.return) }),
        el("td", { class: "num", text: money(row.charges_total ?? row.charges) }),
      ),
    ),
  );
}

function paramsText(params) {
  return Object.entries(params || {}).map(([name, value]) => `${name} ${value}`).join(", ");
}

function period(start, end) {
  return `${day(start)} – ${day(end)}`;
}

function headRow(table, labels) {
  table.querySelector("thead").replaceChildren(el("tr", {}, labels.map((label) => el("th", { scope: "col", text: label }))));
}

const numCell = (name, value) => el("td", { class: "num", text: metricText(name, value) });

/** The sweep: every combination over the whole period, then the walk-forward windows. */
function drawSweep(result) {
  const box = root.querySelector("[data-sweep-box]");
  box.hidden = run.kind !== "sweep";
  if (box.hidden) return;
  const metric = result.metric || "sharpe";
  const metricLabel = t(`metric_${metric}`);
  const columns = ["net_return", "cagr", "sharpe", "max_drawdown", "trades", "win_rate"];
  if (!columns.includes(metric)) columns.splice(2, 0, metric);
  const combos = box.querySelector("[data-sweep]");
  headRow(combos, [t("colParams"), ...columns.map((name) => t(`metric_${name}`))]);
  combos.querySelector("tbody").replaceChildren(
    ...(result.results || []).slice(0, MAX_TRADES).map((row) => el("tr", {}, el("th", { scope: "row", text: paramsText(row.params) }), columns.map((name) => numCell(name, row[name])))),
  );
  const windows = box.querySelector("[data-windows]");
  headRow(windows, [t("colWindow"), t("colInSample"), t("colParams"), t("colInMetric", { metric: metricLabel }), t("colOutSample"), t("colOutMetric", { metric: metricLabel }), t("colOutReturn"), t("metric_trades")]);
  windows.querySelector("tbody").replaceChildren(
    ...((result.walk_forward && result.walk_forward.windows) || []).map((w, index) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", text: String(index + 1) }),
        el("td", { text: period(w.in_sample_start, w.in_sample_end) }),
        el("td", { text: paramsText(w.params) }),
        numCell(metric, w.in_sample),
        el("td", { text: period(w.out_sample_start, w.out_sample_end) }),
        numCell(metric, w.out_of_sample),
        numCell("net_return", w.out_of_sample_return),
        numCell("trades", w.trades),
      ),
    ),
  );
  root.querySelector("[data-summary-title]").textContent = t("outOfSample");
}

function drawReport() {
  drawMeta();
  drawStatus();
  const result = run.result;
  const box = root.querySelector("[data-report]");
  box.hidden = !(run.status === "done" && result);
  if (box.hidden) return;
  // A sweep's headline is its stitched out-of-sample walk-forward result.
  const main = result.summary ? result : result.walk_forward || {};
  drawMetrics(main.summary || {});
  drawCharts({ equity: main.equity || [], drawdown: main.drawdown || [] });
  drawInstruments(result.instruments);
  drawSweep(result);
  drawTrades(main.trades || result.trades || []);
  const skipped = root.querySelector("[data-skipped]");
  skipped.hidden = !(Array.isArray(result.skipped) && result.skipped.length);
  if (!skipped.hidden) skipped.textContent = t("skipped", { symbols: result.skipped.join(", ") });
}

async function refetch() {
  try {
    run = await api("GET", url("backtest", { id: run.id }));
  } catch (error) {
    announce(root, error.message);
    return;
  }
  drawReport();
}

// --- sharing (owner only) -----------------------------------------------------------------

function drawShareLink(address) {
  const box = root.querySelector("[data-share-link-box]");
  box.hidden = !address;
  root.querySelector("[data-share-url]").value = address || "";
  root.querySelector("[data-share-toggle]").checked = Boolean(address);
}

function initShare() {
  const section = root.querySelector("[data-share-box]");
  if (!section) return;
  const status = section.querySelector("[data-share-status]");
  drawShareLink(data.shareUrl);
  section.querySelector("[data-share-toggle]").addEventListener("change", async (event) => {
    try {
      const answer = await api("POST", url("share", { id: run.id }), { shared: event.target.checked });
      drawShareLink(answer.url);
      status.textContent = answer.url ? t("linkOn") : t("linkOff");
    } catch (error) {
      status.textContent = error.message;
      event.target.checked = !event.target.checked;
    }
  });
  section.querySelector("[data-copy]").addEventListener("click", async () => {
    const input = section.querySelector("[data-share-url]");
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = t("copied");
    } catch {
      input.select();
      status.textContent = t("copyFailed");
    }
  });
  const select = section.querySelector("[data-room-select]");
  for (const room of data.rooms || []) select.append(el("option", { value: String(room.id), text: room.name }));
  section.querySelector("[data-room-form]").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!select.value) {
      status.textContent = t("chooseRoom");
      return;
    }
    try {
      const clientId = window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID() : String(Date.now());
      await api("POST", url("roomMessages", { id: select.value }), { body: "", share: { type: "backtest", backtest_id: run.id }, client_id: clientId });
      const answer = await api("POST", url("share", { id: run.id }), { shared: true });
      drawShareLink(answer.url);
      status.textContent = t("sharedToRoom", { room: select.selectedOptions[0].textContent });
    } catch (error) {
      status.textContent = error.fields && Object.keys(error.fields).length ? Object.values(error.fields).flat().join(" ") : error.message;
    }
  });
  root.querySelector("[data-delete]").addEventListener("click", async () => {
    if (!window.confirm(t("confirmDelete"))) return;
    try {
      await api("DELETE", url("backtest", { id: run.id }));
      window.location.assign(url("list"));
    } catch (error) {
      announce(root, error.message);
    }
  });
}

function initLive() {
  if (!data.owner || run.status === "done" || run.status === "failed") return;
  on("backtest.progress", (frame) => {
    if (frame.id !== run.id) return;
    run = { ...run, status: frame.status, progress: frame.progress };
    drawStatus();
  });
  on("backtest.done", (frame) => {
    if (frame.id === run.id) refetch();
  });
  onResync(refetch);
  connect();
  // The run may have ended between rendering the page and the socket opening.
  refetch();
}

if (root && data) {
  drawReport();
  initShare();
  initLive();
}
