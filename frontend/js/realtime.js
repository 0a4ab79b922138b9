// The one WebSocket client every page shares (protocol: docs/websocket.md).
//
//   import { connect, on, onResync, subscribeQuotes } from "./realtime.js";
//   connect();                                   // idempotent: one socket per tab
//   on("quote.tick", (frame) => apply(frame.quotes));
//   onResync(() => refetchOverRest());           // frames were lost, or we reconnected
//   subscribeQuotes(["RELIANCE", "BSE:SENSEX"]);
//
// Subscriptions are remembered and re-sent whenever the socket (re)opens. The server's
// `seq` numbers every frame; a gap means frames were lost, so `onResync` handlers run and
// pages re-fetch their state over REST. Reconnects back off exponentially with jitter
// (capped at 30 s) and stop for good on 4401/4001 (signed out). A header element
// `[data-rt-status]` shows "Live", "Reconnecting…", "Prices delayed" or "Signed out".

export const MAX_RECONNECT_MS = 30000;
const BASE_RECONNECT_MS = 1000;
const PING_MS = 25000;
const STOP_CODES = new Set([4401, 4001]);

const handlers = new Map(); // type -> Set(fn)
const resyncHandlers = new Set();
const statusHandlers = new Set();
const quoteSymbols = new Map(); // symbol as given -> number of subscribers
// Topic subscriptions other than quotes, counted per caller: "topic|key" ->
// {topic, fields (the frame's own fields), prefix (of its refs), count}.
const counted = new Map();

let socket = null;
let started = false;
let stopped = false;
let attempts = 0;
let reconnectTimer = null;
let pingTimer = null;
let lastSeq = 0;
let everOpened = false;
let feedStale = false;
let state = "idle"; // idle | connecting | live | reconnecting | signed-out
let refCounter = 0;

function nextRef(prefix) {
  refCounter += 1;
  return `${prefix}${refCounter}`;
}

/** The socket URL: `<body data-ws-url>`, or same-origin `/ws/` when that is empty. */
export function socketUrl() {
  const configured = (document.body && document.body.dataset.wsUrl) || "";
  if (configured) return configured;
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws/`;
}

/** Delay before reconnect attempt `count` (0-based): 1 s doubling, ±20 % jitter, ≤ 30 s. */
export function reconnectDelay(count) {
  const plain = Math.min(MAX_RECONNECT_MS, BASE_RECONNECT_MS * 2 ** count);
  return Math.min(MAX_RECONNECT_MS, Math.round(plain * (0.8 + Math.random() * 0.4)));
}

// --- status -------------------------------------------------------------------------------

function statusElement() {
  return document.querySelector("[data-rt-status]");
}

function renderStatus() {
  const element = statusElement();
  let shown = state;
  if (state === "live" && feedStale) shown = "delayed";
  if (element) {
    const key = `label-${shown}`.replace(/-([a-z])/g, (_, c) => c.toUpperCase()); // labelSignedOut
    const label = element.dataset[key];
    element.hidden = state === "idle";
    element.dataset.state = shown;
    const text = element.querySelector("[data-rt-status-text]") || element;
    text.textContent = label || shown;
  }
  for (const fn of statusHandlers) fn(shown);
}

function setState(next) {
  state = next;
  renderStatus();
}

/** The state shown in the header: idle, connecting, live, delayed, reconnecting, signed-out. */
export function status() {
  return state === "live" && feedStale ? "delayed" : state;
}

export function onStatus(fn) {
  statusHandlers.add(fn);
  return () => statusHandlers.delete(fn);
}

export function isLive() {
  return state === "live";
}

// --- handlers -----------------------------------------------------------------------------

/** Call `fn(frame)` for every server frame of `type` ("*" for all). Returns an off(). */
export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  return () => handlers.get(type).delete(fn);
}

/** Call `fn(reason)` when state may have been missed ("gap" or "reconnect"): re-fetch. */
export function onResync(fn) {
  resyncHandlers.add(fn);
  return () => resyncHandlers.delete(fn);
}

function dispatch(frame) {
  for (const key of [frame.type, "*"]) {
    const set = handlers.get(key);
    if (!set) continue;
    for (const fn of [...set]) {
      try {
        fn(frame);
      } catch (error) {
        console.error("realtime handler failed", error); // eslint-disable-line no-console
      }
    }
  }
}

function resync(reason) {
  for (const fn of [...resyncHandlers]) {
    try {
      fn(reason);
    } catch (error) {
      console.error("realtime resync handler failed", error); // eslint-disable-line no-console
    }
  }
}

// --- the socket ---------------------------------------------------------------------------

/** Send one client frame now; false when the socket is not open (nothing is queued). */
export function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) {
    socket.send(JSON.stringify(frame));
    return true;
  }
  return false; // re-sent from the subscription sets on open
}

function resubscribe() {
  if (quoteSymbols.size) {
    send({ type: "subscribe", topic: "quotes", symbols: [...quoteSymbols.keys()], ref: nextRef("s") });
  }
  for (const { topic, fields, prefix } of counted.values()) {
    send({ type: "subscribe", topic, ...fields, ref: nextRef(prefix) });
  }
}

function onMessage(event) {
  let frame;
  try {
    frame = JSON.parse(event.data);
  } catch {
    return;
  }
  if (!frame || typeof frame.type !== "string") return;
  if (typeof frame.seq === "number") {
    const gap = lastSeq && frame.seq !== lastSeq + 1;
    lastSeq = frame.seq;
    if (gap) {
      resync("gap");
      resubscribe();
    }
  }
  if (frame.type === "hello") {
    attempts = 0;
    if (frame.feed) feedStale = Boolean(frame.feed.stale);
    setState("live");
  } else if (frame.type === "feed.status") {
    feedStale = Boolean(frame.stale);
    renderStatus();
  }
  dispatch(frame);
}

function scheduleReconnect() {
  clearTimeout(reconnectTimer);
  setState("reconnecting");
  reconnectTimer = setTimeout(open, reconnectDelay(attempts));
  attempts += 1;
}

function open() {
  clearTimeout(reconnectTimer);
  if (stopped) return;
  let ws;
  try {
    ws = new WebSocket(socketUrl());
  } catch {
    scheduleReconnect();
    return;
  }
  socket = ws;
  lastSeq = 0; // seq restarts at 1 on every connection
  if (state !== "reconnecting") setState("connecting");
  ws.addEventListener("open", () => {
    if (socket !== ws) return;
    const again = everOpened;
    everOpened = true;
    resubscribe();
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ type: "ping", ref: nextRef("p") }), PING_MS);
    if (again) resync("reconnect"); // ticks may have been missed while we were away
  });
  ws.addEventListener("message", (event) => {
    if (socket === ws) onMessage(event);
  });
  ws.addEventListener("close", (event) => {
    if (socket !== ws) return;
    socket = null;
    clearInterval(pingTimer);
    if (STOP_CODES.has(event.code)) {
      stopped = true;
      setState("signed-out");
      dispatch({ type: "closed", code: event.code });
      return;
    }
    dispatch({ type: "closed", code: event.code });
    if (!stopped) scheduleReconnect();
  });
  // "error" is always followed by "close", which reconnects.
}

function onVisibility() {
  // A phone that slept may hold a dead socket: reconnect at once when the tab returns.
  if (document.hidden || stopped) return;
  if (!socket && state === "reconnecting") {
    attempts = 0;
    open();
  }
}

/** Open the tab's socket once; later calls return the same client. */
export function connect() {
  if (!started && typeof WebSocket !== "undefined") {
    started = true;
    document.addEventListener("visibilitychange", onVisibility);
    open();
  }
  return {
    on,
    onResync,
    subscribeQuotes,
    unsubscribeQuotes,
    subscribeWatchlist,
    subscribePortfolio,
    isLive,
  };
}

/** Close for good (e.g. in tests); subscriptions are kept but nothing reconnects. */
export function disconnect() {
  stopped = true;
  clearTimeout(reconnectTimer);
  clearInterval(pingTimer);
  if (socket) socket.close(1000);
  socket = null;
  setState("idle");
}

// --- subscriptions ------------------------------------------------------------------------

/** Subscribe to quotes of `symbols` ("TCS" = NSE, or "BSE:SENSEX"); counted per caller. */
export function subscribeQuotes(symbols) {
  const fresh = [];
  for (const symbol of symbols) {
    const count = quoteSymbols.get(symbol) || 0;
    quoteSymbols.set(symbol, count + 1);
    if (!count) fresh.push(symbol);
  }
  if (fresh.length) send({ type: "subscribe", topic: "quotes", symbols: fresh, ref: nextRef("s") });
}

export function unsubscribeQuotes(symbols) {
  const gone = [];
  for (const symbol of symbols) {
    const count = quoteSymbols.get(symbol) || 0;
    if (count <= 1) {
      if (count) gone.push(symbol);
      quoteSymbols.delete(symbol);
    } else {
      quoteSymbols.set(symbol, count - 1);
    }
  }
  if (gone.length) send({ type: "unsubscribe", topic: "quotes", symbols: gone, ref: nextRef("u") });
}

/** The first caller for `topic` + `key` sends the subscription (re-sent after every
 * reconnect); the last one to leave sends the unsubscription. */
function subscribeCounted(topic, key, fields, prefix) {
  const id = `${topic}|${key}`;
  const entry = counted.get(id);
  if (entry) {
    entry.count += 1;
    return;
  }
  counted.set(id, { topic, fields, prefix, count: 1 });
  send({ type: "subscribe", topic, ...fields, ref: nextRef(prefix) });
}

function unsubscribeCounted(topic, key) {
  const id = `${topic}|${key}`;
  const entry = counted.get(id);
  if (!entry) return;
  if (entry.count > 1) {
    entry.count -= 1;
    return;
  }
  counted.delete(id);
  send({ type: "unsubscribe", topic, ...entry.fields, ref: nextRef("u") });
}

export function subscribeWatchlist(id) {
  subscribeCounted("watchlist", id, { id }, "w");
}

export function unsubscribeWatchlist(id) {
  unsubscribeCounted("watchlist", id);
}

/** Live values of one of the user's portfolios: `portfolio.update` frames (the first is the
 * full current state). Counted per caller like the other topics; re-sent on reconnect. */
export function subscribePortfolio(id) {
  subscribeCounted("portfolio", id, { id }, "f");
}

export function unsubscribePortfolio(id) {
  unsubscribeCounted("portfolio", id);
}

/** A room the user is a member of: `subscribed`, then `room.snapshot` (again after every
 * reconnect), then the room's `room.*` events. Counted per caller; re-sent on reconnect. */
export function subscribeRoom(id) {
  subscribeCounted("room", id, { id }, "r");
}

export function unsubscribeRoom(id) {
  unsubscribeCounted("room", id);
}

/** Trading signals: all (`{}`), one instrument (`{symbol: "NSE:RELIANCE"}`) or one strategy
 * (`{strategy: "sma_crossover"}`): `signal.snapshot` (again after every reconnect), then
 * `signal.new` and `signal.resolved`. Counted per caller; re-sent on reconnect. */
export function subscribeSignals(filter = {}) {
  subscribeCounted("signals", signalsKey(filter), signalsFields(filter), "g");
}

export function unsubscribeSignals(filter = {}) {
  unsubscribeCounted("signals", signalsKey(filter));
}

function signalsFields({ symbol, strategy } = {}) {
  if (symbol) return { symbol };
  return strategy ? { strategy } : {};
}

function signalsKey(filter) {
  const fields = signalsFields(filter);
  return fields.symbol ? `symbol:${fields.symbol}` : fields.strategy ? `strategy:${fields.strategy}` : "all";
}

// The server drops a revoked watchlist itself; forget it so reconnects do not re-ask.
on("watchlist.revoked", (frame) => counted.delete(`watchlist|${frame.id}`));
// Same for a room the user was removed from or left.
on("room.revoked", (frame) => counted.delete(`room|${frame.id}`));
