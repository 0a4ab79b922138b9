// The list of my backtests: headline figures from the page's JSON, and live status and
// progress of queued / running runs over the WebSocket (`backtest.progress`,
// `backtest.done`), re-reading the list over REST when one ends or frames were lost.

import { el } from "./api.js";
import { api, fractionPercent, pageData, plain, t, url } from "./portfolio-util.js";
import { connect, on, onResync } from "./realtime.js";

const data = pageData("backtest-list-data");
const root = document.querySelector("[data-backtest-list-page]");

const FORMATS = {
  net_return: fractionPercent,
  cagr: fractionPercent,
  sharpe: plain,
  max_drawdown: fractionPercent,
  trades: (value) => (value === null || value === undefined ? t("none") : String(value)),
};

function paint(run) {
  const row = root.querySelector(`[data-run="${run.id}"]`);
  if (!row) return;
  row.dataset.status = run.status;
  const active = run.status === "queued" || run.status === "running";
  row.querySelector("[data-run-status]").replaceChildren(
    el("span", { class: `badge bt-status bt-status-${run.status}`, text: t(`status_${run.status}`) }),
    active ? el("progress", { class: "bt-progress-mini", max: "100", value: String(run.progress || 0), "aria-label": t("progress", { progress: run.progress || 0 }) }) : null,
  );
  for (const [name, format] of Object.entries(FORMATS)) {
    const cell = row.querySelector(`[data-metric="${name}"]`);
    if (cell) cell.textContent = run.summary ? format(run.summary[name]) : "";
  }
}

async function refetch() {
  try {
    const page = await api("GET", url("backtests"));
    for (const run of page.results || []) paint(run);
  } catch {
    // The list stays as it is; the next event or a reload shows the change.
  }
}

if (root && data) {
  for (const run of data.runs) paint(run);
  if (data.runs.some((run) => run.status === "queued" || run.status === "running")) {
    on("backtest.progress", (frame) => {
      const run = data.runs.find((r) => r.id === frame.id);
      if (run) paint(Object.assign(run, { status: frame.status, progress: frame.progress }));
    });
    on("backtest.done", refetch);
    onResync(refetch);
    connect();
  }
}
