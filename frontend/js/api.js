// Same-origin JSON calls to the REST API and building DOM nodes: shared by the dashboard,
// alerts and notification pages.

export class ApiError extends Error {
  constructor(message, fields = {}) {
    super(message);
    this.fields = fields;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/**
 * `method` `url` with an optional JSON `body`; resolves to the parsed JSON (null for 204).
 * Throws ApiError with the API's message and field errors ({"error": {message, fields}}),
 * or with `messages.network` / `messages.generic` when there is nothing better to say.
 */
export async function apiRequest(method, url, body, messages = {}) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError(messages.network || messages.generic || "Network error");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(error.message || messages.generic || "Error", error.fields || {});
  }
  return data;
}

/**
 * A DOM element: attributes (`class`, `text`, `dataset`, `on<event>` listeners; null,
 * undefined and false are skipped, true becomes an empty attribute) and children (nodes or
 * strings, also given as one array).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}
