// The playground's request as code: the openai SDK, the anthropic SDK and curl, with
// this gateway's base URL. The key is read from PROXY_CORE_API_KEY, never written out.

const KEY_ENV = "PROXY_CORE_API_KEY";
const EFFORT_RATIO = { low: 0.3, medium: 0.6, high: 0.9 }; // the reasoning plugin's defaults
const MIN_THINKING_BUDGET = 1024;

// A JSON value as a Python literal; short containers stay on one line.
export function py(value, indent = 0) {
  const flat = pyInline(value);
  if (flat.length + indent * 4 <= 76 || value === null || typeof value !== "object") return flat;
  const pad = "    ".repeat(indent + 1);
  const end = "    ".repeat(indent);
  if (Array.isArray(value)) {
    return "[\n" + value.map((v) => `${pad}${py(v, indent + 1)},`).join("\n") + `\n${end}]`;
  }
  const items = Object.entries(value).map(([k, v]) => `${pad}${JSON.stringify(k)}: ${py(v, indent + 1)},`);
  return "{\n" + items.join("\n") + `\n${end}}`;
}

function pyInline(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "None";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(pyInline).join(", ") + "]";
  return "{" + Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyInline(v)}`).join(", ") + "}";
}

function call(target, args) {
  const lines = Object.entries(args)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `    ${k}=${py(v, 1)},`);
  return `${target}(\n${lines.join("\n")}\n)`;
}

function baseUrls(root) {
  const text = root.toString();
  return { openai: text + "v1", anthropic: text.replace(/\/$/, ""), chat: text + "v1/chat/completions" };
}

export function openaiSnippet(request, root) {
  const { stream, stream_options: _, ...args } = request;
  if (stream) Object.assign(args, { stream: true, stream_options: { include_usage: true } });
  const head = [
    "import os",
    "",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${JSON.stringify(baseUrls(root).openai)}, api_key=os.environ[${JSON.stringify(KEY_ENV)}])`,
    "",
  ];
  if (stream) {
    return [...head,
      `stream = ${call("client.chat.completions.create", args)}`,
      "for chunk in stream:",
      "    if chunk.choices and chunk.choices[0].delta.content:",
      "        print(chunk.choices[0].delta.content, end=\"\", flush=True)",
      "print()",
      ""].join("\n");
  }
  return [...head,
    `response = ${call("client.chat.completions.create", args)}`,
    "print(response.choices[0].message.content)",
    ""].join("\n");
}

function parseArguments(text) {
  try { return JSON.parse(text || "{}"); } catch { return {}; }
}

// Chat Completions messages as Messages API (system, messages).
export function toAnthropicMessages(messages) {
  const system = [];
  const out = [];
  const push = (role, blocks) => {
    const last = out[out.length - 1];
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === "system" || m.role === "developer") system.push(m.content);
    else if (m.role === "tool") push("user", [{ type: "tool_result", tool_use_id: m.tool_call_id, content: m.content }]);
    else if (m.role === "assistant" && m.tool_calls?.length) {
      const blocks = m.content ? [{ type: "text", text: m.content }] : [];
      for (const c of m.tool_calls) {
        blocks.push({ type: "tool_use", id: c.id, name: c.function.name, input: parseArguments(c.function.arguments) });
      }
      push("assistant", blocks);
    } else out.push({ role: m.role, content: m.content ?? "" });
  }
  return { system: system.length ? system.join("\n\n") : undefined, messages: out };
}

export function anthropicSnippet(request, root) {
  const { system, messages } = toAnthropicMessages(request.messages);
  let maxTokens = request.max_tokens ?? 1024;
  let thinking;
  const ratio = EFFORT_RATIO[request.reasoning_effort];
  if (ratio) {
    const budget = Math.max(MIN_THINKING_BUDGET, Math.floor(ratio * maxTokens));
    if (budget >= maxTokens) maxTokens = budget + MIN_THINKING_BUDGET;
    thinking = { type: "enabled", budget_tokens: budget };
  }
  const tools = request.tools?.map((t) => ({
    name: t.function.name,
    ...(t.function.description ? { description: t.function.description } : {}),
    input_schema: t.function.parameters ?? { type: "object" },
  }));
  const args = { model: request.model, max_tokens: maxTokens, system, messages, thinking, tools };
  const notes = [];
  if (request.temperature !== undefined && !thinking) {
    // The anthropic SDK (2.x) dropped `temperature` from messages.create: it goes as extra body.
    args.extra_body = { temperature: request.temperature };
    notes.push("# temperature is not an argument of anthropic 2.x's messages.create: sent in extra_body");
  }
  if (request.response_format) notes.push("# response_format has no Messages API parameter: ask for JSON in the prompt");
  const head = [
    "import os",
    "",
    "import anthropic",
    "",
    ...notes,
    `client = anthropic.Anthropic(base_url=${JSON.stringify(baseUrls(root).anthropic)}, api_key=os.environ[${JSON.stringify(KEY_ENV)}])`,
    "",
  ];
  if (request.stream) {
    return [...head,
      `with ${call("client.messages.stream", args)} as stream:`,
      "    for text in stream.text_stream:",
      "        print(text, end=\"\", flush=True)",
      "print()",
      ""].join("\n");
  }
  return [...head,
    `message = ${call("client.messages.create", args)}`,
    "print(\"\".join(block.text for block in message.content if block.type == \"text\"))",
    ""].join("\n");
}

export function curlSnippet(request, root) {
  const body = { ...request };
  if (body.stream) body.stream_options = { include_usage: true };
  const json = JSON.stringify(body, null, 2).replaceAll("'", "'\\''");
  return [
    `curl${request.stream ? " -N" : ""} ${baseUrls(root).chat} \\`,
    `  -H "Authorization: Bearer $${KEY_ENV}" \\`,
    "  -H \"Content-Type: application/json\" \\",
    `  -d '${json}'`,
    "",
  ].join("\n");
}

export const SNIPPETS = { openai: openaiSnippet, anthropic: anthropicSnippet, curl: curlSnippet };
