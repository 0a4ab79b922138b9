// The instrument page: live price header and the interactive chart.
//
// lightweight-charts (v5, vendored by `make frontend` into frontend/vendor/) draws
// candlesticks + volume, SMA/EMA/Bollinger overlays, and RSI and MACD in their own panes.
// Bars come from /api/v1/instruments/{symbol}/candles/, indicator values from
// .../indicators/; scrolling to the left edge loads older bars. The last candle follows
// `quote.tick` frames from realtime.js (or a REST poll while the socket is down).
// Trend and horizontal lines are saved per user over .../drawings/.
//
// Times: the library formats its UTC-second axis as UTC, so every chart time is the epoch
// second plus 5 h 30 min (IST has no DST); the axis and crosshair then read IST.

import {
  CandlestickSeries,
  HistogramSeries,
  LineSeries,
  LineStyle,
  createChart,
} from "../vendor/lightweight-charts.standalone.production.mjs";
import { CHANGE, CLOCK, PERCENT, PRICE } from "./format.js";
import * as realtime from "./realtime.js";

export const IST_SHIFT = 19800; // seconds
const IST_OFFSET_MIN = 330;
const SESSION_OPEN_MIN = 9 * 60 + 15;
const INTRADAY_MINUTES = { "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60 };
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
  rsi: "#7a4fc9",
  macd: "#0f5bd7",
  signal: "#b35c00",
  drawing: "#1f6feb",
  grid: "#eef1f5",
  text: "#55627a",
};

const AXIS_PRICE = new Intl.NumberFormat("en-IN", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
});

const mod = (a, n) => ((a % n) + n) % n;

/** Start (epoch s) of the `timeframe` bar holding `seconds`: apps/market/candle_store. */
export function bucketStart(seconds, timeframe) {
  const istMin = Math.floor(seconds / 60) + IST_OFFSET_MIN;
  const day = istMin - mod(istMin, 1440);
  let start;
  if (timeframe in INTRADAY_MINUTES) {
    const size = INTRADAY_MINUTES[timeframe];
    const offset = istMin - day - SESSION_OPEN_MIN;
    start = day + SESSION_OPEN_MIN + Math.floor(offset / size) * size;
  } else if (timeframe === "1d") {
    start = day;
  } else if (timeframe === "1w") {
    const dayIndex = day / 1440;
    const weekday = mod(dayIndex + 3, 7); // 1970-01-01 was a Thursday; Monday = 0
    start = (dayIndex - weekday) * 1440;
  } else {
    throw new Error(`Unknown timeframe ${timeframe}`);
  }
  return (start - IST_OFFSET_MIN) * 60;
}

const toChart = (epoch) => epoch + IST_SHIFT;
const fromChart = (time) => time - IST_SHIFT;
const epochOf = (iso) => Math.floor(Date.parse(iso) / 1000);

class HttpError extends Error {
  constructor(response, body) {
    super(`HTTP ${response.status}`);
    this.status = response.status;
    this.body = body;
  }
}

async function getJson(url) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  if (!response.ok) throw new HttpError(response, null);
  return response.json();
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
    this.drawings = new Map(); // id -> {data, line | series}
    this.tool = null;
    this.pending = null; // first point of a trend line
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
    const intraday = this.timeframe in INTRADAY_MINUTES;
    this.chart = createChart(this.box, {
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
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: COLORS.up,
      downColor: COLORS.down,
      borderUpColor: COLORS.up,
      borderDownColor: COLORS.down,
      wickUpColor: COLORS.up,
      wickDownColor: COLORS.down,
      priceFormat: { type: "price", precision: 2, minMove: 0.05 },
    });
    this.volume = this.chart.addSeries(HistogramSeries, {
      priceScaleId: "volume",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.22 } });

    const line = (color, pane, extra = {}) =>
      this.chart.addSeries(
        LineSeries,
        { color, lineWidth: 2, priceLineVisible: false, lastValueVisible: true, ...extra },
        pane,
      );
    this.rsi = line(COLORS.rsi, 1, { title: this.labels.labelRsi });
    this.rsi.createPriceLine({ price: 70, color: "#b8c2d1", lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: false });
    this.rsi.createPriceLine({ price: 30, color: "#b8c2d1", lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: false });
    this.macdHist = this.chart.addSeries(
      HistogramSeries,
      { priceLineVisible: false, lastValueVisible: false },
      2,
    );
    this.macd = line(COLORS.macd, 2, { title: this.labels.labelMacd, lineWidth: 1.5 });
    this.macdSignal = line(COLORS.signal, 2, { lineWidth: 1.5, lastValueVisible: false });
    this.sizePanes();

    this.chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
      if (range && range.from < 10) this.loadOlder();
    });
    this.chart.subscribeClick((param) => this.onClick(param));
  }

  sizePanes() {
    // Price and volume get about two thirds of the height; RSI and MACD share the rest.
    const panes = this.chart.panes();
    if (panes.length < 3) return;
    panes[0].setStretchFactor(4);
    panes[1].setStretchFactor(1);
    panes[2].setStretchFactor(1.2);
  }

  setStatus(state, message = "") {
    this.box.dataset.state = state;
    let note = this.box.querySelector(".chart-note");
    if (!message) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "chart-note";
      note.setAttribute("role", "status");
      this.box.append(note);
    }
    note.textContent = message;
  }

  // bars ------------------------------------------------------------------------------------

  parseBars(body) {
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
    this.bars = this.parseBars(body);
    this.exhausted = this.bars.length < PAGE;
    this.render();
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
    this.renderDrawings();
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
      for (const s of [this.rsi, this.macd, this.macdSignal, this.macdHist]) s.setData([]);
      for (const name of this.overlays.keys()) this.clearOverlay(name);
      return;
    }
    const generation = this.generation;
    const wanted = [...this.root.querySelectorAll("[data-overlay]")]
      .filter((input) => input.checked)
      .map((input) => input.dataset.overlay);
    const jobs = [
      this.indicator("rsi", { period: "14" }).then((out) => {
        if (generation === this.generation) this.rsi.setData(out.rsi);
      }),
      this.indicator("macd", { fast: "12", slow: "26", signal: "9" }).then((out) => {
        if (generation !== this.generation) return;
        this.macd.setData(out.macd);
        this.macdSignal.setData(out.signal);
        this.macdHist.setData(
          out.histogram.map((point) =>
            "value" in point
              ? { ...point, color: point.value >= 0 ? COLORS.volumeUp : COLORS.volumeDown }
              : point,
          ),
        );
      }),
      ...wanted.map((name) => this.showOverlay(name, generation)),
    ];
    await Promise.allSettled(jobs);
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

  // drawings --------------------------------------------------------------------------------

  async request(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": this.root.dataset.csrf,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      let detail = null;
      try {
        detail = await response.json();
      } catch {
        // not JSON
      }
      throw new HttpError(response, detail);
    }
    return response.status === 204 ? null : response.json();
  }

  setTool(tool) {
    this.tool = this.tool === tool ? null : tool;
    this.pending = null;
    for (const button of this.root.querySelectorAll("[data-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === this.tool));
    }
    this.box.classList.toggle("is-drawing", Boolean(this.tool));
    this.hint.textContent =
      this.tool === "trend" ? this.labels.labelHintTrend : this.tool === "hline" ? this.labels.labelHintHline : "";
  }

  onClick(param) {
    if (!this.tool || !param.point || (param.paneIndex ?? 0) !== 0) return;
    const price = this.candles.coordinateToPrice(param.point.y);
    if (price === null || !(price > 0)) return;
    const priceText = price.toFixed(2);
    if (this.tool === "hline") {
      this.save({ kind: "hline", points: [{ price: priceText }] });
      this.setTool(null);
      return;
    }
    let time = param.time;
    if (time === undefined && param.logical !== undefined && this.bars.length) {
      const index = Math.max(0, Math.min(this.bars.length - 1, Math.round(param.logical)));
      time = this.bars[index].time;
    }
    if (time === undefined) return;
    const point = { time: fromChart(time), price: priceText };
    if (!this.pending) {
      this.pending = point;
      this.hint.textContent = this.labels.labelHintTrend2;
      return;
    }
    if (point.time === this.pending.time) return; // needs two different bars
    const points = [this.pending, point].sort((a, b) => a.time - b.time);
    this.save({ kind: "trend", points });
    this.setTool(null);
  }

  async save(body) {
    try {
      const drawing = await this.request("POST", this.url(this.root.dataset.drawingsUrl, {}), body);
      this.addDrawing(drawing);
    } catch (error) {
      const fields = error.body && error.body.error && error.body.error.fields;
      const first = fields && Object.values(fields)[0];
      this.hint.textContent = (first && first[0]) || (error.body && error.body.error && error.body.error.message) || this.labels.labelSaveFailed;
    }
  }

  async loadDrawings() {
    try {
      const body = await getJson(this.url(this.root.dataset.drawingsUrl, {}));
      for (const drawing of body.results || []) this.addDrawing(drawing);
    } catch {
      // The chart still works without them.
    }
    this.root.querySelector("[data-drawings]").hidden = false;
    this.refreshList();
  }

  addDrawing(data) {
    this.drawings.set(data.id, { data });
    this.renderDrawing(data.id);
    this.refreshList();
  }

  renderDrawing(id) {
    const entry = this.drawings.get(id);
    const { data } = entry;
    const color = data.color || COLORS.drawing;
    if (data.kind === "hline") {
      if (!entry.line) {
        entry.line = this.candles.createPriceLine({
          price: Number(data.points[0].price),
          color,
          lineWidth: 2,
          lineStyle: LineStyle.Dashed,
          axisLabelVisible: true,
          title: "",
        });
      }
      return;
    }
    if (!entry.series) {
      entry.series = this.chart.addSeries(
        LineSeries,
        {
          color,
          lineWidth: 2,
          priceLineVisible: false,
          lastValueVisible: false,
          crosshairMarkerVisible: false,
          autoscaleInfoProvider: () => null,
        },
        0,
      );
    }
    entry.series.setData(
      data.points.map((point) => ({ time: toChart(point.time), value: Number(point.price) })),
    );
  }

  renderDrawings() {
    for (const id of this.drawings.keys()) this.renderDrawing(id);
  }

  describe(data) {
    if (data.kind === "hline") return `${this.labels.labelHline} · ${PRICE.format(Number(data.points[0].price))}`;
    const [a, b] = data.points;
    return `${this.labels.labelTrend} · ${PRICE.format(Number(a.price))} → ${PRICE.format(Number(b.price))}`;
  }

  refreshList() {
    const list = this.root.querySelector("[data-drawings-list]");
    const empty = this.root.querySelector("[data-drawings-empty]");
    const items = [...this.drawings.values()].map(({ data }) => {
      const item = document.createElement("li");
      item.className = "drawing-item";
      item.dataset.drawingId = String(data.id);
      item.dataset.kind = data.kind;
      const swatch = document.createElement("span");
      swatch.className = "drawing-swatch";
      swatch.style.background = data.color || COLORS.drawing;
      swatch.setAttribute("aria-hidden", "true");
      const text = document.createElement("span");
      text.className = "drawing-text";
      text.textContent = this.describe(data);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-sm btn-danger-outline";
      remove.textContent = this.labels.labelDelete;
      remove.setAttribute("aria-label", `${this.labels.labelDelete}: ${this.describe(data)}`);
      remove.addEventListener("click", () => this.remove(data.id));
      item.append(swatch, text, remove);
      return item;
    });
    list.replaceChildren(...items);
    empty.hidden = items.length > 0;
    this.root.dataset.drawings = String(items.length);
  }

  async remove(id) {
    const url = this.root.dataset.drawingUrl.replace(/\/0\/$/, `/${id}/`);
    try {
      await this.request("DELETE", url);
    } catch (error) {
      if (error.status !== 404) {
        this.hint.textContent = this.labels.labelSaveFailed;
        return;
      }
    }
    const entry = this.drawings.get(id);
    if (entry && entry.line) this.candles.removePriceLine(entry.line);
    if (entry && entry.series) this.chart.removeSeries(entry.series);
    this.drawings.delete(id);
    this.refreshList();
  }

  // wiring ----------------------------------------------------------------------------------

  start() {
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
      });
    }
    for (const button of toolbar.querySelectorAll("[data-tool]")) {
      button.addEventListener("click", () => this.setTool(button.dataset.tool));
    }
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.tool) this.setTool(null);
    });
    this.load(this.timeframe).then(() => this.loadDrawings());
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
