// Bar times for the instrument chart: pure functions, no DOM, no chart.
//
// Times are epoch seconds (UTC). The chart itself shows epoch + IST_SHIFT so that the
// library's UTC axis reads India time (IST has no DST).

export const IST_SHIFT = 19800; // seconds
const IST_OFFSET_MIN = 330;
const SESSION_OPEN_MIN = 9 * 60 + 15; // 09:15 IST
const SESSION_LAST_MIN = 15 * 60 + 29; // the last minute before the 15:30 close
export const INTRADAY_MINUTES = { "1m": 1, "3m": 3, "5m": 5, "15m": 15, "30m": 30, "1h": 60 };

const mod = (a, n) => ((a % n) + n) % n;

export const toChart = (epoch) => epoch + IST_SHIFT;
export const fromChart = (time) => time - IST_SHIFT;

/** Start (epoch s) of the `timeframe` bar holding `seconds`, as apps/market/candle_store
 * buckets candles: intraday bars from the 09:15 IST open (1h: 09:15, 10:15, …, 15:15),
 * daily bars at 00:00 IST, weekly bars on Monday 00:00 IST. */
export function bucketStart(seconds, timeframe) {
  const istMin = Math.floor(seconds / 60) + IST_OFFSET_MIN;
  const day = istMin - mod(istMin, 1440);
  let start;
  if (timeframe in INTRADAY_MINUTES) {
    const size = INTRADAY_MINUTES[timeframe];
    const offset = istMin - day - SESSION_OPEN_MIN;
    start = day + SESSION_OPEN_MIN + Math.floor(offset / size) * size;
  } else if (timeframe === "1d") {
    start = day;
  } else if (timeframe === "1w") {
    const dayIndex = day / 1440;
    const weekday = mod(dayIndex + 3, 7); // 1970-01-01 was a Thursday; Monday = 0
    start = (dayIndex - weekday) * 1440;
  } else {
    throw new Error(`Unknown timeframe ${timeframe}`);
  }
  return (start - IST_OFFSET_MIN) * 60;
}

/** Where a drawing point stored at `seconds` sits on `timeframe`: the start of the bar
 * holding it. On intraday timeframes a time outside the 09:15–15:30 session (e.g. a point
 * drawn on a daily bar, 00:00 IST) goes to that day's first or last bar. */
export function snapTime(seconds, timeframe) {
  if (!(timeframe in INTRADAY_MINUTES)) return bucketStart(seconds, timeframe);
  const istMin = Math.floor(seconds / 60) + IST_OFFSET_MIN;
  const minute = mod(istMin, 1440);
  const inSession = Math.min(Math.max(minute, SESSION_OPEN_MIN), SESSION_LAST_MIN);
  return bucketStart((istMin - minute + inSession - IST_OFFSET_MIN) * 60, timeframe);
}

/** Index of the first of the ascending `times` that is >= `time` (times.length if none). */
function firstAtOrAfter(times, time) {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A trend line's points ({time, price}, epoch s) placed on the loaded bars of `timeframe`
 * (`barTimes`: their epoch starts, ascending): each point snapped to its bar (or the next
 * loaded bar, over a holiday or a gap); an end outside the loaded bars is cut at the first or
 * last bar, its price interpolated in time. Returns [{time, price}] in time order: two points,
 * one when both ends fall on the same bar, none when the line misses the loaded bars. */
export function placeLine(points, timeframe, barTimes) {
  if (!barTimes.length) return [];
  const [a, b] = points
    .map((point) => ({ time: snapTime(point.time, timeframe), price: Number(point.price) }))
    .sort((p, q) => p.time - q.time);
  const first = barTimes[0];
  const last = barTimes[barTimes.length - 1];
  if (b.time < first || a.time > last) return [];
  const at = (time) =>
    b.time === a.time ? a.price : a.price + ((b.price - a.price) * (time - a.time)) / (b.time - a.time);
  const onBar = (time) => {
    const clipped = Math.min(Math.max(time, first), last);
    const bar = barTimes[firstAtOrAfter(barTimes, clipped)];
    return { time: bar, price: at(clipped) };
  };
  const start = onBar(a.time);
  const end = onBar(b.time);
  return start.time === end.time ? [start] : [start, end];
}
