// Admin: provider accounts (models, health) for admins and managers, with models added
// and removed through the auth plugin's admin API; run-time keys for admin keys
// (create, shown once, revoke).

import { api, json } from "./api.js";
import { copy } from "./playground.js";

const $ = (id) => document.getElementById(id);

function node(tag, className, text) {
  const n = document.createElement(tag);
  if (className) n.className = className;
  if (text !== undefined) n.textContent = text;
  return n;
}

function fail(message) { $("admin-error").textContent = message; }

function describeSettings(settings) {
  const entries = Object.entries(settings);
  return entries.length ? entries.map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ") : "—";
}

function modelRow(account, model) {
  const tr = document.createElement("tr");
  const health = node("span", model.cooling_down ? "badge cooling" : "badge ok",
    model.cooling_down ? `cooling down (${model.cooling_for_s} s left)` : "healthy");
  const remove = node("button", "danger", "Remove");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove ${model.name} from ${account}`);
  remove.addEventListener("click", async () => {
    if (!confirm(`Remove ${model.name} from ${account}?`)) return;
    await change(`admin/providers/${encodeURIComponent(account)}/models/${encodeURIComponent(model.name)}`, "DELETE");
  });
  const cells = [node("td", "", model.name), node("td", "", describeSettings(model.settings)), node("td")];
  cells[2].append(health);
  const actions = node("td");
  actions.append(remove);
  tr.append(...cells, actions);
  return tr;
}

function addModelForm(account) {
  const form = node("form", "inline-form");
  const field = (label, id, type = "text") => {
    const box = node("div");
    const l = node("label", "", label);
    l.htmlFor = id;
    const input = node("input");
    input.id = id;
    input.type = type;
    if (type === "number") { input.min = "0"; input.step = "any"; }
    box.append(l, input);
    form.append(box);
    return input;
  };
  const safe = account.replace(/[^A-Za-z0-9_-]/g, "_");
  const name = field("Model to add", `add-model-${safe}`);
  name.required = true;
  const input = field("Input USD / M tokens", `add-in-${safe}`, "number");
  const output = field("Output USD / M tokens", `add-out-${safe}`, "number");
  const submit = node("button", "", "Add model");
  submit.type = "submit";
  form.append(submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const settings = {};
    if (input.value !== "") settings.input_cost_per_mtok = Number(input.value);
    if (output.value !== "") settings.output_cost_per_mtok = Number(output.value);
    const model = name.value.trim();
    await change(`admin/providers/${encodeURIComponent(account)}/models/${encodeURIComponent(model)}`, "PUT", settings);
  });
  return form;
}

async function change(path, method, body) {
  fail("");
  try {
    await json(await api(path, { method, body }));
  } catch (e) {
    fail(e.message);
    return;
  }
  await loadAccounts();
}

function accountCard(account) {
  const card = node("section", "panel account");
  card.setAttribute("aria-label", `Provider account ${account.account}`);
  card.append(node("h3", "", `${account.account} (${account.type})`));
  if (!account.configured) card.append(node("p", "error", account.unavailable_reason));
  if (account.collaborators) {
    const who = account.collaborators.map((c) => `${c.subject} (${c.role})`).join(", ");
    card.append(node("p", "help", `Collaborators: ${who || "none"}`));
  }
  const wrap = node("div", "table-wrap");
  const table = node("table");
  table.innerHTML = "<thead><tr><th scope=\"col\">Model</th><th scope=\"col\">Settings</th>" +
    "<th scope=\"col\">Health</th><th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody></tbody>";
  table.tBodies[0].append(...account.models.map((m) => modelRow(account.account, m)));
  wrap.append(table);
  card.append(wrap, addModelForm(account.account));
  return card;
}

export async function loadAccounts() {
  let report;
  try {
    report = await json(await api("admin/console/accounts"));
  } catch (e) {
    fail(e.message);
    return null;
  }
  $("accounts").replaceChildren(...report.accounts.map(accountCard));
  $("accounts-note").textContent = report.accounts.length
    ? "Health is the fallback plugin's passive health: a model that failed repeatedly cools down for a while."
    : "This key administers no provider account (admin keys see every account, managers their own).";
  return report;
}

function limitsText(k) {
  const parts = [];
  if (k.rpm != null) parts.push(`${k.rpm} rpm`);
  if (k.tpm != null) parts.push(`${k.tpm} tpm`);
  if (k.budget_usd?.day != null) parts.push(`$${k.budget_usd.day}/day`);
  if (k.budget_usd?.month != null) parts.push(`$${k.budget_usd.month}/month`);
  return parts.join(", ") || "—";
}

function keyRow(k) {
  const tr = document.createElement("tr");
  tr.append(node("td", "", k.name + (k.admin ? " (admin)" : "")), node("td", "", k.user ?? "—"),
    node("td", "", (k.teams ?? []).join(", ") || "—"), node("td", "", k.models ? k.models.join(", ") : "all"),
    node("td", "", limitsText(k)), node("td", "", k.source ?? "run time"));
  const actions = node("td");
  if (k.source !== "config") {
    const revoke = node("button", "danger", "Revoke");
    revoke.type = "button";
    revoke.setAttribute("aria-label", `Revoke key ${k.name}`);
    revoke.addEventListener("click", async () => {
      if (!confirm(`Revoke key ${k.name}? Clients using it stop working within seconds.`)) return;
      await changeKeys(`admin/keys/${encodeURIComponent(k.name)}`, "DELETE");
    });
    actions.append(revoke);
  }
  tr.append(actions);
  return tr;
}

export async function loadKeys() {
  let response;
  try {
    response = await api("admin/keys");
  } catch (e) {
    fail(e.message);
    return;
  }
  if (response.status === 404) {
    $("keys-box").hidden = true;
    $("keys-note").textContent = "Read-only: this gateway has no key admin API (the auth plugin is not installed).";
    return;
  }
  let listing;
  try {
    listing = await json(response);
  } catch (e) {
    $("keys-box").hidden = true;
    $("keys-note").textContent = e.status === 403 ? "Run-time keys are managed with an admin key." : e.message;
    return;
  }
  $("keys-note").textContent = "Keys from the config file are listed but changed only there.";
  $("keys-box").hidden = false;
  $("keys-table").tBodies[0].replaceChildren(...listing.data.map(keyRow));
}

async function changeKeys(path, method, body) {
  fail("");
  let result = null;
  try {
    result = await json(await api(path, { method, body }));
  } catch (e) {
    fail(e.message);
    return null;
  }
  await loadKeys();
  return result;
}

const csv = (value) => value.split(",").map((s) => s.trim()).filter(Boolean);

async function createKey(e) {
  e.preventDefault();
  const body = { name: $("key-name").value.trim() };
  if ($("key-user").value.trim()) body.user = $("key-user").value.trim();
  if ($("key-teams").value.trim()) body.teams = csv($("key-teams").value);
  if ($("key-models").value.trim()) body.models = csv($("key-models").value);
  if ($("key-rpm").value !== "") body.rpm = Number($("key-rpm").value);
  if ($("key-budget").value !== "") body.budget_usd = { day: Number($("key-budget").value) };
  const created = await changeKeys("admin/keys", "POST", body);
  if (!created) return;
  $("key-secret").textContent = created.key; // shown once; never stored by the console
  $("key-created").hidden = false;
  $("key-form").reset();
  $("key-copy").focus();
}

export async function loadAdmin() {
  fail("");
  $("key-created").hidden = true;
  $("key-secret").textContent = "";
  await Promise.all([loadAccounts(), loadKeys()]);
}

export function setupAdmin() {
  $("key-form").addEventListener("submit", createKey);
  $("key-copy").addEventListener("click", () => copy($("key-secret").textContent, $("key-copied")));
}
