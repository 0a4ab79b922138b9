// Writing in a room: sending (Sender), the message box (Composer: Enter sends, Shift+Enter
// is a new line, a 4,000-character counter, @mention autocomplete, typing frames, errors)
// and the share menu (ShareDialog: the current chart with the user's saved drawings, an alert,
// a portfolio with the fields its owner picks, a watchlist).
//
// Sending goes over the shared socket (`room.send`, acknowledged by `room.sent` or an `error`
// frame with the same `ref`); when the socket is down, or no answer comes within
// ACK_TIMEOUT_MS, the same message is POSTed with the same `client_id`, which the server
// treats as the same message, so nothing is stored twice.

import { csrfToken, el } from "./api.js";
import * as realtime from "./realtime.js";
import { api, charCount, clientId, keyLabel, splitKey, t, url } from "./room-util.js";

const ACK_TIMEOUT_MS = 8000;
const TYPING_REPEAT_MS = 2500;
const TYPING_IDLE_MS = 4000;
const MAX_MENTION_OPTIONS = 8;
const COUNT = new Intl.NumberFormat("en-IN");
const MENTION_RE = /(^|[\s(])@([^\s@]{0,40})$/u;

export class SendError extends Error {
  constructor(message, { retryAfter = null, fields = {} } = {}) {
    super(message);
    this.retryAfter = retryAfter;
    this.fields = fields;
  }
}

function firstFieldMessage(fields) {
  const all = Object.values(fields || {}).flat();
  return all.length ? all.join(" ") : "";
}

export class Sender {
  constructor(roomId) {
    this.roomId = roomId;
    this.pending = new Map(); // ref -> {resolve, reject, timer, payload}
    this.count = 0;
    realtime.on("room.sent", (frame) => this.settle(frame.ref, (p) => p.resolve(frame.message)));
    realtime.on("error", (frame) =>
      this.settle(frame.ref, (p) =>
        p.reject(new SendError(frame.message, { retryAfter: frame.retry_after ?? null, fields: frame.field ? { [frame.field]: [frame.message] } : {} })),
      ),
    );
  }

  settle(ref, fn) {
    const pending = this.pending.get(ref);
    if (!pending) return;
    this.pending.delete(ref);
    clearTimeout(pending.timer);
    fn(pending);
  }

  /** Store a message in the room; resolves with its JSON (selectors.message_data). */
  send({ body, parent = null, share = null }) {
    const payload = { body, parent, share, client_id: clientId() };
    this.count += 1;
    const ref = `m${this.count}`;
    const frame = { type: "room.send", room: this.roomId, ref, ...payload };
    if (!realtime.isLive() || !realtime.send(frame)) return this.post(payload);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.pending.has(ref)) return;
        this.pending.delete(ref);
        this.post(payload).then(resolve, reject);
      }, ACK_TIMEOUT_MS);
      this.pending.set(ref, { resolve, reject, timer, payload });
    });
  }

  async post(payload) {
    let response;
    try {
      response = await fetch(url("messages", { room: this.roomId }), {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(payload),
      });
    } catch {
      throw new SendError(t("networkError"));
    }
    const data = await response.json().catch(() => null);
    if (response.ok) return data;
    const error = (data && data.error) || {};
    const retry = Number(response.headers.get("Retry-After"));
    const fields = error.fields || {};
    throw new SendError(firstFieldMessage(fields) || error.message || t("genericError"), {
      retryAfter: response.status === 429 && retry > 0 ? retry : null,
      fields,
    });
  }
}

// --- the message box ------------------------------------------------------------------------

export class Composer {
  /** ctx: root, roomId, me, maxLength, sender, members() → Map, onSent(message). */
  constructor(ctx) {
    this.ctx = ctx;
    this.form = ctx.root.querySelector("[data-composer]");
    this.input = this.form.querySelector("[data-composer-input]");
    this.counter = this.form.querySelector("[data-counter]");
    this.error = this.form.querySelector("[data-composer-error]");
    this.sendButton = this.form.querySelector("[data-send]");
    this.options = this.form.querySelector("[data-mentions]");
    this.sending = false;
    this.waitUntil = 0;
    this.waitTimer = null;
    this.typing = false;
    this.typingSentAt = 0;
    this.typingTimer = null;
    this.mention = null; // {start, query, matches, index}
    this.input.addEventListener("input", () => this.onInput());
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("click", () => this.updateMentions());
    this.input.addEventListener("blur", () => setTimeout(() => this.closeMentions(), 150));
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.updateCounter();
  }

  disable(disabled) {
    this.input.disabled = disabled;
    this.sendButton.disabled = disabled;
    for (const button of this.form.querySelectorAll("button")) button.disabled = disabled;
  }

  showError(text) {
    this.error.textContent = text || "";
    this.error.hidden = !text;
    if (text) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }

  updateCounter() {
    const n = charCount(this.input.value);
    const max = this.ctx.maxLength;
    this.counter.textContent = t("counter", { n: COUNT.format(n), max: COUNT.format(max) });
    this.counter.classList.toggle("room-counter-over", n > max);
    const waiting = Date.now() < this.waitUntil;
    this.sendButton.disabled = this.sending || waiting || n === 0 || n > max;
    if (waiting) this.sendButton.textContent = t("waitSeconds", { n: Math.ceil((this.waitUntil - Date.now()) / 1000) });
    else this.sendButton.textContent = this.sending ? t("sending") : t("send");
    return n;
  }

  onInput() {
    const n = this.updateCounter();
    if (n > this.ctx.maxLength) this.showError(t("tooLong", { max: COUNT.format(this.ctx.maxLength), n: COUNT.format(n) }));
    else if (this.error.textContent && Date.now() >= this.waitUntil) this.showError("");
    this.updateMentions();
    this.sendTyping(n > 0);
  }

  onKey(event) {
    if (this.mention && this.mention.matches.length) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        this.mention.index = (this.mention.index + step + this.mention.matches.length) % this.mention.matches.length;
        this.drawMentions();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        this.pickMention(this.mention.matches[this.mention.index]);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        this.closeMentions();
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      this.submit();
    }
  }

  async submit() {
    if (this.sending) return;
    const body = this.input.value;
    const n = charCount(body);
    if (n === 0) {
      this.showError(t("empty"));
      return;
    }
    if (n > this.ctx.maxLength) {
      this.showError(t("tooLong", { max: COUNT.format(this.ctx.maxLength), n: COUNT.format(n) }));
      return;
    }
    if (Date.now() < this.waitUntil) return;
    this.sending = true;
    this.updateCounter();
    try {
      const message = await this.ctx.sender.send({ body });
      this.input.value = "";
      this.typing = false; // the server ends typing with the message itself
      clearTimeout(this.typingTimer);
      this.showError("");
      this.ctx.onSent(message);
    } catch (error) {
      this.showError(error.message);
      if (error.retryAfter) this.wait(error.retryAfter);
    } finally {
      this.sending = false;
      this.updateCounter();
      this.input.focus();
    }
  }

  /** Flood limit: the button counts down, then sending is possible again. */
  wait(seconds) {
    this.waitUntil = Date.now() + seconds * 1000;
    clearInterval(this.waitTimer);
    this.waitTimer = setInterval(() => {
      this.updateCounter();
      if (Date.now() >= this.waitUntil) {
        clearInterval(this.waitTimer);
        this.showError("");
        this.updateCounter();
      }
    }, 250);
  }

  // typing ----------------------------------------------------------------------------------

  sendTyping(active) {
    const now = Date.now();
    clearTimeout(this.typingTimer);
    if (active) {
      if (!this.typing || now - this.typingSentAt > TYPING_REPEAT_MS) {
        this.typing = true;
        this.typingSentAt = now;
        realtime.send({ type: "room.typing", room: this.ctx.roomId, typing: true });
      }
      this.typingTimer = setTimeout(() => this.sendTyping(false), TYPING_IDLE_MS);
    } else if (this.typing) {
      this.typing = false;
      realtime.send({ type: "room.typing", room: this.ctx.roomId, typing: false });
    }
  }

  // @mentions -------------------------------------------------------------------------------

  updateMentions() {
    const caret = this.input.selectionStart;
    const before = this.input.value.slice(0, caret);
    const match = MENTION_RE.exec(before);
    if (!match || this.input.selectionEnd !== caret) {
      this.closeMentions();
      return;
    }
    const query = match[2].toLowerCase();
    const people = [...this.ctx.members().values()].map((m) => m.user).filter((u) => u.id !== this.ctx.me.id);
    const starts = people.filter((u) => u.name.toLowerCase().startsWith(query));
    const contains = people.filter((u) => !starts.includes(u) && u.name.toLowerCase().includes(query));
    const matches = [...starts, ...contains].slice(0, MAX_MENTION_OPTIONS);
    if (!matches.length) {
      this.closeMentions();
      return;
    }
    this.mention = { start: caret - match[2].length - 1, end: caret, matches, index: 0 };
    this.drawMentions();
  }

  drawMentions() {
    const { matches, index } = this.mention;
    this.options.replaceChildren(
      ...matches.map((user, i) =>
        el("li", {
          role: "option",
          id: `room-mention-${user.id}`,
          "aria-selected": i === index ? "true" : "false",
          text: user.name,
          onmousedown: (event) => {
            event.preventDefault();
            this.pickMention(user);
          },
        }),
      ),
    );
    this.options.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", `room-mention-${matches[index].id}`);
  }

  closeMentions() {
    this.mention = null;
    this.options.hidden = true;
    this.options.replaceChildren();
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  pickMention(user) {
    const { start, end } = this.mention;
    const value = this.input.value;
    const inserted = `@${user.name} `;
    this.input.value = value.slice(0, start) + inserted + value.slice(end);
    const caret = start + inserted.length;
    this.input.setSelectionRange(caret, caret);
    this.closeMentions();
    this.updateCounter();
    this.input.focus();
  }
}

// --- the share menu -------------------------------------------------------------------------

async function listOf(address) {
  const body = await api("GET", `${address}${address.includes("?") ? "&" : "?"}page_size=100`);
  return Array.isArray(body) ? body : (body && body.results) || [];
}

export class ShareDialog {
  /** ctx: root, sender, portfolioFields, chart() → {key, timeframe} | null, onSent(message). */
  constructor(ctx) {
    this.ctx = ctx;
    this.dialog = ctx.root.querySelector("[data-share-dialog]");
    this.form = this.dialog.querySelector("[data-share-form]");
    this.error = this.dialog.querySelector("[data-share-error]");
    this.drawings = [];
    this.loaded = new Set();
    ctx.root.querySelector("[data-share-open]").addEventListener("click", () => this.open());
    this.dialog.querySelector("[data-share-close]").addEventListener("click", () => this.dialog.close());
    for (const radio of this.form.querySelectorAll("input[name=kind]")) radio.addEventListener("change", () => this.showPane());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    const fields = this.form.querySelector("[data-share-fields]");
    fields.replaceChildren(
      ...ctx.portfolioFields.map((name) =>
        el("label", { class: "room-check" }, el("input", { type: "checkbox", name: "fields", value: name, checked: name === "name" }), ` ${t(`field_${name}`)}`),
      ),
    );
  }

  kind() {
    const checked = this.form.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "chart";
  }

  showPane() {
    const kind = this.kind();
    for (const pane of this.form.querySelectorAll("[data-share-pane]")) pane.hidden = pane.dataset.sharePane !== kind;
    this.setError("");
    this.load(kind);
  }

  setError(text) {
    this.error.textContent = text;
    this.error.hidden = !text;
  }

  open() {
    this.setError("");
    this.loaded.delete("chart"); // the chart may have changed since last time
    if (typeof this.dialog.showModal === "function") this.dialog.showModal();
    else this.dialog.setAttribute("open", "");
    this.showPane();
  }

  fillSelect(name, items, label, empty) {
    const select = this.form.querySelector(`select[name=${name}]`);
    select.replaceChildren(...items.map((item) => el("option", { value: String(item.id), text: label(item) })));
    select.disabled = items.length === 0;
    if (!items.length) this.setError(empty);
  }

  async load(kind) {
    if (this.loaded.has(kind)) return;
    this.loaded.add(kind);
    try {
      if (kind === "chart") {
        const what = this.form.querySelector("[data-share-chart-what]");
        const chart = this.ctx.chart();
        this.drawings = [];
        if (!chart) {
          what.textContent = t("shareChartNone");
          return;
        }
        what.textContent = t("loading");
        const { exchange, symbol } = splitKey(chart.key);
        const body = await api("GET", `${url("drawings", { symbol })}?${new URLSearchParams({ exchange })}`);
        this.drawings = ((body && body.results) || []).map((d) => ({ kind: d.kind, points: d.points, color: d.color || "" }));
        what.textContent = t("shareChartWhat", { symbol: keyLabel(chart.key), timeframe: chart.timeframe, n: this.drawings.length });
      } else if (kind === "alert") {
        const alerts = await listOf(url("alerts"));
        this.fillSelect("alert_id", alerts, (a) => a.name || a.symbol || String(a.id), t("noAlerts"));
      } else if (kind === "portfolio") {
        const portfolios = await listOf(url("portfolios"));
        this.fillSelect("portfolio_id", portfolios, (p) => p.name, t("noPortfolios"));
      } else if (kind === "watchlist") {
        const lists = await listOf(url("watchlists"));
        this.fillSelect("watchlist_id", lists, (w) => w.name, t("noWatchlists"));
      }
    } catch (error) {
      this.loaded.delete(kind);
      this.setError(error.message);
    }
  }

  share() {
    const kind = this.kind();
    const data = new FormData(this.form);
    if (kind === "chart") {
      const chart = this.ctx.chart();
      if (!chart) throw new SendError(t("shareChartNone"));
      return { type: "chart", symbol: chart.key, timeframe: chart.timeframe, drawings: this.drawings };
    }
    const pick = (name) => {
      const value = Number(data.get(name));
      if (!value) throw new SendError(t(kind === "alert" ? "noAlerts" : kind === "portfolio" ? "noPortfolios" : "noWatchlists"));
      return value;
    };
    if (kind === "alert") return { type: "alert", alert_id: pick("alert_id") };
    if (kind === "portfolio") return { type: "portfolio", portfolio_id: pick("portfolio_id"), fields: data.getAll("fields").map(String) };
    return { type: "watchlist", watchlist_id: pick("watchlist_id") };
  }

  async submit() {
    const button = this.form.querySelector("[data-share-submit]");
    button.disabled = true;
    try {
      const share = this.share();
      const body = String(new FormData(this.form).get("comment") || "");
      const message = await this.ctx.sender.send({ body, share });
      this.form.querySelector("textarea[name=comment]").value = "";
      this.dialog.close();
      this.ctx.onSent(message);
    } catch (error) {
      this.setError(error.message);
    } finally {
      button.disabled = false;
    }
  }
}
