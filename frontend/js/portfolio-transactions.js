// The transactions of the portfolio page: the list (newest first, "show older" pages), the
// add/edit form whose fields follow the kind (errors from a 400 shown next to each field),
// delete, and the CSV import dialog (check first, then import). After any write
// `onChanged()` lets the page re-fetch its figures; other tabs learn of it from
// `portfolio.changed` (docs/websocket.md).

import { csrfToken, el } from "./api.js";
import { IST } from "./format.js";
import {
  announce,
  api,
  clearFieldErrors,
  money,
  quantity,
  showFieldErrors,
  t,
  url,
} from "./portfolio-util.js";
import { symbolCombobox } from "./symbol-search.js";

const SEARCH_DEBOUNCE_MS = 250;
const KIND_FIELDS = {
  buy: ["symbol", "quantity", "price", "charges"],
  sell: ["symbol", "quantity", "price", "charges"],
  dividend: ["symbol", "amount"],
  split: ["symbol", "ratio_from", "ratio_to"],
  bonus: ["symbol", "ratio_from", "ratio_to"],
  fee: ["amount"],
  deposit: ["amount"],
  withdrawal: ["amount"],
};
const CHARGES = ["brokerage", "stt", "exchange_fees", "gst", "stamp_duty", "other_charges"];
// Field errors the API may report under another name than the form's input.
const ALIASES = { instrument: "symbol", ratio: "ratio_from", non_field_errors: "non_field_errors" };

const LOCAL_PARTS = new Intl.DateTimeFormat("en-CA", {
  timeZone: IST,
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});
const SHOWN_DATE = new Intl.DateTimeFormat("en-IN", { timeZone: IST, day: "numeric", month: "short", year: "numeric" });
const SHOWN_TIME = new Intl.DateTimeFormat("en-GB", { timeZone: IST, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });

/** An ISO instant as the value of an IST `datetime-local` input ("2025-03-31T10:15"). */
export function toLocalInput(iso) {
  const at = iso ? new Date(iso) : new Date();
  const parts = Object.fromEntries(LOCAL_PARTS.formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** A `datetime-local` value read as India time, as ISO 8601 with +05:30. */
export function fromLocalInput(value) {
  if (!value) return "";
  return `${value.length === 16 ? `${value}:00` : value}+05:30`;
}

export class Transactions {
  constructor(root, { portfolioId, onChanged }) {
    this.root = root;
    this.portfolioId = portfolioId;
    this.onChanged = onChanged;
    this.body = root.querySelector("[data-transactions-body]");
    this.empty = root.querySelector("[data-transactions-empty]");
    this.more = root.querySelector("[data-load-more]");
    this.form = root.querySelector("[data-tx-form]");
    this.items = [];
    this.next = null;
    this.editing = null; // the transaction being edited, or null for a new one
    this.generation = 0;
    this.more.addEventListener("click", () => this.loadMore());
    for (const button of root.querySelectorAll("[data-add-transaction]")) {
      button.addEventListener("click", () => this.openForm(null));
    }
    this.wireForm();
    this.wireSymbolSearch();
    this.wireImport();
  }

  listUrl() {
    return url("transactions", { id: this.portfolioId });
  }

  txUrl(id) {
    return url("transaction", { id: this.portfolioId, tx: id });
  }

  // --- list -------------------------------------------------------------------------------

  async reload() {
    const mine = ++this.generation;
    try {
      const data = await api("GET", this.listUrl());
      if (mine !== this.generation) return;
      this.items = data.results || data || [];
      this.next = data.next || null;
    } catch {
      return; // the figures above say what is known; the next change or resync retries
    }
    this.render();
  }

  async loadMore() {
    if (!this.next) return;
    const mine = this.generation;
    try {
      const data = await api("GET", this.next);
      if (mine !== this.generation) return;
      const known = new Set(this.items.map((tx) => tx.id));
      this.items.push(...(data.results || []).filter((tx) => !known.has(tx.id)));
      this.next = data.next || null;
    } catch (error) {
      announce(this.root, error.message);
      return;
    }
    this.render();
  }

  render() {
    this.body.replaceChildren(...this.items.map((tx) => this.row(tx)));
    this.empty.hidden = this.items.length > 0;
    this.body.closest(".table-wrap").hidden = this.items.length === 0;
    this.more.hidden = !this.next;
  }

  row(tx) {
    const at = new Date(tx.executed_at);
    const kindLabel = t(`kind_${tx.kind}`);
    const ratio = tx.ratio_from && tx.ratio_to ? t("ratio", { from: tx.ratio_from, to: tx.ratio_to }) : "";
    const trade = tx.kind === "buy" || tx.kind === "sell";
    const gross = trade ? Number(tx.quantity) * Number(tx.price) : Number(tx.amount || 0);
    const symbol = tx.symbol ? (tx.exchange && tx.exchange !== "NSE" ? `${tx.exchange}:${tx.symbol}` : tx.symbol) : "";
    return el(
      "tr",
      { dataset: { txId: tx.id, kind: tx.kind } },
      el("td", { class: "nowrap" }, el("time", { datetime: tx.executed_at, text: SHOWN_DATE.format(at) }), el("span", { class: "muted small", text: ` ${SHOWN_TIME.format(at)}` })),
      el("td", {}, el("span", { class: `badge pf-kind pf-kind-${tx.kind}`, text: kindLabel })),
      el("td", { class: "pf-symbol", text: symbol }),
      el("td", { class: "num", text: trade ? quantity(tx.quantity) : ratio }),
      el("td", { class: "num", text: trade ? money(tx.price) : "" }),
      el("td", { class: "num", text: gross || tx.kind !== "split" ? money(gross) : "" }),
      el("td", { class: "num", text: Number(tx.charges || 0) ? money(tx.charges) : "" }),
      el("td", { class: "pf-notes", text: tx.notes || "" }),
      el(
        "td",
        { class: "nowrap" },
        el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("edit"), dataset: { editTx: tx.id }, "aria-label": `${t("edit")}: ${kindLabel} ${symbol} ${SHOWN_DATE.format(at)}`, onclick: () => this.openForm(tx) }),
        " ",
        el("button", { type: "button", class: "btn btn-sm btn-danger-outline", text: t("delete"), dataset: { deleteTx: tx.id }, "aria-label": `${t("delete")}: ${kindLabel} ${symbol} ${SHOWN_DATE.format(at)}`, onclick: () => this.remove(tx) }),
      ),
    );
  }

  async remove(tx) {
    const date = SHOWN_DATE.format(new Date(tx.executed_at));
    if (!window.confirm(t("confirmDeleteTx", { kind: t(`kind_${tx.kind}`).toLowerCase(), date }))) return;
    try {
      await api("DELETE", this.txUrl(tx.id));
    } catch (error) {
      announce(this.root, error.message);
      const box = this.root.querySelector("[data-page-error]");
      if (box) {
        box.textContent = error.message;
        box.hidden = false;
      }
      return;
    }
    if (this.editing && this.editing.id === tx.id) this.closeForm();
    announce(this.root, t("txDeleted"));
    this.reload();
    this.onChanged();
  }

  // --- form -------------------------------------------------------------------------------

  wireForm() {
    const form = this.form;
    form.elements.kind.addEventListener("change", () => this.showKindFields());
    form.querySelector("[data-tx-cancel]").addEventListener("click", () => this.closeForm());
    for (const input of form.querySelectorAll("[data-charge]")) input.addEventListener("input", () => this.showChargesTotal());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  openForm(tx) {
    const form = this.form;
    this.editing = tx;
    form.reset();
    clearFieldErrors(form);
    form.querySelector("[data-tx-form-title]").textContent = tx ? t("editTransaction") : t("addTransaction");
    form.elements.kind.value = tx ? tx.kind : "buy";
    form.elements.executed_at.value = toLocalInput(tx ? tx.executed_at : null);
    if (tx) {
      const symbol = form.elements.symbol;
      symbol.value = tx.symbol ? (tx.exchange && tx.exchange !== "NSE" ? `${tx.exchange}:${tx.symbol}` : tx.symbol) : "";
      for (const name of ["quantity", "price", "amount", ...CHARGES]) {
        const value = Number(tx[name] || 0);
        form.elements[name].value = value ? String(value) : "";
      }
      form.elements.ratio_from.value = tx.ratio_from ?? "";
      form.elements.ratio_to.value = tx.ratio_to ?? "";
      form.elements.notes.value = tx.notes || "";
    }
    this.showKindFields();
    this.showChargesTotal();
    form.hidden = false;
    form.scrollIntoView({ block: "nearest" });
    (tx ? form.elements.kind : form.elements.symbol).focus();
  }

  closeForm() {
    this.form.hidden = true;
    this.editing = null;
    clearFieldErrors(this.form);
  }

  showKindFields() {
    const kind = this.form.elements.kind.value;
    const wanted = KIND_FIELDS[kind] || [];
    for (const node of this.form.querySelectorAll("[data-kinds]")) {
      node.hidden = !node.dataset.kinds.split(" ").includes(kind);
    }
    for (const label of this.form.querySelectorAll("[data-ratio-label]")) {
      label.hidden = label.dataset.ratioLabel !== (kind === "bonus" ? "bonus" : "split");
    }
    const charges = this.form.querySelector(".pf-charges");
    if (charges) charges.hidden = !wanted.includes("charges");
  }

  showChargesTotal() {
    const total = CHARGES.reduce((sum, name) => sum + (Number(this.form.elements[name].value) || 0), 0);
    this.form.querySelector("[data-charges-total]").textContent = total ? money(total) : "";
  }

  /** Every field, those the kind does not use as zero or null: an edit that changes the
   * kind must clear what the old kind had (the API checks that unused fields are empty). */
  payload() {
    const form = this.form;
    const kind = form.elements.kind.value;
    const wanted = KIND_FIELDS[kind] || [];
    const number = (name) => form.elements[name].value.trim().replaceAll(",", "");
    const body = { kind, executed_at: fromLocalInput(form.elements.executed_at.value), notes: form.elements.notes.value.trim() };
    // "RELIANCE" is NSE; other exchanges are written "BSE:SYMBOL" (the combobox does that).
    body.symbol = wanted.includes("symbol") ? form.elements.symbol.value.trim().toUpperCase() : null;
    for (const name of ["quantity", "price", "amount"]) body[name] = wanted.includes(name) ? number(name) : "0";
    for (const name of ["ratio_from", "ratio_to"]) body[name] = wanted.includes(name) ? number(name) || null : null;
    for (const name of CHARGES) body[name] = wanted.includes("charges") ? number(name) || "0" : "0";
    return body;
  }

  async submit() {
    const form = this.form;
    clearFieldErrors(form);
    const button = form.querySelector("[data-tx-submit]");
    button.disabled = true;
    const editing = this.editing;
    try {
      if (editing) await api("PATCH", this.txUrl(editing.id), this.payload());
      else await api("POST", this.listUrl(), this.payload());
    } catch (error) {
      const charges = form.querySelector(".pf-charges");
      if (charges && CHARGES.some((name) => error.fields && error.fields[name])) charges.open = true;
      const first = showFieldErrors(form, error, ALIASES);
      if (first) first.focus();
      return;
    } finally {
      button.disabled = false;
    }
    this.closeForm();
    announce(this.root, editing ? t("txSaved") : t("txAdded"));
    this.reload();
    this.onChanged();
  }

  // --- symbol autocomplete (as on the dashboard) ------------------------------------------

  wireSymbolSearch() {
    const input = this.form.elements.symbol;
    symbolCombobox({
      input,
      listbox: this.form.querySelector("#tx-symbol-options"),
      search: async (query) => {
        const data = await api("GET", `${url("instruments")}?${new URLSearchParams({ search: query, page_size: "8" })}`);
        return (data && (data.results || data)) || [];
      },
      onChoose: (instrument) => {
        input.value = instrument.exchange === "NSE" ? instrument.symbol : `${instrument.exchange}:${instrument.symbol}`;
      },
      idPrefix: "tx-symbol-option",
      strings: { noMatches: t("noMatches") },
      debounceMs: SEARCH_DEBOUNCE_MS,
    });
  }

  // --- import -----------------------------------------------------------------------------

  wireImport() {
    const dialog = this.root.querySelector("[data-import-dialog]");
    if (!dialog) return;
    const form = dialog.querySelector("[data-import-form]");
    const result = dialog.querySelector("[data-import-result]");
    const submit = dialog.querySelector("[data-import-submit]");
    this.root.querySelector("[data-open-import]").addEventListener("click", () => {
      form.reset();
      result.replaceChildren();
      submit.disabled = true;
      if (dialog.showModal) dialog.showModal();
      else dialog.setAttribute("open", "");
    });
    dialog.querySelector("[data-import-close]").addEventListener("click", () => dialog.close());
    form.elements.file.addEventListener("change", () => {
      submit.disabled = true;
      result.replaceChildren();
    });
    form.elements.format.addEventListener("change", () => {
      submit.disabled = true;
      result.replaceChildren();
    });
    dialog.querySelector("[data-import-check]").addEventListener("click", async () => {
      const outcome = await this.upload(form, true, result);
      submit.disabled = !outcome || !outcome.imported;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      const outcome = await this.upload(form, false, result);
      if (!outcome) return;
      this.reload();
      this.onChanged();
    });
  }

  async upload(form, dryRun, result) {
    const file = form.elements.file.files[0];
    if (!file) {
      result.replaceChildren(el("p", { class: "errorlist", text: t("chooseFile") }));
      return null;
    }
    const body = new FormData();
    body.append("file", file);
    if (form.elements.format.value) body.append("format", form.elements.format.value);
    body.append("dry_run", dryRun ? "true" : "false");
    let response;
    let data = null;
    try {
      response = await fetch(url("import", { id: this.portfolioId }), {
        method: "POST",
        body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
      data = await response.json().catch(() => null);
    } catch {
      result.replaceChildren(el("p", { class: "errorlist", text: t("networkError") }));
      return null;
    }
    if (!response.ok) {
      const errors = (data && data.errors) || [];
      const fields = (data && data.error && data.error.fields) || {};
      const message = (data && (data.detail || (data.error && data.error.message))) || t("genericError");
      const lines = errors.map((e) => el("li", {}, el("strong", { text: `${t("lineError", { line: e.line })}` }), e.field ? ` · ${e.field}` : "", `: ${e.message}`));
      for (const [name, messages] of Object.entries(fields)) lines.push(el("li", { text: `${name}: ${messages.join(" ")}` }));
      result.replaceChildren(
        el("p", { class: "errorlist", text: errors.length ? `${t("importErrors")} ${message}` : message }),
        lines.length ? el("ul", { class: "pf-import-errors", dataset: { importErrors: "" } }, lines) : "",
      );
      return null;
    }
    const values = { imported: data.imported, duplicates: data.skipped_duplicates };
    const skipped = Array.isArray(data.skipped_other) ? data.skipped_other : [];
    result.replaceChildren(
      el("p", { class: dryRun ? "" : "pf-import-done", text: t(dryRun ? "previewOk" : "imported", values) }),
      skipped.length ? el("ul", { class: "small muted" }, skipped.map((s) => el("li", { text: `${t("lineError", { line: s.line })}: ${s.reason}` }))) : "",
    );
    return data;
  }
}

