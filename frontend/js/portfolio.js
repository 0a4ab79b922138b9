// One portfolio (templates/portfolios/detail.html): summary cards, holdings, allocation
// donut, concentration warnings, value-vs-benchmark chart, returns and risk metrics with
// their definitions, and the transactions (portfolio-transactions.js).
//
// Figures come from the REST API (…/summary/, …/performance/, …/history/); while the page is
// open it subscribes to the portfolio over the shared WebSocket (realtime.js): every
// `portfolio.update` repaints the cards, the holdings (changed cells flash) and the donut
// without a reload; `portfolio.changed` (a transaction was written anywhere) and a resync
// (lost frames, reconnect) re-fetch over REST.

import { el } from "./api.js";
import { CLOCK } from "./format.js";
import { flash } from "./markets.js";
import * as realtime from "./realtime.js";
import { HistoryChart } from "./portfolio-chart.js";
import { drawDonut } from "./portfolio-donut.js";
import { Transactions } from "./portfolio-transactions.js";
import {
  api,
  changeNode,
  dirOf,
  fractionPercent,
  money,
  pageData,
  plain,
  quantity,
  signedMoney,
  t,
  url,
  weight,
} from "./portfolio-util.js";

const PERIODS = ["1D", "1W", "1M", "3M", "YTD", "1Y", "ALL"];
const METRICS = ["volatility", "sharpe", "sortino", "beta", "alpha", "max_drawdown", "correlation", "risk_free_rate", "observations"];
const PERCENT_METRICS = new Set(["volatility", "alpha", "max_drawdown", "risk_free_rate"]);
const SHOWN_DATE = new Intl.DateTimeFormat("en-IN", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const REFRESH_DEBOUNCE_MS = 300;

let root = null;
let portfolio = null;
let summary = null; // the last …/summary/ body
const holdings = new Map(); // "NSE:RELIANCE" -> holding (summary fields, updated live)
let allocationMode = "instrument";
let chart = null;
let transactions = null;
let refreshTimer = null;

// Summary holdings carry `key` ("NSE:RELIANCE"); live ones name it `symbol`.
const keyOf = (holding) => holding.key || (holding.symbol.includes(":") ? holding.symbol : `${holding.exchange}:${holding.symbol}`);
const totalsOf = (body) => (body && (body.totals || body)) || {};

// --- cards --------------------------------------------------------------------------------

/** Fill one summary card; `raw` (a decimal string) makes the value flash when it moved. */
function setCard(name, content, { sub, raw, animate = false } = {}) {
  const card = root.querySelector(`[data-card="${name}"]`);
  if (!card) return;
  const box = card.querySelector("[data-value]");
  const before = box.dataset.raw;
  if (typeof content === "string") box.textContent = content;
  else box.replaceChildren(content);
  if (sub !== undefined) {
    const subBox = card.querySelector("[data-sub]");
    if (typeof sub === "string") subBox.textContent = sub;
    else subBox.replaceChildren(sub);
  }
  if (raw === undefined || raw === null) return;
  box.dataset.raw = raw;
  if (animate && before !== undefined && before !== raw) flash(box, Number(raw) < Number(before) ? "down" : "up");
}

function paintCards(totals, animate) {
  setCard("total_value", money(totals.total_value), { raw: totals.total_value, animate });
  const investedParts = [];
  if (totals.net_invested !== undefined) investedParts.push(`${t("investedSeries")}: ${money(totals.net_invested)}`);
  if (totals.charges !== undefined) investedParts.push(`${t("chargesLabel")}: ${money(totals.charges)}`);
  setCard("invested", money(totals.invested), { sub: investedParts.length ? investedParts.join(" · ") : undefined, raw: totals.invested });
  setCard("profit_loss", changeNode(totals.profit_loss, totals.profit_loss_percent, { block: true }), {
    sub: el("span", { class: "muted" }, `${t("unrealisedLabel")}: ${signedMoney(totals.unrealised_pl)} · ${t("realisedLabel")}: ${signedMoney(totals.realised_pl)}`),
    raw: totals.profit_loss,
    animate,
  });
  setCard("day_change", changeNode(totals.day_change, totals.day_change_percent, { block: true }), { raw: totals.day_change });
  setCard("cash", money(totals.cash), { raw: totals.cash });
}

function paintAsOf(asOf, simulated, stale) {
  const box = root.querySelector("[data-as-of]");
  if (box) box.textContent = asOf ? t("asOf", { time: CLOCK.format(new Date(asOf)) }) : "";
  const simulatedBadge = root.querySelector("[data-simulated-badge]");
  if (simulatedBadge && simulated !== undefined) simulatedBadge.hidden = !simulated;
  const staleBadge = root.querySelector("[data-stale-badge]");
  if (staleBadge && stale !== undefined) staleBadge.hidden = !stale;
}

// --- holdings -----------------------------------------------------------------------------

function cell(field, extra = {}) {
  return el("td", { class: "num nowrap", dataset: { field }, ...extra });
}

function holdingRow(holding) {
  const key = keyOf(holding);
  const { symbol, exchange } = holding;
  const instrumentUrl = url("instrument", { symbol }) + (exchange !== "NSE" ? `?exchange=${encodeURIComponent(exchange)}` : "");
  const row = el(
    "tr",
    { dataset: { key } },
    el(
      "th",
      { scope: "row", class: "pf-instrument" },
      el("a", { class: "market-symbol", href: instrumentUrl, text: symbol }),
      exchange !== "NSE" ? el("span", { class: "badge", text: exchange }) : null,
      holding.name ? el("span", { class: "pf-instrument-name", text: holding.name }) : null,
    ),
    cell("quantity"),
    cell("average_cost"),
    cell("invested"),
    cell("last_price"),
    cell("current_value"),
    cell("unrealised_pl"),
    cell("day_change"),
    cell("realised_pl"),
    cell("weight"),
  );
  row._cells = {};
  for (const td of row.querySelectorAll("[data-field]")) row._cells[td.dataset.field] = td;
  paintHolding(row, holding, false);
  return row;
}

function setCell(td, content, raw, animate) {
  const before = td.dataset.raw;
  if (typeof content === "string") {
    if (td.textContent !== content) td.textContent = content;
  } else {
    td.replaceChildren(content);
  }
  if (raw === undefined) return;
  td.dataset.raw = raw ?? "";
  if (animate && before !== undefined && before !== td.dataset.raw && before !== "" && td.dataset.raw !== "") {
    flash(td, Number(td.dataset.raw) < Number(before) ? "down" : "up");
  }
}

function paintHolding(row, holding, animate) {
  const c = row._cells;
  const priced = holding.priced !== false && holding.last_price !== null && holding.last_price !== undefined;
  setCell(c.quantity, quantity(holding.quantity));
  setCell(c.average_cost, money(holding.average_cost));
  setCell(c.invested, money(holding.invested));
  setCell(c.last_price, priced ? money(holding.last_price) : el("span", { class: "muted", text: t("unpriced") }), holding.last_price, animate);
  setCell(c.current_value, money(holding.current_value), holding.current_value, animate);
  setCell(c.unrealised_pl, changeNode(holding.unrealised_pl, holding.unrealised_pl_percent, { block: true }), holding.unrealised_pl, animate);
  setCell(c.day_change, changeNode(holding.day_change, holding.day_change_percent, { block: true }), holding.day_change, false);
  setCell(c.realised_pl, holding.realised_pl === undefined ? t("none") : money(holding.realised_pl));
  setCell(c.weight, weight(holding.weight));
}

function renderHoldings() {
  const body = root.querySelector("[data-holdings-body]");
  const list = [...holdings.values()];
  body.replaceChildren(...list.map(holdingRow));
  root.querySelector("[data-holdings-empty]").hidden = list.length > 0;
  root.querySelector(".pf-holdings-wrap").hidden = list.length === 0;
}

// --- allocation ---------------------------------------------------------------------------

const MODE_LABEL = { instrument: "byInstrument", sector: "bySector", market_cap: "byMarketCap" };

/** Slices for `mode`, regrouped from the holdings as they are now, so the donut follows live
 * values in every grouping; the summary's slices give the (translated) labels. */
function allocationParts(mode) {
  const from = (summary && summary.allocation && summary.allocation[mode]) || [];
  const labels = new Map(from.map((part) => [String(part.key), part.label]));
  const groups = new Map();
  let total = 0;
  for (const [key, holding] of holdings) {
    const value = Number(holding.current_value || 0);
    if (!(value > 0)) continue;
    total += value;
    const group = mode === "instrument" ? key : String(holding[mode] ?? "");
    const entry = groups.get(group) || { key: group, label: labels.get(group) || (mode === "instrument" ? holding.symbol : group || t("other")), value: 0 };
    entry.value += value;
    groups.set(group, entry);
  }
  if (!total) return from;
  return [...groups.values()].map((entry) => ({ ...entry, weight: entry.value / total }));
}

function renderAllocation() {
  const section = root.querySelector(".pf-allocation");
  for (const button of section.querySelectorAll("[data-allocation-mode]")) {
    button.setAttribute("aria-pressed", button.dataset.allocationMode === allocationMode ? "true" : "false");
  }
  const parts = allocationParts(allocationMode);
  const described = [...parts]
    .sort((a, b) => Number(b.weight) - Number(a.weight))
    .map((part) => `${part.label} ${weight(part.weight)}`)
    .join(", ");
  drawDonut(section.querySelector("[data-donut]"), section.querySelector("[data-legend]"), parts, {
    label: t("allocationLabel", { mode: t(MODE_LABEL[allocationMode]), parts: described }),
    format: { weight, money },
    otherLabel: t("other"),
    emptyText: t("allocationEmpty"),
  });
}

// --- warnings, returns, metrics -------------------------------------------------------------

function renderWarnings(warnings) {
  const box = root.querySelector("[data-warnings-box]");
  const list = root.querySelector("[data-warnings]");
  list.replaceChildren(...(warnings || []).map((w) => el("li", { class: "alert alert-warning", dataset: { code: w.code || "" }, text: w.message })));
  box.hidden = !(warnings && warnings.length);
}

function renderReturns(performance) {
  const returns = (performance && performance.returns) || {};
  const body = root.querySelector("[data-returns-body]");
  body.replaceChildren(
    ...PERIODS.map((period) => {
      const entry = returns[period] || {};
      const since = entry.start ? el("span", { class: "muted small pf-since", text: ` ${SHOWN_DATE.format(new Date(entry.start))}` }) : null;
      return el(
        "tr",
        { dataset: { period } },
        el("th", { scope: "row" }, t(`period_${period}`), since),
        el("td", { class: `num price-${dirOf(entry.twr)}`, dataset: { field: "twr" }, text: fractionPercent(entry.twr) }),
        el("td", { class: `num price-${dirOf(entry.xirr)}`, dataset: { field: "xirr" }, text: fractionPercent(entry.xirr) }),
      );
    }),
  );
  const definitions = (performance && performance.definitions) || {};
  const box = root.querySelector("[data-return-definitions]");
  box.replaceChildren(
    ...["twr", "xirr"].filter((name) => definitions[name]).flatMap((name) => [el("dt", { text: name.toUpperCase() }), el("dd", { text: definitions[name] })]),
  );
}

function metricValue(name, value) {
  if (value === null || value === undefined || value === "") return t("noMetrics");
  if (name === "observations") return String(value);
  if (PERCENT_METRICS.has(name)) return fractionPercent(value).replace(/^\+/, "");
  return plain(value);
}

function renderMetrics(performance) {
  const metrics = (performance && performance.metrics) || {};
  const definitions = (performance && performance.definitions) || {};
  const box = root.querySelector("[data-metrics]");
  const date = (iso) => (iso ? SHOWN_DATE.format(new Date(iso)) : t("notRecovered"));
  box.replaceChildren(
    ...METRICS.filter((name) => name in metrics || definitions[name]).map((name) => {
      const value = metrics[name];
      const dd = el(
        "dd",
        {},
        el("span", { class: `pf-metric-value${value === null || value === undefined ? " muted" : ""}`, text: metricValue(name, value) }),
      );
      if (name === "max_drawdown" && metrics.max_drawdown_peak) {
        dd.append(el("span", { class: "small muted pf-metric-dates", text: t("drawdownDates", { peak: date(metrics.max_drawdown_peak), trough: date(metrics.max_drawdown_trough), recovery: date(metrics.max_drawdown_recovery) }) }));
      }
      if (definitions[name]) dd.append(el("span", { class: "small muted pf-definition", text: definitions[name] }));
      return el("div", { class: "pf-metric", dataset: { metric: name } }, el("dt", { text: t(`metric_${name}`) }), dd);
    }),
  );
}

// --- loading ------------------------------------------------------------------------------

function applySummary(body) {
  summary = body;
  const totals = totalsOf(body);
  paintCards(totals, false);
  paintAsOf(body.as_of, body.simulated, body.stale);
  holdings.clear();
  for (const holding of body.holdings || []) holdings.set(keyOf(holding), { ...holding });
  renderHoldings();
  renderAllocation();
  renderWarnings(body.warnings);
  root.dataset.loaded = "1";
}

async function loadSummary() {
  try {
    applySummary(await api("GET", url("summary", { id: portfolio.id })));
    showPageError(null);
  } catch (error) {
    showPageError(error);
  }
}

async function loadPerformance() {
  try {
    const performance = await api("GET", url("performance", { id: portfolio.id }));
    renderReturns(performance);
    renderMetrics(performance);
  } catch {
    renderReturns(null);
    renderMetrics(null);
  }
}

function showPageError(error) {
  const box = root.querySelector("[data-page-error]");
  box.textContent = error ? error.message : "";
  box.hidden = !error;
}

/** Re-fetch everything that depends on the transactions (debounced: a write here is soon
 * followed by this tab's own `portfolio.changed`). */
function refreshSoon({ transactionsToo = false } = {}) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    loadSummary();
    loadPerformance();
    chart.load();
    if (transactionsToo) transactions.reload();
  }, REFRESH_DEBOUNCE_MS);
}

// --- live ---------------------------------------------------------------------------------

/** Apply a `portfolio.update` frame (docs/websocket.md) without a reload. */
export function applyUpdate(frame) {
  if (!portfolio || Number(frame.portfolio) !== portfolio.id) return;
  const known = new Set(holdings.keys());
  const incoming = frame.holdings || [];
  const incomingKeys = new Set(incoming.map((h) => keyOf(h)));
  const sameSet = incomingKeys.size === known.size && [...incomingKeys].every((key) => known.has(key));
  // The holdings the server values live, e.g. "NSE:RELIANCE NSE:TCS" (tests wait for it).
  root.dataset.live = [...incomingKeys].sort().join(" ");
  paintCards(frame, true);
  paintAsOf(frame.as_of, frame.simulated, frame.stale);
  if (summary) Object.assign(totalsOf(summary), pick(frame, ["total_value", "profit_loss", "profit_loss_percent", "day_change", "day_change_percent", "unrealised_pl", "realised_pl", "invested", "cash"]));
  if (!sameSet) {
    // Holdings came or went (a transaction elsewhere): the full summary has names, sectors…
    refreshSoon();
    return;
  }
  for (const update of incoming) {
    const key = keyOf(update);
    const holding = holdings.get(key);
    if (update.last_price !== undefined && update.last_price !== holding.last_price) holding.priced = true;
    Object.assign(holding, { ...update, key, symbol: holding.symbol });
    const row = root.querySelector(`tr[data-key="${CSS.escape(key)}"]`);
    if (row) paintHolding(row, holding, true);
  }
  renderAllocation();
}

function pick(object, names) {
  return Object.fromEntries(names.filter((name) => name in object).map((name) => [name, object[name]]));
}

// What the server confirmed, as `data-subscribed="portfolio:4"` on the page (tests wait for it).
function trackSubscriptions(frame) {
  if (frame.topic !== "portfolio" || Number(frame.id) !== portfolio.id) return;
  root.dataset.subscribed = frame.type === "subscribed" ? `portfolio:${frame.id}` : "";
}

function initRealtime() {
  realtime.connect();
  realtime.on("subscribed", trackSubscriptions);
  realtime.on("unsubscribed", trackSubscriptions);
  realtime.on("closed", () => {
    root.dataset.subscribed = "";
  });
  realtime.on("portfolio.update", applyUpdate);
  realtime.on("portfolio.changed", (frame) => {
    if (Number(frame.id) !== portfolio.id) return;
    refreshSoon({ transactionsToo: true });
  });
  realtime.onResync(() => refreshSoon({ transactionsToo: true }));
  realtime.subscribePortfolio(portfolio.id);
}

export function initPortfolio() {
  root = document.querySelector("[data-portfolio-page]");
  const data = pageData("portfolio-data");
  if (!root || !data) return;
  portfolio = data.portfolio;
  for (const button of root.querySelectorAll("[data-allocation-mode]")) {
    button.addEventListener("click", () => {
      allocationMode = button.dataset.allocationMode;
      renderAllocation();
    });
  }
  chart = new HistoryChart(root.querySelector(".pf-history"), {
    historyUrl: url("history", { id: portfolio.id }),
    benchmarkName: portfolio.benchmark_name || portfolio.benchmark,
  });
  transactions = new Transactions(root, { portfolioId: portfolio.id, onChanged: () => refreshSoon() });
  if (data.summary) applySummary(data.summary);
  else loadSummary();
  initRealtime();
  loadPerformance();
  chart.load();
  transactions.reload();
}

initPortfolio();
