// The console's entry point: sign-in, the section links (#playground, #spend, #admin)
// and which view is shown.

import { api, failure, json, session } from "./api.js";
import { loadAdmin, setupAdmin } from "./admin.js";
import { loadModels, resetPlayground, setupPlayground } from "./playground.js";
import { loadSpend, setupSpend } from "./spend.js";

const $ = (id) => document.getElementById(id);
const VIEWS = ["signin", "playground", "spend", "admin"];
const LOADERS = { playground: loadModels, spend: loadSpend, admin: loadAdmin };

function show(view) {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${view === "signin" ? "Sign in" : link(view)} · proxy-core console`;
}

const link = (view) => view[0].toUpperCase() + view.slice(1);

async function route() {
  if (!session.key) {
    show("signin");
    $("nav").hidden = $("sign-out").hidden = true;
    $("who").textContent = "";
    $("signin-key").focus();
    return;
  }
  const view = location.hash.slice(1);
  const current = VIEWS.includes(view) && view !== "signin" ? view : "playground";
  show(current);
  try {
    await LOADERS[current]();
  } catch (e) {
    $(current === "playground" ? "pg-error" : `${current}-error`).textContent = e.message;
  }
}

async function whoAmI() {
  const { principal, accounts } = await json(await api("admin/console/accounts"));
  const role = principal.admin ? "admin" : accounts.length ? "manager" : "user";
  $("who").textContent = `Key ${principal.name}${principal.user ? ` (${principal.user})` : ""} · ${role}`;
  $("nav").hidden = $("sign-out").hidden = false;
}

async function signIn(event) {
  event.preventDefault();
  const key = $("signin-key").value.trim();
  $("signin-error").textContent = "";
  try {
    const response = await api("models", { key }); // the key is good if the gateway lists models for it
    if (!response.ok) throw await failure(response);
  } catch (e) {
    $("signin-error").textContent = e.message;
    return;
  }
  session.save(key);
  $("signin-key").value = "";
  await whoAmI().catch((e) => { $("who").textContent = e.message; });
  if (!location.hash || location.hash === "#signin") location.hash = "#playground";
  else await route();
  $("main").focus();
}

function signOut() {
  session.forget();
  resetPlayground();
  history.replaceState(null, "", location.pathname);
  route();
}

setupPlayground();
setupSpend();
setupAdmin();
$("signin-form").addEventListener("submit", signIn);
$("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
if (session.key) whoAmI().catch(() => { session.forget(); route(); });
route();
