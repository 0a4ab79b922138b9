// The instrument page: live price header and the interactive chart.
//
// lightweight-charts (v5, vendored by `make frontend` into frontend/vendor/) draws
// candlesticks + volume, SMA/EMA/Bollinger overlays, and RSI and MACD in their own panes
// (chart-panes.js), each switched on and off by the user; the choice is kept in localStorage.
// Bars come from /api/v1/instruments/{symbol}/candles/, indicator values from
// .../indicators/; scrolling to the left edge loads older bars. The last candle follows
// `quote.tick` frames from realtime.js (or a REST poll while the socket is down).
// Trend and horizontal lines are saved per user over .../drawings/ (chart-drawings.js).
//
// Times: the library formats its UTC-second axis as UTC, so every chart time is the epoch
// second plus 5 h 30 min (IST has no DST); the axis and crosshair then read IST
// (chart-time.js).

import {
  CandlestickSeries,
  HistogramSeries,
  LineSeries,
  LineStyle,
  createChart,
} from "../vendor/lightweight-charts.standalone.production.mjs";
import { DrawingLayer } from "./chart-drawings.js";
import { IndicatorPanes, PANE_PARAMS, loadChoice, saveChoice } from "./chart-panes.js";
import { INTRADAY_MINUTES, bucketStart, fromChart, toChart } from "./chart-time.js";
import { CHANGE, CLOCK, PERCENT, PRICE } from "./format.js";
import * as realtime from "./realtime.js";

const PAGE = 500; // bars per request
const MAX_INDICATOR_BARS = 5000;
const POLL_MS = 5000;

const COLORS = {
  up: "#0e8a55",
  down: "#d0312d",
  volumeUp: "rgba(14, 138, 85, 0.35)",
  volumeDown: "rgba(208, 49, 45, 0.35)",
  sma: "#0f5bd7",
  ema: "#b35c00",
  bollinger: "#7a4fc9",
  grid: "#eef1f5",
  text: "#55627a",
};

const AXIS_PRICE = new Intl.NumberFormat("en-IN", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

const epochOf = (iso) => Math.floor(Date.parse(iso) / 1000);

async function getJson(url) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

// --- the shared candlestick chart -------------------------------------------------------------

/**
 * A chart in `box` with this page's look (colours, IST axis, Indian price format) and one
 * candlestick series; other pages (the signal card) draw on it. Returns `{chart, candles}`.
 */
export function candleChart(box, { intraday = false } = {}) {
  const chart = createChart(box, {
    autoSize: true,
    layout: {
      background: { color: "#ffffff" },
      textColor: COLORS.text,
      fontFamily: getComputedStyle(document.body).fontFamily,
      panes: { separatorColor: "#d9dfe8", enableResize: true },
    },
    grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
    localization: {
      locale: "en-IN",
      priceFormatter: (price) => AXIS_PRICE.format(price),
    },
    rightPriceScale: { borderColor: "#d9dfe8" },
    timeScale: { borderColor: "#d9dfe8", timeVisible: intraday, secondsVisible: false },
    crosshair: { mode: 0 },
  });
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: COLORS.up,
    downColor: COLORS.down,
    borderUpColor: COLORS.up,
    borderDownColor: COLORS.down,
    wickUpColor: COLORS.up,
    wickDownColor: COLORS.down,
    priceFormat: { type: "price", precision: 2, minMove: 0.05 },
  });
  return { chart, candles };
}

/** The chart box's `data-state` (loading / ready / empty / error) and its status note. */
export function chartStatus(box, state, message = "") {
  box.dataset.state = state;
  let note = box.querySelector(".chart-note");
  if (!message) {
    if (note) note.remove();
    return;
  }
  if (!note) {
    note = document.createElement("p");
    note.className = "chart-note";
    note.setAttribute("role", "status");
    box.append(note);
  }
  note.textContent = message;
}

/** Bars of a candles API body as chart bars: {time (chart), open, high, low, close, volume, iso}. */
export function chartBars(body) {
  return (body.bars || []).map((bar) => ({
    time: toChart(epochOf(bar.t)),
    open: Number(bar.o),
    high: Number(bar.h),
    low: Number(bar.l),
    close: Number(bar.c),
    volume: Number(bar.v),
    iso: bar.t,
  }));
}

// --- the page ------------------------------------------------------------------------------

class InstrumentPage {
  constructor(root) {
    this.root = root;
    this.box = root.querySelector("[data-chart]");
    this.labels = this.box.dataset;
    this.hint = root.querySelector("[data-chart-hint]");
    this.symbol = root.dataset.symbol;
    this.exchange = root.dataset.exchange;
    this.timeframe = this.box.dataset.timeframe || "1d";
    this.bars = []; // {time (chart), open, high, low, close, volume}
    this.exhausted = false;
    this.loadingOlder = false;
    this.generation = 0; // bumps on every timeframe switch: late responses are dropped
    this.overlays = new Map(); // name -> [series]
    this.layer = new DrawingLayer(this);
    this.drawings = this.layer.entries; // id -> {data, line | series}
    this.choiceKey = `stocksense:chart-indicators:${root.dataset.user || "anonymous"}`;
    this.dayVolume = null; // the last quote's cumulative volume
    this.pollTimer = null;
  }

  // URLs ------------------------------------------------------------------------------------

  url(base, params) {
    const query = new URLSearchParams({ exchange: this.exchange, ...params });
    return `${base}?${query}`;
  }

  // chart -----------------------------------------------------------------------------------

  build() {
    this.box.replaceChildren();
    ({ chart: this.chart, candles: this.candles } = candleChart(this.box, {
      intraday: this.timeframe in INTRADAY_MINUTES,
    }));
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceScaleId: "volume",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.22 } });

    this.panes = new IndicatorPanes(this.chart, {
      rsi: this.labels.labelRsi,
      macd: this.labels.labelMacd,
    });
    for (const name of this.wanted("pane")) this.panes.show(name);
    this.showPanesState();

    this.chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range && range.from < 10) this.loadOlder();
    });
    this.chart.subscribeClick((param) => this.layer.onClick(param));
  }

  /** Names of the switched-on toggles of `kind` ("overlay" or "pane"). */
  wanted(kind) {
    return [...this.root.querySelectorAll(`[data-${kind}]`)]
      .filter((input) => input.checked)
      .map((input) => input.dataset[kind]);
  }

  showPanesState() {
    this.box.dataset.panes = this.panes.names().join(" ");
    this.box.dataset.paneCount = String(this.chart.panes().length);
  }

  setStatus(state, message = "") {
    chartStatus(this.box, state, message);
  }

  // bars ------------------------------------------------------------------------------------

  parseBars(body) {
    return chartBars(body);
  }

  render() {
    this.candles.setData(this.bars);
    this.volume.setData(
      this.bars.map((bar) => ({
        time: bar.time,
        value: bar.volume,
        color: bar.close >= bar.open ? COLORS.volumeUp : COLORS.volumeDown,
      })),
    );
    this.box.dataset.bars = String(this.bars.length);
  }

  async load(timeframe) {
    this.generation += 1;
    const generation = this.generation;
    this.timeframe = timeframe;
    this.box.dataset.timeframe = timeframe;
    this.exhausted = false;
    this.loadingOlder = false;
    this.dayVolume = null;
    for (const button of this.root.querySelectorAll("[data-timeframe]")) {
      button.setAttribute("aria-pressed", String(button.dataset.timeframe === timeframe));
    }
    this.chart.applyOptions({ timeScale: { timeVisible: timeframe in INTRADAY_MINUTES } });
    this.setStatus("loading", this.labels.labelLoading);
    let body;
    try {
      body = await getJson(
        this.url(this.root.dataset.candlesUrl, { timeframe, limit: String(PAGE) }),
      );
    } catch {
      if (generation === this.generation) this.setStatus("error", this.labels.labelError);
      return;
    }
    if (generation !== this.generation) return;
    // Series still holding the previous timeframe's times would add them to the time scale.
    this.panes.clear();
    for (const series of this.overlays.values()) for (const one of series) one.setData([]);
    this.bars = this.parseBars(body);
    this.exhausted = this.bars.length < PAGE;
    this.render();
    this.layer.renderAll();
    this.chart.timeScale().fitContent();
    const visible = Math.max(40, Math.min(150, Math.floor(this.box.clientWidth / 7)));
    if (this.bars.length > visible) {
      this.chart.timeScale().setVisibleLogicalRange({
        from: this.bars.length - visible,
        to: this.bars.length + 3,
      });
    }
    this.setStatus(this.bars.length ? "ready" : "empty", this.bars.length ? "" : this.labels.labelEmpty);
    await this.loadIndicators();
  }

  async loadOlder() {
    if (this.loadingOlder || this.exhausted || !this.bars.length) return;
    this.loadingOlder = true;
    const generation = this.generation;
    const oldest = this.bars[0];
    try {
      const body = await getJson(
        this.url(this.root.dataset.candlesUrl, {
          timeframe: this.timeframe,
          limit: String(PAGE),
          end: oldest.iso, // inclusive: the oldest bar comes back and is dropped
        }),
      );
      if (generation !== this.generation) return;
      const older = this.parseBars(body).filter((bar) => bar.time < oldest.time);
      if (!older.length) {
        this.exhausted = true;
        return;
      }
      const range = this.chart.timeScale().getVisibleLogicalRange();
      this.bars = [...older, ...this.bars];
      this.render();
      if (range) {
        this.chart.timeScale().setVisibleLogicalRange({
          from: range.from + older.length,
          to: range.to + older.length,
        });
      }
      this.layer.renderAll(); // a line cut at the old left edge now reaches further
      this.box.dataset.olderLoads = String(Number(this.box.dataset.olderLoads || 0) + 1);
      await this.loadIndicators();
    } catch {
      // Scrolling to the edge again retries.
    } finally {
      if (generation === this.generation) this.loadingOlder = false;
    }
  }

  // indicators ------------------------------------------------------------------------------

  async indicator(name, params) {
    const limit = String(Math.min(MAX_INDICATOR_BARS, Math.max(1, this.bars.length)));
    const body = await getJson(
      this.url(this.root.dataset.indicatorsUrl, {
        timeframe: this.timeframe,
        name,
        limit,
        ...params,
      }),
    );
    const times = body.t.map((iso) => toChart(epochOf(iso)));
    const series = {};
    for (const [key, values] of Object.entries(body.outputs)) {
      series[key] = times.map((time, i) =>
        values[i] === null || values[i] === undefined ? { time } : { time, value: values[i] },
      );
    }
    return series;
  }

  async loadIndicators() {
    if (!this.bars.length) {
      this.panes.clear();
      for (const name of this.overlays.keys()) this.clearOverlay(name);
      return;
    }
    const generation = this.generation;
    const jobs = [
      ...this.panes.names().map((name) => this.fillPane(name, generation)),
      ...this.wanted("overlay").map((name) => this.showOverlay(name, generation)),
    ];
    await Promise.allSettled(jobs);
  }

  async fillPane(name, generation = this.generation) {
    const out = await this.indicator(name, PANE_PARAMS[name]);
    // Dropped if the timeframe changed or the pane was switched off meanwhile.
    if (generation === this.generation) this.panes.setData(name, out);
  }

  togglePane(name, on) {
    if (on) {
      this.panes.show(name);
      if (this.bars.length) this.fillPane(name).catch(() => {});
    } else {
      this.panes.hide(name);
    }
    this.showPanesState();
  }

  /** Remember which indicators are on, for this user, in this browser. */
  saveChoice() {
    const choice = {};
    for (const input of this.root.querySelectorAll("[data-overlay], [data-pane]")) {
      choice[input.dataset.overlay || input.dataset.pane] = input.checked;
    }
    saveChoice(this.choiceKey, choice);
  }

  restoreChoice() {
    const choice = loadChoice(this.choiceKey);
    for (const input of this.root.querySelectorAll("[data-overlay], [data-pane]")) {
      const saved = choice[input.dataset.overlay || input.dataset.pane];
      if (typeof saved === "boolean") input.checked = saved;
    }
  }

  clearOverlay(name) {
    for (const series of this.overlays.get(name) || []) this.chart.removeSeries(series);
    this.overlays.delete(name);
  }

  async showOverlay(name, generation = this.generation) {
    const params = { sma: { period: "20" }, ema: { period: "20" }, bollinger: { period: "20", nbdev: "2" } };
    const out = await this.indicator(name, params[name]);
    if (generation !== this.generation) return;
    const input = this.root.querySelector(`[data-overlay="${name}"]`);
    if (input && !input.checked) return; // switched off while loading
    const options = { lineWidth: 1.5, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false };
    const add = (color, extra = {}) => this.chart.addSeries(LineSeries, { color, ...options, ...extra }, 0);
    let series = this.overlays.get(name);
    if (!series) {
      series =
        name === "bollinger"
          ? [add(COLORS.bollinger), add(COLORS.bollinger, { lineStyle: LineStyle.Dotted }), add(COLORS.bollinger)]
          : [add(COLORS[name])];
      this.overlays.set(name, series);
    }
    const keys = name === "bollinger" ? ["upper", "middle", "lower"] : [name];
    keys.forEach((key, i) => series[i].setData(out[key]));
    this.box.dataset.overlays = [...this.overlays.keys()].join(" ");
  }

  // live prices -----------------------------------------------------------------------------

  applyQuote(quote) {
    if (!quote || quote.symbol !== this.symbol || quote.exchange !== this.exchange) return;
    const price = Number(quote.last_price);
    const change = Number(quote.change);
    const header = this.root.querySelector("[data-quote]");
    if (header) {
      const dir = Math.round(change * 100) > 0 ? "up" : Math.round(change * 100) < 0 ? "down" : "flat";
      header.querySelector('[data-field="price"]').textContent = PRICE.format(price);
      const cell = header.querySelector('[data-field="change"]');
      cell.className = `instrument-change price-${dir}`;
      cell.textContent = `${CHANGE.format(change)} (${PERCENT.format(Number(quote.change_percent))}%)`;
      const time = document.createElement("time");
      time.dateTime = quote.at;
      time.textContent = CLOCK.format(new Date(quote.at));
      header.querySelector('[data-field="at"]').replaceChildren(time, " IST");
    }
    const simulated = this.root.querySelector("[data-simulated-badge]");
    if (simulated) simulated.hidden = !quote.simulated;
    const stale = this.root.querySelector("[data-stale-badge]");
    if (stale) stale.hidden = !quote.stale;
    this.root.dataset.price = String(price);
    this.tickCandle(price, epochOf(quote.at), Number(quote.volume));
  }

  tickCandle(price, at, dayVolume) {
    if (!this.chart || !Number.isFinite(price) || !Number.isFinite(at)) return;
    const added =
      this.dayVolume !== null && dayVolume >= this.dayVolume ? dayVolume - this.dayVolume : 0;
    this.dayVolume = dayVolume;
    const time = toChart(bucketStart(at, this.timeframe));
    const last = this.bars[this.bars.length - 1];
    let bar;
    if (last && last.time === time) {
      bar = last;
      bar.high = Math.max(bar.high, price);
      bar.low = Math.min(bar.low, price);
      bar.close = price;
      bar.volume += added;
    } else if (!last || time > last.time) {
      bar = { time, open: price, high: price, low: price, close: price, volume: added, iso: new Date(fromChart(time) * 1000).toISOString() };
      this.bars.push(bar);
    } else {
      return; // an older tick than the newest bar
    }
    this.candles.update(bar);
    this.volume.update({
      time: bar.time,
      value: bar.volume,
      color: bar.close >= bar.open ? COLORS.volumeUp : COLORS.volumeDown,
    });
    this.box.dataset.bars = String(this.bars.length);
    this.box.dataset.lastClose = String(bar.close);
  }

  async pollOnce() {
    try {
      const body = await getJson(
        this.url(this.root.dataset.quotesUrl, { symbols: this.symbol }),
      );
      for (const quote of body.quotes || []) this.applyQuote(quote);
    } catch {
      // try again next time
    }
  }

  startPolling() {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => {
      if (!document.hidden) this.pollOnce();
    }, POLL_MS);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  initLive() {
    this.startPolling();
    realtime.connect();
    const apply = (frame) => {
      for (const quote of frame.quotes || []) this.applyQuote(quote);
    };
    realtime.on("quote.snapshot", apply);
    realtime.on("quote.tick", apply);
    realtime.onResync(() => {
      this.pollOnce();
      this.load(this.timeframe); // bars may have closed while frames were lost
    });
    realtime.onStatus((state) => {
      if (state === "live" || state === "delayed") this.stopPolling();
      else this.startPolling();
    });
    realtime.subscribeQuotes([`${this.exchange}:${this.symbol}`]);
  }

  // wiring ----------------------------------------------------------------------------------

  start() {
    this.restoreChoice();
    this.build();
    const toolbar = this.root.querySelector("[data-chart-toolbar]");
    toolbar.hidden = false;
    for (const button of toolbar.querySelectorAll("[data-timeframe]")) {
      button.addEventListener("click", () => {
        if (button.dataset.timeframe !== this.timeframe) this.load(button.dataset.timeframe);
      });
    }
    for (const input of toolbar.querySelectorAll("[data-overlay]")) {
      input.addEventListener("change", () => {
        if (input.checked) this.showOverlay(input.dataset.overlay).catch(() => {});
        else this.clearOverlay(input.dataset.overlay);
        this.box.dataset.overlays = [...this.overlays.keys()].join(" ");
        this.saveChoice();
      });
    }
    for (const input of toolbar.querySelectorAll("[data-pane]")) {
      input.addEventListener("change", () => {
        this.togglePane(input.dataset.pane, input.checked);
        this.saveChoice();
      });
    }
    for (const button of toolbar.querySelectorAll("[data-tool]")) {
      button.addEventListener("click", () => this.layer.setTool(button.dataset.tool));
    }
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.layer.tool) this.layer.setTool(null);
    });
    this.load(this.timeframe).then(() => this.layer.load());
    this.initLive();
  }
}

export function initInstrument(root = document) {
  const element = root.querySelector("[data-instrument]");
  if (!element) return null;
  const page = new InstrumentPage(element);
  page.start();
  window.stocksenseChart = page; // for debugging and the browser tests
  return page;
}

initInstrument();
