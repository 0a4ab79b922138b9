// The Markets page: client-side filtering and live prices.
//
// `applyQuotes(quotes)` updates the table from quotes shaped like the
// /api/v1/quotes/ response items; it does not care where they came from. The shared
// WebSocket (realtime.js) feeds it `quote.snapshot`/`quote.tick` frames while it is live;
// whenever it is not (connecting, reconnecting, no server), a poller fetches the REST API
// every 5 s instead. Plain ES module, no framework; the page works without it.
// `flash` is shared with the dashboard (dashboard.js); number formats live in format.js.

import { ARROWS, CHANGE, CLOCK, IST, PERCENT, PRICE, VOLUME, direction } from "./format.js";
import * as realtime from "./realtime.js";

const DAY_KEY = new Intl.DateTimeFormat("en-CA", { timeZone: IST }); // 2026-01-21
const FLASH_MS = 1600;
const CHUNK = 200; // the API's limit on symbols per call

export const POLL_INTERVAL_MS = 5000;
export const MAX_BACKOFF_MS = 120000;

let table = null;
let rowsByKey = new Map();

function fmtTime(iso, lang) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  if (DAY_KEY.format(at) === DAY_KEY.format(new Date())) return CLOCK.format(at);
  const day = new Intl.DateTimeFormat(`${lang || "en"}-IN`, {
    timeZone: IST,
    day: "numeric",
    month: "short",
  }).format(at);
  const clock = CLOCK.format(at).slice(0, 5);
  return `${day}, ${clock}`;
}

function directionLabel(dir) {
  if (!table) return "";
  if (dir === "up") return table.dataset.upLabel;
  if (dir === "down") return table.dataset.downLabel;
  return table.dataset.unchangedLabel;
}

function arrow(dir) {
  const span = document.createElement("span");
  span.className = "market-arrow";
  span.setAttribute("aria-hidden", "true");
  span.textContent = ARROWS[dir];
  return span;
}

function valueSpan(text) {
  const span = document.createElement("span");
  span.dataset.value = "";
  span.textContent = text;
  return span;
}

function setChange(cell, dir, text) {
  cell.classList.remove("price-up", "price-down", "price-flat");
  cell.classList.add(`price-${dir}`);
  cell.replaceChildren(arrow(dir), " ", valueSpan(text));
}

function setPercent(cell, dir, text) {
  const chip = document.createElement("span");
  chip.className = `price-chip price-${dir}`;
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = ` ${directionLabel(dir)}`;
  chip.append(arrow(dir), " ", valueSpan(text), hidden);
  cell.replaceChildren(chip);
}

export function flash(cell, dir) {
  cell.classList.remove("market-flash-up", "market-flash-down");
  void cell.offsetWidth; // restart the transition when prices move again quickly
  cell.classList.add(dir === "down" ? "market-flash-down" : "market-flash-up");
  clearTimeout(cell._flashTimer);
  cell._flashTimer = setTimeout(() => {
    cell.classList.remove("market-flash-up", "market-flash-down");
  }, FLASH_MS);
}

function refreshBadges() {
  if (!table) return;
  const simulated = document.querySelector("[data-simulated-badge]");
  const stale = document.querySelector("[data-stale-badge]");
  if (simulated) simulated.hidden = !table.querySelector('tr[data-simulated="1"]');
  if (stale) stale.hidden = !table.querySelector('tr[data-stale="1"]');
}

/**
 * Update the rows of `quotes` (objects like the /api/v1/quotes/ items: symbol,
 * exchange, last_price, change, change_percent, volume, at, simulated, stale) in place.
 * Changed prices flash briefly. Returns how many rows changed price.
 */
export function applyQuotes(quotes) {
  if (!table) return 0;
  const lang = document.documentElement.lang;
  let moved = 0;
  for (const quote of quotes) {
    const row = rowsByKey.get(`${quote.exchange}:${quote.symbol}`);
    if (!row) continue;
    const cells = row._cells;
    const price = Number(quote.last_price);
    const change = Number(quote.change);
    const dir = direction(change);
    const before = row.dataset.price === "" ? null : Number(row.dataset.price);
    const priceText = PRICE.format(price);
    if (cells.price.textContent !== priceText) cells.price.textContent = priceText;
    if (before !== null && before !== price) {
      flash(cells.price, price < before ? "down" : "up");
      moved += 1;
    }
    row.dataset.price = String(price);
    setChange(cells.change, dir, CHANGE.format(change));
    setPercent(cells.percent, dir, `${PERCENT.format(Number(quote.change_percent))}%`);
    cells.volume.textContent = VOLUME.format(quote.volume);
    const time = document.createElement("time");
    time.dateTime = quote.at;
    time.textContent = fmtTime(quote.at, lang);
    cells.at.replaceChildren(time);
    row.dataset.simulated = quote.simulated ? "1" : "0";
    row.dataset.stale = quote.stale ? "1" : "0";
  }
  refreshBadges();
  return moved;
}

// --- filtering --------------------------------------------------------------------------

function initFilters(form) {
  const search = form.querySelector('input[name="q"]');
  const sector = form.querySelector('select[name="sector"]');
  const count = document.querySelector("[data-count]");
  const empty = document.querySelector("[data-no-matches]");
  const submit = form.querySelector("[data-js-hide]");
  if (submit) submit.hidden = true;
  const rows = [...rowsByKey.values()];
  const haystacks = new Map(
    rows.map((row) => [row, `${row.dataset.symbol} ${row.dataset.name}`.toLowerCase()]),
  );

  const apply = () => {
    const needle = search.value.trim().toLowerCase();
    const wanted = sector.value;
    let shown = 0;
    for (const row of rows) {
      const match =
        (!wanted || row.dataset.sector === wanted) &&
        (!needle || haystacks.get(row).includes(needle));
      row.hidden = !match;
      if (match) shown += 1;
    }
    if (count && count.dataset.countTemplate) {
      count.textContent = count.dataset.countTemplate
        .replace("{shown}", VOLUME.format(shown))
        .replace("{total}", VOLUME.format(rows.length));
    }
    if (empty) empty.hidden = shown > 0;
    const url = new URL(window.location.href);
    for (const [name, value] of [["q", search.value.trim()], ["sector", wanted]]) {
      if (value) url.searchParams.set(name, value);
      else url.searchParams.delete(name);
    }
    window.history.replaceState(null, "", url);
  };
  search.addEventListener("input", apply);
  sector.addEventListener("change", apply);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
}

// --- polling ----------------------------------------------------------------------------

let timer = null;
let running = false;
let failures = 0;

function chunks(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function requests() {
  const byExchange = new Map();
  for (const row of rowsByKey.values()) {
    const list = byExchange.get(row.dataset.exchange) || [];
    list.push(row.dataset.symbol);
    byExchange.set(row.dataset.exchange, list);
  }
  const urls = [];
  for (const [exchange, symbols] of byExchange) {
    for (const part of chunks(symbols, CHUNK)) {
      const params = new URLSearchParams({ symbols: part.join(","), exchange });
      urls.push(`${table.dataset.quotesUrl}?${params}`);
    }
  }
  return urls;
}

class HttpError extends Error {
  constructor(response) {
    super(`HTTP ${response.status}`);
    this.status = response.status;
    this.retryAfter = Number(response.headers.get("Retry-After")) || 0;
  }
}

async function fetchQuotes(url) {
  const controller = new AbortController();
  const abort = setTimeout(() => controller.abort(), 10000);
  try {
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller.signal,
    });
    if (!response.ok) throw new HttpError(response);
    return (await response.json()).quotes || [];
  } finally {
    clearTimeout(abort);
  }
}

function schedule(delay) {
  clearTimeout(timer);
  timer = running ? setTimeout(poll, delay) : null;
}

/** The next delay after `failures` failures in a row: doubling, capped, with jitter. */
export function backoffDelay(count, base = POLL_INTERVAL_MS, max = MAX_BACKOFF_MS) {
  const plain = Math.min(max, base * 2 ** count);
  return Math.round(plain * (0.8 + Math.random() * 0.4));
}

async function poll() {
  if (!running) return;
  if (document.hidden) return; // resumed by the visibilitychange listener
  let delay = POLL_INTERVAL_MS;
  try {
    for (const url of requests()) {
      applyQuotes(await fetchQuotes(url));
    }
    failures = 0;
  } catch (error) {
    failures += 1;
    delay = backoffDelay(failures);
    if (error instanceof HttpError && error.retryAfter) {
      delay = Math.max(delay, error.retryAfter * 1000);
    }
    table.dataset.pollFailures = String(failures);
  }
  schedule(delay);
}

function onVisibility() {
  if (running && !document.hidden) schedule(0);
}

export function startPolling() {
  if (!table || running) return;
  running = true;
  document.addEventListener("visibilitychange", onVisibility);
  schedule(POLL_INTERVAL_MS);
}

export function stopPolling() {
  running = false;
  clearTimeout(timer);
  timer = null;
  document.removeEventListener("visibilitychange", onVisibility);
}

/** Fetch every quote over REST once, now (after a WebSocket gap or reconnect). */
export async function refreshNow() {
  if (!table) return;
  try {
    for (const url of requests()) applyQuotes(await fetchQuotes(url));
  } catch {
    // The poller or the next tick will catch up.
  }
}

function initRealtime() {
  const symbols = [...rowsByKey.keys()]; // "NSE:RELIANCE"
  if (!symbols.length) return;
  realtime.connect();
  realtime.on("quote.snapshot", (frame) => applyQuotes(frame.quotes || []));
  realtime.on("quote.tick", (frame) => applyQuotes(frame.quotes || []));
  realtime.onResync(() => refreshNow());
  realtime.onStatus((state) => {
    // The socket streams prices while live (or delayed: the feed, not the socket, is slow).
    if (state === "live" || state === "delayed") stopPolling();
    else startPolling();
  });
  realtime.subscribeQuotes(symbols);
}

export function initMarkets(root = document) {
  table = root.querySelector("[data-market-table]");
  if (!table) return;
  rowsByKey = new Map();
  for (const row of table.tBodies[0].rows) {
    row._cells = {};
    for (const cell of row.querySelectorAll("[data-field]")) row._cells[cell.dataset.field] = cell;
    rowsByKey.set(row.dataset.key, row);
  }
  const form = root.querySelector("[data-market-filters]");
  if (form) initFilters(form);
  startPolling();
  initRealtime();
}

initMarkets();
