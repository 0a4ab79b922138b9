// The room's message list (templates/rooms/room.html, [data-messages]).
//
// Messages come from the page's embedded snapshot, then `room.snapshot` (after every
// (re)subscription: merged by id, or replacing everything when the gap is too large),
// `room.message` and `room.message_updated`; older pages over REST (`?before=`) when the list
// is scrolled to the top, keeping the reader's place. Replies live in a one-level thread under
// their parent (loaded with `?parent=`). Reading: messages that have been on screen are
// marked read (POST …/read/, debounced, forward only); the unread count, a "New messages"
// divider and a "jump to first unread" button follow it. Edits, deletes, reactions and
// "copy to my alerts" go through REST; the events that follow update every open page.

import { el } from "./api.js";
import { bodyNodes, paintChip, shareCard } from "./room-render.js";
import { announce, api, fullTime, shortTime, t, url } from "./room-util.js";

const PAGE = 50;
const THREAD_PAGE = 100;
const TOP_LOAD_PX = 80;
const BOTTOM_STICK_PX = 60;
const READ_DEBOUNCE_MS = 500;
const EDIT_WINDOW_MS = 24 * 3600 * 1000;
const MAX_OLDER_PAGES_TO_REVEAL = 40;

const idOf = (node) => Number(node.dataset.messageId);

export class Chat {
  /**
   * ctx: root, roomId, me ({id, name}), role() → current role, quotes (QuoteStore),
   * emoji (list), sender ({send({body, parent}) → Promise<message>}), members() → Map,
   * onUnread(count) (badges outside the list).
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.root = ctx.root;
    this.scroller = this.root.querySelector("[data-scroll]");
    this.list = this.root.querySelector("[data-messages]");
    this.olderStatus = this.root.querySelector("[data-older-status]");
    this.jumpButton = this.root.querySelector("[data-jump-unread]");
    this.messages = new Map(); // id -> message (replies too)
    this.signatures = new Map(); // id -> JSON of what is drawn
    this.items = new Map(); // id -> <li> (top-level messages and loaded replies)
    this.threads = new Map(); // parent id -> {box, list, loaded, open}
    this.symbolsOf = new Map(); // id -> keys wanted from the quote store
    this.hasMore = false;
    this.loadingOlder = null;
    this.unread = { count: 0, firstId: null, lastReadId: null };
    this.readSent = 0;
    this.readWanted = 0;
    this.readTimer = null;
    this.visible = new Set(); // ids of messages on screen now
    this.started = false;
    this.observer = new IntersectionObserver((entries) => this.onSeen(entries), { root: this.scroller, threshold: 0.6 });
    this.scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.jumpButton.addEventListener("click", () => this.jumpToUnread());
    // A notification's link (`/rooms/<id>/#message-<mid>`) opened while the room is open.
    window.addEventListener("hashchange", () => {
      const match = /^#message-(\d+)$/.exec(window.location.hash);
      if (match) this.reveal(Number(match[1]));
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) for (const id of this.visible) this.wantRead(id);
    });
    ctx.quotes.onChange((keys) => {
      for (const key of keys) {
        for (const chip of this.root.querySelectorAll(`[data-chip="${CSS.escape(key)}"]`)) paintChip(chip, ctx.quotes.get(key));
      }
    });
  }

  // --- state in -----------------------------------------------------------------------------

  /** The first snapshot (embedded in the page) or a later one (`room.snapshot`). */
  applySnapshot(snapshot) {
    const incoming = snapshot.messages || [];
    const newest = this.newestId();
    const first = !this.started;
    let replaced = false;
    if (!first && snapshot.has_more && incoming.length && newest !== null && incoming[0].id > newest) {
      this.reset(); // too much was missed to stitch: start again from the snapshot
      replaced = true;
    }
    const stick = first || this.atBottom();
    for (const message of incoming) this.upsert(message, { live: false });
    if (first || replaced) this.hasMore = Boolean(snapshot.has_more);
    this.setUnread({
      count: snapshot.unread_count,
      firstId: snapshot.first_unread_id,
      lastReadId: snapshot.last_read_message_id,
    });
    this.showOlderStatus();
    if (first) {
      this.started = true;
      this.placeDivider(snapshot.first_unread_id);
      this.initialScroll();
    } else if (stick) {
      this.scrollToBottom();
    }
  }

  onMessage(frame) {
    const message = frame.message;
    if (!message || message.room !== this.ctx.roomId) return;
    const stick = this.atBottom() || (message.author && message.author.id === this.ctx.me.id);
    const added = this.upsert(message, { live: true });
    if (added && message.author && message.author.id !== this.ctx.me.id && message.id > (this.unread.lastReadId || 0)) {
      this.setUnread({ ...this.unread, count: this.unread.count + 1, firstId: this.unread.firstId || message.id });
      // A reply under a message on screen counts as seen, open thread or not.
      if (message.parent && this.visible.has(message.parent)) this.wantRead(message.id);
    }
    if (stick && !message.parent) this.scrollToBottom();
  }

  onUpdated(frame) {
    const message = frame.message;
    if (!message || message.room !== this.ctx.roomId) return;
    if (!this.messages.has(message.id)) return; // not loaded: it will come with its page
    this.upsert(message, { live: true });
  }

  onRead(frame) {
    if (frame.room !== this.ctx.roomId) return;
    this.setUnread({ count: frame.unread_count, firstId: frame.first_unread_id, lastReadId: frame.last_read_message_id });
  }

  /** The caller's role changed: who may delete what. */
  refreshActions() {
    for (const [id, item] of this.items) {
      const message = this.messages.get(id);
      if (message) this.draw(item, message);
    }
  }

  // --- the list -----------------------------------------------------------------------------

  newestId() {
    let newest = null;
    for (const id of this.messages.keys()) if (newest === null || id > newest) newest = id;
    return newest;
  }

  oldestId() {
    let oldest = null;
    for (const id of this.messages.keys()) if (oldest === null || id < oldest) oldest = id;
    return oldest;
  }

  reset() {
    for (const keys of this.symbolsOf.values()) this.ctx.quotes.release(keys);
    this.symbolsOf.clear();
    this.messages.clear();
    this.signatures.clear();
    this.items.clear();
    this.threads.clear();
    this.visible.clear();
    this.observer.disconnect();
    this.list.replaceChildren();
  }

  normalise(message) {
    const me = this.ctx.me.id;
    // Events sent to the whole room carry `mine: false`; `users` says who reacted.
    const reactions = (message.reactions || []).map((r) => ({ ...r, mine: Array.isArray(r.users) ? r.users.includes(me) : Boolean(r.mine) }));
    return { ...message, reactions };
  }

  /** Store and draw `message`; true when it was not known before. */
  upsert(raw, { live }) {
    const message = this.normalise(raw);
    const before = this.messages.get(message.id);
    const signature = JSON.stringify(message);
    if (before && this.signatures.get(message.id) === signature) return false;
    this.messages.set(message.id, message);
    this.signatures.set(message.id, signature);
    this.wantSymbols(message);
    if (message.parent) {
      const parent = this.messages.get(message.parent);
      if (parent && live) {
        if (!before && !message.deleted) parent.reply_count = (parent.reply_count || 0) + 1;
        else if (before && !before.deleted && message.deleted) parent.reply_count = Math.max(0, (parent.reply_count || 0) - 1);
        this.signatures.set(parent.id, JSON.stringify(parent));
      }
      const thread = this.threads.get(message.parent);
      if (thread && thread.loaded) this.placeReply(thread, message);
      const parentItem = this.items.get(message.parent);
      if (parentItem && parent) this.drawThreadToggle(parentItem, parent);
      return !before;
    }
    let item = this.items.get(message.id);
    if (!item) {
      item = el("li", { class: "room-msg", id: `message-${message.id}`, dataset: { messageId: String(message.id) } });
      this.items.set(message.id, item);
      this.insert(item, message.id);
      this.observer.observe(item);
    }
    this.draw(item, message);
    return !before;
  }

  wantSymbols(message) {
    const keys = message.deleted ? [] : [...new Set(message.symbols || [])];
    const had = this.symbolsOf.get(message.id) || [];
    const added = keys.filter((key) => !had.includes(key));
    const gone = had.filter((key) => !keys.includes(key));
    if (added.length) this.ctx.quotes.want(added);
    if (gone.length) this.ctx.quotes.release(gone);
    this.symbolsOf.set(message.id, keys);
  }

  /** Put a top-level item in id order (new ones usually go last). */
  insert(item, id) {
    const children = [...this.list.querySelectorAll(":scope > [data-message-id]")];
    const next = children.find((node) => idOf(node) > id);
    if (!next) {
      this.list.append(item);
      return;
    }
    const divider = next.previousElementSibling;
    this.list.insertBefore(item, divider && divider.matches("[data-unread-divider]") ? divider : next);
  }

  // --- one message --------------------------------------------------------------------------

  canDelete(message) {
    if (message.deleted) return false;
    const role = this.ctx.role();
    return (message.author && message.author.id === this.ctx.me.id) || role === "owner" || role === "moderator";
  }

  canEdit(message) {
    if (message.deleted || !message.author || message.author.id !== this.ctx.me.id) return false;
    return Date.now() - Date.parse(message.created_at) < EDIT_WINDOW_MS;
  }

  draw(item, message) {
    const mine = message.author && message.author.id === this.ctx.me.id;
    item.classList.toggle("room-msg-mine", Boolean(mine));
    item.classList.toggle("room-msg-deleted", Boolean(message.deleted));
    item.dataset.author = message.author ? String(message.author.id) : "";
    const main = el("div", { class: "room-msg-main" }, this.head(message), ...this.content(message));
    if (!message.deleted) main.append(this.reactions(message));
    main.append(this.actions(message, item));
    const old = item.querySelector(":scope > .room-msg-main");
    if (old) old.replaceWith(main);
    else item.prepend(main);
    if (!message.parent) this.drawThreadToggle(item, message);
  }

  head(message) {
    const name = message.author ? message.author.name : t("unknownUser");
    return el(
      "div",
      { class: "room-msg-head" },
      el("span", { class: "room-msg-author", text: name }),
      " ",
      el("time", { class: "room-msg-time small muted", datetime: message.created_at, title: fullTime(message.created_at), text: shortTime(message.created_at) }),
      message.edited_at && !message.deleted ? el("span", { class: "room-msg-edited small muted", title: fullTime(message.edited_at), text: ` ${t("edited")}` }) : null,
    );
  }

  content(message) {
    if (message.deleted) {
      const by = message.deleted_by && (!message.author || message.deleted_by.id !== message.author.id) ? t("deletedBy", { name: message.deleted_by.name }) : t("deleted");
      return [el("p", { class: "room-msg-deleted-text muted", dataset: { deletedText: "" }, text: by })];
    }
    const parts = [];
    if (message.body) {
      parts.push(el("p", { class: "room-msg-body", dataset: { body: "" } }, bodyNodes(message, { quotes: this.ctx.quotes, meId: this.ctx.me.id })));
    }
    const card = shareCard(message, { onCopyAlert: (m, button, status) => this.copyAlert(m, button, status) });
    if (card) parts.push(card);
    return parts;
  }

  reactions(message) {
    const members = this.ctx.members();
    const box = el("div", { class: "room-reactions", dataset: { reactions: "" } });
    for (const reaction of message.reactions || []) {
      const names = (reaction.users || []).map((id) => (members.get(id) ? members.get(id).user.name : "?")).join(", ");
      box.append(
        el("button", {
          type: "button",
          class: "room-reaction",
          "aria-pressed": reaction.mine ? "true" : "false",
          "aria-label": t("reactWith", { emoji: reaction.emoji }),
          title: t("reactionCount", { emoji: reaction.emoji, n: reaction.count, names }),
          dataset: { emoji: reaction.emoji },
          text: `${reaction.emoji} ${reaction.count}`,
          onclick: () => this.react(message, reaction.emoji),
        }),
      );
    }
    return box;
  }

  actions(message, item) {
    const bar = el("div", { class: "room-msg-actions" });
    if (message.deleted) return bar;
    if (!message.parent) {
      bar.append(el("button", { type: "button", class: "room-action", text: t("reply"), onclick: () => this.openThread(message.id, { focus: true }) }));
    }
    const picker = el("div", { class: "room-emoji-picker", role: "group", "aria-label": t("react"), hidden: true });
    for (const emoji of this.ctx.emoji) {
      picker.append(
        el("button", {
          type: "button",
          class: "room-reaction",
          "aria-label": t("reactWith", { emoji }),
          text: emoji,
          onclick: () => {
            picker.hidden = true;
            this.react(message, emoji);
          },
        }),
      );
    }
    const react = el("button", { type: "button", class: "room-action", "aria-expanded": "false", text: t("react") });
    react.addEventListener("click", () => {
      picker.hidden = !picker.hidden;
      react.setAttribute("aria-expanded", String(!picker.hidden));
    });
    bar.append(react);
    if (this.canEdit(message)) bar.append(el("button", { type: "button", class: "room-action", text: t("edit"), onclick: () => this.startEdit(message, item) }));
    if (this.canDelete(message)) bar.append(el("button", { type: "button", class: "room-action room-danger", text: t("delete"), onclick: () => this.remove(message) }));
    bar.append(picker);
    return bar;
  }

  // --- writes -------------------------------------------------------------------------------

  showError(text) {
    const box = this.root.querySelector("[data-page-error]");
    box.textContent = text;
    box.hidden = !text;
  }

  async react(message, emoji) {
    try {
      const updated = await api("POST", url("reactions", { room: this.ctx.roomId, message: message.id }), { emoji });
      this.upsert(updated, { live: false });
      this.showError("");
    } catch (error) {
      this.showError(error.message);
    }
  }

  async remove(message) {
    if (!window.confirm(t("confirmDelete"))) return;
    try {
      await api("DELETE", url("message", { room: this.ctx.roomId, message: message.id }));
      this.showError("");
      // The `room.message_updated` event redraws it for everyone, this page included.
      const gone = { ...message, deleted: true, body: "", share: null, reactions: [], mentions: [], symbols: [], links: [], deleted_by: this.ctx.me };
      this.upsert(gone, { live: true });
    } catch (error) {
      this.showError(error.message);
    }
  }

  startEdit(message, item) {
    const body = item.querySelector(":scope > .room-msg-main [data-body]") || item.querySelector("[data-body]");
    const main = item.querySelector(":scope > .room-msg-main");
    const textarea = el("textarea", { class: "room-edit-input", rows: "3", "aria-label": t("edit") });
    textarea.value = message.body;
    const error = el("p", { class: "errorlist", role: "alert", hidden: true });
    const save = el("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("save") });
    const cancel = el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("cancel") });
    const form = el("form", { class: "room-edit", novalidate: true }, textarea, el("div", { class: "cluster" }, save, cancel), error);
    const restore = () => this.draw(item, this.messages.get(message.id) || message);
    cancel.addEventListener("click", restore);
    textarea.addEventListener("keydown", (event) => {
      if (event.key === "Escape") restore();
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      try {
        const updated = await api("PATCH", url("message", { room: this.ctx.roomId, message: message.id }), { body: textarea.value });
        this.signatures.delete(message.id);
        this.upsert(updated, { live: true });
      } catch (failure) {
        error.textContent = Object.values(failure.fields || {}).flat().join(" ") || failure.message;
        error.hidden = false;
        save.disabled = false;
      }
    });
    if (body) body.replaceWith(form);
    else main.append(form);
    textarea.focus();
  }

  async copyAlert(message, button, status) {
    button.disabled = true;
    try {
      await api("POST", url("copyAlert", { room: this.ctx.roomId, message: message.id }));
      status.replaceChildren(t("copied"), " ", el("a", { href: url("alertsPage"), text: t("openAlerts") }));
    } catch (error) {
      status.textContent = Object.values(error.fields || {}).flat().join(" ") || error.message;
      button.disabled = false;
    }
  }

  // --- threads ------------------------------------------------------------------------------

  drawThreadToggle(item, message) {
    let toggle = item.querySelector(":scope > [data-thread-toggle]");
    const thread = this.threads.get(message.id);
    const open = Boolean(thread && thread.open);
    const count = message.reply_count || 0;
    if (!count && !open) {
      if (toggle) toggle.remove();
      return;
    }
    if (!toggle) {
      toggle = el("button", { type: "button", class: "room-action room-thread-toggle", dataset: { threadToggle: "" } });
      toggle.addEventListener("click", () => {
        const state = this.threads.get(message.id);
        if (state && state.open) this.closeThread(message.id);
        else this.openThread(message.id);
      });
      const box = item.querySelector(":scope > [data-thread]");
      item.insertBefore(toggle, box || null);
    }
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? t("hideReplies") : count === 1 ? t("repliesOne") : t("replies", { n: count });
  }

  thread(parentId) {
    let thread = this.threads.get(parentId);
    if (thread) return thread;
    const item = this.items.get(parentId);
    const list = el("ol", { class: "room-replies" });
    const input = el("textarea", { rows: "1", class: "room-reply-input", placeholder: t("replyPlaceholder"), "aria-label": t("replyPlaceholder") });
    const error = el("p", { class: "errorlist", role: "alert", hidden: true });
    const form = el("form", { class: "room-reply-form", novalidate: true }, input, el("button", { type: "submit", class: "btn btn-sm btn-primary", text: t("send") }), error);
    const submit = async (event) => {
      if (event) event.preventDefault();
      const body = input.value;
      if (!body.trim()) return;
      error.hidden = true;
      try {
        const message = await this.ctx.sender.send({ body, parent: parentId });
        input.value = "";
        this.upsert(message, { live: true });
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
      }
    };
    form.addEventListener("submit", submit);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
    });
    const box = el("div", { class: "room-thread", dataset: { thread: String(parentId) }, hidden: true }, list, form);
    item.append(box);
    thread = { box, list, input, loaded: false, open: false };
    this.threads.set(parentId, thread);
    return thread;
  }

  async openThread(parentId, { focus = false } = {}) {
    const parent = this.messages.get(parentId);
    if (!parent || !this.items.has(parentId)) return;
    const thread = this.thread(parentId);
    thread.open = true;
    thread.box.hidden = false;
    this.drawThreadToggle(this.items.get(parentId), parent);
    if (!thread.loaded) {
      try {
        const params = new URLSearchParams({ parent: String(parentId), limit: String(THREAD_PAGE) });
        const page = await api("GET", `${url("messages", { room: this.ctx.roomId })}?${params}`);
        thread.loaded = true;
        for (const reply of [...(page.results || [])].reverse()) this.upsert(reply, { live: false });
        for (const message of this.messages.values()) if (message.parent === parentId) this.placeReply(thread, message);
      } catch (error) {
        this.showError(error.message);
      }
    }
    if (focus) thread.input.focus();
  }

  closeThread(parentId) {
    const thread = this.threads.get(parentId);
    if (!thread) return;
    thread.open = false;
    thread.box.hidden = true;
    this.drawThreadToggle(this.items.get(parentId), this.messages.get(parentId));
  }

  placeReply(thread, message) {
    let item = this.items.get(message.id);
    if (!item) {
      item = el("li", { class: "room-msg room-reply", id: `message-${message.id}`, dataset: { messageId: String(message.id) } });
      this.items.set(message.id, item);
      const next = [...thread.list.children].find((node) => idOf(node) > message.id);
      thread.list.insertBefore(item, next || null);
      this.observer.observe(item);
    }
    this.draw(item, message);
  }

  // --- scrolling and older pages ------------------------------------------------------------

  atBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < BOTTOM_STICK_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  initialScroll() {
    const match = /^#message-(\d+)$/.exec(window.location.hash);
    if (match) {
      this.reveal(Number(match[1]));
      return;
    }
    const divider = this.list.querySelector("[data-unread-divider]");
    if (divider) divider.scrollIntoView({ block: "start" });
    else this.scrollToBottom();
    this.maybeLoadOlder();
  }

  onScroll() {
    this.maybeLoadOlder();
  }

  maybeLoadOlder() {
    if (this.scroller.scrollTop < TOP_LOAD_PX && this.hasMore && !this.loadingOlder) this.loadOlder();
  }

  showOlderStatus() {
    this.olderStatus.textContent = this.loadingOlder ? t("loadingOlder") : this.hasMore ? "" : t("beginning");
  }

  loadOlder() {
    if (this.loadingOlder) return this.loadingOlder;
    this.loadingOlder = (async () => {
      this.showOlderStatus();
      const oldest = this.oldestId();
      const params = new URLSearchParams({ limit: String(PAGE) });
      if (oldest !== null) params.set("before", String(oldest));
      try {
        const page = await api("GET", `${url("messages", { room: this.ctx.roomId })}?${params}`);
        const height = this.scroller.scrollHeight;
        const top = this.scroller.scrollTop;
        for (const message of page.results || []) this.upsert(message, { live: false });
        this.hasMore = Boolean(page.has_more);
        // Keep the reader's place: the content above grew by what was added.
        this.scroller.scrollTop = top + (this.scroller.scrollHeight - height);
        this.root.dataset.olderLoads = String(Number(this.root.dataset.olderLoads || 0) + 1);
      } catch (error) {
        this.showError(error.message);
      } finally {
        this.loadingOlder = null;
        this.showOlderStatus();
      }
      // Still at the top (a page of replies to older messages adds little): keep going.
      setTimeout(() => this.maybeLoadOlder(), 0);
    })();
    return this.loadingOlder;
  }

  /** Scroll to message `id`, loading older pages (and its thread) as needed. */
  async reveal(id) {
    let pages = 0;
    while (!this.messages.has(id) && this.hasMore && pages < MAX_OLDER_PAGES_TO_REVEAL) {
      await this.loadOlder();
      pages += 1;
    }
    const message = this.messages.get(id);
    if (message && message.parent) await this.openThread(message.parent);
    const item = this.items.get(id);
    if (!item) return;
    item.scrollIntoView({ block: "center" });
    item.classList.add("room-msg-target");
    setTimeout(() => item.classList.remove("room-msg-target"), 2500);
  }

  // --- unread -------------------------------------------------------------------------------

  setUnread({ count, firstId, lastReadId }) {
    this.unread = { count: Math.max(0, Number(count) || 0), firstId: firstId || null, lastReadId: lastReadId || null };
    this.readSent = Math.max(this.readSent, this.unread.lastReadId || 0);
    this.jumpButton.hidden = this.unread.count === 0;
    this.jumpButton.textContent = t("jumpUnread", { n: this.unread.count });
    this.root.dataset.unread = String(this.unread.count);
    if (this.ctx.onUnread) this.ctx.onUnread(this.unread.count);
  }

  placeDivider(firstId) {
    const old = this.list.querySelector("[data-unread-divider]");
    if (old) old.remove();
    if (!firstId) return;
    const at = [...this.list.querySelectorAll(":scope > [data-message-id]")].find((node) => idOf(node) >= firstId);
    if (!at) return;
    this.list.insertBefore(el("li", { class: "room-divider", role: "separator", dataset: { unreadDivider: "" } }, el("span", { text: t("newMessages") })), at);
  }

  async jumpToUnread() {
    const firstId = this.unread.firstId;
    if (!firstId) return;
    let pages = 0;
    while (this.oldestId() !== null && this.oldestId() > firstId && this.hasMore && pages < MAX_OLDER_PAGES_TO_REVEAL) {
      await this.loadOlder();
      pages += 1;
    }
    this.placeDivider(firstId);
    const divider = this.list.querySelector("[data-unread-divider]");
    if (divider) divider.scrollIntoView({ block: "start" });
    else await this.reveal(firstId);
  }

  onSeen(entries) {
    for (const entry of entries) {
      const id = idOf(entry.target);
      if (entry.isIntersecting) {
        this.visible.add(id);
        this.wantRead(id);
      } else {
        this.visible.delete(id);
      }
    }
  }

  wantRead(id) {
    if (document.hidden || id <= this.readSent || id <= this.readWanted) return;
    this.readWanted = id;
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.sendRead(), READ_DEBOUNCE_MS);
  }

  async sendRead() {
    const id = this.readWanted;
    if (id <= this.readSent) return;
    this.readSent = id;
    try {
      const state = await api("POST", url("read", { room: this.ctx.roomId }), { message_id: id });
      this.setUnread({ count: state.unread_count, firstId: state.first_unread_id, lastReadId: state.last_read_message_id });
    } catch {
      this.readSent = 0; // try again with the next message seen
    }
  }

  /** For the screen-reader announcement after sending. */
  announce(text) {
    announce(this.root, text);
  }
}
