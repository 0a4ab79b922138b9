// The portfolio list (templates/portfolios/list.html): the user's portfolios with their value,
// day change and total P/L (each from GET …/summary/), create, rename and delete over the
// REST API. Texts and addresses come from the page (#portfolio-list-data).

import { el } from "./api.js";
import {
  announce,
  api,
  changeNode,
  clearFieldErrors,
  money,
  pageData,
  showFieldErrors,
  t,
  url,
} from "./portfolio-util.js";

let root = null;
let portfolios = [];
const summaries = new Map(); // id -> summary totals (or null while loading)

function totalsOf(summary) {
  return (summary && (summary.totals || summary)) || null;
}

function figure(label, value, field) {
  return el("div", { class: "pf-figure", dataset: { field } }, el("span", { class: "pf-figure-label small muted", text: label }), el("span", { class: "pf-figure-value" }, value));
}

function renderItem(portfolio) {
  const totals = totalsOf(summaries.get(portfolio.id));
  const pageUrl = url("page", { id: portfolio.id });
  const error = el("p", { class: "errorlist", role: "alert", hidden: true });
  const head = el(
    "div",
    { class: "pf-item-head" },
    el("h3", { class: "pf-item-name" }, el("a", { href: pageUrl, text: portfolio.name })),
    el(
      "div",
      { class: "cluster pf-item-actions" },
      el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("rename"), dataset: { rename: portfolio.id }, onclick: () => startRename(portfolio, item, error) }),
      el("button", { type: "button", class: "btn btn-sm btn-danger-outline", text: t("delete"), dataset: { delete: portfolio.id }, onclick: () => remove(portfolio, error) }),
    ),
  );
  const item = el(
    "li",
    { class: "card pf-item", dataset: { portfolioId: portfolio.id } },
    head,
    portfolio.description ? el("p", { class: "muted small pf-item-description", text: portfolio.description }) : null,
    el(
      "div",
      { class: "pf-figures" },
      figure(t("value"), totals ? money(totals.total_value) : "…", "total_value"),
      figure(t("dayChange"), totals ? changeNode(totals.day_change, totals.day_change_percent) : "…", "day_change"),
      figure(t("profitLoss"), totals ? changeNode(totals.profit_loss, totals.profit_loss_percent) : "…", "profit_loss"),
    ),
    error,
  );
  return item;
}

function render() {
  const box = root.querySelector("[data-portfolio-list]");
  if (!portfolios.length) {
    box.replaceChildren(el("div", { class: "empty-state pf-empty", dataset: { empty: "" } }, el("p", { text: t("empty") })));
    return;
  }
  box.replaceChildren(el("ul", { class: "pf-list" }, portfolios.map(renderItem)));
}

function replaceItem(portfolio) {
  const old = root.querySelector(`[data-portfolio-id="${portfolio.id}"]`);
  if (old) old.replaceWith(renderItem(portfolio));
  else render();
}

async function loadSummary(portfolio) {
  try {
    summaries.set(portfolio.id, await api("GET", url("summary", { id: portfolio.id })));
  } catch {
    summaries.set(portfolio.id, null);
  }
  if (portfolios.some((p) => p.id === portfolio.id)) replaceItem(portfolio);
}

function startRename(portfolio, item, error) {
  const input = el("input", { type: "text", name: "name", maxlength: "80", value: portfolio.name, required: true, "aria-label": t("nameLabel", { name: portfolio.name }) });
  const form = el(
    "form",
    { class: "pf-rename cluster", novalidate: true },
    input,
    el("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("save") }),
    el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("cancel"), onclick: () => replaceItem(portfolio) }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const saved = await api("PATCH", url("portfolio", { id: portfolio.id }), { name: input.value.trim() });
      Object.assign(portfolio, saved);
      replaceItem(portfolio);
      announce(root, t("renamed", { name: portfolio.name }));
    } catch (error_) {
      error.textContent = Object.values(error_.fields || {}).flat().join(" ") || error_.message;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
    }
  });
  item.querySelector(".pf-item-name").replaceWith(form);
  input.focus();
  input.select();
}

async function remove(portfolio, error) {
  if (!window.confirm(t("confirmDelete", { name: portfolio.name }))) return;
  try {
    await api("DELETE", url("portfolio", { id: portfolio.id }));
    portfolios = portfolios.filter((p) => p.id !== portfolio.id);
    summaries.delete(portfolio.id);
    render();
    announce(root, t("deleted", { name: portfolio.name }));
  } catch (error_) {
    error.textContent = error_.message;
    error.hidden = false;
  }
}

function wireCreate() {
  const form = root.querySelector("[data-create-form]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const body = {
      name: form.elements.name.value.trim(),
      description: form.elements.description.value.trim(),
      benchmark: form.elements.benchmark.value || null,
    };
    try {
      const created = await api("POST", url("portfolios"), body);
      window.location.assign(url("page", { id: created.id }));
    } catch (error) {
      const first = showFieldErrors(form, error);
      if (first) first.focus();
    }
  });
}

export function initPortfolioList() {
  root = document.querySelector("[data-portfolio-list-page]");
  const data = pageData("portfolio-list-data");
  if (!root || !data) return;
  portfolios = data.portfolios || [];
  render();
  for (const portfolio of portfolios) loadSummary(portfolio);
  wireCreate();
}

initPortfolioList();
