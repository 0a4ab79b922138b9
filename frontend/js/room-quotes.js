// Live quotes for the room page: the `$SYMBOL` chips in messages, the shared watchlist table
// and the chart's last candle all read this one store.
//
// `want(keys)` / `release(keys)` count users per instrument key ("NSE:RELIANCE") and keep the
// shared socket's quote subscription to exactly the keys in use (realtime.js resubscribes on
// reconnect); a key seen for the first time is also fetched over REST so it shows a price
// before the next tick. `quote.snapshot` / `quote.tick` frames update the store and call the
// listeners with the keys that changed. The server's acks are mirrored on the page root as
// `data-quotes="NSE:RELIANCE NSE:TCS"` (tests wait for it).

import * as realtime from "./realtime.js";
import { api, splitKey, url } from "./room-util.js";

const CHUNK = 200; // the quotes API's limit per call

export class QuoteStore {
  constructor(root) {
    this.root = root;
    this.quotes = new Map(); // key -> quote object (docs/websocket.md)
    this.counts = new Map(); // key -> users on this page
    this.listeners = new Set();
    this.acked = new Set();
    realtime.on("quote.snapshot", (frame) => this.apply(frame.quotes || []));
    realtime.on("quote.tick", (frame) => this.apply(frame.quotes || []));
    realtime.on("subscribed", (frame) => this.track(frame, true));
    realtime.on("unsubscribed", (frame) => this.track(frame, false));
    realtime.on("closed", () => {
      this.acked.clear();
      this.showAcked();
    });
    realtime.onResync(() => this.fetch([...this.counts.keys()]));
  }

  static keyOf(quote) {
    return `${quote.exchange || "NSE"}:${quote.symbol}`;
  }

  get(key) {
    return this.quotes.get(key) || null;
  }

  /** Call `fn(changedKeys)` after quotes change. Returns an off(). */
  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  want(keys) {
    const fresh = [];
    for (const key of keys) {
      const count = this.counts.get(key) || 0;
      this.counts.set(key, count + 1);
      if (!count) fresh.push(key);
    }
    if (fresh.length) {
      realtime.subscribeQuotes(fresh);
      this.fetch(fresh);
    }
  }

  release(keys) {
    const gone = [];
    for (const key of keys) {
      const count = this.counts.get(key) || 0;
      if (count <= 1) {
        this.counts.delete(key);
        if (count) gone.push(key);
      } else {
        this.counts.set(key, count - 1);
      }
    }
    if (gone.length) realtime.unsubscribeQuotes(gone);
  }

  apply(quotes) {
    const changed = new Set();
    for (const quote of quotes) {
      const key = QuoteStore.keyOf(quote);
      if (!this.counts.has(key)) continue;
      const before = this.quotes.get(key);
      if (before && before.at && quote.at && Date.parse(quote.at) < Date.parse(before.at)) continue;
      this.quotes.set(key, quote);
      changed.add(key);
    }
    if (!changed.size) return;
    for (const fn of [...this.listeners]) fn(changed);
  }

  async fetch(keys) {
    const byExchange = new Map();
    for (const key of keys) {
      const { exchange, symbol } = splitKey(key);
      if (!byExchange.has(exchange)) byExchange.set(exchange, []);
      byExchange.get(exchange).push(symbol);
    }
    for (const [exchange, symbols] of byExchange) {
      for (let i = 0; i < symbols.length; i += CHUNK) {
        const params = new URLSearchParams({ symbols: symbols.slice(i, i + CHUNK).join(","), exchange });
        try {
          const body = await api("GET", `${url("quotes")}?${params}`);
          this.apply((body && body.quotes) || []);
        } catch {
          // The socket (or the next resync) fills the gap.
        }
      }
    }
  }

  track(frame, subscribed) {
    if (frame.topic !== "quotes" || !Array.isArray(frame.symbols)) return;
    for (const key of frame.symbols) {
      if (subscribed) this.acked.add(key);
      else this.acked.delete(key);
    }
    this.showAcked();
  }

  showAcked() {
    this.root.dataset.quotes = [...this.acked].sort().join(" ");
  }
}
