// Playground: pick a model, talk to it, watch the answer stream in, see the same
// request as code.

import { api, failure, gatewayRoot, GatewayError, json } from "./api.js";
import { SNIPPETS } from "./snippets.js";
import { sseEvents } from "./sse.js";

const $ = (id) => document.getElementById(id);

class InputError extends Error {}

let history = []; // the conversation (user, assistant and tool messages), system prompt apart
let pendingCalls = []; // [{id, name, field}] of the last answer: their results go with the next turn
let controller = null;
let codeLang = "openai";

function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined) n.textContent = text;
  return n;
}

export async function loadModels() {
  const select = $("pg-model");
  const previous = select.value;
  const list = await json(await api("models"));
  const names = list.data.map((m) => m.id).sort();
  select.replaceChildren(...names.map((name) => new Option(name, name)));
  if (names.includes(previous)) select.value = previous;
  if (!names.length) showError("This key may use no model: ask an admin for access.");
  return names;
}

function number(id, label) {
  const raw = $(id).value.trim();
  if (raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new InputError(`${label} must be a number.`);
  return value;
}

function parseJson(id, label) {
  try { return JSON.parse($(id).value); } catch (e) {
    throw new InputError(`${label} is not valid JSON: ${e.message}`);
  }
}

// The Chat Completions request the playground sends for this turn.
export function buildRequest(userText) {
  const request = { model: $("pg-model").value, messages: [] };
  if (!request.model) throw new InputError("Pick a model first.");
  const system = $("pg-system").value.trim();
  if (system) request.messages.push({ role: "system", content: system });
  request.messages.push(...history, ...toolResults());
  if (userText) request.messages.push({ role: "user", content: userText });
  const temperature = number("pg-temperature", "Temperature");
  if (temperature !== undefined) request.temperature = temperature;
  const maxTokens = number("pg-max-tokens", "Max tokens");
  if (maxTokens !== undefined) request.max_tokens = maxTokens;
  if ($("pg-effort").value) request.reasoning_effort = $("pg-effort").value;
  const format = $("pg-format").value;
  if (format === "json_object") request.response_format = { type: "json_object" };
  if (format === "json_schema") {
    const schema = parseJson("pg-schema", "The JSON schema");
    request.response_format = { type: "json_schema", json_schema: { name: "answer", schema, strict: true } };
  }
  if ($("pg-tools").value.trim()) {
    const tools = parseJson("pg-tools", "Tools");
    if (!Array.isArray(tools)) throw new InputError("Tools must be a JSON list of tool definitions.");
    request.tools = tools;
  }
  request.stream = $("pg-stream").checked;
  return request;
}

function toolResults() {
  return pendingCalls.map((c) => ({ role: "tool", tool_call_id: c.id, content: c.field.value || "{}" }));
}

function showError(message) { $("pg-error").textContent = message; }

function userBubble(text) {
  const li = node("li", "msg user");
  li.append(node("span", "role", "You"), node("div", "text", text));
  $("pg-transcript").append(li);
  return li;
}

// One assistant answer in the transcript, filled in as it arrives.
class AnswerView {
  constructor() {
    this.li = node("li", "msg assistant");
    this.li.setAttribute("aria-busy", "true");
    this.thinking = node("details", "thinking");
    this.thinking.hidden = true;
    this.thinkingText = node("pre");
    this.thinking.append(node("summary", "", "Thinking"), this.thinkingText);
    this.text = node("div", "text answer cursor");
    this.tools = node("div", "tools");
    this.meta = node("div", "meta");
    this.li.append(node("span", "role", "Assistant"), this.thinking, this.text, this.tools, this.meta);
    $("pg-transcript").append(this.li);
  }

  addText(piece) { this.text.append(piece); } // a text node per piece: the answer grows in place

  addThinking(piece) {
    this.thinking.hidden = false;
    this.thinkingText.append(piece);
  }

  showCalls(calls) {
    pendingCalls = [];
    this.tools.replaceChildren();
    for (const call of calls) {
      const box = node("div", "tool-call");
      const id = `tool-result-${call.id}`;
      let args = call.function.arguments;
      try { args = JSON.stringify(JSON.parse(args || "{}"), null, 2); } catch { /* shown as sent */ }
      const label = node("label", "", "Result to send back with your next message");
      label.htmlFor = id;
      const field = node("textarea", "mono");
      field.id = id;
      field.rows = 2;
      field.placeholder = "{}";
      box.append(node("strong", "", `Tool call: ${call.function.name}`), node("pre", "", args), label, field);
      this.tools.append(box);
      pendingCalls.push({ id: call.id, name: call.function.name, field });
    }
  }

  finish(usage, meta) {
    this.li.removeAttribute("aria-busy");
    this.text.classList.remove("cursor");
    const parts = [];
    if (usage) {
      parts.push(`${usage.prompt_tokens} in · ${usage.completion_tokens} out tokens`);
      const reasoning = usage.completion_tokens_details?.reasoning_tokens;
      if (reasoning) parts.push(`${reasoning} reasoning`);
      const cached = usage.prompt_tokens_details?.cached_tokens;
      if (cached) parts.push(`${cached} cached`);
    }
    if (meta.cost !== null) parts.push(`$${Number(meta.cost).toFixed(6)}`);
    else if (meta.stream) parts.push("cost: in Spend (streams report usage only)");
    if (meta.target) parts.push(meta.target);
    parts.push(`${((performance.now() - meta.started) / 1000).toFixed(1)} s`);
    if (meta.finish && meta.finish !== "stop") parts.push(`finish: ${meta.finish}`);
    if (meta.dropped) parts.push(`not sent: ${decodeURIComponent(meta.dropped)}`);
    this.meta.textContent = parts.join(" · ");
  }

  fail(message) {
    this.li.removeAttribute("aria-busy");
    this.li.classList.add("failed");
    this.text.classList.remove("cursor");
    const error = node("p", "error", message);
    error.setAttribute("role", "alert"); // read out at once; shown where the answer would be
    this.li.append(error);
  }
}

function mergeCallDeltas(calls, deltas) {
  for (const d of deltas) {
    const call = (calls[d.index ?? 0] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
    if (d.id) call.id = d.id;
    if (d.function?.name) call.function.name += d.function.name;
    if (d.function?.arguments) call.function.arguments += d.function.arguments;
  }
}

async function readStream(response, view) {
  let text = "";
  let usage = null;
  let finish = null;
  const calls = [];
  for await (const event of sseEvents(response.body)) {
    if (event.data === "[DONE]") break;
    let chunk;
    try { chunk = JSON.parse(event.data); } catch { continue; }
    if (chunk.error) {
      const said = chunk.error.message ? ` The gateway said: “${chunk.error.message}”` : "";
      throw new GatewayError(`The answer stopped with an error.${said}`, 0);
    }
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      const delta = choice.delta ?? {};
      if (delta.reasoning_content) view.addThinking(delta.reasoning_content);
      if (delta.content) {
        text += delta.content;
        view.addText(delta.content);
      }
      if (delta.tool_calls) mergeCallDeltas(calls, delta.tool_calls);
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  return { text, calls: calls.filter(Boolean), usage, finish };
}

async function readWhole(response, view) {
  const body = await response.json();
  const message = body.choices?.[0]?.message ?? {};
  if (message.reasoning_content) view.addThinking(message.reasoning_content);
  if (message.content) view.addText(message.content);
  if (message.refusal) view.addText(`(refused) ${message.refusal}`);
  return { text: message.content ?? "", calls: message.tool_calls ?? [], usage: body.usage, finish: body.choices?.[0]?.finish_reason };
}

function setBusy(busy) {
  $("pg-send").disabled = busy;
  $("pg-stop").hidden = !busy;
}

async function send(event) {
  event.preventDefault();
  if (controller) return;
  const message = $("pg-message");
  const text = message.value.trim();
  let request;
  try {
    if (!text && !pendingCalls.length) throw new InputError("Type a message first.");
    request = buildRequest(text);
  } catch (e) {
    showError(e.message);
    return;
  }
  showError("");
  const turn = [...toolResults(), ...(text ? [{ role: "user", content: text }] : [])];
  if (text) userBubble(text);
  message.value = "";
  const view = new AnswerView();
  const meta = { started: performance.now(), stream: request.stream, cost: null, target: null };
  controller = new AbortController();
  setBusy(true);
  try {
    const body = request.stream ? { ...request, stream_options: { include_usage: true } } : request;
    const response = await api("chat/completions", { method: "POST", body, signal: controller.signal });
    if (!response.ok) throw await failure(response);
    meta.cost = response.headers.get("x-proxy-core-cost-usd");
    meta.target = response.headers.get("x-proxy-core-target");
    meta.dropped = response.headers.get("x-proxy-core-dropped-params");
    const answer = request.stream ? await readStream(response, view) : await readWhole(response, view);
    meta.finish = answer.finish;
    const assistant = { role: "assistant", content: answer.text || null };
    if (answer.calls.length) assistant.tool_calls = answer.calls;
    history.push(...turn, assistant);
    view.showCalls(answer.calls);
    view.finish(answer.usage, meta);
  } catch (e) {
    const words = e.name === "AbortError" ? "Stopped: the answer so far is not kept in the conversation." : e.message;
    view.fail(words);
    if (text && !message.value) message.value = text; // keep what was typed, to retry
  } finally {
    controller = null;
    setBusy(false);
  }
}

function clearConversation() {
  history = [];
  pendingCalls = [];
  $("pg-transcript").replaceChildren();
  showError("");
  $("pg-message").focus();
}

// --- code dialog ------------------------------------------------------------------

function renderCode() {
  let request;
  try {
    request = buildRequest($("pg-message").value.trim() || (history.length ? "" : "Hello!"));
  } catch (e) {
    $("code-text").textContent = e.message;
    return;
  }
  $("code-text").textContent = SNIPPETS[codeLang](request, gatewayRoot());
  for (const tab of document.querySelectorAll("#code-tabs [role=tab]")) {
    const selected = tab.dataset.lang === codeLang;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
  }
  $("code-panel").setAttribute("aria-labelledby", `tab-${codeLang}`);
  $("code-copied").textContent = "";
}

function selectTab(lang, focus = false) {
  codeLang = lang;
  renderCode();
  if (focus) $(`tab-${lang}`).focus();
}

async function copy(text, status) {
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = "Copied.";
  } catch {
    status.textContent = "Select the text and copy it (the browser refused clipboard access).";
  }
}

export function setupPlayground() {
  $("pg-composer").addEventListener("submit", send);
  $("pg-message").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("pg-composer").requestSubmit();
  });
  $("pg-stop").addEventListener("click", () => controller?.abort());
  $("pg-clear").addEventListener("click", clearConversation);
  $("pg-format").addEventListener("change", () => { $("pg-schema-box").hidden = $("pg-format").value !== "json_schema"; });
  $("pg-settings").addEventListener("submit", (e) => e.preventDefault());
  const dialog = $("code-dialog");
  $("pg-code").addEventListener("click", () => { renderCode(); dialog.showModal(); $(`tab-${codeLang}`).focus(); });
  $("code-close").addEventListener("click", () => dialog.close());
  const langs = Object.keys(SNIPPETS);
  for (const tab of document.querySelectorAll("#code-tabs [role=tab]")) {
    tab.addEventListener("click", () => selectTab(tab.dataset.lang));
    tab.addEventListener("keydown", (e) => { // arrow keys move between tabs (WAI-ARIA tabs pattern)
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      e.preventDefault();
      selectTab(langs[(langs.indexOf(codeLang) + step + langs.length) % langs.length], true);
    });
  }
  $("code-copy").addEventListener("click", () => copy($("code-text").textContent, $("code-copied")));
}

export function resetPlayground() {
  history = [];
  pendingCalls = [];
  $("pg-transcript").replaceChildren();
  showError("");
}

export { copy };
