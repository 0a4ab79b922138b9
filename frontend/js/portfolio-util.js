// Helpers shared by the portfolio pages (portfolio-list.js, portfolio.js, portfolio-tax.js):
// the page's embedded JSON (texts translated by the view, API addresses), REST calls, field
// errors next to form fields, and money / percent formats (Indian digit grouping).

import { apiRequest, el } from "./api.js";
import { ARROWS, CHANGE, PERCENT, PRICE, direction } from "./format.js";

export const state = { S: {}, URLS: {} };

/** The page's `<script type="application/json" id=…>`; its strings and urls become current. */
export function pageData(id) {
  const script = document.getElementById(id);
  if (!script) return null;
  const data = JSON.parse(script.textContent);
  state.S = data.strings || {};
  state.URLS = data.urls || {};
  return data;
}

/** A translated text with `{name}` placeholders filled in. */
export function t(key, values = {}) {
  let text = state.S[key] ?? key;
  for (const [name, value] of Object.entries(values)) text = text.replaceAll(`{${name}}`, value);
  return text;
}

/** An API address from the page's templates: url("summary", { id: 4 }). */
export function url(name, values = {}) {
  let address = state.URLS[name];
  for (const [key, value] of Object.entries(values)) {
    address = address.replace(`{${key}}`, encodeURIComponent(value));
  }
  return address;
}

export function api(method, address, body) {
  return apiRequest(method, address, body, { network: t("networkError"), generic: t("genericError") });
}

/** Show `fields` ({name: [messages]}) next to the form's fields (`[data-error-for=name]`);
 * what has no place of its own goes to `[data-form-error]`. Returns the first invalid input. */
export function showFieldErrors(form, error, aliases = {}) {
  clearFieldErrors(form);
  const general = [];
  let first = null;
  const fields = (error && error.fields) || {};
  for (const [rawName, messages] of Object.entries(fields)) {
    const name = aliases[rawName] || rawName;
    const box = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    const visible = box && !box.parentElement.closest("[hidden]");
    if (visible) {
      box.textContent = messages.join(" ");
      box.hidden = false;
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input;
      }
    } else {
      general.push(name === "non_field_errors" || name === "detail" ? messages.join(" ") : `${name}: ${messages.join(" ")}`);
    }
  }
  if (!Object.keys(fields).length && error) general.push(error.message || t("genericError"));
  const box = form.querySelector("[data-form-error]");
  if (box) {
    const text = general.length ? general.join(" ") : first ? t("invalidFields") : "";
    box.textContent = text;
    box.hidden = !text;
  }
  return first;
}

export function clearFieldErrors(form) {
  for (const box of form.querySelectorAll("[data-error-for], [data-form-error]")) {
    box.textContent = "";
    box.hidden = true;
  }
  for (const input of form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
}

export function announce(root, text) {
  const region = root.querySelector("[data-announce]");
  if (region) region.textContent = text;
}

// --- formats ------------------------------------------------------------------------------

const QUANTITY = new Intl.NumberFormat("en-IN", { maximumFractionDigits: 6 });
const PLAIN = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const WEIGHT = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

const isBlank = (value) => value === null || value === undefined || value === "";
export const num = (value) => (isBlank(value) ? null : Number(value));

/** ₹1,23,456.78, or "—" for a missing value. */
export function money(value) {
  return isBlank(value) ? t("none") : PRICE.format(Number(value));
}

/** +₹1,234.50 / -₹12.00 */
export function signedMoney(value) {
  return isBlank(value) ? t("none") : CHANGE.format(Number(value));
}

/** A percentage already in percent ("12.34" → "+12.34%"). */
export function percent(value) {
  return isBlank(value) ? t("none") : `${PERCENT.format(Number(value))}%`;
}

/** A fraction as a signed percentage ("0.1234" → "+12.34%"). */
export function fractionPercent(value) {
  return isBlank(value) ? t("none") : `${PERCENT.format(Number(value) * 100)}%`;
}

/** A weight 0–1 as "12.3%". */
export function weight(value) {
  return isBlank(value) ? t("none") : `${WEIGHT.format(Number(value) * 100)}%`;
}

export function quantity(value) {
  return isBlank(value) ? t("none") : QUANTITY.format(Number(value));
}

export function plain(value) {
  return isBlank(value) ? t("none") : PLAIN.format(Number(value));
}

export function dirOf(value) {
  return isBlank(value) ? "flat" : direction(Number(value));
}

/** A coloured change with an arrow, e.g. "▲ +₹120.00 (+1.20%)", and words for screen readers. */
export function changeNode(amount, pct, { block = false } = {}) {
  const dir = dirOf(amount ?? pct);
  const word = dir === "up" ? t("up") : dir === "down" ? t("down") : t("unchanged");
  const parts = [el("span", { class: "market-arrow", "aria-hidden": "true", text: ARROWS[dir] }), " "];
  if (!isBlank(amount)) parts.push(signedMoney(amount));
  if (!isBlank(pct)) parts.push(isBlank(amount) ? percent(pct) : block ? el("span", { class: "pf-pct", text: percent(pct) }) : ` (${percent(pct)})`);
  parts.push(el("span", { class: "visually-hidden", text: ` ${word}` }));
  return el("span", { class: `price-${dir} nowrap` }, parts);
}
