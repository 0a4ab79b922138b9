// The instrument-search combobox shared by the dashboard's "add symbol" field and the
// portfolio transaction form's symbol field: a debounced search, a listbox of options
// (symbol, exchange badge unless NSE, name), ArrowUp/ArrowDown/Escape (and, unless the page
// handles it on submit, Enter) on the input, aria-expanded / aria-activedescendant, and
// mousedown on an option to choose it.

import { el } from "./api.js";

/**
 * Wire `input` (role="combobox") to `listbox` (role="listbox").
 *
 * - `search(query)` resolves to an array of instruments; a rejection counts as no results.
 * - `onChoose(instrument)` runs after the listbox is closed.
 * - `idPrefix`: options get the ids `${idPrefix}-0`, `${idPrefix}-1`, …
 * - `strings.noMatches`: the text of the empty-result row.
 * - `enterChooses`: Enter on the input chooses the highlighted option (default true); pass
 *   false when the surrounding form's submit handler does it (see `current()`).
 *
 * Returns `{ close, cancel, current }`: `close()` hides the listbox, `cancel()` drops a
 * pending (debounced) search, `current()` is the highlighted instrument while the listbox is
 * open, else null.
 */
export function symbolCombobox({ input, listbox, search, onChoose, idPrefix, strings = {}, debounceMs = 250, enterChooses = true }) {
  let options = [];
  let highlighted = -1;
  let timer = null;
  let seq = 0;

  const close = () => {
    listbox.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    highlighted = -1;
  };
  const highlight = (index) => {
    highlighted = index;
    [...listbox.children].forEach((li, i) => li.setAttribute("aria-selected", i === index ? "true" : "false"));
    if (index >= 0 && listbox.children[index]) input.setAttribute("aria-activedescendant", listbox.children[index].id);
  };
  const current = () => (!listbox.hidden && highlighted >= 0 && options[highlighted]) || null;
  const choose = (instrument) => {
    close();
    onChoose(instrument);
  };
  const run = async () => {
    const query = input.value.trim();
    const mine = ++seq;
    if (!query) {
      close();
      return;
    }
    let found = [];
    try {
      found = (await search(query)) || [];
    } catch {
      found = [];
    }
    if (mine !== seq) return; // a newer search is on its way
    options = found;
    listbox.replaceChildren(
      ...(found.length
        ? found.map((instrument, i) =>
            el(
              "li",
              {
                id: `${idPrefix}-${i}`,
                role: "option",
                "aria-selected": "false",
                dataset: { symbol: `${instrument.exchange}:${instrument.symbol}` },
                onmousedown: (event) => {
                  event.preventDefault();
                  choose(instrument);
                },
              },
              el("strong", { text: instrument.symbol }),
              instrument.exchange !== "NSE" ? el("span", { class: "badge", text: instrument.exchange }) : null,
              el("span", { class: "muted", text: ` ${instrument.name}` }),
            ),
          )
        : [el("li", { class: "muted dash-option-empty", text: strings.noMatches })]),
    );
    listbox.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(found.length ? 0 : -1);
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(run, debounceMs);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && options.length) {
      event.preventDefault();
      highlight((highlighted + 1) % options.length);
    } else if (event.key === "ArrowUp" && options.length) {
      event.preventDefault();
      highlight((highlighted - 1 + options.length) % options.length);
    } else if (event.key === "Enter" && enterChooses && current()) {
      event.preventDefault();
      choose(current());
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));

  return { close, cancel: () => clearTimeout(timer), current };
}
