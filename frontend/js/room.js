// One room (templates/rooms/room.html): chat beside the shared watchlist and a chart, who is
// online and typing, members and their moderation, the activity feed. On a phone the panels
// are tabs (Chat / Watchlist / Chart / People / Activity); from 64em they sit side by side.
//
// The page paints from its embedded snapshot at once, then subscribes to the room over the
// shared socket (realtime.js `subscribeRoom`, re-sent on every reconnect). Frames handled
// (docs/websocket.md): `room.snapshot`, `room.message`, `room.message_updated`,
// `room.member`, `room.activity`, `room.presence`, `room.typing`, `room.revoked`,
// `room.updated`, `room.read`, `room.sent` (room-composer.js), and `quote.*` / `watchlist.*`
// for the panels. Modules: room-chat.js (messages), room-render.js (message text and cards,
// never innerHTML), room-composer.js (sending, @mentions, share menu), room-presence.js,
// room-market.js (watchlist table, chart), room-members.js, room-activity.js,
// room-quotes.js (the page's live quotes).

import * as realtime from "./realtime.js";
import { Activity } from "./room-activity.js";
import { Chat } from "./room-chat.js";
import { Composer, Sender, ShareDialog } from "./room-composer.js";
import { ChartPanel, WatchlistPanel } from "./room-market.js";
import { Members } from "./room-members.js";
import { Presence } from "./room-presence.js";
import { QuoteStore } from "./room-quotes.js";
import { pageData, t } from "./room-util.js";

const TABS = ["chat", "watchlist", "chart", "people", "activity"];
const SUBSCRIBE_REF = /^r\d+$/; // realtime.js's refs for room subscriptions

let root = null;
let roomId = 0;
let room = null;
let role = "member";
let revoked = false;
let viewing = null; // {key, timeframe} of the chart panel
let viewingSent = undefined; // what the server last heard ("" = nothing), undefined: unknown
let chatWasAtBottom = true;

const parts = {};

function setRole(next) {
  if (!next || next === role) return;
  role = next;
  root.dataset.role = role;
  root.querySelector("[data-my-role]").textContent = t(`role_${role}`);
  parts.members.roleChanged();
  parts.chat.refreshActions();
}

function setRoom(next) {
  if (!next || next.id !== roomId) return;
  room = next;
  root.querySelector("[data-room-name]").textContent = room.name;
  const description = root.querySelector("[data-room-description]");
  description.textContent = room.description || "";
  description.hidden = !room.description;
  document.title = document.title.replace(/^[^·]*·/, `${room.name} ·`);
  parts.watchlist.setWatchlistId(room.watchlist);
}

function endMembership() {
  if (revoked) return;
  revoked = true;
  root.dataset.roomState = "revoked";
  const box = root.querySelector("[data-revoked]");
  box.querySelector("[data-revoked-text]").textContent = t("revoked");
  box.hidden = false;
  parts.composer.disable(true);
  realtime.unsubscribeRoom(roomId);
}

// --- what this member is viewing --------------------------------------------------------------

function chartOnScreen() {
  const panel = root.querySelector('[data-panel="chart"]');
  return !document.hidden && panel.offsetParent !== null && getComputedStyle(panel).display !== "none";
}

function syncViewing() {
  if (revoked || root.dataset.roomState !== "live") return;
  const current = viewing && chartOnScreen() ? viewing : null;
  const key = current ? `${current.key} ${current.timeframe}` : "";
  if (key === viewingSent) return;
  const frame = { type: "room.viewing", room: roomId, symbol: current ? current.key : null };
  if (current) frame.timeframe = current.timeframe;
  if (realtime.send(frame)) viewingSent = key;
}

// --- tabs (phones and tablets) ----------------------------------------------------------------

function setTab(name, { focus = false } = {}) {
  if (root.dataset.tab === "chat" && name !== "chat") chatWasAtBottom = parts.chat.atBottom();
  root.dataset.tab = name;
  for (const button of root.querySelectorAll("[data-tab-button]")) {
    const selected = button.dataset.tabButton === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    if (selected && focus) button.focus();
  }
  if (name === "chat" && chatWasAtBottom) parts.chat.scrollToBottom();
  syncViewing();
}

function initTabs() {
  const buttons = [...root.querySelectorAll("[data-tab-button]")];
  for (const button of buttons) {
    button.addEventListener("click", () => setTab(button.dataset.tabButton));
    button.addEventListener("keydown", (event) => {
      const index = TABS.indexOf(button.dataset.tabButton);
      let next = null;
      if (event.key === "ArrowRight") next = TABS[(index + 1) % TABS.length];
      else if (event.key === "ArrowLeft") next = TABS[(index - 1 + TABS.length) % TABS.length];
      else if (event.key === "Home") next = TABS[0];
      else if (event.key === "End") next = TABS[TABS.length - 1];
      if (!next) return;
      event.preventDefault();
      setTab(next, { focus: true });
    });
  }
  window.matchMedia("(min-width: 64em)").addEventListener("change", syncViewing);
  document.addEventListener("visibilitychange", syncViewing);
}

function showUnread(count) {
  const badge = root.querySelector("[data-tab-unread]");
  badge.textContent = String(count);
  badge.hidden = count === 0;
}

// --- socket frames ------------------------------------------------------------------------

function ours(frame) {
  return Number(frame.room) === roomId;
}

function initRealtime() {
  realtime.connect();
  realtime.on("room.snapshot", (frame) => {
    if (!frame.room || frame.room.id !== roomId) return;
    root.dataset.roomState = "live";
    setRoom(frame.room);
    setRole(frame.role);
    parts.chat.applySnapshot(frame);
    parts.presence.setOnline(frame.online);
    viewingSent = undefined; // a new subscription knows nothing of our chart yet
    syncViewing();
  });
  realtime.on("room.message", (frame) => {
    if (!frame.message || frame.message.room !== roomId) return;
    parts.chat.onMessage(frame);
    if (frame.message.author) parts.presence.stopTyping(frame.message.author.id, true);
  });
  realtime.on("room.message_updated", (frame) => parts.chat.onUpdated(frame));
  realtime.on("room.member", (frame) => {
    if (!ours(frame)) return;
    const me = frame.user && frame.user.id === parts.me.id;
    if (me && (frame.action === "removed" || frame.action === "left")) {
      endMembership();
      return;
    }
    parts.members.onMemberEvent(frame);
  });
  realtime.on("room.activity", (frame) => parts.activity.onActivity(frame));
  realtime.on("room.presence", (frame) => {
    if (ours(frame)) parts.presence.setOnline(frame.online);
  });
  realtime.on("room.typing", (frame) => {
    if (ours(frame)) parts.presence.onTyping(frame);
  });
  realtime.on("room.revoked", (frame) => {
    if (Number(frame.id) === roomId) endMembership();
  });
  realtime.on("room.updated", (frame) => setRoom(frame.room));
  realtime.on("room.read", (frame) => parts.chat.onRead(frame));
  realtime.on("error", (frame) => {
    // Subscribing answered "not_found": the membership ended while we were away.
    if (frame.code === "not_found" && SUBSCRIBE_REF.test(String(frame.ref || ""))) endMembership();
  });
  realtime.on("subscribed", (frame) => {
    if (frame.topic === "room" && frame.id === roomId) root.dataset.subscribed = `room:${roomId}`;
  });
  realtime.on("closed", () => {
    root.dataset.subscribed = "";
    if (!revoked) root.dataset.roomState = "";
    viewingSent = undefined;
  });
  realtime.onResync(() => {
    parts.members.reload();
    parts.activity.load();
  });
  realtime.subscribeRoom(roomId);
}

export function initRoom() {
  root = document.querySelector("[data-room-page]");
  const data = pageData("room-data");
  if (!root || !data) return;
  roomId = Number(root.dataset.room);
  room = data.snapshot.room;
  role = data.snapshot.role;
  parts.me = data.me;
  const quotes = new QuoteStore(root);
  const sender = new Sender(roomId);
  const ctx = {
    root,
    roomId,
    me: data.me,
    maxLength: data.maxLength,
    emoji: data.emoji,
    quotes,
    sender,
    role: () => role,
    setRole,
    room: () => room,
    members: () => parts.members.map(),
    onUnread: showUnread,
  };
  parts.members = new Members(ctx, data.members || []);
  parts.chat = new Chat(ctx);
  parts.presence = new Presence(root, data.me);
  parts.chart = new ChartPanel({
    root,
    quotes,
    onViewing: (current) => {
      viewing = current;
      syncViewing();
    },
  });
  parts.watchlist = new WatchlistPanel({
    root,
    quotes,
    watchlist: data.watchlist,
    watchlistId: room.watchlist,
    onPick: (key) => parts.chart.show(key),
  });
  const onSent = (message) => parts.chat.onMessage({ message });
  parts.composer = new Composer({ ...ctx, onSent });
  parts.share = new ShareDialog({ root, sender, portfolioFields: data.portfolioFields, chart: () => parts.chart.current(), onSent });
  parts.activity = new Activity(root, roomId);
  parts.chat.applySnapshot(data.snapshot);
  parts.presence.setOnline([{ ...data.me, viewing: null }]);
  parts.activity.load();
  initTabs();
  initRealtime();
}

initRoom();
