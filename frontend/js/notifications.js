// The header's unread badge (every signed-in page) and the notification centre
// (templates/notifications/centre.html). Live over the shared WebSocket client:
// `notification.new` and `notification.read` frames (docs/websocket.md) carry the new
// unread count; on a resync the count and the list are re-fetched over REST.

import { apiRequest, el } from "./api.js";
import * as realtime from "./realtime.js";

let S = {};
let URLS = {};
let centre = null;
let items = [];
let destinations = [];
let prefs = {};

const PRIORITIES = ["low", "normal", "high"];

function t(key, params = {}) {
  return (S[key] || key).replace(/\{(\w+)\}/g, (_, name) => params[name] ?? "");
}

function api(method, url, body) {
  return apiRequest(method, url, body, { generic: t("genericError") });
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
    row.append(actions, priorityChoices(d, url));
    list.append(row);
  }
}

// Which priorities a destination receives: saved on each change, without redrawing the
// list (keeps the focus on the checkbox). Saves of one row run one after another.
function priorityChoices(d, url) {
  const name = destinationName(d);
  const status = el("span", { class: "notif-saved", role: "status" });
  const group = el("fieldset", { class: "notif-priorities", "data-priorities": d.id }, [
    el("legend", {}, [
      el("span", { "aria-hidden": "true", text: t("receives") }),
      el("span", { class: "visually-hidden", text: t("receivesFor", { name }) }),
    ]),
  ]);
  let saving = Promise.resolve();
  for (const priority of PRIORITIES) {
    const input = el("input", { type: "checkbox", name: "priorities", value: priority });
    input.checked = (d.priorities || []).includes(priority);
    input.addEventListener("change", () => {
      saving = saving.then(async () => {
        const chosen = PRIORITIES.filter((p) => group.querySelector(`input[value="${p}"]`).checked);
        status.classList.remove("is-error");
        status.textContent = "";
        try {
          const updated = await api("PATCH", url, { priorities: chosen });
          Object.assign(d, updated);
          const list = updated.priorities.map((p) => t(p)).join(", ") || t("prioritiesNone");
          status.textContent = t("prioritiesSaved", { name, priorities: list });
        } catch (error) {
          input.checked = (d.priorities || []).includes(priority);
          status.classList.add("is-error");
          status.textContent = [error.message, ...Object.values(error.fields || {}).flat()].join(" ");
        }
      });
    });
    group.append(el("label", { class: "notif-priority" }, [input, t(priority)]));
  }
  group.append(status);
  return group;
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

// --- delivery preferences (quiet hours, digest) ----------------------------------------------

const hhmm = (value) => (value ? value.slice(0, 5) : "");

function fillPrefs(form) {
  const f = form.elements;
  f.quiet_hours_enabled.checked = Boolean(prefs.quiet_hours_enabled);
  f.quiet_start.value = hhmm(prefs.quiet_start);
  f.quiet_end.value = hhmm(prefs.quiet_end);
  f.quiet_outside_market_only.checked = Boolean(prefs.quiet_outside_market_only);
  f.digest_low.checked = Boolean(prefs.digest_low);
  f.digest_hour.value = String(prefs.digest_hour ?? 18);
}

function clearPrefErrors(form) {
  for (const slot of form.querySelectorAll("[data-field-error]")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  const general = form.querySelector("[data-prefs-error]");
  general.textContent = "";
  general.hidden = true;
}

function showPrefErrors(form, error) {
  const general = form.querySelector("[data-prefs-error]");
  const rest = [];
  let first = null;
  for (const [name, messages] of Object.entries(error.fields || {})) {
    const slot = form.querySelector(`[data-field-error="${name}"]`);
    if (!slot) {
      rest.push(...messages);
      continue;
    }
    slot.textContent = messages.join(" ");
    slot.hidden = false;
    const input = form.querySelector(`[name="${name}"]`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
  }
  general.textContent = rest.length ? rest.join(" ") : first ? t("prefsInvalid") : error.message;
  general.hidden = false;
  if (first) first.focus();
}

function zoneName(zone) {
  try {
    const parts = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      timeZone: zone, timeZoneName: "long",
    }).formatToParts(new Date());
    const name = parts.find((part) => part.type === "timeZoneName");
    return name && name.value !== zone ? name.value : "";
  } catch {
    return "";
  }
}

function wirePrefs(timeZone) {
  const form = centre.querySelector("[data-prefs-form]");
  if (!form) return;
  const status = form.querySelector("[data-prefs-status]");
  const save = form.querySelector("[data-prefs-save]");
  const longName = timeZone ? zoneName(timeZone) : "";
  const zoneSlot = centre.querySelector("[data-time-zone-name]");
  if (longName && zoneSlot) zoneSlot.textContent = ` (${longName})`;
  fillPrefs(form);
  form.addEventListener("input", () => {
    status.textContent = "";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearPrefErrors(form);
    status.textContent = "";
    const f = form.elements;
    save.disabled = true;
    try {
      prefs = await api("PATCH", URLS.preferences, {
        quiet_hours_enabled: f.quiet_hours_enabled.checked,
        quiet_start: f.quiet_start.value || null,
        quiet_end: f.quiet_end.value || null,
        quiet_outside_market_only: f.quiet_outside_market_only.checked,
        digest_low: f.digest_low.checked,
        digest_hour: Number(f.digest_hour.value),
      });
      fillPrefs(form);
      status.textContent = t("prefsSaved");
    } catch (error) {
      showPrefErrors(form, error);
    } finally {
      save.disabled = false;
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
  prefs = data.preferences || {};
  renderList();
  renderDestinations();
  wireForms();
  wirePrefs(data.timeZone);
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
