// Spend: cost and tokens per day / model / key / user / team / account from
// GET /admin/spend (admin keys), as charts and a table; unpriced rows flagged.

import { api, json } from "./api.js";
import { barChart } from "./chart.js";

const $ = (id) => document.getElementById(id);
const DAY_MS = 86400000;

const usd = (v) => (v >= 1 ? `$${v.toFixed(2)}` : v > 0 ? `$${v.toPrecision(3)}` : "$0");
const count = (v) => Intl.NumberFormat("en", { notation: v >= 100000 ? "compact" : "standard" }).format(v);

const plural = (n, word) => `${count(n)} ${word}${n === 1 ? "" : "s"}`;

function isoDay(date) { return date.toISOString().slice(0, 10); }

function nextDay(day) { return isoDay(new Date(Date.parse(day) + DAY_MS)); }

// Every day of the range, zero-filled, when grouped per day (at most a year of bars).
function fillDays(rows, from, to) {
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const days = [];
  for (let d = from; d <= to && days.length < 366; d = nextDay(d)) days.push(d);
  if (days.length >= 366) return rows;
  return days.map((day) => byDay.get(day) ?? { day, requests: 0, input_tokens: 0, output_tokens: 0, cost_usd: 0, unpriced_requests: 0 });
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function renderTable(group, rows) {
  const head = document.createElement("tr");
  for (const [label, num] of [[group, false], ["requests", true], ["input tokens", true], ["output tokens", true], ["cost (USD)", true], ["unpriced requests", true]]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = label;
    if (num) th.className = "num";
    head.append(th);
  }
  $("spend-table").tHead.replaceChildren(head);
  $("spend-table").tBodies[0].replaceChildren(...rows.map((r) => {
    const tr = document.createElement("tr");
    if (r.unpriced_requests) tr.className = "unpriced";
    tr.append(cell(String(r[group] ?? "(none)")), cell(count(r.requests), "num"), cell(count(r.input_tokens), "num"),
      cell(count(r.output_tokens), "num"), cell(r.cost_usd.toFixed(6), "num"), cell(String(r.unpriced_requests), "num"));
    return tr;
  }));
}

function renderUnpriced(unpriced) {
  const box = $("spend-unpriced");
  box.hidden = !unpriced.requests;
  if (!unpriced.requests) return;
  const items = unpriced.by_model.map((m) => {
    const li = document.createElement("li");
    li.textContent = `${m.account}/${m.model}: ${plural(m.requests, "request")}, ${count(m.input_tokens)} in / ${count(m.output_tokens)} out tokens (${m.reason})`;
    return li;
  });
  const title = document.createElement("p");
  title.textContent = `${plural(unpriced.requests, "request")} without a cost (not counted in the totals):`;
  const list = document.createElement("ul");
  list.append(...items);
  box.replaceChildren(title, list);
}

export async function loadSpend() {
  const group = $("spend-group").value;
  const from = $("spend-from").value;
  const to = $("spend-to").value;
  $("spend-error").textContent = "";
  if (from > to) {
    $("spend-error").textContent = "The start date is after the end date.";
    return;
  }
  let report;
  try {
    report = await json(await api("admin/spend", { query: { group_by: group, since: from, until: nextDay(to) } }));
  } catch (e) {
    $("spend-error").textContent = e.message;
    $("spend-result").hidden = true;
    return;
  }
  const rows = group === "day" ? fillDays(report.rows, from, to) : [...report.rows].sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests);
  const labels = rows.map((r) => String(r[group] ?? "(none)"));
  const total = report.total;
  $("spend-total").textContent = `${usd(total.cost_usd)} over ${plural(total.requests, "request")}, ` +
    `${count(total.input_tokens)} input and ${count(total.output_tokens)} output tokens, ${from} to ${to}.`;
  renderUnpriced(report.unpriced);
  $("spend-result").hidden = false;
  barChart($("chart-cost"), {
    labels, format: usd, summary: `Cost in USD per ${group}`,
    series: [{ name: "cost", values: rows.map((r) => r.cost_usd), className: "bar1" }],
  });
  barChart($("chart-tokens"), {
    labels, format: count, summary: `Input and output tokens per ${group}`,
    series: [
      { name: "input", values: rows.map((r) => r.input_tokens), className: "bar1" },
      { name: "output", values: rows.map((r) => r.output_tokens), className: "bar2" },
    ],
  });
  $("chart-cost-title").textContent = `Cost (USD) per ${group}`;
  $("chart-tokens-title").textContent = `Tokens per ${group} (input and output)`;
  renderTable(group, rows);
}

export function setupSpend() {
  const today = new Date();
  $("spend-to").value = isoDay(today);
  $("spend-from").value = isoDay(new Date(today.getTime() - 6 * DAY_MS));
  $("spend-form").addEventListener("submit", (e) => { e.preventDefault(); loadSpend(); });
  $("spend-group").addEventListener("change", loadSpend);
}
