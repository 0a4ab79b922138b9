// StockSense page behaviour shared by every page. A plain ES module: no framework,
// no build step. Every page works without it; this only makes a few things nicer.

/** Close an open header menu (<details data-nav-menu>) on a click elsewhere or Escape. */
export function initNavMenus(root = document) {
  const menus = [...root.querySelectorAll("details[data-nav-menu]")];
  if (!menus.length) return;
  root.addEventListener("click", (event) => {
    for (const menu of menus) {
      if (menu.open && !menu.contains(event.target)) menu.open = false;
    }
  });
  root.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of menus) {
      if (menu.open) {
        menu.open = false;
        menu.querySelector("summary")?.focus();
      }
    }
  });
}

/** Submit the language switcher as soon as a language is picked. */
export function initLanguageSwitcher(root = document) {
  for (const form of root.querySelectorAll("form[data-autosubmit]")) {
    const submit = form.querySelector("[data-js-hide]");
    if (submit) submit.hidden = true;
    form.addEventListener("change", () => {
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    });
  }
}

async function writeClipboard(text, source) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-http pages (local development) have no Clipboard API: select and copy.
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const ok = document.execCommand("copy");
  if (!ok) throw new Error("copy command refused");
}

/** Buttons with data-copy-target="#id" copy that element's text. */
export function initCopyButtons(root = document) {
  for (const button of root.querySelectorAll("[data-copy-target]")) {
    const source = document.querySelector(button.dataset.copyTarget);
    if (!source) continue;
    button.hidden = false;
    const label = button.textContent.trim();
    const status = button.parentElement.querySelector("[data-copy-status]");
    let timer;
    button.addEventListener("click", async () => {
      const text = source.value ?? source.textContent.trim();
      let message;
      try {
        await writeClipboard(text, source);
        message = button.dataset.copiedLabel || label;
      } catch {
        message = button.dataset.copyFailedLabel || label;
      }
      button.textContent = message;
      if (status) status.textContent = message;
      clearTimeout(timer);
      timer = setTimeout(() => {
        button.textContent = label;
      }, 2500);
    });
  }
}

/** Forms with data-confirm="question" ask before submitting (e.g. revoking a token). */
export function initConfirmations(root = document) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

/** Keep the phone menu's toggle state announced to assistive technology. */
export function initNavToggle(root = document) {
  const toggle = root.querySelector("#nav-toggle");
  if (!toggle) return;
  const sync = () => toggle.setAttribute("aria-expanded", String(toggle.checked));
  toggle.addEventListener("change", sync);
  sync();
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && toggle.checked) {
      toggle.checked = false;
      sync();
    }
  });
}

initLanguageSwitcher();
initCopyButtons();
initNavMenus();
initConfirmations();
initNavToggle();
