// The instrument chart's drawing tools: trend lines and horizontal lines, saved per user over
// /api/v1/instruments/{symbol}/drawings/ and listed under the chart.
//
// A trend-line point is stored with the time of the bar it was drawn on (epoch s) and its
// price. On any timeframe each point is drawn on the bar holding that time (placeLine in
// chart-time.js), so a line drawn on 15m sits on the right 1h, daily and weekly bars too.

import { LineSeries, LineStyle } from "../vendor/lightweight-charts.standalone.production.mjs";
import { fromChart, placeLine, toChart } from "./chart-time.js";
import { PRICE } from "./format.js";

const COLOR = "#1f6feb";

class HttpError extends Error {
  constructor(response, body) {
    super(`HTTP ${response.status}`);
    this.status = response.status;
    this.body = body;
  }
}

export class DrawingLayer {
  /** `page`: the InstrumentPage (chart, candles, bars, timeframe, labels, root, hint, url()). */
  constructor(page) {
    this.page = page;
    this.entries = new Map(); // id -> {data, line | series, shown: [{time, price}]}
    this.tool = null;
    this.pending = null; // first point of a trend line
  }

  async request(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": this.page.root.dataset.csrf,
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

  listUrl() {
    return this.page.url(this.page.root.dataset.drawingsUrl, {});
  }

  // tools -----------------------------------------------------------------------------------

  setTool(tool) {
    const { root, box, hint, labels } = this.page;
    this.tool = this.tool === tool ? null : tool;
    this.pending = null;
    for (const button of root.querySelectorAll("[data-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === this.tool));
    }
    box.classList.toggle("is-drawing", Boolean(this.tool));
    hint.textContent =
      this.tool === "trend" ? labels.labelHintTrend : this.tool === "hline" ? labels.labelHintHline : "";
  }

  onClick(param) {
    const { candles, bars, hint, labels } = this.page;
    if (!this.tool || !param.point || (param.paneIndex ?? 0) !== 0) return;
    const price = candles.coordinateToPrice(param.point.y);
    if (price === null || !(price > 0)) return;
    const priceText = price.toFixed(2);
    if (this.tool === "hline") {
      this.save({ kind: "hline", points: [{ price: priceText }] });
      this.setTool(null);
      return;
    }
    // The bar under the pointer; right of the newest bar, the newest bar.
    let time = param.time;
    if (time === undefined && param.logical !== undefined && bars.length) {
      const index = Math.max(0, Math.min(bars.length - 1, Math.round(param.logical)));
      time = bars[index].time;
    }
    if (time === undefined) return;
    const point = { time: fromChart(time), price: priceText };
    if (!this.pending) {
      this.pending = point;
      hint.textContent = labels.labelHintTrend2;
      return;
    }
    if (point.time === this.pending.time) return; // needs two different bars
    const points = [this.pending, point].sort((a, b) => a.time - b.time);
    this.save({ kind: "trend", points });
    this.setTool(null);
  }

  async save(body) {
    try {
      this.add(await this.request("POST", this.listUrl(), body));
    } catch (error) {
      const problem = error.body && error.body.error;
      const first = problem && problem.fields && Object.values(problem.fields)[0];
      this.page.hint.textContent = (first && first[0]) || (problem && problem.message) || this.page.labels.labelSaveFailed;
    }
  }

  async load() {
    try {
      const body = await this.request("GET", this.listUrl());
      for (const data of body.results || []) this.entries.set(data.id, { data });
      this.renderAll();
    } catch {
      // The chart still works without them.
    }
    this.page.root.querySelector("[data-drawings]").hidden = false;
    this.refreshList();
  }

  add(data) {
    this.entries.set(data.id, { data });
    this.render(data.id, this.barTimes());
    this.refreshList();
  }

  // drawing on the chart ----------------------------------------------------------------------

  barTimes() {
    return this.page.bars.map((bar) => fromChart(bar.time));
  }

  render(id, barTimes) {
    const { chart, candles, timeframe } = this.page;
    const entry = this.entries.get(id);
    const { data } = entry;
    const color = data.color || COLOR;
    if (data.kind === "hline") {
      entry.line ||= candles.createPriceLine({
        price: Number(data.points[0].price),
        color,
        lineWidth: 2,
        lineStyle: LineStyle.Dashed,
        axisLabelVisible: true,
        title: "",
      });
      return;
    }
    entry.series ||= chart.addSeries(
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
    entry.shown = placeLine(data.points, timeframe, barTimes);
    // Both ends on one bar (a short line on a long timeframe): a dot marks it.
    entry.series.applyOptions({ pointMarkersVisible: entry.shown.length === 1 });
    entry.series.setData(entry.shown.map((point) => ({ time: toChart(point.time), value: point.price })));
  }

  /** Every drawing again, on the bars now loaded (after a timeframe switch or older bars). */
  renderAll() {
    const barTimes = this.barTimes();
    for (const id of this.entries.keys()) this.render(id, barTimes);
  }

  // the list under the chart ------------------------------------------------------------------

  describe(data) {
    const { labels } = this.page;
    if (data.kind === "hline") return `${labels.labelHline} · ${PRICE.format(Number(data.points[0].price))}`;
    const [a, b] = data.points;
    return `${labels.labelTrend} · ${PRICE.format(Number(a.price))} → ${PRICE.format(Number(b.price))}`;
  }

  refreshList() {
    const { root, labels } = this.page;
    const list = root.querySelector("[data-drawings-list]");
    const empty = root.querySelector("[data-drawings-empty]");
    const items = [...this.entries.values()].map(({ data }) => {
      const item = document.createElement("li");
      item.className = "drawing-item";
      item.dataset.drawingId = String(data.id);
      item.dataset.kind = data.kind;
      const swatch = document.createElement("span");
      swatch.className = "drawing-swatch";
      swatch.style.background = data.color || COLOR;
      swatch.setAttribute("aria-hidden", "true");
      const text = document.createElement("span");
      text.className = "drawing-text";
      text.textContent = this.describe(data);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "btn btn-sm btn-danger-outline";
      remove.textContent = labels.labelDelete;
      remove.setAttribute("aria-label", `${labels.labelDelete}: ${this.describe(data)}`);
      remove.addEventListener("click", () => this.remove(data.id));
      item.append(swatch, text, remove);
      return item;
    });
    list.replaceChildren(...items);
    empty.hidden = items.length > 0;
    root.dataset.drawings = String(items.length);
  }

  async remove(id) {
    const url = this.page.root.dataset.drawingUrl.replace(/\/0\/$/, `/${id}/`);
    try {
      await this.request("DELETE", url);
    } catch (error) {
      if (error.status !== 404) {
        this.page.hint.textContent = this.page.labels.labelSaveFailed;
        return;
      }
    }
    const entry = this.entries.get(id);
    if (entry && entry.line) this.page.candles.removePriceLine(entry.line);
    if (entry && entry.series) this.page.chart.removeSeries(entry.series);
    this.entries.delete(id);
    this.refreshList();
  }
}
