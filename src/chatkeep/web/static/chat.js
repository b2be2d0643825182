// The conversation: messages (server-rendered, sanitized Markdown), the streamed answer
// (native SSE over fetch), stop, regenerate, alternatives, copy, citations, re-attach.

import { ApiError, get, post, renderMarkdown, request, writeHeaders } from "./api.js";
import { readEvents } from "./sse.js";
import * as sidebar from "./sidebar.js";
import { $, el, toast } from "./ui.js";

const view = { session: null, running: null, streamEl: null };
const storeKey = (sessionId) => `chatkeep.answer.${sessionId}`;

export function currentSession() { return view.session; }

// --- rendering ------------------------------------------------------------------------

function linkCitations(container, references, onCite) {
  const known = new Map((references ?? []).map((r) => [String(r.n), r]));
  if (!known.size) return;
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  const nodes = [];
  while (walker.nextNode()) {
    if (/\[\d{1,3}\]/.test(walker.currentNode.nodeValue) && !walker.currentNode.parentElement.closest("code, pre")) {
      nodes.push(walker.currentNode);
    }
  }
  for (const node of nodes) {
    const parts = node.nodeValue.split(/(\[\d{1,3}\])/);
    const fragment = document.createDocumentFragment();
    for (const part of parts) {
      const match = /^\[(\d{1,3})\]$/.exec(part);
      const reference = match && known.get(match[1]);
      if (reference) {
        fragment.append(el("button", {
          type: "button", class: "cite", text: part,
          "aria-label": `Source ${reference.n}: ${reference.document_name}`,
          onclick: () => onCite(reference),
        }));
      } else fragment.append(part);
    }
    node.replaceWith(fragment);
  }
}

function pages(reference) {
  if (!reference.page_start) return "";
  return reference.page_end && reference.page_end !== reference.page_start
    ? `pages ${reference.page_start}–${reference.page_end}` : `page ${reference.page_start}`;
}

export function openPassage(reference) {
  const panel = $("#passage");
  $("#passage-title").textContent = `[${reference.n}] ${reference.document_name}`;
  $("#passage-meta").textContent = [pages(reference), (reference.heading_path ?? []).join(" › ")]
    .filter(Boolean).join(" · ");
  $("#passage-text").replaceChildren(el("mark", { text: reference.text ?? "" }));
  const page = reference.page_start ? `#page=${reference.page_start}` : "";
  $("#passage-open").href = `/v1/documents/${reference.document_id}/content${page}`;
  panel.hidden = false;
  $("#passage-close").focus();
}

function referenceList(references) {
  if (!references?.length) return null;
  return el("ol", { class: "references", "aria-label": "Sources" },
    references.filter((r) => r.cited !== false).map((r) => el("li", {},
      el("button", { type: "button", class: "link", onclick: () => openPassage(r),
        text: `[${r.n}] ${r.document_name}${pages(r) ? ` (${pages(r)})` : ""}` }))));
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = el("textarea", { class: "visually-hidden" });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  toast("Copied", "info");
}

function messageItem(message, html) {
  const answer = message.answer ?? null;
  const item = el("li", { class: `message ${message.role}`, dataset: { id: message.id ?? "", answer: answer?.id ?? "" } });
  const body = el("div", { class: "content" });
  body.innerHTML = html; // sanitized by the server (nh3)
  linkCitations(body, answer?.references, openPassage);
  item.append(el("div", { class: "role", text: message.role === "user" ? "You" : "Assistant" }), body);
  if (message.role === "assistant") item.append(answerFooter(item, message, answer));
  return item;
}

function answerFooter(item, message, answer) {
  const footer = el("div", { class: "message-actions" });
  if (answer?.status && answer.status !== "complete") {
    footer.append(el("span", { class: `status ${answer.status}`, text: answer.error ? `${answer.status}: ${answer.error}` : answer.status }));
  }
  footer.append(el("button", { type: "button", onclick: () => copyText(message.content), text: "Copy" }));
  if (answer?.id) {
    footer.append(el("button", { type: "button", onclick: () => regenerate(answer.id, item), text: "Regenerate" }));
    const alternatives = answer.alternatives ?? [];
    if (alternatives.length > 1) footer.append(alternativeSwitcher(item, answer, alternatives));
  }
  const refs = referenceList(answer?.references);
  return refs ? el("div", {}, refs, footer) : footer;
}

function alternativeSwitcher(item, answer, alternatives) {
  // alternatives are latest first; show them oldest = 1 so "2/2" is the newest.
  const ordered = [...alternatives].reverse();
  const index = ordered.indexOf(answer.id);
  const show = async (next) => {
    try {
      const chosen = await get(`/v1/answers/${ordered[next]}`);
      const [html] = await renderMarkdown([chosen.content]);
      const message = { id: chosen.message_id, role: "assistant", content: chosen.content,
        answer: { id: chosen.id, status: chosen.status, references: chosen.references, alternatives: chosen.alternatives, error: chosen.error } };
      item.replaceWith(messageItem(message, html));
    } catch (error) { toast(`Could not load that answer: ${error.message}`); }
  };
  return el("span", { class: "alternatives", role: "group", "aria-label": "Alternative answers" },
    el("button", { type: "button", disabled: index <= 0, "aria-label": "Previous answer", onclick: () => show(index - 1), text: "‹" }),
    el("span", { text: `${index + 1}/${ordered.length}` }),
    el("button", { type: "button", disabled: index >= ordered.length - 1, "aria-label": "Next answer", onclick: () => show(index + 1), text: "›" }));
}

function scrollToEnd() {
  const list = $("#messages");
  list.scrollTop = list.scrollHeight;
}

// --- opening a session ----------------------------------------------------------------

async function allMessages(sessionId) {
  const out = [];
  let cursor = null;
  do {
    const page = await get(`/v1/sessions/${sessionId}/messages?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && out.length < 2000);
  return out;
}

export async function openSession(id) {
  const session = await get(`/v1/sessions/${id}`);
  view.session = session;
  showHeader(session);
  const messages = await allMessages(id);
  if (view.session?.id !== id) return; // another session was opened meanwhile
  const stored = JSON.parse(sessionStorage.getItem(storeKey(id)) ?? "null");
  const running = stored?.answer_id ?? messages.find((m) => m.answer?.status === "running")?.answer?.id;
  // One answer per question: the latest alternative (the switcher shows the others).
  const shown = messages.filter((m) => !(running && m.answer?.id === running)
    && !(m.answer?.alternatives?.length > 1 && m.answer.alternatives[0] !== m.answer.id));
  const html = await renderMarkdown(shown.map((m) => m.content));
  $("#messages").replaceChildren(...shown.map((m, i) => messageItem(m, html[i])));
  scrollToEnd();
  if (running && !view.running) reattach(id, running, stored);
}

export function showHeader(session) {
  $("#chat-title").textContent = session ? session.title || "Untitled" : "Select or start a chat";
  // The documents a chat answers from: its domain (and subdomains), which the user may change.
  $("#chat-domain-line").hidden = !session;
  if (session) sidebar.fillDomainSelect($("#chat-domain"), { selected: session.domain_id });
  $("#session-actions").hidden = !session;
  if (!session) { $("#messages").replaceChildren(); return; }
  $("#pin").textContent = session.is_pinned ? "Unpin" : "Pin";
  $("#pin").setAttribute("aria-pressed", String(session.is_pinned));
  $("#archive").textContent = session.archived ? "Unarchive" : "Archive";
  $("#archive").setAttribute("aria-pressed", String(session.archived));
}

export function closeSession() {
  view.session = null;
  showHeader(null);
}

// --- the streamed answer --------------------------------------------------------------

function startStreamView(text = "") {
  const content = el("div", { class: "content streaming", "aria-busy": "true" });
  content.textContent = text; // while streaming: plain text; Markdown once finished
  const item = el("li", { class: "message assistant" },
    el("div", { class: "role", text: "Assistant" }), content,
    el("div", { class: "message-actions" }, el("span", { class: "status running", text: "answering…" })));
  $("#messages").append(item);
  view.streamEl = item;
  scrollToEnd();
  return item;
}

function setRunning(running) {
  view.running = running;
  $("#stop").hidden = !running;
  $("#send").disabled = Boolean(running);
}

function remember(sessionId, patchState) {
  const key = storeKey(sessionId);
  const current = JSON.parse(sessionStorage.getItem(key) ?? "null") ?? {};
  sessionStorage.setItem(key, JSON.stringify({ ...current, ...patchState }));
}

// Feed one answer's SSE into the view; resolves when the terminal event arrives.
async function consume(response, sessionId, item, initial = {}) {
  let text = initial.text ?? "";
  let references = initial.references ?? [];
  const content = item.querySelector(".content");
  let finished = false;
  await readEvents(response, ({ id, event, data }) => {
    if (data.answer_id && !view.running?.answerId) {
      view.running = { ...view.running, answerId: data.answer_id };
      remember(sessionId, { answer_id: data.answer_id });
    }
    if (id) remember(sessionId, { last_id: Number(id) });
    if (event === "question") {
      const pending = $("#messages .message.user.pending");
      if (pending) { pending.classList.remove("pending"); pending.dataset.id = data.question.id; }
    } else if (event === "references") {
      references = data.references;
      remember(sessionId, { references });
    } else if (event === "delta") {
      text += data.text;
      content.textContent = text;
      remember(sessionId, { text });
      scrollToEnd();
    } else if (event === "done" || event === "error") {
      finished = true;
      finishAnswer(item, sessionId, event === "done" ? data.answer : {
        id: data.answer_id, status: data.status, error: data.reason, content: text, references,
      });
      return true;
    }
    return false;
  });
  if (!finished && view.session?.id === sessionId) {
    // The connection ended without a terminal event (server restart, network): re-attach.
    const stored = JSON.parse(sessionStorage.getItem(storeKey(sessionId)) ?? "null");
    if (stored?.answer_id) return reattach(sessionId, stored.answer_id, stored, item);
  }
}

async function finishAnswer(item, sessionId, answer) {
  sessionStorage.removeItem(storeKey(sessionId));
  setRunning(null);
  const [html] = await renderMarkdown([answer.content ?? ""]);
  const message = { id: answer.message_id, role: "assistant", content: answer.content ?? "",
    answer: { id: answer.id, status: answer.status, references: answer.references ?? [],
      alternatives: answer.alternatives ?? [], error: answer.error } };
  item.replaceWith(messageItem(message, html));
  view.streamEl = null;
  scrollToEnd();
  refreshSessionRow(sessionId);
}

async function refreshSessionRow(sessionId) {
  try { sidebar.upsert(await get(`/v1/sessions/${sessionId}`)); } catch { /* the row stays */ }
}

async function streamRequest(path, body, sessionId, item) {
  const controller = new AbortController();
  setRunning({ controller, sessionId, answerId: null });
  try {
    const response = await request("POST", path, { json: body, raw: true, signal: controller.signal,
      headers: { Accept: "text/event-stream", "Idempotency-Key": crypto.randomUUID() } });
    await consume(response, sessionId, item);
  } catch (error) {
    setRunning(null);
    item.remove();
    if (error.name === "AbortError") return;
    throw error;
  }
}

async function reattach(sessionId, answerId, stored, existing) {
  const item = existing ?? startStreamView(stored?.text ?? "");
  const controller = new AbortController();
  setRunning({ controller, sessionId, answerId });
  remember(sessionId, { answer_id: answerId });
  try {
    const response = await request("GET", `/v1/answers/${answerId}/events`, { raw: true, signal: controller.signal,
      headers: { Accept: "text/event-stream", "Last-Event-ID": String(stored?.last_id ?? 0) } });
    await consume(response, sessionId, item, stored ?? {});
  } catch (error) {
    setRunning(null);
    if (error.name === "AbortError") return;
    sessionStorage.removeItem(storeKey(sessionId));
    item.remove();
    toast(`Could not re-attach to the answer: ${error.message}`);
  }
}

function answersMissing(error) {
  return error instanceof ApiError && error.status === 404 && !/session/i.test(error.message);
}

// A "New chat" still being created: a question asked meanwhile waits and goes into it,
// instead of creating a second session of its own.
let opening = Promise.resolve();
export function askAfter(promise) { opening = promise.catch(() => {}); }

export async function ask(question) {
  await opening;
  let session = view.session;
  if (!session) {
    session = await sidebar.createSession(sidebar.filterDomain());
    view.session = session;
    showHeader(session);
    location.hash = `s=${session.id}`;
    sidebar.setActive(session.id);
  }
  if (session.title === "New chat" && session.message_count === 0) {
    const title = question.replace(/\s+/g, " ").slice(0, 80);
    sidebar.changeSession(session.id, { title }).then((s) => { if (view.session?.id === s.id) { view.session = s; showHeader(s); } }, () => {});
  }
  const [html] = await renderMarkdown([question]);
  const mine = messageItem({ role: "user", content: question }, html);
  mine.classList.add("pending");
  $("#messages").append(mine);
  const item = startStreamView();
  try {
    await streamRequest(`/v1/sessions/${session.id}/answers`, { question, stream: true }, session.id, item);
  } catch (error) {
    if (answersMissing(error)) {
      // No answer service on this server (yet): keep the question as a plain message.
      await post(`/v1/sessions/${session.id}/messages`, { role: "user", content: question });
      mine.classList.remove("pending");
      toast("This server has no answer service (the answers API returned 404); your question was saved.");
    } else {
      mine.remove();
      toast(`The question was not sent: ${error.message}`);
      throw error;
    }
  }
}

export async function regenerate(answerId, oldItem) {
  const session = view.session;
  if (!session || view.running) return;
  const item = startStreamView();
  oldItem.after(item);
  oldItem.classList.add("superseded");
  try {
    await streamRequest(`/v1/answers/${answerId}/regenerate`, { stream: true }, session.id, item);
    oldItem.remove();
  } catch (error) {
    oldItem.classList.remove("superseded");
    toast(`Could not regenerate: ${error.message}`);
  }
}

export async function stop() {
  const running = view.running;
  if (!running) return;
  $("#stop").disabled = true;
  try {
    if (running.answerId) await post(`/v1/answers/${running.answerId}/cancel`, {});
    else running.controller.abort();
  } catch (error) {
    running.controller.abort();
    toast(`Could not stop the answer: ${error.message}`);
  } finally {
    $("#stop").disabled = false;
  }
}

export function detachStream() {
  // Switching sessions: stop reading (the answer keeps running server-side).
  view.running?.controller.abort();
  setRunning(null);
}

export { writeHeaders };
