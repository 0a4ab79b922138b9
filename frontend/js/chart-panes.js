// The instrument chart's indicator panes (RSI, MACD) below the price pane, and the user's
// choice of indicators, remembered in localStorage.
//
// Each indicator lives in its own lightweight-charts pane: showing one adds its series to a
// new pane (moved into place, so RSI stays above MACD); hiding one removes its series, and
// the library drops the empty pane.

import {
  HistogramSeries,
  LineSeries,
  LineStyle,
} from "../vendor/lightweight-charts.standalone.production.mjs";

export const PANES = ["rsi", "macd"]; // top to bottom
export const PANE_PARAMS = {
  rsi: { period: "14" },
  macd: { fast: "12", slow: "26", signal: "9" },
};
const PRICE_STRETCH = 4;
const STRETCH = { rsi: 1, macd: 1.2 };

const COLORS = {
  rsi: "#7a4fc9",
  macd: "#0f5bd7",
  signal: "#b35c00",
  band: "#b8c2d1",
  up: "rgba(14, 138, 85, 0.35)",
  down: "rgba(208, 49, 45, 0.35)",
};

export class IndicatorPanes {
  /** `labels`: {rsi, macd}, the translated series titles. */
  constructor(chart, labels) {
    this.chart = chart;
    this.labels = labels;
    this.shown = new Map(); // name -> [series], first one's pane is the indicator's pane
  }

  names() {
    return PANES.filter((name) => this.shown.has(name));
  }

  show(name) {
    if (this.shown.has(name)) return;
    const index = this.chart.panes().length; // a new pane at the bottom…
    const series = name === "rsi" ? this.addRsi(index) : this.addMacd(index);
    this.shown.set(name, series);
    const target = 1 + this.names().indexOf(name); // …then moved to its place
    const pane = series[0].getPane();
    if (pane.paneIndex() !== target) pane.moveTo(target);
    this.size();
  }

  hide(name) {
    const series = this.shown.get(name);
    if (!series) return;
    const index = series[0].getPane().paneIndex();
    const before = this.chart.panes().length;
    for (const one of series) this.chart.removeSeries(one);
    // The library drops a pane left without series; should it keep one, it goes here.
    if (this.chart.panes().length === before) this.chart.removePane(index);
    this.shown.delete(name);
    this.size();
  }

  size() {
    const panes = this.chart.panes();
    if (panes.length) panes[0].setStretchFactor(PRICE_STRETCH);
    for (const name of this.names()) this.shown.get(name)[0].getPane().setStretchFactor(STRETCH[name]);
  }

  /** `out`: the indicators API's outputs as chart points ({time, value} or {time}). */
  setData(name, out) {
    const series = this.shown.get(name);
    if (!series) return;
    if (name === "rsi") {
      series[0].setData(out.rsi);
      return;
    }
    const [macd, signal, histogram] = series;
    macd.setData(out.macd);
    signal.setData(out.signal);
    histogram.setData(
      out.histogram.map((point) =>
        "value" in point ? { ...point, color: point.value >= 0 ? COLORS.up : COLORS.down } : point,
      ),
    );
  }

  clear() {
    for (const series of this.shown.values()) for (const one of series) one.setData([]);
  }

  line(color, pane, extra = {}) {
    return this.chart.addSeries(
      LineSeries,
      { color, lineWidth: 2, priceLineVisible: false, lastValueVisible: true, ...extra },
      pane,
    );
  }

  addRsi(pane) {
    const rsi = this.line(COLORS.rsi, pane, { title: this.labels.rsi });
    for (const price of [70, 30]) {
      rsi.createPriceLine({ price, color: COLORS.band, lineStyle: LineStyle.Dashed, lineWidth: 1, axisLabelVisible: false });
    }
    return [rsi];
  }

  addMacd(pane) {
    // The histogram first: it creates the pane, and the lines are drawn over it.
    const histogram = this.chart.addSeries(
      HistogramSeries,
      { priceLineVisible: false, lastValueVisible: false },
      pane,
    );
    const macd = this.line(COLORS.macd, pane, { title: this.labels.macd, lineWidth: 1.5 });
    const signal = this.line(COLORS.signal, pane, { lineWidth: 1.5, lastValueVisible: false });
    return [macd, signal, histogram];
  }
}

// --- the user's indicator choice -------------------------------------------------------------

/** `{name: boolean}` saved under `key`, or {} (nothing saved, storage blocked, bad JSON). */
export function loadChoice(key) {
  try {
    const value = JSON.parse(window.localStorage.getItem(key) || "{}");
    return value && typeof value === "object" ? value : {};
  } catch {
    return {};
  }
}

export function saveChoice(key, choice) {
  try {
    window.localStorage.setItem(key, JSON.stringify(choice));
  } catch {
    // Private mode or full storage: the choice lasts for this page only.
  }
}
