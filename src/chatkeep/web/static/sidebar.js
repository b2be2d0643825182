// The session sidebar: domain filter, title search, pinned-first recent order (the API's
// "recent"), endless scroll over the cursor API, and the session actions.

import { ApiError, del, get, patch, post, query } from "./api.js";
import { $, el, formatTime, toast } from "./ui.js";

const PAGE = 50;
const state = {
  q: "", domainId: "", archived: false,
  cursor: null, hasMore: true, loading: false, generation: 0,
  sessions: new Map(), activeId: null, onOpen: () => {},
};

export let domains = [];

export function domainName(id) {
  return domains.find((d) => d.id === id)?.name ?? "";
}

// Depth-first order with indentation, so a flat <select> shows the tree.
export function domainTree() {
  const children = new Map();
  for (const d of domains) {
    const key = d.parent_id ?? "";
    if (!children.has(key)) children.set(key, []);
    children.get(key).push(d);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const d of (children.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name))) {
      out.push({ ...d, depth });
      walk(d.id, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

export function fillDomainSelect(select, { all = false, selected = "" } = {}) {
  select.replaceChildren();
  if (all) select.append(el("option", { value: "", text: "All domains" }));
  for (const d of domainTree()) {
    select.append(el("option", { value: d.id, text: `${"\u00a0\u00a0".repeat(d.depth)}${d.name}` }));
  }
  select.value = selected;
}

async function loadDomains() {
  domains = [];
  let cursor = null;
  do {
    const page = await get(`/v1/domains${query({ limit: 100, cursor })}`);
    domains.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  fillDomainSelect($("#domain-filter"), { all: true, selected: state.domainId });
}

function itemFor(session) {
  const item = el("li", { class: "session-item", dataset: { id: session.id } });
  const button = el("button", {
    type: "button", class: "session-open",
    "aria-current": session.id === state.activeId ? "page" : null,
    onclick: () => state.onOpen(session.id),
  },
  el("span", { class: "session-title", text: session.title || "Untitled" }),
  el("span", { class: "session-meta" },
    session.is_pinned ? el("span", { class: "pin-mark", text: "Pinned ·" }) : null,
    el("span", { text: `${session.domain_name} · ${formatTime(session.last_message_at || session.created_at)}` })));
  item.append(button);
  return item;
}

function render(session) {
  const list = $("#session-list");
  const existing = list.querySelector(`[data-id="${session.id}"]`);
  const item = itemFor(session);
  if (existing) existing.replaceWith(item); else list.append(item);
}

function status(text) { $("#session-status").textContent = text; }

function countStatus() {
  const count = state.sessions.size;
  status(state.hasMore ? `${count} loaded` : count ? `${count} session${count === 1 ? "" : "s"}` : "No sessions");
}

async function loadMore() {
  if (state.loading || !state.hasMore) return;
  state.loading = true;
  const generation = state.generation;
  status("Loading…");
  try {
    const page = await get(`/v1/sessions${query({
      limit: PAGE, cursor: state.cursor, q: state.q, domain_id: state.domainId,
      archived: state.archived ? "true" : null,
    })}`);
    if (generation !== state.generation) return; // the filter changed meanwhile
    for (const session of page.data) {
      state.sessions.set(session.id, session);
      render(session);
    }
    state.cursor = page.next_cursor;
    state.hasMore = page.has_more;
    countStatus();
  } catch (error) {
    if (generation === state.generation) status(`Could not load sessions: ${error.message}`);
  } finally {
    if (generation === state.generation) state.loading = false;
  }
  // A short first page may not fill the pane: keep going while the sentinel is visible.
  if (generation === state.generation && state.hasMore && sentinelVisible()) loadMore();
}

function sentinelVisible() {
  const pane = $("#session-scroll").getBoundingClientRect();
  const sentinel = $("#session-sentinel").getBoundingClientRect();
  return sentinel.top <= pane.bottom + 200;
}

export function reload() {
  state.generation += 1;
  state.cursor = null;
  state.hasMore = true;
  state.loading = false;
  state.sessions.clear();
  $("#session-list").replaceChildren();
  return loadMore();
}

export function setActive(id) {
  state.activeId = id;
  for (const button of document.querySelectorAll(".session-open")) {
    const current = button.parentElement.dataset.id === id;
    if (current) button.setAttribute("aria-current", "page"); else button.removeAttribute("aria-current");
  }
}

export function sessionById(id) { return state.sessions.get(id); }

// A session changed elsewhere (a new message, a new title): refresh its row in place.
export function upsert(session) {
  const wasKnown = state.sessions.has(session.id);
  state.sessions.set(session.id, session);
  if (wasKnown) render(session);
  else {
    const list = $("#session-list");
    const item = itemFor(session);
    const firstUnpinned = [...list.children].find((li) => !state.sessions.get(li.dataset.id)?.is_pinned);
    list.insertBefore(item, session.is_pinned ? list.firstChild : firstUnpinned ?? null);
  }
  countStatus();
}

function forget(id) {
  state.sessions.delete(id);
  $("#session-list").querySelector(`[data-id="${id}"]`)?.remove();
  countStatus();
}

export async function createSession(domainId) {
  const session = await post("/v1/sessions", { title: "New chat", ...(domainId ? { domain_id: domainId } : {}) });
  upsert(session);
  return session;
}

// Optimistic: the row changes at once; on refusal it goes back and the reason is shown.
export async function changeSession(id, changes) {
  const before = state.sessions.get(id);
  if (before) render({ ...before, ...changes });
  try {
    const after = await patch(`/v1/sessions/${id}`, changes);
    if ("is_pinned" in changes || "archived" in changes) moveAfterReorder(after);
    else upsert(after);
    return after;
  } catch (error) {
    if (before) render(before);
    toast(`The server refused the change: ${error.message}`);
    throw error;
  }
}

function moveAfterReorder(session) {
  const hidden = session.archived !== state.archived;
  if (hidden) { forget(session.id); return; }
  forget(session.id);
  upsert(session);
}

export async function deleteSession(id) {
  const item = $("#session-list").querySelector(`[data-id="${id}"]`);
  const before = state.sessions.get(id);
  item?.classList.add("removing");
  try {
    await del(`/v1/sessions/${id}`);
    forget(id);
  } catch (error) {
    item?.classList.remove("removing");
    if (before && !(error instanceof ApiError && error.status === 404)) {
      toast(`The server refused to delete it: ${error.message}`);
      throw error;
    }
    forget(id); // already gone
  }
}

export async function initSidebar({ onOpen }) {
  state.onOpen = onOpen;
  let debounce = 0;
  $("#search").addEventListener("input", (event) => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { state.q = event.target.value.trim(); reload(); }, 250);
  });
  $("#domain-filter").addEventListener("change", (event) => { state.domainId = event.target.value; reload(); });
  $("#show-archived").addEventListener("change", (event) => { state.archived = event.target.checked; reload(); });
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting)) loadMore();
  }, { root: $("#session-scroll"), rootMargin: "0px 0px 400px 0px" }).observe($("#session-sentinel"));
  await loadDomains();
  await reload();
}

export function filterDomain() { return state.domainId; }
