// The alerts page (templates/alerts/alerts.html): rules with their status, a form for single
// and multi-condition rules, pause/resume/delete, history per rule. Firings arrive live as
// `alert.fired` frames (docs/websocket.md) over the shared WebSocket client.

import { apiRequest, el } from "./api.js";
import * as realtime from "./realtime.js";

const PARAMS = {
  price_above: ["value"], price_below: ["value"], crossing_up: ["value"], crossing_down: ["value"],
  change_percent: ["value", "direction", "window_minutes"], volume_above: ["value"],
  volume_multiple: ["multiple", "timeframe", "period"], rsi_above: ["value", "timeframe", "period"],
  rsi_below: ["value", "timeframe", "period"], macd_cross_up: ["timeframe"],
  macd_cross_down: ["timeframe"], price_cross_sma: ["direction", "timeframe", "period"],
  price_cross_ema: ["direction", "timeframe", "period"],
  bollinger_exit: ["band", "timeframe", "period"], ratio_above: ["other", "value"],
  ratio_below: ["other", "value"],
};
const NUMERIC = new Set(["period", "window_minutes"]);

let S = {};
let URLS = {};
let rules = [];
let page = null;

function t(key, params = {}) {
  return (S[key] || key).replace(/\{(\w+)\}/g, (_, name) => params[name] ?? "");
}

function api(method, url, body) {
  return apiRequest(method, url, body, { generic: t("genericError") });
}

const ruleUrl = (id, suffix = "") => URLS.alert.replace("{id}", id) + suffix;
const statusText = (status) => t(status === "fired" ? "firedStatus" : status);

// --- list ---------------------------------------------------------------------------------

function renderRule(rule) {
  const history = el("ol", { class: "alerts-history", "data-history": rule.id, hidden: true });
  const toggle = rule.status === "active"
    ? el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("pause"), "data-pause": rule.id })
    : el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("resume"), "data-resume": rule.id });
  return el("li", { class: "alerts-rule", "data-rule": rule.id, "data-status": rule.status }, [
    el("span", { class: "alerts-name", text: rule.name }),
    el("span", { class: `alerts-status alerts-status-${rule.status}`, text: statusText(rule.status), "data-rule-status": "" }),
    toggle,
    el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("history"), "data-history-toggle": rule.id }),
    el("button", { type: "button", class: "btn btn-sm btn-danger", text: t("delete"), "data-delete": rule.id }),
    history,
  ]);
}

function renderList() {
  const list = page.querySelector("[data-alerts-list]");
  list.replaceChildren(...(rules.length ? rules.map(renderRule) : [el("li", { class: "alerts-empty", text: t("empty") })]));
}

function replaceRule(rule) {
  const position = rules.findIndex((r) => r.id === rule.id);
  if (position >= 0) rules[position] = rule;
  else rules.unshift(rule);
  renderList();
}

async function showHistory(id) {
  const box = page.querySelector(`[data-history="${id}"]`);
  if (!box.hidden) { box.hidden = true; return; }
  const data = await api("GET", ruleUrl(id, "events/"));
  box.replaceChildren(...(data.results.length
    ? data.results.map((e) => el("li", { text: `${new Date(e.fired_at).toLocaleString()} · ${e.symbol} · ${e.values.price ?? ""}` }))
    : [el("li", { text: t("noHistory") })]));
  box.hidden = false;
}

async function onListClick(event) {
  const button = event.target.closest("button");
  if (!button) return;
  try {
    if (button.dataset.pause) replaceRule(await api("POST", ruleUrl(button.dataset.pause, "pause/")));
    else if (button.dataset.resume) replaceRule(await api("POST", ruleUrl(button.dataset.resume, "resume/")));
    else if (button.dataset.historyToggle) await showHistory(button.dataset.historyToggle);
    else if (button.dataset.delete) {
      const rule = rules.find((r) => String(r.id) === button.dataset.delete);
      if (!window.confirm(t("confirmDelete", { name: rule ? rule.name : "" }))) return;
      await api("DELETE", ruleUrl(button.dataset.delete));
      rules = rules.filter((r) => String(r.id) !== button.dataset.delete);
      renderList();
    }
  } catch (error) {
    announce(error.message);
  }
}

// --- form ---------------------------------------------------------------------------------

function showParams(row) {
  const wanted = PARAMS[row.querySelector("[data-type]").value] || [];
  for (const label of row.querySelectorAll("[data-param]")) label.hidden = !wanted.includes(label.dataset.param);
}

function addCondition() {
  const template = page.querySelector("[data-condition-template]");
  const row = template.content.firstElementChild.cloneNode(true);
  const remove = el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("removeCondition") });
  remove.addEventListener("click", () => { row.remove(); });
  row.append(remove);
  row.querySelector("[data-type]").addEventListener("change", () => showParams(row));
  page.querySelector("[data-conditions]").append(row);
  showParams(row);
}

function readCondition(row) {
  const type = row.querySelector("[data-type]").value;
  const condition = { type };
  for (const name of PARAMS[type]) {
    const input = row.querySelector(`[name="${name}"]`);
    const value = input.value.trim();
    if (value === "") continue;
    // "period" doubles as "bars" for the volume average.
    const key = type === "volume_multiple" && name === "period" ? "bars" : name;
    condition[key] = NUMERIC.has(name) ? Number(value) : value;
  }
  return condition;
}

function showModeParams(form) {
  const mode = form.querySelector("[data-mode]").value;
  for (const label of form.querySelectorAll("[data-mode-param]")) label.hidden = label.dataset.modeParam !== mode;
}

function showErrors(form, fields) {
  const rows = [...form.querySelectorAll("[data-condition]")];
  for (const box of form.querySelectorAll("[data-condition-error]")) box.hidden = true;
  const general = [];
  for (const [name, messages] of Object.entries(fields)) {
    const match = name.match(/^conditions\.(\d+)\.(\w+)$/);
    if (match && rows[Number(match[1])]) {
      const box = rows[Number(match[1])].querySelector("[data-condition-error]");
      box.textContent = `${match[2]}: ${messages.join(" ")}`;
      box.hidden = false;
    } else general.push(`${name}: ${messages.join(" ")}`);
  }
  const box = form.querySelector("[data-form-error]");
  box.textContent = general.join(" · ");
  box.hidden = !general.length;
}

async function onSubmit(event) {
  event.preventDefault();
  const form = event.target;
  const data = new FormData(form);
  const mode = data.get("trigger_mode");
  const body = {
    symbol: String(data.get("symbol") || "").trim(),
    conditions: [...form.querySelectorAll("[data-condition]")].map(readCondition),
    combine: data.get("combine"),
    trigger_mode: mode,
    channels: data.getAll("channels"),
    priority: data.get("priority"),
  };
  if (data.get("name")) body.name = data.get("name");
  if (data.get("message")) body.message = data.get("message");
  if (data.get("share_room")) body.share_room = Number(data.get("share_room"));
  if (mode === "once_per_bar") body.bar_timeframe = data.get("bar_timeframe");
  if (mode === "every_time") body.cooldown_seconds = Number(data.get("cooldown_seconds") || 0);
  if (data.get("expires_at")) body.expires_at = new Date(data.get("expires_at")).toISOString();
  try {
    const rule = await api("POST", URLS.alerts, body);
    showErrors(form, {});
    replaceRule(rule);
    announce(t("created"));
  } catch (error) {
    showErrors(form, Object.keys(error.fields).length ? error.fields : { error: [error.message] });
  }
}

let suggestTimer = null;
function suggest(input) {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(async () => {
    const query = input.value.trim();
    if (query.length < 1) return;
    try {
      const data = await api("GET", `${URLS.instruments}?search=${encodeURIComponent(query)}&page_size=10`);
      const options = page.querySelector("[data-symbol-options]");
      options.replaceChildren(...(data.results || []).map((i) => el("option", { value: i.symbol, text: i.name })));
    } catch { /* suggestions are a convenience */ }
  }, 150);
}

// --- live ---------------------------------------------------------------------------------

function announce(text) {
  const live = page.querySelector("[data-alerts-live]");
  live.textContent = text;
}

function onFired(frame) {
  announce(t("fired", { message: frame.event.message }));
  const rule = rules.find((r) => r.id === frame.alert.id);
  if (rule) {
    rule.status = frame.alert.status;
    rule.last_fired_at = frame.event.fired_at;
    renderList();
  }
}

export function init() {
  page = document.querySelector("[data-alerts-page]");
  if (!page) return;
  const data = JSON.parse(document.getElementById("alerts-data").textContent);
  S = data.strings;
  URLS = data.urls;
  rules = data.rules;
  renderList();
  page.querySelector("[data-alerts-list]").addEventListener("click", onListClick);
  const form = page.querySelector("[data-alerts-form]");
  form.addEventListener("submit", onSubmit);
  form.querySelector("[data-mode]").addEventListener("change", () => showModeParams(form));
  form.querySelector("[data-symbol]").addEventListener("input", (e) => suggest(e.target));
  page.querySelector("[data-add-condition]").addEventListener("click", addCondition);
  addCondition();
  showModeParams(form);
  realtime.connect();
  realtime.on("alert.fired", onFired);
  realtime.onResync(async () => {
    try { rules = (await api("GET", URLS.alerts)).results; renderList(); } catch { /* next resync */ }
  });
}

init();
