// The header's unread badge (every signed-in page) and the notification centre
// (templates/notifications/centre.html). Live over the shared WebSocket client:
// `notification.new` and `notification.read` frames (docs/websocket.md) carry the new
// unread count; on a resync the count and the list are re-fetched over REST.

import * as realtime from "./realtime.js";

let S = {};
let URLS = {};
let centre = null;
let items = [];
let destinations = [];

function t(key, params = {}) {
  return (S[key] || key).replace(/\{(\w+)\}/g, (_, name) => params[name] ?? "");
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error((data && data.error && data.error.message) || t("genericError"));
    error.fields = (data && data.error && data.error.fields) || {};
    throw error;
  }
  return data;
}

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

// --- badge --------------------------------------------------------------------------------

export function setBadge(count) {
  for (const badge of document.querySelectorAll("[data-notif-badge]")) {
    const number = badge.querySelector("[data-notif-count]") || badge;
    number.textContent = String(count);
    badge.hidden = !count;
    badge.dataset.count = String(count);
  }
}

async function refreshCount() {
  try {
    const data = await api("GET", "/api/v1/notifications/unread-count/");
    setBadge(data.unread_count);
  } catch {
    /* the next frame or resync corrects it */
  }
}

// --- centre -------------------------------------------------------------------------------

function filters() {
  const form = centre.querySelector("[data-notif-filters]");
  return Object.fromEntries([...new FormData(form)].filter(([, value]) => value !== ""));
}

function matches(notification) {
  const f = filters();
  if (f.read === "true" && !notification.read_at) return false;
  if (f.read === "false" && notification.read_at) return false;
  if (f.priority && notification.priority !== f.priority) return false;
  if (f.source && notification.source !== f.source) return false;
  return true;
}

function renderList() {
  const list = centre.querySelector("[data-notif-list]");
  list.replaceChildren();
  const shown = items.filter(matches);
  if (!shown.length) list.append(el("li", { class: "notif-empty", text: t("empty") }));
  for (const n of shown) {
    const when = new Date(n.created).toLocaleString();
    const item = el("li", {
      class: `notif-item notif-${n.priority}${n.read_at ? "" : " is-unread"}`,
      "data-notification": n.id,
    }, [
      el("div", { class: "notif-head" }, [
        el("strong", { class: "notif-title", text: n.title }),
        el("span", { class: "notif-meta", text: `${t(n.priority)} · ${n.source} · ${when}` }),
      ]),
      n.body ? el("p", { class: "notif-body", text: n.body }) : null,
    ]);
    if (!n.read_at) {
      const button = el("button", { type: "button", class: "btn btn-sm btn-secondary", text: t("markRead") });
      button.addEventListener("click", async () => {
        const updated = await api("POST", URLS.read.replace("{id}", n.id));
        Object.assign(n, updated);
        renderList();
      });
      item.append(button);
    }
    list.append(item);
  }
}

async function loadList() {
  const params = new URLSearchParams(filters());
  const data = await api("GET", `${URLS.notifications}?${params}`);
  items = data.results;
  renderList();
}

function announce(text) {
  const region = centre.querySelector("[data-announce]");
  if (region) region.textContent = text;
}

function destinationName(d) {
  return d.label || d.config.address || d.config.phone || d.config.url || d.kind;
}

function renderDestinations() {
  const list = centre.querySelector("[data-destination-list]");
  list.replaceChildren();
  if (!destinations.length) list.append(el("li", { text: t("noDestinations") }));
  for (const d of destinations) {
    let state = d.verified ? t("verified") : t("unverified");
    if (d.disabled) state = t("disabled", { reason: d.disabled_reason });
    const row = el("li", { class: "notif-destination", "data-destination": d.id }, [
      el("strong", { text: destinationName(d) }),
      el("span", { class: "notif-meta", text: ` ${d.kind} · ${state}` }),
    ]);
    const actions = el("span", { class: "notif-actions" });
    const button = (label, fn) => {
      const b = el("button", { type: "button", class: "btn btn-sm btn-secondary", text: label });
      b.addEventListener("click", async () => {
        try {
          await fn();
        } catch (error) {
          announce(error.message);
        }
      });
      actions.append(b);
    };
    const url = URLS.destination.replace("{id}", d.id);
    button(t("test"), async () => {
      await api("POST", `${url}test/`);
      announce(t("testSent"));
    });
    if (d.disabled) {
      button(t("enable"), async () => replaceDestination(await api("PATCH", url, { disabled: false })));
    }
    if (!d.verified && d.verify_by_code) {
      const form = el("form", { class: "notif-verify" }, [
        el("label", { text: t("codeLabel") }, [el("input", { name: "code", inputmode: "numeric", maxlength: "6", required: "" })]),
        el("button", { type: "submit", class: "btn btn-sm", text: t("verify") }),
      ]);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          replaceDestination(await api("POST", `${url}verify/`, { code: form.elements.code.value }));
        } catch (error) {
          announce((error.fields.code || [error.message]).join(" "));
        }
      });
      row.append(form);
      button(t("sendCode"), async () => {
        await api("POST", `${url}send-code/`);
        announce(t("codeSent"));
      });
    }
    if (d.kind !== "in_app") {
      button(t("remove"), async () => {
        if (!window.confirm(t("confirmRemove", { name: destinationName(d) }))) return;
        await api("DELETE", url);
        destinations = destinations.filter((x) => x.id !== d.id);
        renderDestinations();
      });
    }
    row.append(actions);
    list.append(row);
  }
}

function replaceDestination(updated) {
  const index = destinations.findIndex((d) => d.id === updated.id);
  if (index >= 0) destinations[index] = updated;
  else destinations.push(updated);
  renderDestinations();
}

const CONFIG_KEY = { email: "address", sms: "phone", slack: "url", discord: "url", webhook: "url" };

function wireForms() {
  centre.querySelector("[data-notif-filters]").addEventListener("change", () => loadList());
  centre.querySelector("[data-read-all]").addEventListener("click", async () => {
    await api("POST", URLS.readAll);
    const now = new Date().toISOString();
    for (const n of items) n.read_at = n.read_at || now;
    renderList();
    setBadge(0);
  });
  const form = centre.querySelector("[data-destination-form]");
  const error = form.querySelector("[data-error]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const kind = form.elements.kind.value;
    try {
      const created = await api("POST", URLS.destinations, {
        kind, label: form.elements.label.value, config: { [CONFIG_KEY[kind]]: form.elements.target.value },
      });
      form.reset();
      replaceDestination(created);
    } catch (error_) {
      error.textContent = [error_.message, ...Object.values(error_.fields).flat()].join(" ");
      error.hidden = false;
    }
  });
}

// --- browser push ---------------------------------------------------------------------------

function b64ToBytes(value) {
  const padded = (value + "=".repeat((4 - (value.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function wirePush(vapidKey) {
  const button = centre.querySelector("[data-push-subscribe]");
  const status = centre.querySelector("[data-push-status]");
  if (!vapidKey) return; // push is not configured on this server
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    status.textContent = t("pushUnsupported");
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        status.textContent = t("pushDenied");
        return;
      }
      const registration = await navigator.serviceWorker.register(URLS.serviceWorker);
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: b64ToBytes(vapidKey),
      });
      const json = subscription.toJSON();
      const created = await api("POST", URLS.destinations, {
        kind: "web_push", label: navigator.userAgent.split(" ").pop(),
        config: { endpoint: json.endpoint, keys: json.keys },
      });
      replaceDestination(created);
      await api("POST", `${URLS.destination.replace("{id}", created.id)}test/`);
      status.textContent = t("pushOn");
    } catch (error) {
      status.textContent = error.message || t("genericError");
    }
  });
}

function initCentre() {
  centre = document.querySelector("[data-notif-centre]");
  const script = document.getElementById("notifications-data");
  if (!centre || !script) return;
  const data = JSON.parse(script.textContent);
  S = data.strings || {};
  URLS = data.urls || {};
  items = data.notifications || [];
  destinations = data.destinations || [];
  renderList();
  renderDestinations();
  wireForms();
  wirePush(data.vapidKey);
}

// --- live updates ------------------------------------------------------------------------

function onNew(frame) {
  setBadge(frame.unread_count);
  if (!centre || !frame.notification) return;
  if (!items.some((n) => n.id === frame.notification.id)) items.unshift(frame.notification);
  renderList();
}

function onRead(frame) {
  setBadge(frame.unread_count);
  if (!centre) return;
  const now = new Date().toISOString();
  for (const n of items) if (frame.all || (frame.ids || []).includes(n.id)) n.read_at = n.read_at || now;
  renderList();
}

export function init() {
  if (!document.querySelector("[data-notif-badge]")) return; // signed out
  initCentre();
  realtime.connect();
  realtime.on("notification.new", onNew);
  realtime.on("notification.read", onRead);
  realtime.onResync(() => {
    refreshCount();
    if (centre) loadList().catch(() => {});
  });
}

init();
