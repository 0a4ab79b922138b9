// The dashboard: the user's watchlists as live tables (templates/watchlists/dashboard.html).
//
// State comes from the JSON the page embeds (#dashboard-data), then stays live over the
// shared WebSocket (realtime.js): `watchlist.snapshot`/`watchlist.updated` replace a list
// (older `updated_at` ignored), `watchlist.revoked` drops it, `watchlist.invited` /
// `watchlist.invitation_closed` add, change or drop a pending invitation,
// `quote.snapshot`/`quote.tick` update prices. Every write goes through the REST API; after a
// gap or reconnect the lists, invitations and quotes are fetched again over REST. Texts come
// from the page (translated there); number formats are the Markets page's (markets.js).

import { apiRequest, el } from "./api.js";
import * as realtime from "./realtime.js";
import { ARROWS, CHANGE, PERCENT, PRICE, VOLUME, direction } from "./format.js";
import { flash } from "./markets.js";
import { symbolCombobox } from "./symbol-search.js";

const SEARCH_DEBOUNCE_MS = 250;
const CHANGED_BY_MS = 4000;
const QUOTE_CHUNK = 200;
const SPARK_W = 80;
const SPARK_H = 24;

let S = {}; // translated strings
let URLS = {};
let me = null;
let root = null;

const lists = new Map(); // id -> watchlist object (docs/websocket.md)
let order = []; // ids in tab order
let activeId = null;
const quotes = new Map(); // "NSE:TCS" -> quote object
const sparks = new Map(); // "NSE:TCS" -> [close, ...] | null (loading) | [] (none)
const subscribedQuotes = new Set();
let invitations = [];
let members = null; // the active list's members with ids (owner only), from REST
const changedTimers = new Map();

// --- helpers ------------------------------------------------------------------------------

function t(key, values = {}) {
  let text = S[key] || key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

function keyOf(item) {
  return `${item.exchange}:${item.symbol}`;
}

function fillUrl(template, values) {
  let url = template;
  for (const [name, value] of Object.entries(values)) {
    url = url.replace(`{${name}}`, encodeURIComponent(value));
  }
  return url;
}

function watchlistUrl(id, rest = "") {
  return fillUrl(URLS.watchlist, { id }) + rest;
}

/** `updated_at` as microseconds since the epoch (ISO strings drop ".000000"). */
export function stamp(iso) {
  if (!iso) return 0;
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(iso);
  if (!match) return Date.parse(iso) * 1000;
  const seconds = Date.parse(match[1] + match[3]);
  const micro = Number((match[2] || "").padEnd(6, "0").slice(0, 6));
  return seconds * 1000 + micro;
}

function announce(text) {
  const region = root.querySelector("[data-announce]");
  if (region) region.textContent = text;
}

/** Same-origin JSON call; throws ApiError with the API's message (and field errors). */
function api(method, url, body) {
  return apiRequest(method, url, body, { network: t("networkError"), generic: t("genericError") });
}

function showError(target, error) {
  if (!target) return;
  if (!error) {
    target.hidden = true;
    target.textContent = "";
    return;
  }
  const parts = [];
  const fields = (error && error.fields) || {};
  const fieldMessages = Object.values(fields).flat();
  if (fieldMessages.length) parts.push(...fieldMessages);
  else parts.push(error.message || t("genericError"));
  target.textContent = parts.join(" ");
  target.hidden = false;
}

// --- quotes -------------------------------------------------------------------------------

function allKeys() {
  const keys = new Set();
  for (const list of lists.values()) for (const item of list.items) keys.add(keyOf(item));
  return keys;
}

function syncQuoteSubscriptions() {
  const wanted = allKeys();
  const added = [...wanted].filter((key) => !subscribedQuotes.has(key));
  const gone = [...subscribedQuotes].filter((key) => !wanted.has(key));
  for (const key of added) subscribedQuotes.add(key);
  for (const key of gone) subscribedQuotes.delete(key);
  if (gone.length) realtime.unsubscribeQuotes(gone);
  if (added.length) {
    realtime.subscribeQuotes(added);
    fetchQuotes(added);
  }
}

async function fetchQuotes(keys) {
  const byExchange = new Map();
  for (const key of keys) {
    const [exchange, symbol] = key.split(":");
    if (!byExchange.has(exchange)) byExchange.set(exchange, []);
    byExchange.get(exchange).push(symbol);
  }
  for (const [exchange, symbols] of byExchange) {
    for (let i = 0; i < symbols.length; i += QUOTE_CHUNK) {
      const params = new URLSearchParams({
        symbols: symbols.slice(i, i + QUOTE_CHUNK).join(","),
        exchange,
      });
      try {
        const data = await api("GET", `${URLS.quotes}?${params}`);
        applyQuotes((data && data.quotes) || []);
      } catch {
        // The socket (or the next resync) fills the gap.
      }
    }
  }
}

function setChange(cell, dir, text) {
  cell.className = `num nowrap price-${dir}`;
  cell.replaceChildren(el("span", { class: "market-arrow", "aria-hidden": "true", text: ARROWS[dir] }), ` ${text}`);
}

function setPercent(cell, dir, text) {
  const label = dir === "up" ? t("up") : dir === "down" ? t("down") : t("unchanged");
  cell.replaceChildren(
    el(
      "span",
      { class: `price-chip price-${dir}` },
      el("span", { class: "market-arrow", "aria-hidden": "true", text: ARROWS[dir] }),
      ` ${text}`,
      el("span", { class: "visually-hidden", text: ` ${label}` }),
    ),
  );
}

function setText(cell, text, flashDir) {
  if (cell.textContent === text) return;
  cell.textContent = text;
  if (flashDir) flash(cell, flashDir);
}

function paintRow(row, quote, animate) {
  const cells = row._cells;
  const price = Number(quote.last_price);
  const before = row.dataset.price === "" ? null : Number(row.dataset.price);
  const moved = animate && before !== null && before !== price ? (price < before ? "down" : "up") : null;
  setText(cells.price, PRICE.format(price), moved);
  row.dataset.price = String(price);
  const dir = direction(Number(quote.change));
  setChange(cells.change, dir, CHANGE.format(Number(quote.change)));
  setPercent(cells.percent, dir, `${PERCENT.format(Number(quote.change_percent))}%`);
  const high = PRICE.format(Number(quote.high));
  const low = PRICE.format(Number(quote.low));
  setText(cells.high, high, animate && cells.high.textContent !== "—" && cells.high.textContent !== high ? "up" : null);
  setText(cells.low, low, animate && cells.low.textContent !== "—" && cells.low.textContent !== low ? "down" : null);
  setText(cells.volume, VOLUME.format(quote.volume), null);
  row.dataset.simulated = quote.simulated ? "1" : "0";
}

function refreshBadge() {
  const badge = root.querySelector("[data-simulated-badge]");
  if (!badge) return;
  const keys = allKeys();
  badge.hidden = ![...quotes.entries()].some(([key, q]) => keys.has(key) && q.simulated);
}

/** Apply quote objects (as in /api/v1/quotes/) to the shown table; changes flash. */
export function applyQuotes(list, animate = true) {
  for (const quote of list) {
    const key = `${quote.exchange}:${quote.symbol}`;
    const previous = quotes.get(key);
    if (previous && previous.at && quote.at && Date.parse(quote.at) < Date.parse(previous.at)) continue;
    quotes.set(key, quote);
    for (const row of root.querySelectorAll(`tr[data-key="${CSS.escape(key)}"]`)) {
      paintRow(row, quote, animate);
    }
  }
  refreshBadge();
}

// --- sparklines ---------------------------------------------------------------------------

async function loadSpark(item) {
  const key = keyOf(item);
  if (sparks.has(key)) return;
  sparks.set(key, null);
  const params = new URLSearchParams({ timeframe: "1d", limit: "30" });
  if (item.exchange !== "NSE") params.set("exchange", item.exchange);
  let closes = [];
  try {
    const data = await api("GET", `${fillUrl(URLS.candles, { symbol: item.symbol })}?${params}`);
    closes = ((data && data.bars) || []).map((bar) => Number(bar.c)).filter(Number.isFinite);
  } catch {
    closes = [];
  }
  sparks.set(key, closes);
  for (const cell of root.querySelectorAll(`tr[data-key="${CSS.escape(key)}"] [data-field="spark"]`)) {
    drawSpark(cell, item, closes);
  }
}

/** An inline SVG line of `closes` (oldest first), green when the last is above the first. */
export function sparkSvg(closes, label) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${SPARK_W} ${SPARK_H}`);
  svg.setAttribute("width", String(SPARK_W));
  svg.setAttribute("height", String(SPARK_H));
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.classList.add("dash-spark");
  const min = Math.min(...closes);
  const max = Math.max(...closes);
  const span = max - min || 1;
  const step = closes.length > 1 ? SPARK_W / (closes.length - 1) : 0;
  const points = closes
    .map((c, i) => `${(i * step).toFixed(1)},${(SPARK_H - 2 - ((c - min) / span) * (SPARK_H - 4)).toFixed(1)}`)
    .join(" ");
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points);
  line.setAttribute("fill", "none");
  line.setAttribute("stroke-width", "1.5");
  line.setAttribute("stroke-linejoin", "round");
  svg.classList.add(closes[closes.length - 1] >= closes[0] ? "dash-spark-up" : "dash-spark-down");
  svg.append(line);
  return svg;
}

function drawSpark(cell, item, closes) {
  if (!closes || closes.length < 2) {
    cell.replaceChildren(el("span", { class: "muted", title: t("noTrend"), text: "—" }));
    return;
  }
  cell.replaceChildren(sparkSvg(closes, t("trendLabel", { symbol: item.symbol, count: String(closes.length) })));
}

// --- rendering ----------------------------------------------------------------------------

function canEdit(list) {
  return list.role === "owner" || list.role === "editor";
}

function renderTabs() {
  const tabs = root.querySelector("[data-tabs]");
  tabs.replaceChildren(
    ...order.map((id) => {
      const list = lists.get(id);
      const link = el(
        "a",
        {
          class: "dash-tab",
          href: `#watchlist-${id}`,
          "aria-current": id === activeId ? "page" : null,
          dataset: { tab: String(id) },
          onclick: (event) => {
            event.preventDefault();
            activate(id);
          },
        },
        list.name,
      );
      if (list.role !== "owner") link.append(" ", el("span", { class: "badge", text: t(list.role) }));
      return el("li", {}, link);
    }),
  );
}

function headerFor(list) {
  const title = el("h2", { class: "dash-title", id: `watchlist-${list.id}-title`, text: list.name });
  const meta = el("p", { class: "dash-meta muted small" });
  if (list.role !== "owner") meta.append(t("ownedBy", { name: list.owner.name }), " · ");
  meta.append(el("span", { class: "badge", text: list.role === "viewer" ? t("readOnly") : t(list.role) }));
  const changed = el("span", { class: "dash-changed badge badge-primary", role: "status", "data-changed-by": "", hidden: true });
  meta.append(" ", changed);
  const head = el("div", { class: "dash-list-head" }, el("div", {}, title, meta));
  const error = el("p", { class: "errorlist", role: "alert", hidden: true });
  if (list.role === "owner") {
    const actions = el(
      "div",
      { class: "cluster dash-list-actions" },
      el("button", { type: "button", class: "btn btn-sm btn-secondary", "data-rename": "", text: t("rename"), onclick: () => startRename(list, head, error) }),
      el("button", {
        type: "button",
        class: "btn btn-sm btn-danger-outline",
        "data-delete": "",
        text: t("delete"),
        onclick: async () => {
          if (!window.confirm(t("confirmDelete", { name: list.name }))) return;
          try {
            await api("DELETE", watchlistUrl(list.id));
            dropList(list.id);
            announce(t("deleted"));
          } catch (error_) {
            showError(error, error_);
          }
        },
      }),
    );
    head.append(actions, error);
  } else {
    const leave = el("button", { type: "button", class: "btn btn-sm btn-danger-outline", "data-leave": "", text: t("leave"), onclick: () => leaveList(list, error) });
    head.append(el("div", { class: "cluster dash-list-actions" }, leave), error);
  }
  return head;
}

/** A member (not the owner) leaves: after a confirm, their membership is deleted. */
async function leaveList(list, error) {
  if (!window.confirm(t("confirmLeave", { name: list.name, owner: list.owner.name }))) return;
  showError(error, null);
  try {
    // The Watchlist object names members by user; the membership id comes from REST.
    const all = (await api("GET", watchlistUrl(list.id, "members/"))) || [];
    const mine = all.find((member) => me && member.user.id === me.id);
    if (mine) await api("DELETE", watchlistUrl(list.id, `members/${mine.id}/`));
    dropList(list.id);
    announce(t("left", { name: list.name }));
  } catch (error_) {
    showError(error, error_);
  }
}

function startRename(list, head, error) {
  const input = el("input", { type: "text", name: "name", maxlength: "80", value: list.name, "aria-label": t("rename"), required: true });
  const form = el(
    "form",
    { class: "dash-rename cluster", novalidate: true },
    input,
    el("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("save") }),
    el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("cancel"), onclick: () => renderPanel() }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      setList(await api("PATCH", watchlistUrl(list.id), { name: input.value }));
    } catch (error_) {
      showError(error, error_);
    }
  });
  head.querySelector(".dash-title").replaceWith(form);
  input.focus();
  input.select();
}

function addForm(list) {
  const input = el("input", {
    type: "text",
    id: "dash-add-symbol",
    role: "combobox",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": "dash-add-options",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: t("addPlaceholder"),
    "data-symbol-search": "",
  });
  const listbox = el("ul", { id: "dash-add-options", class: "dash-options", role: "listbox", hidden: true, "aria-label": t("addLabel") });
  const error = el("p", { class: "errorlist", role: "alert", hidden: true });
  const form = el(
    "form",
    { class: "dash-add", novalidate: true, "data-add-form": "" },
    el("label", { for: "dash-add-symbol", class: "visually-hidden", text: t("addLabel") }),
    el("div", { class: "dash-combo" }, input, listbox),
    el("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("add") }),
    error,
  );
  const add = async (symbol) => {
    combo.close();
    showError(error, null);
    try {
      await api("POST", watchlistUrl(list.id, "items/"), { symbol });
      input.value = "";
      refreshList(list.id);
    } catch (error_) {
      showError(error, error_);
    }
    input.focus();
  };
  const combo = symbolCombobox({
    input,
    listbox,
    search: async (query) => {
      const params = new URLSearchParams({ search: query, page_size: "8" });
      const data = await api("GET", `${URLS.instruments}?${params}`);
      return (data && (data.results || data)) || [];
    },
    onChoose: (instrument) => add(`${instrument.exchange}:${instrument.symbol}`),
    idPrefix: "dash-add-option",
    strings: { noMatches: t("noMatches") },
    debounceMs: SEARCH_DEBOUNCE_MS,
    enterChooses: false, // Enter submits the form, which adds the highlighted option
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    combo.cancel();
    const chosen = combo.current();
    if (chosen) {
      add(`${chosen.exchange}:${chosen.symbol}`);
    } else if (input.value.trim()) {
      add(input.value.trim());
    }
  });
  return form;
}

function symbolCell(list, item) {
  const href = fillUrl(URLS.instrument, { symbol: item.symbol }) + (item.exchange !== "NSE" ? `?exchange=${encodeURIComponent(item.exchange)}` : "");
  const cell = el(
    "th",
    { scope: "row", class: "market-symbol" },
    el("a", { href, text: item.symbol }),
    item.exchange !== "NSE" ? el("span", { class: "badge", text: item.exchange }) : null,
    el("span", { class: "market-name-inline", text: item.name }),
  );
  return cell;
}

function noteCell(list, item) {
  const cell = el("td", { class: "dash-note", "data-field": "note" });
  const text = el("span", { class: "dash-note-text", text: item.note });
  cell.append(text);
  if (!canEdit(list)) return cell;
  const button = el("button", {
    type: "button",
    class: "btn btn-link btn-sm dash-note-btn",
    text: item.note ? t("editNote") : t("addNote"),
    "aria-label": t("noteFor", { symbol: item.symbol }),
    onclick: () => {
      const input = el("input", { type: "text", maxlength: "500", value: item.note, "aria-label": t("noteFor", { symbol: item.symbol }) });
      const error = el("p", { class: "errorlist", role: "alert", hidden: true });
      const form = el(
        "form",
        { class: "dash-note-form", novalidate: true },
        input,
        el("span", { class: "cluster" },
          el("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("save") }),
          el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("cancel"), onclick: () => renderPanel() })),
        error,
      );
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await api("PATCH", watchlistUrl(list.id, `items/${item.id}/`), { note: input.value });
          refreshList(list.id);
        } catch (error_) {
          showError(error, error_);
        }
      });
      cell.replaceChildren(form);
      input.focus();
    },
  });
  cell.append(" ", button);
  return cell;
}

function moveItem(list, itemId, delta) {
  const ids = list.items.map((item) => item.id);
  const from = ids.indexOf(itemId);
  const to = from + delta;
  if (from < 0 || to < 0 || to >= ids.length) return;
  ids.splice(to, 0, ids.splice(from, 1)[0]);
  reorder(list, ids, itemId);
}

async function reorder(list, ids, focusId) {
  // Optimistic: show the new order at once, then let the server confirm it.
  const byId = new Map(list.items.map((item) => [item.id, item]));
  list.items = ids.map((id) => byId.get(id));
  renderTable(list);
  if (focusId) {
    const row = root.querySelector(`tr[data-item="${focusId}"]`);
    if (row) row.querySelector("[data-drag]")?.focus();
  }
  try {
    setList(await api("PUT", watchlistUrl(list.id, "order/"), { item_ids: ids }));
  } catch (error) {
    showError(root.querySelector("[data-table-error]"), error);
    refreshList(list.id);
  }
}

function rowFor(list, item, index, count) {
  const editable = canEdit(list);
  const row = el("tr", {
    dataset: { key: keyOf(item), item: String(item.id), price: "" },
    draggable: editable ? "true" : null,
  });
  row._cells = {};
  const cell = (field, cls = "num") => {
    const td = el("td", { class: cls, "data-field": field, text: "—" });
    row._cells[field] = td;
    return td;
  };
  row.append(symbolCell(list, item));
  row.append(el("td", { class: "col-wide dash-name", text: item.name }));
  row.append(cell("price", "num market-price"), cell("change", "num nowrap"), cell("percent", "num nowrap"));
  row.append(cell("high", "num nowrap"), cell("low", "num nowrap"), cell("volume", "num nowrap"));
  const spark = el("td", { class: "dash-spark-cell", "data-field": "spark" });
  row.append(spark);
  row.append(noteCell(list, item));
  if (editable) {
    const actions = el(
      "td",
      { class: "dash-row-actions nowrap" },
      el("button", { type: "button", class: "btn btn-sm btn-secondary dash-icon", "data-drag": "", title: t("dragHandle", { symbol: item.symbol }), "aria-label": t("moveUp", { symbol: item.symbol }), disabled: index === 0, onclick: () => moveItem(list, item.id, -1), text: "↑" }),
      el("button", { type: "button", class: "btn btn-sm btn-secondary dash-icon", "aria-label": t("moveDown", { symbol: item.symbol }), disabled: index === count - 1, onclick: () => moveItem(list, item.id, 1), text: "↓" }),
      el("button", {
        type: "button",
        class: "btn btn-sm btn-danger-outline dash-icon",
        "aria-label": t("removeItem", { symbol: item.symbol }),
        title: t("remove"),
        "data-remove": "",
        text: "✕",
        onclick: async () => {
          try {
            await api("DELETE", watchlistUrl(list.id, `items/${item.id}/`));
            refreshList(list.id);
          } catch (error) {
            showError(root.querySelector("[data-table-error]"), error);
          }
        },
      }),
    );
    row.append(actions);
  }
  const quote = quotes.get(keyOf(item));
  if (quote) paintRow(row, quote, false);
  const closes = sparks.get(keyOf(item));
  if (closes) drawSpark(spark, item, closes);
  else loadSpark(item);
  return row;
}

function wireDrag(list, tbody) {
  let dragged = null;
  tbody.addEventListener("dragstart", (event) => {
    const row = event.target.closest("tr[data-item]");
    if (!row) return;
    dragged = row;
    row.classList.add("dash-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.dataset.item);
  });
  tbody.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const row = event.target.closest("tr[data-item]");
    if (!row || row === dragged) return;
    const box = row.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
  });
  tbody.addEventListener("drop", (event) => event.preventDefault());
  tbody.addEventListener("dragend", () => {
    if (!dragged) return;
    dragged.classList.remove("dash-dragging");
    dragged = null;
    const ids = [...tbody.rows].map((row) => Number(row.dataset.item));
    const before = list.items.map((item) => item.id);
    if (ids.join() !== before.join()) reorder(list, ids, null);
  });
}

function renderTable(list) {
  const wrap = root.querySelector("[data-table-wrap]");
  if (!wrap) return;
  if (!list.items.length) {
    wrap.replaceChildren(el("p", { class: "empty-state", text: canEdit(list) ? t("emptyEditor") : t("empty") }));
    return;
  }
  const editable = canEdit(list);
  const heads = [
    [t("symbol"), ""],
    [t("name"), "col-wide"],
    [t("lastPrice"), "num"],
    [t("change"), "num"],
    [t("percent"), "num"],
    [t("dayHigh"), "num"],
    [t("dayLow"), "num"],
    [t("volume"), "num"],
    [t("trend"), ""],
    [t("note"), ""],
  ];
  if (editable) heads.push([t("actions"), ""]);
  const tbody = el("tbody");
  list.items.forEach((item, index) => tbody.append(rowFor(list, item, index, list.items.length)));
  const table = el(
    "table",
    { class: "table market-table dash-table", "data-watchlist-table": String(list.id) },
    el("caption", { class: "visually-hidden", text: t("tableCaption", { name: list.name }) }),
    el("thead", {}, el("tr", {}, ...heads.map(([text, cls]) => el("th", { scope: "col", class: cls || null, text })))),
    tbody,
  );
  if (editable) wireDrag(list, tbody);
  wrap.replaceChildren(table);
}

function sharingPanel(list) {
  const section = el("section", { class: "panel dash-sharing", "aria-labelledby": "dash-sharing-title", "data-sharing": "" });
  section.append(el("h3", { id: "dash-sharing-title", text: t("sharing") }));
  section.append(el("p", { class: "muted small", text: t("sharingHelp") }));
  const ul = el("ul", { class: "dash-members", "data-members": "" });
  section.append(ul);
  const email = el("input", { type: "email", id: "dash-invite-email", name: "email", required: true, autocomplete: "off" });
  const role = el("select", { id: "dash-invite-role", name: "role" },
    el("option", { value: "viewer", text: t("viewer") }),
    el("option", { value: "editor", text: t("editor") }));
  const error = el("p", { class: "errorlist", role: "alert", hidden: true });
  const form = el(
    "form",
    { class: "dash-invite", novalidate: true, "data-invite-form": "" },
    el("div", { class: "field" }, el("label", { for: "dash-invite-email", text: t("inviteEmail") }), email),
    el("div", { class: "field" }, el("label", { for: "dash-invite-role", text: t("inviteRole") }), role),
    el("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("invite") }),
    error,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, null);
    try {
      await api("POST", watchlistUrl(list.id, "members/"), { email: email.value.trim(), role: role.value });
      email.value = "";
      loadMembers(list);
      refreshList(list.id);
    } catch (error_) {
      showError(error, error_);
    }
  });
  section.append(form);
  return section;
}

function renderMembers(list) {
  const ul = root.querySelector("[data-members]");
  if (!ul || !members) return;
  const shown = members.filter((m) => m.status !== "declined");
  if (!shown.length) {
    ul.replaceChildren(el("li", { class: "muted", text: t("notShared") }));
    return;
  }
  ul.replaceChildren(
    ...shown.map((member) => {
      const error = el("p", { class: "errorlist", role: "alert", hidden: true });
      const select = el(
        "select",
        {
          "aria-label": t("changeRole", { name: member.user.name }),
          onchange: async (event) => {
            try {
              await api("PATCH", watchlistUrl(list.id, `members/${member.id}/`), { role: event.target.value });
              loadMembers(list);
            } catch (error_) {
              showError(error, error_);
            }
          },
        },
        el("option", { value: "viewer", text: t("viewer"), selected: member.role === "viewer" }),
        el("option", { value: "editor", text: t("editor"), selected: member.role === "editor" }),
      );
      return el(
        "li",
        { class: "dash-member", dataset: { member: String(member.id) } },
        el("span", { class: "dash-member-name", text: member.user.name }),
        member.status === "invited" ? el("span", { class: "badge badge-warning", text: t("invited") }) : null,
        el("span", { class: "cluster" }, select,
          el("button", {
            type: "button",
            class: "btn btn-sm btn-danger-outline",
            text: t("remove"),
            onclick: async () => {
              if (!window.confirm(t("confirmRemoveMember", { name: member.user.name }))) return;
              try {
                await api("DELETE", watchlistUrl(list.id, `members/${member.id}/`));
                loadMembers(list);
              } catch (error_) {
                showError(error, error_);
              }
            },
          })),
        error,
      );
    }),
  );
}

async function loadMembers(list) {
  try {
    const data = await api("GET", watchlistUrl(list.id, "members/"));
    if (activeId !== list.id) return;
    members = data || [];
    renderMembers(list);
  } catch {
    // Shown again on the next change.
  }
}

function renderPanel() {
  const panel = root.querySelector("[data-panel]");
  const list = lists.get(activeId);
  if (!list) {
    panel.replaceChildren(el("p", { class: "empty-state", text: t("noLists") }));
    return;
  }
  const section = el(
    "section",
    { class: "dash-list", id: `watchlist-${list.id}`, "aria-labelledby": `watchlist-${list.id}-title`, dataset: { watchlist: String(list.id), role: list.role } },
    headerFor(list),
  );
  if (canEdit(list)) section.append(addForm(list));
  section.append(el("p", { class: "errorlist", role: "alert", hidden: true, "data-table-error": "" }));
  section.append(el("div", { class: "table-wrap dash-table-wrap", "data-table-wrap": "" }));
  panel.replaceChildren(section);
  renderTable(list);
  if (list.role === "owner") {
    panel.append(sharingPanel(list));
    renderMembers(list);
    loadMembers(list);
  }
}

/** Re-draw the shown list (a live change) without losing the keyboard user's place: the
 * control that had focus (e.g. "Move INFY up") gets it back when it is still there. */
function renderPanelKeepingFocus() {
  const panel = root.querySelector("[data-panel]");
  const focused = document.activeElement;
  const label = focused && panel.contains(focused) ? focused.getAttribute("aria-label") : null;
  renderPanel();
  if (label) panel.querySelector(`[aria-label="${CSS.escape(label)}"]`)?.focus();
}

function activate(id) {
  if (!lists.has(id)) id = order[0] ?? null;
  if (activeId !== id) members = null;
  activeId = id;
  renderTabs();
  renderPanel();
  if (id !== null && window.location.hash !== `#watchlist-${id}`) {
    window.history.replaceState(null, "", `#watchlist-${id}`);
  }
}

// --- state changes ------------------------------------------------------------------------

/** Take a watchlist object (REST, or a frame: `live`); older than what is shown → ignored. */
function setList(list, { by = null, live = false } = {}) {
  if (!list || typeof list.id !== "number") return false;
  const current = lists.get(list.id);
  if (current && stamp(list.updated_at) < stamp(current.updated_at)) return false;
  const fresh = !current;
  const role = list.role || (current && current.role);
  lists.set(list.id, { ...list, role });
  if (fresh) {
    order.push(list.id);
    realtime.subscribeWatchlist(list.id);
  }
  syncQuoteSubscriptions();
  if (fresh && activeId === null) {
    activate(list.id);
  } else {
    renderTabs();
    if (list.id === activeId) {
      const editing = root.querySelector(".dash-note-form, .dash-rename");
      const sameShape = current && current.role === role;
      // A live update (someone else's change, or the late echo of one of ours) keeps an open
      // note or rename form; the user's own save or cancel closes it.
      if (!(editing && sameShape && live)) renderPanelKeepingFocus();
    }
  }
  if (by && me && by.id !== me.id && list.id === activeId) showChangedBy(list.id, by.name);
  return true;
}

function showChangedBy(id, name) {
  const badge = root.querySelector(`[data-watchlist="${id}"] [data-changed-by]`);
  if (!badge) return;
  badge.textContent = t("changedBy", { name });
  badge.hidden = false;
  clearTimeout(changedTimers.get(id));
  changedTimers.set(id, setTimeout(() => {
    const current = root.querySelector(`[data-watchlist="${id}"] [data-changed-by]`);
    if (current) current.hidden = true;
  }, CHANGED_BY_MS));
}

function dropList(id) {
  const list = lists.get(id);
  if (!list) return;
  lists.delete(id);
  order = order.filter((other) => other !== id);
  realtime.unsubscribeWatchlist(id);
  syncQuoteSubscriptions();
  if (activeId === id) activate(order[0] ?? null);
  else renderTabs();
  return list;
}

async function refreshList(id) {
  try {
    setList(await api("GET", watchlistUrl(id)));
  } catch {
    // Gone or unreachable: a revoke frame or the next resync settles it.
  }
}

async function refetchAll() {
  try {
    let url = URLS.watchlists;
    const summaries = [];
    while (url) {
      const page = await api("GET", url);
      summaries.push(...((page && page.results) || []));
      url = page && page.next;
    }
    const ids = new Set(summaries.map((s) => s.id));
    for (const id of [...lists.keys()]) if (!ids.has(id)) dropList(id);
    for (const summary of summaries) {
      const current = lists.get(summary.id);
      if (!current || stamp(current.updated_at) < Date.parse(summary.updated_at) * 1000 - 999) {
        await refreshList(summary.id);
      }
    }
    order = summaries.map((s) => s.id).filter((id) => lists.has(id));
    renderTabs();
  } catch {
    // Try again on the next resync.
  }
  loadInvitations();
  fetchQuotes([...allKeys()]);
}

// --- invitations --------------------------------------------------------------------------

function renderInvitations() {
  const section = root.querySelector("[data-invitations]");
  const ul = root.querySelector("[data-invitation-list]");
  const template = root.querySelector("[data-invitation-template]");
  const format = root.querySelector("[data-invitation-format]").textContent;
  section.hidden = !invitations.length;
  ul.replaceChildren(
    ...invitations.map((invitation) => {
      const li = template.content.firstElementChild.cloneNode(true);
      li.dataset.invitation = String(invitation.id);
      li.querySelector("[data-text]").textContent = format
        .replace("{owner}", invitation.watchlist.owner.name)
        .replace("{name}", invitation.watchlist.name)
        .replace("{role}", t(invitation.role));
      const error = li.querySelector("[data-error]");
      const respond = async (accept) => {
        try {
          const data = await api("POST", `${URLS.invitations}${invitation.id}/${accept ? "accept" : "decline"}/`);
          invitations = invitations.filter((other) => other.id !== invitation.id);
          renderInvitations();
          if (accept && data) {
            setList(data);
            activate(data.id);
          }
        } catch (error_) {
          showError(error, error_);
        }
      };
      li.querySelector("[data-accept]").addEventListener("click", () => respond(true));
      li.querySelector("[data-decline]").addEventListener("click", () => respond(false));
      return li;
    }),
  );
}

/** A new or changed invitation (`watchlist.invited`): shown at once, newest first. */
function putInvitation(invitation) {
  if (!invitation || typeof invitation.id !== "number") return;
  const index = invitations.findIndex((other) => other.id === invitation.id);
  if (index >= 0) {
    invitations[index] = invitation;
  } else {
    invitations.unshift(invitation);
    announce(t("invitationArrived", { owner: invitation.watchlist.owner.name, name: invitation.watchlist.name }));
  }
  renderInvitations();
}

/** `watchlist.invitation_closed`: withdrawn, list deleted, or answered in another tab. */
function closeInvitation(frame) {
  const gone = invitations.find((other) => other.id === frame.id);
  if (!gone) return;
  invitations = invitations.filter((other) => other.id !== frame.id);
  renderInvitations();
  if (frame.reason === "withdrawn" || frame.reason === "deleted") {
    announce(t("invitationWithdrawn", { name: gone.watchlist.name }));
  }
}

async function loadInvitations() {
  try {
    const data = await api("GET", URLS.invitations);
    invitations = (data && data.results) || [];
    renderInvitations();
  } catch {
    // Keep what is shown.
  }
}

// --- wiring -------------------------------------------------------------------------------

function wireNewForm() {
  const form = root.querySelector("[data-new-form]");
  const error = form.querySelector("[data-error]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, null);
    const input = form.querySelector('input[name="name"]');
    try {
      const list = await api("POST", URLS.watchlists, { name: input.value });
      input.value = "";
      setList(list);
      activate(list.id);
    } catch (error_) {
      showError(error, error_);
    }
  });
}

// What the server has confirmed, as `<div data-dashboard data-subscribed="NSE:TCS
// watchlist:12">`: ticks published after that reach this page (tests wait for it).
const acked = new Set();

function trackSubscriptions(frame) {
  const labels = frame.topic === "quotes" ? frame.symbols || [] : [`watchlist:${frame.id}`];
  for (const label of labels) {
    if (frame.type === "subscribed") acked.add(label);
    else acked.delete(label);
  }
  root.dataset.subscribed = [...acked].join(" ");
}

function initRealtime() {
  realtime.connect();
  realtime.on("subscribed", trackSubscriptions);
  realtime.on("unsubscribed", trackSubscriptions);
  realtime.on("closed", () => {
    acked.clear();
    root.dataset.subscribed = "";
  });
  realtime.on("watchlist.revoked", (frame) => {
    acked.delete(`watchlist:${frame.id}`);
    root.dataset.subscribed = [...acked].join(" ");
  });
  realtime.on("quote.snapshot", (frame) => applyQuotes(frame.quotes || [], false));
  realtime.on("quote.tick", (frame) => applyQuotes(frame.quotes || []));
  realtime.on("watchlist.snapshot", (frame) => setList(frame.watchlist, { live: true }));
  realtime.on("watchlist.updated", (frame) => {
    const list = frame.watchlist;
    const known = list && lists.has(list.id);
    // Unknown lists arrive when this user created or joined one in another tab.
    if (!known && !(frame.change && ["created", "members_changed"].includes(frame.change.action))) return;
    if (!known && !list.role) return;
    setList(list, { by: frame.by, live: true });
    if (list && list.id === activeId && frame.change && frame.change.action === "members_changed" && list.role === "owner") {
      loadMembers(lists.get(list.id));
    }
  });
  realtime.on("watchlist.revoked", (frame) => {
    const list = dropList(frame.id);
    if (list) announce(t("revoked", { name: list.name }));
  });
  realtime.on("watchlist.invited", (frame) => putInvitation(frame.invitation));
  realtime.on("watchlist.invitation_closed", closeInvitation);
  realtime.onResync(() => refetchAll());
}

export function initDashboard(doc = document) {
  root = doc.querySelector("[data-dashboard]");
  const script = doc.getElementById("dashboard-data");
  if (!root || !script) return;
  const data = JSON.parse(script.textContent);
  S = data.strings || {};
  URLS = data.urls || {};
  me = data.me || null;
  invitations = data.invitations || [];
  initRealtime();
  for (const list of data.watchlists || []) {
    lists.set(list.id, list);
    order.push(list.id);
    realtime.subscribeWatchlist(list.id);
  }
  wireNewForm();
  renderInvitations();
  const fromHash = Number((window.location.hash.match(/^#watchlist-(\d+)$/) || [])[1]);
  activate(lists.has(fromHash) ? fromHash : order[0] ?? null);
  syncQuoteSubscriptions();
}

initDashboard();
