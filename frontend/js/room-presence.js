// Who is in the room now (`room.snapshot`'s `online`, then `room.presence`: one entry per
// person, with the chart they are viewing) and who is typing (`room.typing`; an entry is
// dropped TYPING_TTL_MS after its last `typing: true`, when `typing: false` comes, or when
// the person's message arrives).

import { el } from "./api.js";
import { keyLabel, t } from "./room-util.js";

const TYPING_TTL_MS = 5000;

export class Presence {
  constructor(root, me) {
    this.root = root;
    this.me = me;
    this.list = root.querySelector("[data-presence]");
    this.count = root.querySelector("[data-online-count]");
    this.typingBox = root.querySelector("[data-typing]");
    this.online = [];
    this.typing = new Map(); // user id -> {name, timer}
  }

  setOnline(online) {
    const seen = new Set();
    this.online = (online || []).filter((person) => !seen.has(person.id) && seen.add(person.id));
    this.draw();
  }

  draw() {
    this.count.textContent = String(this.online.length);
    const others = this.online.filter((person) => person.id !== this.me.id);
    const items = this.online.map((person) => {
      const viewing = person.viewing && person.viewing.symbol ? t("viewing", { symbol: keyLabel(person.viewing.symbol), timeframe: person.viewing.timeframe || "" }).trim() : "";
      return el(
        "li",
        { class: "room-person", dataset: { userId: String(person.id) } },
        el("span", { class: "room-dot", "aria-hidden": "true" }),
        el("span", { class: "room-person-name", text: person.id === this.me.id ? `${person.name} (${t("you")})` : person.name }),
        viewing ? el("span", { class: "room-person-viewing small muted", dataset: { viewing: person.viewing.symbol }, text: viewing }) : null,
      );
    });
    if (!others.length) items.push(el("li", { class: "small muted", text: t("nobodyOnline") }));
    this.list.replaceChildren(...items);
    this.root.dataset.online = this.online.map((person) => person.id).join(" ");
  }

  onTyping(frame) {
    const user = frame.user || {};
    if (!user.id || user.id === this.me.id) return;
    this.stopTyping(user.id);
    if (frame.typing) {
      const timer = setTimeout(() => this.stopTyping(user.id), TYPING_TTL_MS);
      this.typing.set(user.id, { name: user.name, timer });
    }
    this.drawTyping();
  }

  /** A message from `userId` ends their typing. */
  stopTyping(userId, redraw = false) {
    const entry = this.typing.get(userId);
    if (entry) {
      clearTimeout(entry.timer);
      this.typing.delete(userId);
    }
    if (redraw || entry) this.drawTyping();
  }

  drawTyping() {
    const names = [...this.typing.values()].map((entry) => entry.name);
    let text = "";
    if (names.length === 1) text = t("typingOne", { name: names[0] });
    else if (names.length === 2) text = t("typingTwo", { a: names[0], b: names[1] });
    else if (names.length > 2) text = t("typingMany");
    if (this.typingBox.textContent !== text) this.typingBox.textContent = text;
  }
}
