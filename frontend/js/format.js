// Number and time formats shared by every page: rupees with Indian digit grouping
// (₹1,23,456.00), signed changes, and clock times in IST whatever the browser's zone.

export const IST = "Asia/Kolkata";
export const PRICE = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR" });
export const CHANGE = new Intl.NumberFormat("en-IN", {
  style: "currency",
  currency: "INR",
  signDisplay: "exceptZero",
});
export const PERCENT = new Intl.NumberFormat("en-IN", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  signDisplay: "exceptZero",
});
export const VOLUME = new Intl.NumberFormat("en-IN", { maximumFractionDigits: 0 });
export const CLOCK = new Intl.DateTimeFormat("en-GB", {
  timeZone: IST,
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
export const ARROWS = { up: "▲", down: "▼", flat: "▬" };

/** "up", "down" or "flat" for a change in rupees (to the paisa). */
export function direction(change) {
  const paise = Math.round(change * 100);
  if (paise > 0) return "up";
  if (paise < 0) return "down";
  return "flat";
}
