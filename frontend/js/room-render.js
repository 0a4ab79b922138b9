// Turning a room message (selectors.message_data, the same JSON over REST and WebSocket) into
// DOM nodes — text only, never markup.
//
// A body is plain text as typed. It is cut into segments and every segment becomes a text
// node, except three kinds recognised from the message's own lists, never from the text
// alone: a URL listed in `links` (and still an http(s) URL when parsed) becomes
// <a rel="noopener noreferrer nofollow" target="_blank">; a `$SYMBOL` token whose instrument
// is in `symbols` becomes a live price chip; an `@name` of a member in `mentions` is
// highlighted. `<script>`, `onerror=`, `javascript:` and markdown-looking links stay text.
// Share cards (chart, alert, portfolio, watchlist, backtest) are built the same way, from their fields.

import { el } from "./api.js";
import { flash } from "./markets.js";
import { ARROWS, PERCENT, PRICE, direction } from "./format.js";
import { money, percent } from "./portfolio-util.js";
import { keyLabel, safeHttpUrl, splitKey, t, url } from "./room-util.js";

// Mirrors apps/rooms/text.py: `$RELIANCE`, `$NSE:TCS`, not `$100`, not `a$B`.
const SYMBOL_RE = /(?<![\p{L}\p{N}_$])\$(?:(NSE|BSE):)?([A-Z][A-Z0-9&-]{0,19})/giu;
const WORD = /[\p{L}\p{N}_.]/u;
const LINK_REL = "noopener noreferrer nofollow";
const MAX_ALLOCATION_ROWS = 8;

/** The instrument page of `key` ("NSE:RELIANCE"), with `tf` when given. */
export function instrumentHref(key, timeframe) {
  const { exchange, symbol } = splitKey(key);
  const params = new URLSearchParams();
  if (exchange !== "NSE") params.set("exchange", exchange);
  if (timeframe) params.set("tf", timeframe);
  const query = params.toString();
  return url("instrument", { symbol }) + (query ? `?${query}` : "");
}

function symbolKey(exchange, symbol, known) {
  if (exchange) {
    const key = `${exchange}:${symbol}`;
    return known.includes(key) ? key : null;
  }
  return known.find((key) => key === `NSE:${symbol}`) || known.find((key) => key.endsWith(`:${symbol}`)) || null;
}

/** The recognised parts of `message.body`: [{start, end, kind, ...}], sorted, no overlaps. */
export function segments(message) {
  const text = message.body || "";
  const found = [];
  for (const link of message.links || []) {
    const href = typeof link === "string" && link ? safeHttpUrl(link) : null;
    if (!href) continue;
    for (let at = text.indexOf(link); at !== -1; at = text.indexOf(link, at + link.length)) {
      found.push({ start: at, end: at + link.length, kind: "link", href });
    }
  }
  const known = message.symbols || [];
  for (const match of text.matchAll(SYMBOL_RE)) {
    const exchange = (match[1] || "").toUpperCase();
    const symbol = match[2].toUpperCase().replace(/[-&]+$/, "");
    const key = symbol ? symbolKey(exchange, symbol, known) : null;
    if (!key) continue;
    const length = 1 + (match[1] ? match[1].length + 1 : 0) + symbol.length;
    found.push({ start: match.index, end: match.index + length, kind: "symbol", key });
  }
  for (const person of message.mentions || []) {
    const name = String(person.name || "");
    if (!name) continue;
    const folded = name.toLowerCase();
    for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
      if (at > 0 && /[\p{L}\p{N}]/u.test(text[at - 1])) continue;
      const candidate = text.slice(at + 1, at + 1 + name.length);
      if (candidate.toLowerCase() !== folded) continue;
      const after = text[at + 1 + name.length];
      if (after && after !== "." && WORD.test(after)) continue;
      found.push({ start: at, end: at + 1 + name.length, kind: "mention", person });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept = [];
  let edge = 0;
  for (const part of found) {
    if (part.start < edge) continue; // overlaps an earlier (or longer) part: stays text
    kept.push(part);
    edge = part.end;
  }
  return kept;
}

/** A live price chip for `key`; `paintChip` fills and refreshes it. */
export function priceChip(key, label, quote) {
  const chip = el(
    "a",
    { class: "room-chip price-chip price-flat", href: instrumentHref(key), dataset: { chip: key } },
    el("span", { class: "room-chip-symbol", text: label }),
    " ",
    el("span", { class: "room-chip-price", dataset: { chipPrice: "" } }),
    " ",
    el("span", { class: "room-chip-change", dataset: { chipChange: "" } }),
  );
  paintChip(chip, quote, false);
  return chip;
}

export function paintChip(chip, quote, animate = true) {
  const priceBox = chip.querySelector("[data-chip-price]");
  const changeBox = chip.querySelector("[data-chip-change]");
  if (!quote) {
    priceBox.textContent = "";
    changeBox.textContent = "";
    chip.title = t("noPrice");
    return;
  }
  const price = Number(quote.last_price);
  const dir = direction(Number(quote.change || 0));
  const before = chip.dataset.raw;
  const text = PRICE.format(price);
  priceBox.textContent = text;
  const pct = quote.change_percent !== null && quote.change_percent !== undefined ? `${PERCENT.format(Number(quote.change_percent))}%` : "";
  changeBox.textContent = `${ARROWS[dir]} ${pct}`.trim();
  chip.classList.remove("price-up", "price-down", "price-flat");
  chip.classList.add(`price-${dir}`);
  const word = dir === "up" ? t("up") : dir === "down" ? t("down") : t("unchanged");
  chip.title = `${keyLabel(quoteKey(quote))} ${text} ${pct} ${word}`.trim();
  chip.dataset.raw = String(quote.last_price);
  if (animate && before !== undefined && before !== chip.dataset.raw) flash(chip, price < Number(before) ? "down" : "up");
}

function quoteKey(quote) {
  return `${quote.exchange || "NSE"}:${quote.symbol}`;
}

/** The body as nodes (text nodes, anchors, chips, mention spans). `quotes.get(key)`. */
export function bodyNodes(message, { quotes, meId }) {
  const text = message.body || "";
  const nodes = [];
  let at = 0;
  for (const part of segments(message)) {
    if (part.start > at) nodes.push(document.createTextNode(text.slice(at, part.start)));
    const shown = text.slice(part.start, part.end);
    if (part.kind === "link") {
      nodes.push(el("a", { href: part.href, rel: LINK_REL, target: "_blank", class: "room-link", text: shown }));
    } else if (part.kind === "symbol") {
      nodes.push(priceChip(part.key, shown, quotes ? quotes.get(part.key) : null));
    } else {
      const mine = part.person.id === meId;
      nodes.push(el("span", { class: `room-mention${mine ? " room-mention-me" : ""}`, dataset: { userId: String(part.person.id) }, text: shown }));
    }
    at = part.end;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

// --- share cards --------------------------------------------------------------------------

function cardBox(kind, ...children) {
  return el("div", { class: `room-card room-card-${kind}`, dataset: { share: kind } }, ...children);
}

function chartCard(share) {
  const drawings = (share.drawings || []).length;
  return cardBox(
    "chart",
    el("p", { class: "room-card-title", text: t("chartCard", { symbol: keyLabel(share.symbol), timeframe: share.timeframe }) }),
    el(
      "p",
      { class: "small muted" },
      share.name || "",
      drawings ? ` · ${drawings === 1 ? t("drawingsOne") : t("drawings", { n: drawings })}` : "",
    ),
    el("a", { class: "btn btn-sm btn-secondary", href: instrumentHref(share.symbol, share.timeframe), text: t("openChart") }),
  );
}

function conditionText(condition) {
  const words = String(condition.type || "").replaceAll("_", " ");
  const parts = [];
  for (const name of ["value", "direction", "timeframe", "multiple", "window_minutes", "period"]) {
    if (condition[name] !== undefined && condition[name] !== null && condition[name] !== "") parts.push(String(condition[name]));
  }
  return parts.length ? `${words} ${parts.join(" ")}` : words;
}

function alertCard(message, share, { onCopyAlert }) {
  const status = el("p", { class: "small", role: "status" });
  const copy = el("button", { type: "button", class: "btn btn-sm btn-secondary", dataset: { copyAlert: String(message.id) }, text: t("copyAlert") });
  copy.addEventListener("click", () => onCopyAlert(message, copy, status));
  const target = share.symbol ? keyLabel(share.symbol) : share.watchlist ? share.watchlist.name : "";
  const conditions = share.conditions || [];
  return cardBox(
    "alert",
    el("p", { class: "room-card-title", text: t("alertCard", { name: share.name || target }) }),
    target ? el("p", { class: "small muted", text: target }) : null,
    conditions.length
      ? el(
          "div",
          { class: "small" },
          el("span", { class: "muted", text: share.combine === "any" ? t("conditionsAny") : t("conditionsAll") }),
          el("ul", { class: "room-card-list" }, conditions.map((condition) => el("li", { text: conditionText(condition) }))),
        )
      : null,
    copy,
    status,
  );
}

const MONEY_FIELDS = new Set(["total_value", "invested", "profit_loss"]);

function portfolioCard(share) {
  const fields = share.fields || {};
  const shown = Object.entries(fields).filter(([name]) => name !== "name");
  const allocation = ((share.allocation && share.allocation.instrument) || [])
    .slice()
    .sort((a, b) => Number(b.weight) - Number(a.weight))
    .slice(0, MAX_ALLOCATION_ROWS);
  return cardBox(
    "portfolio",
    el("p", { class: "room-card-title", text: fields.name ? `${t("portfolioCard")}: ${fields.name}` : t("portfolioCard") }),
    shown.length
      ? el(
          "dl",
          { class: "room-card-fields small" },
          shown.map(([name, value]) => [
            el("dt", { text: t(`field_${name}`) }),
            el("dd", { text: MONEY_FIELDS.has(name) ? money(value) : percent(value) }),
          ]),
        )
      : null,
    el(
      "ul",
      { class: "room-bars" },
      allocation.map((part) => {
        const pct = Math.max(0, Math.min(100, Number(part.weight) * 100));
        const label = `${part.label || keyLabel(part.key)} ${pct.toFixed(1)}%`;
        const fill = el("span", { class: "room-bar-fill" });
        fill.style.width = `${pct.toFixed(1)}%`;
        return el(
          "li",
          { class: "room-bar", dataset: { key: String(part.key) } },
          el("span", { class: "room-bar-label small", text: label }),
          el("span", { class: "room-bar-track", "aria-hidden": "true" }, fill),
        );
      }),
    ),
  );
}

function watchlistCard(share) {
  const items = share.items || [];
  return cardBox(
    "watchlist",
    el("p", { class: "room-card-title", text: t("watchlistCard", { name: share.name || "" }) }),
    items.length
      ? el(
          "ul",
          { class: "room-card-list room-card-symbols small" },
          items.map((item) => el("li", {}, el("a", { href: instrumentHref(item.symbol), text: keyLabel(item.symbol) }), item.name ? ` ${item.name}` : "")),
        )
      : el("p", { class: "small muted", text: t("noItems") }),
  );
}

const BACKTEST_FRACTIONS = new Set(["net_return", "cagr", "max_drawdown", "win_rate"]);

function backtestMetric(name, value) {
  if (value === null || value === undefined) return "—";
  if (BACKTEST_FRACTIONS.has(name)) return `${PERCENT.format(Number(value) * 100)}%`;
  if (name === "trades") return String(value);
  return Number(value).toFixed(2);
}

function backtestCard(share) {
  const params = Object.entries(share.params && Object.keys(share.params).length ? share.params : share.grid || {})
    .map(([name, value]) => `${name} ${Array.isArray(value) ? value.join("/") : value}`)
    .join(", ");
  const instruments = (share.instruments || []).map(keyLabel);
  const period = share.start && share.end ? `${String(share.start).slice(0, 10)} – ${String(share.end).slice(0, 10)}` : "";
  const metrics = Object.entries(share.metrics || {});
  // The link is a path on this site: only a same-origin relative path becomes an href.
  const href = typeof share.url === "string" && /^\/[^/\\]/.test(share.url) ? share.url : null;
  return cardBox(
    "backtest",
    el("p", { class: "room-card-title", text: t("backtestCard", { name: share.name || share.strategy_name || "" }) }),
    el(
      "p",
      { class: "small muted" },
      [share.strategy_name, params, instruments.slice(0, 6).join(", ") + (instruments.length > 6 ? ` +${instruments.length - 6}` : ""), share.timeframe, period].filter(Boolean).join(" · "),
    ),
    metrics.length
      ? el(
          "dl",
          { class: "room-card-fields small" },
          metrics.flatMap(([name, value]) => [el("dt", { text: t(`metric_${name}`) }), el("dd", { text: backtestMetric(name, value) })]),
        )
      : null,
    href ? el("a", { class: "btn btn-sm btn-secondary", href, text: t("openReport") }) : null,
  );
}

/** The card of a `share` message, or null. */
export function shareCard(message, handlers) {
  const share = message.share;
  if (!share || typeof share !== "object") return null;
  if (share.type === "chart") return chartCard(share);
  if (share.type === "alert") return alertCard(message, share, handlers);
  if (share.type === "portfolio") return portfolioCard(share);
  if (share.type === "watchlist") return watchlistCard(share);
  if (share.type === "backtest") return backtestCard(share);
  return null;
}
