// The gateway's HTTP API as the console uses it: the key from session storage in a
// header (never in a URL), addresses relative to the page so a mount prefix just works,
// and failures turned into plain words.

const KEY_ITEM = "proxy-core.gateway-key";

export const session = {
  get key() { return sessionStorage.getItem(KEY_ITEM); },
  save(key) { sessionStorage.setItem(KEY_ITEM, key); },
  forget() { sessionStorage.removeItem(KEY_ITEM); },
};

// The gateway's root URL: the page is served at <root>ui/ (also under /v1/ui/).
export function gatewayRoot() {
  const root = new URL("../", document.baseURI);
  root.pathname = root.pathname.replace(/v1\/$/, "");
  root.search = "";
  root.hash = "";
  return root;
}

export function apiUrl(path) {
  return new URL(path.replace(/^\/+/, ""), gatewayRoot());
}

export async function api(path, { method = "GET", body, signal, key = session.key, query } = {}) {
  const headers = { authorization: `Bearer ${key ?? ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const url = apiUrl(path);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== "") url.searchParams.set(name, value);
  }
  try {
    return await fetch(url, {
      method, headers, signal, credentials: "omit", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new GatewayError("The gateway could not be reached. Check that it is running and try again.", 0);
  }
}

export class GatewayError extends Error {
  constructor(message, status, detail = "") {
    super(message);
    this.status = status;
    this.detail = detail;
  }
}

// The message inside an OpenAI ({"error": {...}}) or Anthropic ({"type": "error", ...}) error body.
export function errorMessage(body) {
  const error = body && typeof body === "object" ? body.error : undefined;
  if (error && typeof error === "object" && typeof error.message === "string") return error.message;
  if (typeof error === "string") return error;
  return "";
}

export function plainWords(status, message, retryAfter) {
  const detail = message ? ` The gateway said: “${message}”` : "";
  const wait = retryAfter ? ` Try again in ${retryAfter} s.` : " Try again later.";
  switch (true) {
    case status === 401:
      return `The gateway key was not accepted. Sign out and sign in with a valid key.${detail}`;
    case status === 403:
      return `This key is not allowed to do that.${detail}`;
    case status === 429:
      return `A rate limit or budget was reached, so the request was refused.${wait}${detail}`;
    case status === 404:
      return `Not found.${detail}`;
    case status === 413:
      return `The request is too large for the gateway.${detail}`;
    case status === 400 || status === 422:
      return `The request was not accepted.${detail}`;
    case status === 502:
      return `The provider behind the gateway failed or rejected the gateway's credentials.${detail}`;
    case status === 503:
      return `The service is unavailable right now.${detail}`;
    case status === 504:
      return `The provider took too long to answer.${detail}`;
    case status >= 500:
      return `The gateway had a problem (${status}).${detail}`;
    default:
      return `The request failed (${status}).${detail}`;
  }
}

// A GatewayError from a failed response (reads its body).
export async function failure(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  const message = errorMessage(body);
  return new GatewayError(plainWords(response.status, message, response.headers.get("retry-after")),
    response.status, message);
}

export async function json(response) {
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}
