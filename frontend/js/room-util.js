// Helpers shared by the room pages (room-list.js, room.js and its room-*.js modules): the
// page's embedded JSON, translated texts, API addresses and REST calls (the same helpers as
// the portfolio pages), plus times and instrument keys.

import { IST } from "./format.js";

export {
  announce,
  api,
  clearFieldErrors,
  pageData,
  showFieldErrors,
  t,
  url,
} from "./portfolio-util.js";

const DAY = new Intl.DateTimeFormat("en-CA", { timeZone: IST }); // 2026-03-02
const TIME = new Intl.DateTimeFormat("en-IN", { timeZone: IST, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const DATE_TIME = new Intl.DateTimeFormat("en-IN", {
  timeZone: IST,
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const FULL = new Intl.DateTimeFormat("en-IN", { timeZone: IST, dateStyle: "full", timeStyle: "short" });

/** "14:05" today, "2 Mar, 14:05" before (India time). */
export function shortTime(iso) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return "";
  return DAY.format(at) === DAY.format(new Date()) ? TIME.format(at) : DATE_TIME.format(at);
}

export function fullTime(iso) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? "" : `${FULL.format(at)} IST`;
}

/** "NSE:RELIANCE" → { exchange: "NSE", symbol: "RELIANCE" }. */
export function splitKey(key) {
  const [exchange, ...rest] = String(key).split(":");
  return rest.length ? { exchange, symbol: rest.join(":") } : { exchange: "NSE", symbol: exchange };
}

/** What people read: "RELIANCE" for NSE, "BSE:SENSEX" otherwise. */
export function keyLabel(key) {
  const { exchange, symbol } = splitKey(key);
  return exchange === "NSE" ? symbol : `${exchange}:${symbol}`;
}

export const PAGE_URL_SAFE = /^https?:$/;

/** `text` only when it parses as an http(s) URL: the one test before any href is set. */
export function safeHttpUrl(text) {
  try {
    const parsed = new URL(text);
    return PAGE_URL_SAFE.test(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A random id for `client_id` (the server's idempotency key for a message). */
export function clientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
}

/** Characters as the server counts them (code points, after trimming). */
export function charCount(text) {
  return [...text.trim()].length;
}
