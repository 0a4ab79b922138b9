// The tax estimate of a portfolio (templates/portfolios/tax.html): per financial year
// (April–March), short- and long-term gains and losses, the long-term exemption, the
// estimated tax, and the FIFO realisations behind them (GET …/tax/). The page shows the
// caveat above everything: it is an estimate.

import { el } from "./api.js";
import { api, dirOf, money, pageData, quantity, signedMoney, t, url, weight } from "./portfolio-util.js";

const DAY = new Intl.DateTimeFormat("en-IN", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const day = (iso) => (iso ? DAY.format(new Date(iso)) : t("none"));

function summaryTable(year) {
  const row = (label, short, long) =>
    el(
      "tr",
      {},
      el("th", { scope: "row", text: label }),
      el("td", { class: "num", text: short }),
      el("td", { class: "num", text: long }),
    );
  const table = el(
    "table",
    { class: "table pf-tax-summary" },
    el("caption", { class: "visually-hidden", text: t("summaryCaption", { year: year.year }) }),
    el("thead", {}, el("tr", {}, el("td", {}), el("th", { scope: "col", class: "num", text: t("short") }), el("th", { scope: "col", class: "num", text: t("long") }))),
    el(
      "tbody",
      {},
      row(t("gains"), money(year.short_term_gains), money(year.long_term_gains)),
      row(t("losses"), money(year.short_term_losses), money(year.long_term_losses)),
      row(t("net"), signedMoney(year.net_short_term), signedMoney(year.net_long_term)),
      row(t("exemption"), "", t("exemptionUsed", { used: money(year.exemption_used), limit: money(year.ltcg_exemption) })),
      row(t("taxable"), money(Math.max(Number(year.net_short_term), 0)), money(year.taxable_long_term)),
      row(t("tax"), money(year.short_term_tax), money(year.long_term_tax)),
    ),
  );
  return el("div", { class: "table-wrap" }, table);
}

function realisationsTable(year) {
  const rows = (year.realisations || []).map((r) =>
    el(
      "tr",
      {},
      el("th", { scope: "row", text: r.symbol }),
      el("td", { class: "nowrap", text: day(r.acquired) }),
      el("td", { class: "nowrap", text: day(r.sold) }),
      el("td", { class: "num", text: quantity(r.quantity) }),
      el("td", { class: "num", text: money(r.cost) }),
      el("td", { class: "num", text: money(r.proceeds) }),
      el("td", { class: `num price-${dirOf(r.gain)}`, text: signedMoney(r.gain) }),
      el("td", { text: r.term === "long" ? t("long") : t("short") }),
      el("td", { class: "num", text: weight(r.rate) }),
    ),
  );
  return el(
    "details",
    { class: "pf-tax-details" },
    el("summary", { text: t("realisations", { count: String(rows.length) }) }),
    el(
      "div",
      { class: "table-wrap" },
      el(
        "table",
        { class: "table" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["symbol", "bought", "sold", "quantity", "cost", "proceeds", "gain", "term", "rate"].map((key) =>
              el("th", { scope: "col", class: ["quantity", "cost", "proceeds", "gain", "rate"].includes(key) ? "num" : "", text: t(`col_${key}`) }),
            ),
          ),
        ),
        el("tbody", {}, rows),
      ),
    ),
  );
}

function yearSection(year) {
  return el(
    "section",
    { class: "card pf-tax-year", dataset: { year: year.year }, "aria-labelledby": `fy-${year.year}` },
    el("div", { class: "pf-section-head" }, el("h2", { id: `fy-${year.year}`, text: t("yearTitle", { year: year.year }) }), el("p", { class: "pf-tax-total" }, `${t("totalTax")}: `, el("strong", { dataset: { totalTax: "" }, text: money(year.total_tax) }))),
    el("p", { class: "muted small", text: t("yearRange", { start: day(year.start), end: day(year.end) }) }),
    summaryTable(year),
    Number(year.unabsorbed_short_term_loss) || Number(year.unabsorbed_long_term_loss)
      ? el("p", { class: "small muted", text: t("unabsorbed", { short: money(year.unabsorbed_short_term_loss), long: money(year.unabsorbed_long_term_loss) }) })
      : null,
    realisationsTable(year),
  );
}

export async function initTaxPage() {
  const root = document.querySelector("[data-portfolio-tax-page]");
  const data = pageData("portfolio-tax-data");
  if (!root || !data) return;
  const box = root.querySelector("[data-tax-years]");
  try {
    const body = await api("GET", url("tax", { id: data.portfolio.id }));
    const years = body.financial_years || []; // the latest year first
    box.replaceChildren(...(years.length ? years.map(yearSection) : [el("p", { class: "empty-state", text: t("noGains") })]));
  } catch (error) {
    const message = root.querySelector("[data-page-error]");
    message.textContent = error.message;
    message.hidden = false;
    box.replaceChildren();
  }
  box.removeAttribute("aria-busy");
}

initTaxPage();
