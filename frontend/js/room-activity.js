// The room's activity feed: newest first, older pages over REST (`?before=`), new rows live
// from `room.activity` (selectors.activity_data: `actor`, `verb`, `text` in the reader's
// language, `data`).

import { el } from "./api.js";
import { api, fullTime, shortTime, t, url } from "./room-util.js";

const PAGE = 30;

/** One line, e.g. "Asha shared “RELIANCE 15m”" or "Vikram was removed by Asha". */
export function activityText(activity) {
  const data = activity.data || {};
  const actor = activity.actor ? activity.actor.name : t("someone");
  const user = data.user && data.user.name ? data.user.name : t("someone");
  const change = data.change || {};
  switch (activity.verb) {
    case "removed":
      return t("activityRemoved", { user, actor });
    case "role_changed":
      return t("activityRole", { actor, user, role: t(`role_${data.role}`) });
    case "owner_changed":
      return t("activityOwner", { actor, user });
    case "shared":
      return data.title ? t("activityShared", { actor, title: data.title }) : `${actor} ${activity.text}`;
    case "alert_fired":
      return t("activityAlert", { actor, message: data.message || (data.alert && data.alert.name) || "" });
    case "watchlist_changed":
      if (change.action === "item_added") return t("activityAdded", { actor, symbol: change.symbol || "" });
      if (change.action === "item_removed") return t("activityRemovedSymbol", { actor, symbol: change.symbol || "" });
      if (change.action === "renamed") return t("activityRenamed", { actor, name: change.name || "" });
      return `${actor} ${activity.text}`;
    default:
      return `${actor} ${activity.text}`;
  }
}

export class Activity {
  constructor(root, roomId) {
    this.root = root;
    this.roomId = roomId;
    this.list = root.querySelector("[data-activity]");
    this.more = root.querySelector("[data-activity-more]");
    this.ids = new Set();
    this.hasMore = false;
    this.more.addEventListener("click", () => this.load(true));
  }

  item(activity) {
    return el(
      "li",
      { class: "room-activity-item", dataset: { activityId: String(activity.id), verb: activity.verb } },
      el("span", { class: "room-activity-text", text: activityText(activity) }),
      el("time", { class: "small muted", datetime: activity.created_at, title: fullTime(activity.created_at), text: shortTime(activity.created_at) }),
    );
  }

  oldest() {
    return this.ids.size ? Math.min(...this.ids) : null;
  }

  async load(older = false) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (older && this.oldest()) params.set("before", String(this.oldest()));
    try {
      const page = await api("GET", `${url("activity", { room: this.roomId })}?${params}`);
      if (!older) {
        this.ids.clear();
        this.list.replaceChildren();
      }
      for (const activity of page.results || []) {
        if (this.ids.has(activity.id)) continue;
        this.ids.add(activity.id);
        this.list.append(this.item(activity));
      }
      this.hasMore = Boolean(page.has_more);
      this.more.hidden = !this.hasMore;
      this.drawEmpty();
    } catch {
      // The button stays; a resync reloads.
    }
  }

  drawEmpty() {
    const empty = this.list.querySelector("[data-activity-empty]");
    if (this.ids.size && empty) empty.remove();
    if (!this.ids.size && !empty) this.list.append(el("li", { class: "small muted", dataset: { activityEmpty: "" }, text: t("noActivity") }));
  }

  onActivity(frame) {
    const activity = frame.activity;
    if (!activity || (activity.room && activity.room.id !== this.roomId) || this.ids.has(activity.id)) return;
    this.ids.add(activity.id);
    this.list.prepend(this.item(activity));
    this.drawEmpty();
  }
}
