// The signals feed (/signals/): the server renders the filtered cards; this module adds the
// instrument search on the filter form and prepends new signals live. It subscribes to the
// `signals` topic (realtime.js `subscribeSignals`, re-sent on every reconnect) narrowed like
// the filter (symbol or strategy; the rest is filtered here).

import { el } from "./api.js";
import * as realtime from "./realtime.js";
import { symbolCombobox } from "./symbol-search.js";

const MAX_CARDS = 200;
const DECIMAL = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const TIME = new Intl.DateTimeFormat("en-GB", {
  timeZone: "Asia/Kolkata",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));

/** "58 % hit rate over 40 backtested trades", or "too little evidence" (as the server says). */
export function confidenceText(signal, strings) {
  const backtest = (signal.evidence && signal.evidence.backtest) || {};
  if (signal.confidence === null || signal.confidence === undefined || !backtest.trades) return strings.tooLittle;
  const rate = backtest.hit_rate ?? signal.confidence;
  // toPrecision first: 100 × 0.575 is 57.4999… in floating point, 57.5 % rounds to 58 %.
  return fill(strings.hitRate, { rate: Math.round(Number((100 * rate).toPrecision(12))), trades: backtest.trades });
}

/** Whether a `signal.new` payload belongs in this feed's filter. */
export function matches(signal, filter) {
  if (filter.symbol && `${signal.exchange}:${signal.stock}` !== filter.symbol) return false;
  if (filter.strategy && signal.strategy !== filter.strategy) return false;
  if (filter.timeframe && signal.timeframe !== filter.timeframe) return false;
  if (filter.action && signal.action !== filter.action) return false;
  return true;
}

function card(signal, data) {
  const { strings, urls } = data;
  const level = (label, value) =>
    value === null || value === undefined ? null : el("span", {}, `${label} `, el("b", { text: `₹${DECIMAL.format(Number(value))}` }));
  const action = signal.action.toLowerCase();
  const when = new Date(signal.bar_time);
  return el(
    "li",
    { class: "sig-card sig-card-new", dataset: { signalId: String(signal.id), action: signal.action } },
    el(
      "a",
      { class: "sig-card-link", href: urls.signal.replace("{id}", signal.id) },
      el(
        "span",
        { class: "sig-head" },
        el("span", { class: `badge sig-action sig-action-${action}`, text: (strings.actions && strings.actions[signal.action]) || signal.action }),
        " ",
        el("strong", { class: "sig-symbol", text: signal.stock }),
        signal.exchange !== "NSE" ? el("span", { class: "badge", text: signal.exchange }) : null,
        " ",
        el("span", { class: "sig-meta muted", text: `${signal.strategy_name} · ${signal.timeframe}` }),
      ),
      el(
        "span",
        { class: "sig-levels" },
        level(strings.entry, signal.entry_price),
        level(strings.target, signal.target_price),
        level(strings.stop, signal.stop_loss),
        signal.risk_reward ? el("span", {}, `${strings.rr} `, el("b", { text: String(signal.risk_reward) })) : null,
      ),
      el("span", { class: "sig-confidence", text: confidenceText(signal, strings) }),
      el("span", { class: "sig-time muted small" }, el("time", { datetime: signal.bar_time, text: TIME.format(when) }), " IST"),
    ),
  );
}

function wireSearch(root, data) {
  const input = root.querySelector("[data-symbol-search]");
  const listbox = root.querySelector("#sig-symbol-options");
  if (!input || !listbox) return;
  symbolCombobox({
    input,
    listbox,
    search: async (query) => {
      const params = new URLSearchParams({ search: query, page_size: "8" });
      const response = await fetch(`${data.urls.instruments}?${params}`, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return [];
      const body = await response.json();
      return body.results || body || [];
    },
    onChoose: (instrument) => {
      input.value = instrument.exchange === "NSE" ? instrument.symbol : `${instrument.exchange}:${instrument.symbol}`;
    },
    idPrefix: "sig-symbol-option",
    strings: { noMatches: data.strings.noMatches },
  });
}

function wireLive(root, data) {
  if (!data.live) return; // an older page, or a filter with errors: nothing new belongs here
  const list = root.querySelector("[data-signals-list]");
  const empty = root.querySelector("[data-signals-empty]");
  const announce = root.querySelector("[data-signals-announce]");
  const seen = new Set([...list.querySelectorAll("[data-signal-id]")].map((li) => li.dataset.signalId));
  const prepend = (signal) => {
    if (!signal || seen.has(String(signal.id)) || !matches(signal, data.filter)) return;
    seen.add(String(signal.id));
    list.prepend(card(signal, data));
    while (list.children.length > MAX_CARDS) list.lastElementChild.remove();
    empty.hidden = true;
    announce.textContent = fill(data.strings.newSignal, { action: signal.action, symbol: signal.stock });
  };
  realtime.on("signal.new", prepend);
  // What the server confirmed, as `data-subscribed="signals"` (tests wait for it).
  realtime.on("subscribed", (frame) => {
    if (frame.topic === "signals") root.dataset.subscribed = "signals";
  });
  // The snapshot (newest first) fills in whatever arrived while the socket was away.
  realtime.on("signal.snapshot", (frame) => [...(frame.signals || [])].reverse().forEach(prepend));
  // Narrowed like the filter (symbol or strategy); the rest is filtered here.
  realtime.subscribeSignals({ symbol: data.filter.symbol, strategy: data.filter.strategy });
  realtime.connect();
  root.dataset.live = "true";
}

export function initFeed(root = document.querySelector("[data-signals-feed]")) {
  if (!root) return;
  const data = JSON.parse(document.getElementById("signals-feed-data").textContent);
  wireSearch(root, data);
  wireLive(root, data);
}

initFeed();
