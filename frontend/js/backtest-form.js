// The "New backtest" form: the strategy's description and parameter inputs (defaults and
// bounds from the page's JSON), the kind switch (params for single/portfolio, a grid of values
// for a sweep), instrument chips picked with the shared symbol combobox, and the post to
// POST /api/v1/backtests/ — the same body the REST API documents. Field errors come back
// keyed as the inputs are named ("params.fast", "config.stop_atr").

import { el } from "./api.js";
import { announce, api, clearFieldErrors, pageData, showFieldErrors, t, url } from "./portfolio-util.js";
import { symbolCombobox } from "./symbol-search.js";

const MAX_COMBOS = 500;
const NUMBER_FIELDS = new Set([
  "config.initial_capital",
  "config.fixed_amount",
  "config.percent_of_equity",
  "config.risk_percent",
  "config.atr_period",
  "config.slippage_bps",
  "windows",
  "in_sample",
]);
const NULLABLE_NUMBERS = new Set(["config.stop_atr", "config.target_r", "config.max_bars"]);

const data = pageData("backtest-form-data");
const root = document.querySelector("[data-backtest-form-page]");
const form = root && root.querySelector("[data-backtest-form]");
const symbols = [...((data && data.initial.symbols) || [])];

function strategy() {
  const key = form.elements.strategy.value;
  return data.strategies.find((s) => s.key === key) || data.strategies[0];
}

function kind() {
  return form.querySelector('input[name="kind"]:checked').value;
}

function paramField(prefix, param, value, help) {
  const id = `bt-${prefix}-${param.name}`;
  return el(
    "div",
    { class: "field" },
    el("label", { for: id, text: param.name }),
    el("input", { type: "text", id, name: `${prefix}.${param.name}`, inputmode: "decimal", value: String(value), "aria-describedby": `${id}-help ${id}-error` }),
    el("span", { class: "helptext", id: `${id}-help`, text: help }),
    el("p", { class: "errorlist", id: `${id}-error`, role: "alert", dataset: { errorFor: `${prefix}.${param.name}` }, hidden: true }),
  );
}

function drawParams() {
  const chosen = strategy();
  root.querySelector("[data-strategy-description]").textContent = chosen.description;
  root.querySelector("[data-params]").replaceChildren(
    ...chosen.params.map((p) => paramField("params", p, p.default, t("defaultBounds", { default: p.default, min: p.minimum, max: p.maximum }))),
  );
  root.querySelector("[data-grid]").replaceChildren(
    ...chosen.params.map((p) => paramField("grid", p, p.default, t("gridHelp", { min: p.minimum, max: p.maximum }))),
  );
  drawCombos();
}

function gridValues(input) {
  return input.value
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((v) => (Number.isFinite(Number(v)) ? Number(v) : v));
}

function drawCombos() {
  let combos = 1;
  for (const input of root.querySelectorAll("[data-grid] input")) combos *= Math.max(1, new Set(gridValues(input)).size);
  root.querySelector("[data-combos]").textContent = t("combos", { n: combos, max: MAX_COMBOS });
}

function drawKind() {
  const current = kind();
  root.querySelector("[data-params-box]").hidden = current === "sweep";
  root.querySelector("[data-grid-box]").hidden = current !== "sweep";
  for (const box of root.querySelectorAll("[data-only-kinds]")) box.hidden = !box.dataset.onlyKinds.split(" ").includes(current);
  root.querySelector("[data-symbol-help-single]").hidden = current === "portfolio";
  root.querySelector("[data-symbol-help-portfolio]").hidden = current !== "portfolio";
  if (current !== "portfolio" && symbols.length > 1) symbols.splice(1);
  drawSymbols();
}

function drawSizing() {
  const sizing = form.elements["config.sizing"].value;
  for (const box of root.querySelectorAll("[data-only-sizing]")) box.hidden = box.dataset.onlySizing !== sizing;
}

function drawSymbols() {
  root.querySelector("[data-symbols]").replaceChildren(
    ...symbols.map((symbol) =>
      el(
        "li",
        { class: "bt-chip", dataset: { symbol } },
        el("span", { text: symbol }),
        el("button", {
          type: "button",
          class: "bt-chip-remove",
          "aria-label": t("removeSymbol", { symbol }),
          text: "×",
          onclick: () => {
            symbols.splice(symbols.indexOf(symbol), 1);
            drawSymbols();
          },
        }),
      ),
    ),
  );
}

function addSymbol(symbol) {
  if (!symbol || symbols.includes(symbol)) return;
  if (kind() !== "portfolio") symbols.splice(0);
  symbols.push(symbol);
  drawSymbols();
}

function numberOrText(value) {
  const trimmed = value.trim();
  if (trimmed === "") return undefined;
  return Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function setPath(target, dotted, value) {
  const parts = dotted.split(".");
  let box = target;
  for (const part of parts.slice(0, -1)) box = box[part] ??= {};
  box[parts.at(-1)] = value;
}

/** The request body, shaped as apps/signals/run_serializers.BacktestRunInputSerializer. */
export function body() {
  const current = kind();
  const out = { kind: current, strategy: form.elements.strategy.value, timeframe: form.elements.timeframe.value, name: form.elements.name.value.trim() };
  const universe = form.elements.universe;
  if (current === "portfolio" && universe.checked) out.universe = universe.value;
  else out.instruments = [...symbols];
  for (const name of ["start", "end"]) if (form.elements[name].value) out[name] = form.elements[name].value;
  if (current === "sweep") {
    out.grid = {};
    for (const input of root.querySelectorAll("[data-grid] input")) {
      const values = gridValues(input);
      if (values.length) out.grid[input.name.slice("grid.".length)] = values;
    }
  } else {
    out.params = {};
    for (const input of root.querySelectorAll("[data-params] input")) {
      const value = numberOrText(input.value);
      if (value !== undefined) out.params[input.name.slice("params.".length)] = value;
    }
  }
  for (const input of form.querySelectorAll('[name^="config."], [name="windows"], [name="in_sample"]')) {
    if (input.closest("[hidden]")) continue;
    if (input.name.startsWith("config.") || current === "sweep") {
      let value;
      if (input.type === "checkbox") value = input.checked;
      else if (NULLABLE_NUMBERS.has(input.name)) value = input.value.trim() === "" ? null : numberOrText(input.value);
      else if (NUMBER_FIELDS.has(input.name) || input.name.startsWith("config.charges.")) value = numberOrText(input.value);
      else value = input.value;
      if (value !== undefined) setPath(out, input.name, value);
    }
  }
  return out;
}

async function submit(event) {
  event.preventDefault();
  clearFieldErrors(form);
  const button = form.querySelector("[data-submit]");
  button.disabled = true;
  try {
    const run = await api("POST", url("backtests"), body());
    window.location.assign(url("page", { id: run.id }));
  } catch (error) {
    // "instruments.0" (a bad symbol in the list) is shown under the instrument field.
    const fields = {};
    for (const [name, messages] of Object.entries(error.fields || {})) {
      const key = name.startsWith("instruments.") ? "instruments" : name;
      fields[key] = [...(fields[key] || []), ...messages];
    }
    const first = showFieldErrors(form, { ...error, fields });
    if (first) {
      const details = first.closest("details");
      if (details) details.open = true;
      first.focus();
    }
    announce(root, error.message || t("genericError"));
    button.disabled = false;
  }
}

function init() {
  if (!root || !data) return;
  const input = root.querySelector("[data-symbol-input]");
  symbolCombobox({
    input,
    listbox: root.querySelector("#bt-symbol-options"),
    search: async (query) => {
      const found = await api("GET", `${url("instruments")}?${new URLSearchParams({ search: query, page_size: "8" })}`);
      return (found && (found.results || found)) || [];
    },
    onChoose: (instrument) => {
      addSymbol(instrument.exchange === "NSE" ? instrument.symbol : `${instrument.exchange}:${instrument.symbol}`);
      input.value = "";
    },
    idPrefix: "bt-symbol-option",
    strings: { noMatches: t("noMatches") },
  });
  form.elements.strategy.addEventListener("change", drawParams);
  for (const radio of form.querySelectorAll('input[name="kind"]')) radio.addEventListener("change", drawKind);
  form.elements["config.sizing"].addEventListener("change", drawSizing);
  root.querySelector("[data-grid]").addEventListener("input", drawCombos);
  form.addEventListener("submit", submit);
  drawParams();
  drawKind();
  drawSizing();
  root.dataset.ready = "true"; // the listeners are on (scripts and tests wait for this)
}

init();
