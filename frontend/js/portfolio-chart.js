// The value-vs-benchmark line chart of the portfolio page, with lightweight-charts (vendored,
// see frontend/README.md): portfolio value, net invested and the benchmark over a range
// chosen with the range buttons (GET …/history/?range=…). Daily points use business-day
// times ("2025-03-31"), so no time-zone shift is needed.

import { LineSeries, LineStyle, createChart } from "../vendor/lightweight-charts.standalone.production.mjs";
import { el } from "./api.js";
import { api, t } from "./portfolio-util.js";

const COLORS = { value: "#0f5bd7", invested: "#8ea3c7", benchmark: "#b35c00", grid: "#eef1f5", text: "#55627a" };
const AXIS = new Intl.NumberFormat("en-IN", { maximumFractionDigits: 0 });

export class HistoryChart {
  constructor(section, { historyUrl, benchmarkName }) {
    this.section = section;
    this.box = section.querySelector("[data-history-chart]");
    this.legend = section.querySelector("[data-history-legend]");
    this.empty = section.querySelector("[data-history-empty]");
    this.historyUrl = historyUrl;
    this.benchmarkName = benchmarkName;
    this.range = (section.querySelector('[data-range][aria-pressed="true"]') || {}).dataset?.range || "1Y";
    this.generation = 0;
    this.chart = null;
    for (const button of section.querySelectorAll("[data-range]")) {
      button.addEventListener("click", () => this.select(button.dataset.range));
    }
  }

  ensureChart() {
    if (this.chart) return;
    this.chart = createChart(this.box, {
      autoSize: true,
      layout: { background: { color: "#ffffff" }, textColor: COLORS.text, fontFamily: getComputedStyle(document.body).fontFamily },
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      localization: { locale: "en-IN", priceFormatter: (price) => `₹${AXIS.format(price)}` },
      rightPriceScale: { borderColor: "#d9dfe8" },
      timeScale: { borderColor: "#d9dfe8" },
      handleScroll: false,
      handleScale: false,
    });
    const options = { lineWidth: 2, priceLineVisible: false, lastValueVisible: false };
    this.invested = this.chart.addSeries(LineSeries, { ...options, color: COLORS.invested, lineWidth: 1, lineStyle: LineStyle.Dashed, title: "" });
    this.benchmark = this.chart.addSeries(LineSeries, { ...options, color: COLORS.benchmark, lineWidth: 1.5 });
    this.value = this.chart.addSeries(LineSeries, { ...options, color: COLORS.value, lastValueVisible: true });
  }

  select(range) {
    this.range = range;
    for (const button of this.section.querySelectorAll("[data-range]")) {
      button.setAttribute("aria-pressed", button.dataset.range === range ? "true" : "false");
    }
    return this.load();
  }

  async load() {
    const mine = ++this.generation;
    let data;
    try {
      data = await api("GET", `${this.historyUrl}?${new URLSearchParams({ range: this.range })}`);
    } catch {
      data = null;
    }
    if (mine !== this.generation) return; // a later range was chosen meanwhile
    this.draw(data);
  }

  draw(data) {
    const points = ((data && data.points) || []).filter((p) => p.value !== null && p.value !== undefined);
    if (points.length < 2) {
      this.box.hidden = true;
      this.legend.replaceChildren();
      this.empty.textContent = t("noHistory");
      this.empty.hidden = false;
      return;
    }
    this.box.hidden = false;
    this.empty.hidden = true;
    this.ensureChart();
    const line = (key) => points.filter((p) => p[key] !== null && p[key] !== undefined).map((p) => ({ time: p.date, value: Number(p[key]) }));
    this.value.setData(line("value"));
    this.invested.setData(line("net_invested"));
    const benchmark = line("benchmark");
    this.benchmark.setData(benchmark);
    this.chart.timeScale().fitContent();
    const name = this.benchmarkName || (data && data.benchmark_symbol);
    const items = [
      [COLORS.value, t("portfolioSeries")],
      [COLORS.invested, t("investedSeries")],
    ];
    if (benchmark.length && name) items.push([COLORS.benchmark, t("benchmarkSeries", { name })]);
    this.legend.replaceChildren(
      ...items.map(([color, label]) => el("li", {}, el("span", { class: "pf-swatch", "aria-hidden": "true", style: `background:${color}` }), ` ${label}`)),
    );
    const rangeLabel = this.section.querySelector(`[data-range="${this.range}"]`)?.textContent || this.range;
    this.box.setAttribute("aria-label", t("chartLabel", { name: name || "—", range: rangeLabel }));
  }
}
