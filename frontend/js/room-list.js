// The room list (templates/rooms/list.html): the user's rooms with unread badges and the
// last message, pending invitations (accept / decline), discoverable rooms (search, join)
// and the create form. Everything goes through the REST API (apps/rooms/api.py).
//
// Live: `room.message` only reaches sockets subscribed to a room, so this page re-fetches
// the list over REST every REFRESH_MS while it is visible, and at once when the user's own
// channel says something changed (`room.read` from another tab, `room.revoked`, a mention's
// `notification.new`) or after a reconnect. Opening 50 room subscriptions (each with a
// 50-message snapshot) to move a badge would cost far more than one small GET.

import { el } from "./api.js";
import * as realtime from "./realtime.js";
import {
  announce,
  api,
  clearFieldErrors,
  pageData,
  shortTime,
  showFieldErrors,
  t,
  url,
} from "./room-util.js";

const REFRESH_MS = 15000;
const SEARCH_DEBOUNCE_MS = 300;

let root = null;
let rooms = [];
let invitations = [];
let refreshTimer = null;
let searchTimer = null;
let searchSeq = 0;

function unreadBadge(count) {
  return el("span", { class: "badge badge-primary room-unread", dataset: { unread: String(count) }, text: t("unread", { n: count }) });
}

function preview(message) {
  if (!message) return t("noMessages");
  if (message.deleted) return t("deletedPreview");
  const who = message.author ? message.author.name : t("someone");
  const what = message.body || (message.share_type ? t("sharedPreview", { kind: t(`share_${message.share_type}`) }) : "");
  return `${who}: ${what}`;
}

function roomItem(room) {
  const count = room.member_count === 1 ? t("memberCountOne") : t("memberCount", { n: room.member_count });
  return el(
    "li",
    { class: "room-item", dataset: { roomId: String(room.id) } },
    el(
      "a",
      { class: "room-item-link", href: url("page", { room: room.id }) },
      el(
        "span",
        { class: "room-item-head" },
        el("span", { class: "room-item-name", text: room.name }),
        room.unread_count ? unreadBadge(room.unread_count) : null,
      ),
      el("span", { class: "room-item-preview small muted", dataset: { preview: "" }, text: preview(room.last_message) }),
      el(
        "span",
        { class: "room-item-meta small muted" },
        `${t(`role_${room.role}`)} · ${t(room.visibility)} · ${count}`,
        room.last_message ? ` · ${shortTime(room.last_message.created_at)}` : "",
      ),
    ),
  );
}

function renderRooms() {
  const box = root.querySelector("[data-room-list]");
  if (!rooms.length) {
    box.replaceChildren(el("p", { class: "empty-state", dataset: { empty: "" }, text: t("empty") }));
    return;
  }
  box.replaceChildren(el("ul", { class: "room-list" }, rooms.map(roomItem)));
}

function invitationItem(invitation) {
  const error = el("p", { class: "errorlist", role: "alert", hidden: true });
  const text = invitation.invited_by
    ? t("invitedBy", { name: invitation.invited_by.name, room: invitation.room.name })
    : t("invited", { room: invitation.room.name });
  const respond = async (accept, button) => {
    button.disabled = true;
    error.hidden = true;
    try {
      const address = url(accept ? "invitationAccept" : "invitationDecline", { id: invitation.id });
      const body = await api("POST", address);
      if (accept) {
        window.location.assign(url("page", { room: body.id }));
        return;
      }
      invitations = invitations.filter((i) => i.id !== invitation.id);
      renderInvitations();
      announce(root, t("declined", { room: invitation.room.name }));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      button.disabled = false;
    }
  };
  const accept = el("button", { type: "button", class: "btn btn-sm btn-primary", text: t("accept") });
  const decline = el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("decline") });
  accept.addEventListener("click", () => respond(true, accept));
  decline.addEventListener("click", () => respond(false, decline));
  return el(
    "li",
    { class: "card rooms-invitation", dataset: { invitationId: String(invitation.id) } },
    el("p", { class: "rooms-invitation-text", text }),
    invitation.room.description ? el("p", { class: "small muted", text: invitation.room.description }) : null,
    el("div", { class: "cluster" }, accept, decline),
    error,
  );
}

function renderInvitations() {
  const box = root.querySelector("[data-invitations-box]");
  box.hidden = invitations.length === 0;
  root.querySelector("[data-invitations]").replaceChildren(...invitations.map(invitationItem));
}

async function refresh() {
  try {
    const [page, mine] = await Promise.all([api("GET", `${url("rooms")}?page_size=100`), api("GET", url("myInvitations"))]);
    rooms = (page && page.results) || [];
    invitations = mine || [];
    renderRooms();
    renderInvitations();
  } catch {
    // The next refresh tries again.
  }
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    if (!document.hidden) await refresh();
    scheduleRefresh();
  }, REFRESH_MS);
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    await refresh();
    scheduleRefresh();
  }, 200);
}

// --- discover -----------------------------------------------------------------------------

function discoverItem(room) {
  const error = el("p", { class: "errorlist", role: "alert", hidden: true });
  const join = el("button", { type: "button", class: "btn btn-sm btn-primary", text: t("join") });
  join.addEventListener("click", async () => {
    join.disabled = true;
    join.textContent = t("joining");
    try {
      await api("POST", url("join", { room: room.id }));
      window.location.assign(url("page", { room: room.id }));
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      join.disabled = false;
      join.textContent = t("join");
    }
  });
  const count = room.member_count === 1 ? t("memberCountOne") : t("memberCount", { n: room.member_count });
  return el(
    "li",
    { class: "rooms-discover-item", dataset: { roomId: String(room.id) } },
    el(
      "div",
      { class: "rooms-discover-text" },
      el("p", { class: "room-item-name", text: room.name }),
      room.description ? el("p", { class: "small muted", text: room.description }) : null,
      el("p", { class: "small muted", text: `${t("ownedBy", { name: room.owner.name })} · ${count}` }),
    ),
    join,
    error,
  );
}

async function discover(query) {
  const seq = ++searchSeq;
  const list = root.querySelector("[data-discover-list]");
  const error = root.querySelector("[data-discover-error]");
  try {
    const params = new URLSearchParams({ q: query, page_size: "20" });
    const page = await api("GET", `${url("discover")}?${params}`);
    if (seq !== searchSeq) return;
    error.hidden = true;
    const found = (page && page.results) || [];
    list.replaceChildren(...(found.length ? found.map(discoverItem) : [el("li", { class: "muted small", text: t("noDiscover") })]));
  } catch (failure) {
    if (seq !== searchSeq) return;
    error.textContent = failure.message;
    error.hidden = false;
  }
}

function initDiscover() {
  const form = root.querySelector("[data-discover-form]");
  const input = form.querySelector("input[name=q]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    discover(input.value.trim());
  });
  input.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => discover(input.value.trim()), SEARCH_DEBOUNCE_MS);
  });
  discover("");
}

// --- create -------------------------------------------------------------------------------

function initCreate() {
  const form = root.querySelector("[data-create-form]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    const data = new FormData(form);
    const watchlist = String(data.get("watchlist") || "");
    const body = {
      name: String(data.get("name") || "").trim(),
      description: String(data.get("description") || "").trim(),
      visibility: String(data.get("visibility") || "private"),
      watchlist: watchlist ? Number(watchlist) : null,
    };
    const submit = form.querySelector("[type=submit]");
    submit.disabled = true;
    try {
      const room = await api("POST", url("rooms"), body);
      announce(root, t("created", { name: room.name }));
      window.location.assign(url("page", { room: room.id }));
    } catch (failure) {
      const first = showFieldErrors(form, failure);
      if (first) first.focus();
      submit.disabled = false;
    }
  });
}

export function initRoomList() {
  root = document.querySelector("[data-rooms-page]");
  const data = pageData("rooms-data");
  if (!root || !data) return;
  rooms = data.rooms || [];
  invitations = data.invitations || [];
  renderRooms();
  renderInvitations();
  initCreate();
  initDiscover();
  realtime.connect();
  for (const type of ["room.read", "room.revoked", "notification.new"]) realtime.on(type, refreshSoon);
  realtime.onResync(refreshSoon);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refreshSoon();
  });
  scheduleRefresh();
}

initRoomList();
