// Follow / unfollow buttons of the signal card and the strategy pages: a `[data-follow]`
// button (data-kind "strategy" with data-strategy, or "instrument" with data-symbol) creates
// a follow over /api/v1/signal-follows/ and remembers its id; pressed again, it deletes it.

import { apiRequest } from "./api.js";

function pageData() {
  const node = document.getElementById("signals-data");
  return node ? JSON.parse(node.textContent) : { urls: {}, strings: {} };
}

function show(button) {
  const following = Boolean(button.dataset.followId);
  button.setAttribute("aria-pressed", String(following));
  button.textContent = following ? button.dataset.labelUnfollow : button.dataset.labelFollow;
  button.classList.toggle("btn-primary", !following);
  button.classList.toggle("btn-secondary", following);
}

async function toggle(button, { urls, strings }, error) {
  button.disabled = true;
  if (error) error.hidden = true;
  try {
    if (button.dataset.followId) {
      await apiRequest("DELETE", urls.follow.replace("{id}", button.dataset.followId), undefined, { generic: strings.followError });
      button.dataset.followId = "";
    } else {
      const body = { kind: button.dataset.kind };
      if (body.kind === "strategy") body.strategy = button.dataset.strategy;
      else body.symbol = button.dataset.symbol;
      const follow = await apiRequest("POST", urls.follows, body, { generic: strings.followError });
      button.dataset.followId = String(follow.id);
    }
    show(button);
  } catch (err) {
    if (error) {
      const fields = Object.values(err.fields || {}).flat();
      error.textContent = fields.length ? fields.join(" ") : err.message;
      error.hidden = false;
    }
  } finally {
    button.disabled = false;
  }
}

/** Wire every `[data-follow]` button under `root` (once). */
export function wireFollowButtons(root = document, data = pageData()) {
  const error = root.querySelector("[data-follow-error]");
  for (const button of root.querySelectorAll("[data-follow]")) {
    if (button.dataset.wired) continue;
    button.dataset.wired = "true";
    button.addEventListener("click", () => toggle(button, data, error));
  }
}

wireFollowButtons();
