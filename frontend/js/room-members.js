// Members of the room and what the owner and moderators do with them: roles (make moderator
// / member), removing, transferring ownership, inviting by e-mail address or display name,
// withdrawing invitations, and invite links (create, copy, revoke). Also "Leave room".
// The list is re-fetched over REST when `room.member` says it changed; every write goes
// through REST and the server's events update the other members' pages.

import { el } from "./api.js";
import { api, clearFieldErrors, shortTime, showFieldErrors, t, url } from "./room-util.js";

const RANK = { member: 0, moderator: 1, owner: 2 };

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = el("textarea", { class: "visually-hidden", readonly: true });
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("copy refused");
}

export class Members {
  /** ctx: root, roomId, me, room() → room object, role() / setRole(role), members list. */
  constructor(ctx, members) {
    this.ctx = ctx;
    this.root = ctx.root;
    this.list = this.root.querySelector("[data-members]");
    this.moderation = this.root.querySelector("[data-moderator-only]");
    this.error = this.root.querySelector("[data-page-error]");
    this.byId = new Map();
    this.setMembers(members);
    const invite = this.root.querySelector("[data-invite-form]");
    invite.addEventListener("submit", (event) => {
      event.preventDefault();
      this.invite(invite);
    });
    this.root.querySelector("[data-create-link]").addEventListener("click", () => this.createLink());
    this.root.querySelector("[data-leave]").addEventListener("click", () => this.leave());
    this.loadModeration();
  }

  /** Map of user id -> {user, role, joined_at}. */
  map() {
    return this.byId;
  }

  showError(text) {
    this.error.textContent = text || "";
    this.error.hidden = !text;
  }

  setMembers(members) {
    this.byId = new Map(members.map((m) => [m.user.id, m]));
    this.draw();
  }

  async reload() {
    try {
      this.setMembers(await api("GET", url("members", { room: this.ctx.roomId })));
    } catch {
      // Kept as it was; the next change tries again.
    }
  }

  /** A `room.member` event: reload the list; the caller's own role may have changed. */
  onMemberEvent(frame) {
    if (frame.user && frame.user.id === this.ctx.me.id && frame.role) this.ctx.setRole(frame.role);
    this.reload();
    if (RANK[this.ctx.role()] >= RANK.moderator) this.loadModeration();
  }

  roleChanged() {
    this.moderation.hidden = RANK[this.ctx.role()] < RANK.moderator;
    this.draw();
    if (!this.moderation.hidden) this.loadModeration();
  }

  draw() {
    const myRole = this.ctx.role();
    const items = [...this.byId.values()].map((member) => {
      const who = member.user.id === this.ctx.me.id ? `${member.user.name} (${t("you")})` : member.user.name;
      const actions = el("div", { class: "cluster room-member-actions" });
      const isMe = member.user.id === this.ctx.me.id;
      if (!isMe && myRole === "owner") {
        if (member.role === "member") actions.append(this.button(t("makeModerator"), () => this.setRole(member, "moderator")));
        if (member.role === "moderator") actions.append(this.button(t("makeMember"), () => this.setRole(member, "member")));
        actions.append(this.button(t("makeOwner"), () => this.transfer(member)));
      }
      if (!isMe && RANK[myRole] > RANK[member.role] && RANK[myRole] >= RANK.moderator) {
        actions.append(this.button(t("remove"), () => this.remove(member), "btn-danger-outline"));
      }
      return el(
        "li",
        { class: "room-member", dataset: { userId: String(member.user.id), role: member.role } },
        el("span", { class: "room-member-name", text: who }),
        el("span", { class: `badge${member.role === "member" ? "" : " badge-primary"}`, text: t(`role_${member.role}`) }),
        actions.childElementCount ? actions : null,
      );
    });
    this.list.replaceChildren(...items);
  }

  button(text, onclick, kind = "btn-secondary") {
    return el("button", { type: "button", class: `btn btn-sm ${kind}`, text, onclick });
  }

  async act(fn) {
    try {
      await fn();
      this.showError("");
      await this.reload();
    } catch (error) {
      this.showError(error.message);
    }
  }

  setRole(member, role) {
    return this.act(() => api("PATCH", url("member", { room: this.ctx.roomId, user: member.user.id }), { role }));
  }

  remove(member) {
    if (!window.confirm(t("confirmRemove", { name: member.user.name }))) return null;
    return this.act(async () => {
      await api("DELETE", url("member", { room: this.ctx.roomId, user: member.user.id }));
      this.root.querySelector("[data-announce]").textContent = t("memberRemoved", { name: member.user.name });
    });
  }

  transfer(member) {
    if (!window.confirm(t("confirmTransfer", { name: member.user.name }))) return null;
    return this.act(async () => {
      const view = await api("POST", url("transfer", { room: this.ctx.roomId }), { user: member.user.id });
      this.ctx.setRole(view.role);
    });
  }

  async leave() {
    if (!window.confirm(t("confirmLeave", { room: this.ctx.room().name }))) return;
    try {
      await api("POST", url("leave", { room: this.ctx.roomId }));
      window.location.assign(url("list"));
    } catch (error) {
      this.showError(error.message);
    }
  }

  // --- invitations and links (owner, moderators) ---------------------------------------------

  async loadModeration() {
    if (RANK[this.ctx.role()] < RANK.moderator) return;
    try {
      const [pending, links] = await Promise.all([
        api("GET", url("invitations", { room: this.ctx.roomId })),
        api("GET", url("inviteLinks", { room: this.ctx.roomId })),
      ]);
      this.drawPending(pending || []);
      this.drawLinks(links || []);
    } catch {
      // A role just lost: the panel hides itself on the role change.
    }
  }

  drawPending(pending) {
    const box = this.root.querySelector("[data-pending]");
    if (!pending.length) {
      box.replaceChildren(el("li", { class: "small muted", text: t("noPendingInvitations") }));
      return;
    }
    box.replaceChildren(
      ...pending.map((invitation) =>
        el(
          "li",
          { class: "room-pending-item", dataset: { invitationId: String(invitation.id) } },
          el("span", { text: invitation.user ? invitation.user.name : "" }),
          this.button(t("withdraw"), () =>
            this.act(async () => {
              await api("DELETE", url("invitation", { room: this.ctx.roomId, id: invitation.id }));
              await this.loadModeration();
            }),
          ),
        ),
      ),
    );
  }

  drawLinks(links) {
    const box = this.root.querySelector("[data-links]");
    if (!links.length) {
      box.replaceChildren(el("li", { class: "small muted", text: t("noLinks") }));
      return;
    }
    box.replaceChildren(
      ...links.map((link) => {
        const status = el("span", { class: "small muted", role: "status" });
        const field = el("input", { type: "text", class: "room-link-url", readonly: true, "aria-label": t("copy"), value: link.url });
        const copy = this.button(t("copy"), async () => {
          try {
            await copyText(link.url);
            status.textContent = t("copiedLink");
          } catch {
            field.select();
            status.textContent = t("copyFailed");
          }
        });
        const meta = [t(`linkState_${link.state}`), t("linkUses", { uses: link.uses })];
        if (link.expires_at && link.state === "active") meta.push(t("linkExpires", { date: shortTime(link.expires_at) }));
        return el(
          "li",
          { class: "room-link-item", dataset: { linkId: String(link.id), state: link.state } },
          field,
          el("div", { class: "cluster" }, link.state === "active" ? copy : null, this.button(t("revoke"), () => this.revokeLink(link), "btn-danger-outline"), status),
          el("p", { class: "small muted", text: meta.join(" · ") }),
        );
      }),
    );
  }

  async invite(form) {
    clearFieldErrors(form);
    const input = form.querySelector("input[name=user]");
    try {
      const invitation = await api("POST", url("invitations", { room: this.ctx.roomId }), { user: input.value.trim() });
      input.value = "";
      this.root.querySelector("[data-announce]").textContent = t("invitationSent", { name: invitation.user ? invitation.user.name : "" });
      await this.loadModeration();
    } catch (error) {
      showFieldErrors(form, error);
    }
  }

  async createLink() {
    const error = this.root.querySelector("[data-links-error]");
    error.hidden = true;
    try {
      await api("POST", url("inviteLinks", { room: this.ctx.roomId }), {});
      await this.loadModeration();
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    }
  }

  revokeLink(link) {
    return this.act(async () => {
      await api("DELETE", url("inviteLink", { room: this.ctx.roomId, id: link.id }));
      await this.loadModeration();
    });
  }
}
