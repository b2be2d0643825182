// Bootstrap: redeem a #login= link, find who is signed in, wire the views and the keys.

import { ApiError, get, onUnauthenticated, post, setCsrfToken } from "./api.js";
import * as chat from "./chat.js";
import { closeDocuments, initDocuments, openDocuments } from "./documents.js";
import * as sidebar from "./sidebar.js";
import { $, toast } from "./ui.js";

function showSignIn(message) {
  $("#app").hidden = true;
  $("#signin").hidden = false;
  if (message) $("#signin-message").textContent = message;
}

async function signIn() {
  const match = /^#login=([\w-]+)$/.exec(location.hash);
  if (match) {
    // Drop the one-time token from the address bar and history before anything else.
    history.replaceState(null, "", location.pathname);
    try {
      return await post("/web/login", { token: match[1] });
    } catch (error) {
      showSignIn(`Sign-in failed: ${error.message}`);
      return null;
    }
  }
  try {
    return await get("/web/session");
  } catch (error) {
    showSignIn(error instanceof ApiError && error.status === 401 ? "You are not signed in." : `chatkeep is unreachable: ${error.message}`);
    return null;
  }
}

function sessionFromHash() {
  const match = /^#s=([0-9a-f-]{36})$/.exec(location.hash);
  return match ? match[1] : null;
}

async function open(id) {
  chat.detachStream();
  sidebar.setActive(id);
  if (location.hash !== `#s=${id}`) history.replaceState(null, "", `#s=${id}`);
  closeMenu();
  try {
    await chat.openSession(id);
    $("#question").focus();
  } catch (error) {
    toast(`Could not open the session: ${error.message}`);
    chat.closeSession();
  }
}

function closeMenu() {
  document.body.classList.remove("menu-open");
  $("#menu-toggle").setAttribute("aria-expanded", "false");
}

function wireComposer() {
  const box = $("#question");
  const send = async () => {
    const question = box.value.trim();
    if (!question || chat.currentSession() === undefined) return;
    box.value = "";
    try { await chat.ask(question); } catch { box.value ||= question; }
  };
  $("#composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); send(); }
  });
  $("#stop").addEventListener("click", () => chat.stop());
}

function wireSessionActions() {
  const current = () => chat.currentSession();
  const update = async (changes) => {
    const session = current();
    if (!session) return;
    chat.showHeader({ ...session, ...changes });
    try {
      const after = await sidebar.changeSession(session.id, changes);
      if (chat.currentSession()?.id === after.id) { chat.showHeader(after); Object.assign(session, after); }
    } catch { chat.showHeader(session); }
  };
  $("#new-chat").addEventListener("click", async () => {
    const opened = (async () => {
      const session = await sidebar.createSession(sidebar.filterDomain());
      await open(session.id);
    })();
    chat.askAfter(opened);
    try { await opened; } catch (error) { toast(`Could not create a chat: ${error.message}`); }
  });
  $("#chat-domain").addEventListener("change", (event) => update({ domain_id: event.target.value }));
  $("#rename").addEventListener("click", () => {
    $("#rename-input").value = current()?.title ?? "";
    $("#rename-form").hidden = false;
    $("#chat-title").hidden = true;
    $("#rename-input").select();
  });
  const closeRename = () => { $("#rename-form").hidden = true; $("#chat-title").hidden = false; };
  $("#rename-cancel").addEventListener("click", closeRename);
  $("#rename-input").addEventListener("keydown", (event) => { if (event.key === "Escape") closeRename(); });
  $("#rename-form").addEventListener("submit", (event) => {
    event.preventDefault();
    closeRename();
    update({ title: $("#rename-input").value.trim() });
    $("#rename").focus();
  });
  $("#pin").addEventListener("click", () => update({ is_pinned: !current()?.is_pinned }));
  $("#archive").addEventListener("click", () => update({ archived: !current()?.archived }));
  $("#delete").addEventListener("click", async () => {
    const session = current();
    if (!session || !confirm(`Delete “${session.title || "Untitled"}” and its messages?`)) return;
    try {
      await sidebar.deleteSession(session.id);
      chat.closeSession();
      history.replaceState(null, "", location.pathname);
      $("#new-chat").focus();
    } catch { /* the toast says why */ }
  });
}

function wireChrome(user) {
  $("#whoami").textContent = `${user.user_id} · ${user.tenant}`;
  $("#signout").addEventListener("click", async () => {
    try { await post("/web/logout", {}); } catch { /* signed out either way */ }
    showSignIn("You have signed out.");
  });
  $("#menu-toggle").addEventListener("click", () => {
    const open = document.body.classList.toggle("menu-open");
    $("#menu-toggle").setAttribute("aria-expanded", String(open));
    if (open) $("#search").focus();
  });
  $("#docs-toggle").addEventListener("click", () => {
    if ($("#documents").hidden) openDocuments(chat.currentSession()?.domain_id ?? sidebar.filterDomain());
    else closeDocuments();
  });
  $("#passage-close").addEventListener("click", () => { $("#passage").hidden = true; });
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName ?? "");
    if ((event.key === "k" && (event.ctrlKey || event.metaKey)) || (event.key === "/" && !typing)) {
      event.preventDefault();
      document.body.classList.add("menu-open");
      $("#search").focus();
    } else if (event.key === "Escape") {
      $("#passage").hidden = true;
      closeMenu();
    }
  });
}

async function main() {
  onUnauthenticated((message) => showSignIn(message));
  const user = await signIn();
  if (!user) return;
  setCsrfToken(user.csrf_token);
  $("#signin").hidden = true;
  $("#app").hidden = false;
  wireChrome(user);
  wireComposer();
  wireSessionActions();
  initDocuments();
  await sidebar.initSidebar({ onOpen: open });
  const id = sessionFromHash();
  if (id) await open(id);
  document.body.dataset.ready = "true"; // the browser tests wait for this
}

main();
