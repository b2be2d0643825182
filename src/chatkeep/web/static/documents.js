// Documents per domain: upload (drag and drop, progress), status until ready/failed, delete.

import { ApiError, del, get, query, writeHeaders } from "./api.js";
import { domainName, fillDomainSelect } from "./sidebar.js";
import { $, el, toast } from "./ui.js";

const TERMINAL = new Set(["ready", "failed"]);
const state = { domainId: "", polling: new Map() };

function statusText(doc) {
  if (doc.status === "failed") return `failed: ${doc.error ?? "unknown reason"}`;
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (doc.status === "ready") return `ready · ${doc.pages ? `${plural(doc.pages, "page")} · ` : ""}${plural(doc.chunks ?? 0, "chunk")}`;
  return doc.status;
}

function row(doc) {
  return el("li", { class: "document", dataset: { id: doc.id, status: doc.status } },
    el("a", { href: `/v1/documents/${doc.id}/content`, target: "_blank", rel: "noopener", text: doc.name }),
    el("span", { class: `doc-status ${doc.status}`, text: statusText(doc) }),
    el("button", { type: "button", class: "danger small", "aria-label": `Delete ${doc.name}`, onclick: () => remove(doc) , text: "Delete" }));
}

// The line above the list follows the list itself, so uploads and deletes keep it true.
function summarize() {
  const count = $("#document-list").children.length;
  const name = domainName(state.domainId);
  $("#documents-status").textContent = count
    ? `${count} document${count === 1 ? "" : "s"} in ${name}`
    : `No documents in ${name} yet`;
}

function show(doc) {
  const list = $("#document-list");
  const existing = list.querySelector(`[data-id="${doc.id}"]`);
  const item = row(doc);
  if (existing) existing.replaceWith(item); else list.prepend(item);
  summarize();
  if (!TERMINAL.has(doc.status)) poll(doc.id);
}

function poll(id) {
  if (state.polling.has(id)) return;
  const timer = setInterval(async () => {
    try {
      const doc = await get(`/v1/documents/${id}`);
      if (TERMINAL.has(doc.status)) { clearInterval(timer); state.polling.delete(id); }
      if (doc.domain_id === state.domainId) show(doc);
    } catch {
      clearInterval(timer);
      state.polling.delete(id);
    }
  }, 1000);
  state.polling.set(id, timer);
}

async function load() {
  const list = $("#document-list");
  list.replaceChildren();
  for (const timer of state.polling.values()) clearInterval(timer);
  state.polling.clear();
  if (!state.domainId) return;
  $("#documents-status").textContent = "Loading…";
  try {
    let cursor = null;
    const docs = [];
    do {
      const page = await get(`/v1/domains/${state.domainId}/documents${query({ limit: 100, cursor })}`);
      docs.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor && docs.length < 1000);
    list.replaceChildren(...docs.map(row));
    docs.filter((d) => !TERMINAL.has(d.status)).forEach((d) => poll(d.id));
    summarize();
  } catch (error) {
    $("#documents-status").textContent = error instanceof ApiError && error.status === 404
      ? "This server has no document service (the documents API returned 404)."
      : `Could not load documents: ${error.message}`;
  }
}

async function remove(doc) {
  const item = $("#document-list").querySelector(`[data-id="${doc.id}"]`);
  item?.classList.add("removing");
  try {
    await del(`/v1/documents/${doc.id}`);
    item?.remove();
    summarize();
  } catch (error) {
    item?.classList.remove("removing");
    toast(`The server refused to delete ${doc.name}: ${error.message}`);
  }
}

// XMLHttpRequest, not fetch: only it reports upload progress.
function upload(file) {
  const progress = el("progress", { max: "100", value: "0", "aria-label": `Uploading ${file.name}` });
  const line = el("li", {}, el("span", { text: file.name }), progress);
  $("#uploads").append(line);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", `/v1/domains/${state.domainId}/documents`);
  for (const [name, value] of Object.entries(writeHeaders())) xhr.setRequestHeader(name, value);
  xhr.upload.onprogress = (event) => { if (event.lengthComputable) progress.value = String(Math.round((event.loaded / event.total) * 100)); };
  xhr.onload = () => {
    line.remove();
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
    if (xhr.status === 200 || xhr.status === 201) show(body);
    else toast(`Upload of ${file.name} refused: ${body?.detail ?? xhr.status}`);
  };
  xhr.onerror = () => { line.remove(); toast(`Upload of ${file.name} failed: network error`); };
  const form = new FormData();
  form.append("file", file);
  xhr.send(form);
}

function uploadAll(files) {
  if (!state.domainId) { toast("Choose a domain first"); return; }
  [...files].forEach(upload);
}

export function openDocuments(domainId) {
  const panel = $("#documents");
  fillDomainSelect($("#documents-domain"), { selected: domainId || state.domainId });
  if (!$("#documents-domain").value && $("#documents-domain").options.length) $("#documents-domain").selectedIndex = 0;
  state.domainId = $("#documents-domain").value;
  panel.hidden = false;
  $("#docs-toggle").setAttribute("aria-expanded", "true");
  load();
}

export function closeDocuments() {
  $("#documents").hidden = true;
  $("#docs-toggle").setAttribute("aria-expanded", "false");
  for (const timer of state.polling.values()) clearInterval(timer);
  state.polling.clear();
}

export function initDocuments() {
  $("#documents-domain").addEventListener("change", (event) => { state.domainId = event.target.value; load(); });
  $("#file-input").addEventListener("change", (event) => { uploadAll(event.target.files); event.target.value = ""; });
  const zone = $("#dropzone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    uploadAll(event.dataTransfer.files);
  });
  $("#documents-close").addEventListener("click", closeDocuments);
}
