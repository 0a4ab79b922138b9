// The room's shared watchlist as a live table, and a candle chart of the symbol picked in it.
//
// The watchlist is the watchlists app's own object (embedded in the page, then the socket's
// `watchlist` topic: `watchlist.snapshot` / `watchlist.updated` / `watchlist.revoked`); its
// prices come from the page's QuoteStore. The chart (lightweight-charts, as on the instrument
// page) loads bars over REST and follows ticks on its last candle; picking a symbol or a
// timeframe tells the room what this member is viewing (`room.viewing`).

import {
  CandlestickSeries,
  createChart,
} from "../vendor/lightweight-charts.standalone.production.mjs";
import { el } from "./api.js";
import { bucketStart, fromChart, INTRADAY_MINUTES, toChart } from "./chart-time.js";
import { ARROWS, PERCENT, PRICE, direction } from "./format.js";
import { flash } from "./markets.js";
import * as realtime from "./realtime.js";
import { api, keyLabel, showFieldErrors, clearFieldErrors, splitKey, t, url } from "./room-util.js";

const BARS = 300;
const COLORS = { up: "#0e8a55", down: "#d0312d", grid: "#eef1f5", text: "#55627a" };
const AXIS_PRICE = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const stamp = (iso) => (iso ? Date.parse(iso) : 0);
const keyOf = (item) => `${item.exchange}:${item.symbol}`;

export class WatchlistPanel {
  /** ctx: root, quotes, watchlist (object or null), watchlistId, onPick(key). */
  constructor(ctx) {
    this.ctx = ctx;
    this.root = ctx.root;
    this.body = this.root.querySelector("[data-watchlist-body]");
    this.wrap = this.root.querySelector("[data-watchlist-wrap]");
    this.empty = this.root.querySelector("[data-watchlist-empty]");
    this.name = this.root.querySelector("[data-watchlist-name]");
    this.form = this.root.querySelector("[data-watchlist-add]");
    this.watchlist = null;
    this.id = null;
    this.keys = [];
    this.selected = null;
    ctx.quotes.onChange((keys) => {
      for (const key of keys) {
        const row = this.body.querySelector(`tr[data-key="${CSS.escape(key)}"]`);
        if (row) this.paintRow(row, ctx.quotes.get(key), true);
      }
    });
    realtime.on("watchlist.snapshot", (frame) => this.apply(frame.watchlist));
    realtime.on("watchlist.updated", (frame) => this.apply(frame.watchlist));
    realtime.on("watchlist.revoked", (frame) => {
      if (frame.id === this.id) this.apply(null, { force: true });
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.add();
    });
    this.setWatchlistId(ctx.watchlistId, ctx.watchlist);
  }

  /** The room's shared watchlist (changes with `room.updated`). */
  setWatchlistId(id, initial = null) {
    if (id === this.id && !initial) return;
    if (this.id) realtime.unsubscribeWatchlist(this.id);
    this.id = id || null;
    this.watchlist = null;
    if (this.id) realtime.subscribeWatchlist(this.id);
    this.apply(initial && initial.id === this.id ? initial : null, { force: true });
    if (this.id && !initial) this.fetch();
  }

  async fetch() {
    try {
      this.apply(await api("GET", url("watchlist", { id: this.id })));
    } catch {
      // The socket's snapshot follows.
    }
  }

  apply(watchlist, { force = false } = {}) {
    if (!force && (!watchlist || watchlist.id !== this.id)) return;
    if (!force && this.watchlist && stamp(watchlist.updated_at) < stamp(this.watchlist.updated_at)) return;
    this.watchlist = watchlist;
    const items = watchlist ? watchlist.items || [] : [];
    const keys = items.map(keyOf);
    const added = keys.filter((key) => !this.keys.includes(key));
    const gone = this.keys.filter((key) => !keys.includes(key));
    if (added.length) this.ctx.quotes.want(added);
    if (gone.length) this.ctx.quotes.release(gone);
    this.keys = keys;
    this.draw(items);
    if ((!this.selected || !keys.includes(this.selected)) && keys.length) this.pick(keys[0]);
  }

  draw(items) {
    this.name.textContent = this.watchlist ? this.watchlist.name : "";
    this.body.replaceChildren(...items.map((item) => this.row(item)));
    const none = !this.id || !this.watchlist;
    this.wrap.hidden = items.length === 0;
    this.empty.hidden = items.length > 0;
    this.empty.textContent = none ? t("noWatchlist") : t("watchlistEmpty");
    const role = this.watchlist && this.watchlist.role;
    this.form.hidden = !(role === "owner" || role === "editor");
    this.root.dataset.watchlist = this.keys.join(" ");
  }

  row(item) {
    const key = keyOf(item);
    const pick = el("button", {
      type: "button",
      class: "room-wl-symbol",
      "aria-pressed": key === this.selected ? "true" : "false",
      title: item.name,
      text: keyLabel(key),
      onclick: () => this.pick(key),
    });
    const row = el(
      "tr",
      { dataset: { key } },
      el("th", { scope: "row" }, pick, el("span", { class: "room-wl-name small muted", text: item.name })),
      el("td", { class: "num nowrap", dataset: { field: "price" } }),
      el("td", { class: "num nowrap", dataset: { field: "percent" } }),
    );
    this.paintRow(row, this.ctx.quotes.get(key), false);
    return row;
  }

  paintRow(row, quote, animate) {
    const price = row.querySelector('[data-field="price"]');
    const pct = row.querySelector('[data-field="percent"]');
    if (!quote) {
      price.textContent = "—";
      pct.textContent = "";
      return;
    }
    const before = price.dataset.raw;
    price.textContent = PRICE.format(Number(quote.last_price));
    price.dataset.raw = String(quote.last_price);
    const dir = direction(Number(quote.change || 0));
    const word = dir === "up" ? t("up") : dir === "down" ? t("down") : t("unchanged");
    pct.className = `num nowrap price-${dir}`;
    pct.replaceChildren(
      el("span", { class: "market-arrow", "aria-hidden": "true", text: ARROWS[dir] }),
      ` ${PERCENT.format(Number(quote.change_percent || 0))}%`,
      el("span", { class: "visually-hidden", text: ` ${word}` }),
    );
    if (animate && before !== undefined && before !== price.dataset.raw) flash(price, Number(quote.last_price) < Number(before) ? "down" : "up");
  }

  pick(key) {
    this.selected = key;
    for (const button of this.body.querySelectorAll(".room-wl-symbol")) {
      button.setAttribute("aria-pressed", String(button.closest("tr").dataset.key === key));
    }
    this.ctx.onPick(key);
  }

  async add() {
    clearFieldErrors(this.form);
    const input = this.form.querySelector("input[name=symbol]");
    const symbol = input.value.trim().toUpperCase();
    if (!symbol || !this.id) return;
    try {
      const item = await api("POST", url("watchlistItems", { id: this.id }), { symbol });
      input.value = "";
      this.root.querySelector("[data-announce]").textContent = t("addedSymbol", { symbol: item.symbol });
    } catch (error) {
      showFieldErrors(this.form, error);
    }
  }
}

export class ChartPanel {
  /** ctx: root, quotes, onViewing({key, timeframe}). */
  constructor(ctx) {
    this.ctx = ctx;
    this.root = ctx.root;
    this.box = this.root.querySelector("[data-chart]");
    this.title = this.root.querySelector("[data-chart-title]");
    this.note = this.root.querySelector("[data-chart-note]");
    this.key = null;
    this.timeframe = "15m";
    this.bars = [];
    this.generation = 0;
    this.chart = null;
    this.series = null;
    for (const button of this.root.querySelectorAll("[data-timeframe]")) {
      button.addEventListener("click", () => this.setTimeframe(button.dataset.timeframe));
    }
    ctx.quotes.onChange((keys) => {
      if (this.key && keys.has(this.key)) this.tick(ctx.quotes.get(this.key));
    });
    realtime.onResync(() => this.load());
    this.setNote(t("chartPick"));
  }

  current() {
    return this.key ? { key: this.key, timeframe: this.timeframe } : null;
  }

  setNote(text) {
    this.note.textContent = text || "";
    this.note.hidden = !text;
  }

  build() {
    if (this.chart) return;
    this.chart = createChart(this.box, {
      autoSize: true,
      layout: { background: { color: "#ffffff" }, textColor: COLORS.text, fontFamily: getComputedStyle(document.body).fontFamily },
      grid: { vertLines: { color: COLORS.grid }, horzLines: { color: COLORS.grid } },
      localization: { locale: "en-IN", priceFormatter: (price) => AXIS_PRICE.format(price) },
      rightPriceScale: { borderColor: "#d9dfe8" },
      timeScale: { borderColor: "#d9dfe8", timeVisible: true, secondsVisible: false },
    });
    this.series = this.chart.addSeries(CandlestickSeries, {
      upColor: COLORS.up,
      downColor: COLORS.down,
      borderUpColor: COLORS.up,
      borderDownColor: COLORS.down,
      wickUpColor: COLORS.up,
      wickDownColor: COLORS.down,
      priceFormat: { type: "price", precision: 2, minMove: 0.05 },
    });
  }

  show(key) {
    if (key === this.key) return;
    if (this.key) this.ctx.quotes.release([this.key]);
    this.key = key;
    if (key) this.ctx.quotes.want([key]);
    this.load();
    this.ctx.onViewing(this.current());
  }

  setTimeframe(timeframe) {
    if (timeframe === this.timeframe) return;
    this.timeframe = timeframe;
    for (const button of this.root.querySelectorAll("[data-timeframe]")) {
      button.setAttribute("aria-pressed", String(button.dataset.timeframe === timeframe));
    }
    this.load();
    this.ctx.onViewing(this.current());
  }

  async load() {
    const generation = ++this.generation;
    if (!this.key) {
      this.title.textContent = "";
      this.setNote(t("chartPick"));
      return;
    }
    const label = keyLabel(this.key);
    this.title.textContent = `${label} · ${this.timeframe}`;
    this.box.setAttribute("aria-label", t("chartLabel", { symbol: label, timeframe: this.timeframe }));
    this.box.dataset.symbol = this.key;
    this.box.dataset.timeframe = this.timeframe;
    this.build();
    this.chart.applyOptions({ timeScale: { timeVisible: this.timeframe in INTRADAY_MINUTES } });
    const { exchange, symbol } = splitKey(this.key);
    const params = new URLSearchParams({ exchange, timeframe: this.timeframe, limit: String(BARS) });
    try {
      const body = await api("GET", `${url("candles", { symbol })}?${params}`);
      if (generation !== this.generation) return;
      this.bars = (body.bars || []).map((bar) => ({
        time: toChart(Math.floor(Date.parse(bar.t) / 1000)),
        open: Number(bar.o),
        high: Number(bar.h),
        low: Number(bar.l),
        close: Number(bar.c),
      }));
      this.series.setData(this.bars);
      this.chart.timeScale().fitContent();
      this.box.dataset.bars = String(this.bars.length);
      this.setNote(this.bars.length ? "" : t("chartEmpty"));
      const quote = this.ctx.quotes.get(this.key);
      if (quote) this.tick(quote);
    } catch {
      if (generation === this.generation) this.setNote(t("chartError"));
    }
  }

  tick(quote) {
    if (!this.series || !quote) return;
    const price = Number(quote.last_price);
    const at = Math.floor(Date.parse(quote.at) / 1000);
    if (!Number.isFinite(price) || !Number.isFinite(at)) return;
    const time = toChart(bucketStart(at, this.timeframe));
    const last = this.bars[this.bars.length - 1];
    let bar;
    if (last && last.time === time) {
      bar = last;
      bar.high = Math.max(bar.high, price);
      bar.low = Math.min(bar.low, price);
      bar.close = price;
    } else if (!last || time > last.time) {
      bar = { time, open: price, high: price, low: price, close: price };
      this.bars.push(bar);
    } else {
      return;
    }
    this.series.update(bar);
    this.box.dataset.lastClose = String(bar.close);
    this.box.dataset.lastBarAt = String(fromChart(bar.time));
  }
}
