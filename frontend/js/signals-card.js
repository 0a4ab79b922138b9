// The signal card (/signals/<id>/): the instrument's bars for the signal's timeframe on the
// shared candlestick chart (chart.js `candleChart`), with labelled price lines for entry,
// target and stop-loss, and markers on the signal bar and (once resolved) the exit bar.
// `window.stocksenseSignalChart` exposes {chart, candles, lines} to the browser tests, which
// read the price lines back from the chart itself.

import { createSeriesMarkers, LineStyle } from "../vendor/lightweight-charts.standalone.production.mjs";
import { candleChart, chartBars, chartStatus } from "./chart.js";
import { INTRADAY_MINUTES, toChart } from "./chart-time.js";
import * as realtime from "./realtime.js";
import "./signals-follow.js";

const BARS = 200;
const LEVEL_COLORS = { entry: "#0f5bd7", target: "#0e8a55", stop: "#d0312d" };

const epochOf = (iso) => Math.floor(Date.parse(iso) / 1000);

/** The bar whose start is the latest at or before `iso` (the bar containing it). */
function barAt(bars, iso) {
  const time = toChart(epochOf(iso));
  let found = null;
  for (const bar of bars) {
    if (bar.time <= time) found = bar;
    else break;
  }
  return found;
}

export async function initSignalChart(box = document.querySelector("[data-signal-chart]")) {
  if (!box) return null;
  const d = box.dataset;
  box.replaceChildren();
  const { chart, candles } = candleChart(box, { intraday: d.timeframe in INTRADAY_MINUTES });
  // The last close's own line would read as a fourth level: only the signal's levels.
  candles.applyOptions({ priceLineVisible: false, lastValueVisible: false });
  const view = { chart, candles, lines: [] };
  window.stocksenseSignalChart = view;

  // Levels first: they are known without the bars, and the tests read them from the chart.
  for (const [key, value] of [["entry", d.entry], ["target", d.target], ["stop", d.stop]]) {
    if (!value) continue;
    view.lines.push(
      candles.createPriceLine({
        price: Number(value),
        color: LEVEL_COLORS[key],
        lineWidth: 2,
        lineStyle: key === "entry" ? LineStyle.Solid : LineStyle.Dashed,
        axisLabelVisible: true,
        title: d[`label${key[0].toUpperCase()}${key.slice(1)}`],
      }),
    );
  }

  chartStatus(box, "loading", d.labelLoading);
  const params = new URLSearchParams({ exchange: d.exchange, timeframe: d.timeframe, limit: String(BARS) });
  if (d.end) params.set("end", d.end);
  let body;
  try {
    const response = await fetch(`${d.candlesUrl}?${params}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.json();
  } catch {
    chartStatus(box, "error", d.labelError);
    return view;
  }
  const bars = chartBars(body);
  candles.setData(bars);
  box.dataset.bars = String(bars.length);
  if (!bars.length) {
    chartStatus(box, "empty", d.labelEmpty);
    return view;
  }

  const markers = [];
  const signalBar = barAt(bars, d.barTime);
  if (signalBar) {
    const buy = d.action === "BUY";
    markers.push({
      time: signalBar.time,
      position: buy ? "belowBar" : "aboveBar",
      color: d.action === "SELL" ? LEVEL_COLORS.stop : LEVEL_COLORS.entry,
      shape: buy ? "arrowUp" : d.action === "SELL" ? "arrowDown" : "circle",
      text: d.labelSignal,
    });
  }
  const exitBar = d.resolvedAt ? barAt(bars, d.resolvedAt) : null;
  if (exitBar) {
    markers.push({ time: exitBar.time, position: "aboveBar", color: "#55627a", shape: "square", text: d.labelExit });
  }
  view.markers = createSeriesMarkers(candles, markers);
  box.dataset.markers = String(markers.length);

  // Show the signal bar with some context before it and whatever came after.
  const at = signalBar ? bars.indexOf(signalBar) : bars.length - 1;
  chart.timeScale().setVisibleLogicalRange({ from: Math.max(0, at - 60), to: Math.max(at + 20, bars.length + 2) });
  chartStatus(box, "ready");
  return view;
}

/** An open signal's page follows it: when the tracker resolves it (`signal.resolved`), the
 * page reloads to show the outcome and the exit on the chart. */
export function followOutcome(box = document.querySelector("[data-signal-chart]")) {
  if (!box || box.dataset.outcome !== "open" || box.dataset.action === "EXIT") return;
  const d = box.dataset;
  const id = box.closest("[data-signal-card]").dataset.signalId;
  realtime.on("signal.resolved", (frame) => {
    if (String(frame.id) === id) window.location.reload();
  });
  realtime.on("subscribed", (frame) => {
    if (frame.topic === "signals") box.dataset.subscribed = "signals";
  });
  realtime.subscribeSignals({ symbol: `${d.exchange}:${d.symbol}` });
  realtime.connect();
}

initSignalChart();
followOutcome();
