// Bali Process knowledge base: the web UI. Plain DOM, no build step.
// Rule: text from the index is only ever put on the page as text nodes (textContent), never as HTML.
"use strict";

const PAGE_SIZE = 10;
const MAX_URL_DRAFT = 1500; // longer drafts stay out of the URL

const $ = (id) => document.getElementById(id);
// Labels come from the API (GET /vocabularies), the one home of the vocabularies; ids show until they arrive.
const state = { search: null, precedents: null, globalFacets: null, members: [], vocab: null, focusResults: false };

// ---------------------------------------------------------------------------------------------------------
// small DOM helpers

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function clear(node) {
  node.replaceChildren();
  return node;
}

function announce(message) {
  const s = $("status");
  s.textContent = "";
  window.setTimeout(() => { s.textContent = message; }, 30);
}

/** Text with [start, end) spans wrapped in <mark>, built from text nodes only. */
function highlighted(text, spans) {
  const frag = document.createDocumentFragment();
  let pos = 0;
  const sorted = (spans || []).filter((s) => s[1] > s[0]).sort((a, b) => a[0] - b[0]);
  for (const [start, end] of sorted) {
    if (start < pos || end > text.length) continue;
    if (start > pos) frag.append(document.createTextNode(text.slice(pos, start)));
    frag.append(el("mark", { text: text.slice(start, end) }));
    pos = end;
  }
  if (pos < text.length) frag.append(document.createTextNode(text.slice(pos)));
  return frag;
}

function readerHref(docId, sectionId) {
  return `/read/${encodeURIComponent(docId)}` + (sectionId ? `#${encodeURIComponent(sectionId)}` : "");
}

function pages(c) {
  if (c.page_start === null || c.page_start === undefined) return "";
  return c.page_end && c.page_end !== c.page_start ? `pp. ${c.page_start}-${c.page_end}` : `p. ${c.page_start}`;
}

function areaLabel(id) {
  return (state.vocab && state.vocab.priority_areas[id]) || id;
}

function docTypeLabel(id) {
  return (state.vocab && state.vocab.doc_types[id]) || id;
}

// ---------------------------------------------------------------------------------------------------------
// API

function token() {
  return window.sessionStorage.getItem("kb-token");
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function errorMessage(body, status) {
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((d) => `${(d.loc || []).slice(1).join(".") || "request"}: ${d.msg}`).join("; ");
  }
  if (body && typeof body.detail === "string") return body.detail;
  return `request failed (${status})`;
}

async function api(path, options = {}) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  const t = token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const res = await fetch(path, Object.assign({}, options, { headers }));
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  if (res.status === 401) {
    $("auth").hidden = false;
    $("auth-token").focus();
  }
  if (!res.ok) throw new ApiError(res.status, errorMessage(body, res.status));
  return body;
}

function showError(container, err) {
  clear(container).append(el("p", { class: "error", role: "alert", text: err.message || String(err) }));
}

/** Show a view's results heading; after the user asked for the results, bring it into view and focus it, so
 * keyboard and screen-reader users land on what they asked for (the results render below the form). */
function revealResults(heading, text) {
  heading.textContent = text;
  heading.hidden = false;
  if (!state.focusResults) return;
  state.focusResults = false;
  heading.scrollIntoView({ block: "start" });
  heading.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------------------
// copying and exporting

async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (_) { /* fall back below */ }
  const ta = el("textarea", { class: "offscreen", readonly: true, "aria-hidden": "true" });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (_) { ok = false; }
  ta.remove();
  return ok;
}

function citationString(r) {
  const url = new URL(readerHref(r.doc_id, r.section_id), window.location.origin).href;
  return `${r.citation.text}. ${url}`;
}

function copyButton(getText, label = "Copy citation") {
  const btn = el("button", { type: "button", class: "secondary copy", text: label });
  btn.addEventListener("click", async () => {
    const ok = await copyText(getText());
    btn.textContent = ok ? "Copied" : "Copy failed";
    btn.classList.toggle("copied", ok);
    announce(ok ? "Citation copied to the clipboard" : "Could not copy the citation");
    window.setTimeout(() => { btn.textContent = label; btn.classList.remove("copied"); }, 2000);
  });
  return btn;
}

function download(filename, type, content) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = el("a", { href: url, download: filename, class: "offscreen" });
  document.body.append(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function csvCell(v) {
  const s = v === null || v === undefined ? "" : String(v);
  // Quote everything; a leading = + - @ is neutralised so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

function resultsCsv(results) {
  const head = ["rank", "score", "citation", "doc_id", "section_id", "pages", "members", "priority_areas", "link", "text"];
  const rows = results.map((r) => [
    r.rank, r.score, r.citation.text, r.doc_id, r.section_id, pages(r.citation), r.members.join("; "),
    r.priority_areas.map((a) => `${a.label} (${a.basis})`).join("; "),
    new URL(readerHref(r.doc_id, r.section_id), window.location.origin).href, r.text,
  ]);
  return [head, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

function exportButtons(kind, getData, name) {
  const stamp = () => new Date().toISOString().slice(0, 10);
  $(`${kind}export-csv`).addEventListener("click", () => {
    const data = getData();
    if (data) download(`${name}-${stamp()}.csv`, "text/csv;charset=utf-8", resultsCsv(data.results));
  });
  $(`${kind}export-json`).addEventListener("click", () => {
    const data = getData();
    if (data) download(`${name}-${stamp()}.json`, "application/json", JSON.stringify(data, null, 2));
  });
}

// ---------------------------------------------------------------------------------------------------------
// rendering a result

function areaBadges(tags) {
  if (!tags || !tags.length) return null;
  const list = el("ul", { class: "badges", "aria-label": "Priority areas" });
  for (const t of tags) {
    if (t.basis === "inferred") {
      const evidence = t.evidence ? `Inferred from: ${t.evidence}` : "Inferred from the text";
      list.append(el("li", {},
        el("span", { class: "badge inferred", tabindex: "0", title: evidence, dataset: { evidence } },
          t.label, el("span", { class: "basis", text: " · inferred" }),
          el("span", { class: "visually-hidden", text: ` (${evidence})` }))));
    } else {
      list.append(el("li", {},
        el("span", { class: "badge stated", title: "Stated by the document" },
          t.label, el("span", { class: "basis", text: " · stated" }))));
    }
  }
  return list;
}

function explanation(e) {
  const fmt = (leg, unit) => leg.rank ? `#${leg.rank} (${unit} ${Number(leg.score).toFixed(3)})` : "not in the top candidates";
  return el("details", { class: "why" },
    el("summary", { text: "Why this matched" }),
    el("dl", {},
      el("dt", { text: "Keywords (BM25)" }), el("dd", { text: fmt(e.bm25, "score") }),
      el("dt", { text: "Meaning (dense)" }), el("dd", { text: fmt(e.dense, "cosine") }),
      el("dt", { text: "Fused score" }), el("dd", { text: `${Number(e.fused).toFixed(3)} (${e.method || "fusion"})` }),
      e.phrase_match ? [el("dt", { text: "Phrase" }), el("dd", { text: "contains the query words as a phrase" })] : null));
}

function resultItem(r, headingLevel = "h2") {
  const c = r.citation;
  const heading = [c.section_number, c.section_title].filter(Boolean).join(" ") || c.title;
  const facts = [docTypeLabel(r.document.doc_type),
    r.document.year ? (r.document.year_to && r.document.year_to !== r.document.year ? `${r.document.year}-${r.document.year_to}` : r.document.year) : null,
    r.members.length ? r.members.join(", ") : null].filter(Boolean).join(" · ");
  return el("li", { class: "result", dataset: { sectionId: r.section_id } },
    el("article", {},
      el(headingLevel, { class: "result-title" },
        el("a", { href: readerHref(r.doc_id, r.section_id), "data-nav": true, text: heading })),
      el("p", { class: "doc-title", text: c.title }),
      el("p", { class: "meta", text: facts }),
      areaBadges(r.priority_areas),
      el("blockquote", { class: "passage" }, highlighted(r.text, r.highlights)),
      el("p", { class: "citation" }, el("span", { class: "label", text: "Cite: " }), el("cite", { text: c.text })),
      el("div", { class: "actions" },
        copyButton(() => citationString(r)),
        el("a", { class: "button-link", href: readerHref(r.doc_id, r.section_id), "data-nav": true, text: "Open in document" })),
      explanation(r.explanation)));
}

// ---------------------------------------------------------------------------------------------------------
// filters with facet counts

function optionList(container, name, entries, selected, labeller) {
  clear(container);
  const chosen = new Set(selected);
  const seen = new Set();
  const add = (value, count) => {
    seen.add(value);
    const id = `${container.id}-${value.replace(/[^a-z0-9]+/gi, "-")}`;
    container.append(el("div", { class: "option" },
      el("input", { type: "checkbox", id, name, value, checked: chosen.has(value) }),
      el("label", { for: id },
        el("span", { class: "opt-label", text: labeller ? labeller(value) : value }),
        count === null ? null : el("span", { class: "count", text: String(count), "aria-label": `${count} sections` }))));
  };
  for (const [value, count] of entries) add(value, count);
  for (const value of chosen) if (!seen.has(value)) add(value, 0);
  if (!container.childElementCount) container.append(el("p", { class: "hint", text: "none in these results" }));
}

function renderFacets(facets, params) {
  optionList($("f-member"), "member", Object.entries(facets.member || {}), params.getAll("member"));
  // areas in the vocabulary's order (the strategies' numbering), not by count
  const counts = facets.priority_area || {};
  const order = state.vocab ? Object.keys(state.vocab.priority_areas) : Object.keys(counts);
  const areas = order.filter((a) => counts[a]).map((a) => [a, counts[a]]);
  optionList($("f-area"), "area", areas, params.getAll("area"), areaLabel);
  optionList($("f-doc_type"), "doc_type", Object.entries(facets.doc_type || {}), params.getAll("doc_type"), docTypeLabel);
  const years = Object.entries(facets.year || {});
  $("f-year").textContent = years.length ? `Sections by year: ${years.map(([y, n]) => `${y} (${n})`).join(", ")}` : "";
}

async function loadVocabularies() {
  if (!state.vocab) state.vocab = await api("/vocabularies");
  return state.vocab;
}

async function globalFacets() {
  if (!state.globalFacets) state.globalFacets = (await api("/facets")).facets;
  return state.globalFacets;
}

function memberChoices(container, name, selected) {
  const members = state.members.length ? state.members : [];
  optionList(container, name, members.map((m) => [m, null]), selected);
}

async function loadMembers() {
  if (!state.members.length) {
    const f = await globalFacets();
    state.members = Object.keys(f.member || {}).sort((a, b) => a.localeCompare(b));
  }
  return state.members;
}

// ---------------------------------------------------------------------------------------------------------
// URL <-> view

const SEARCH_KEYS = ["q", "member", "area", "doc_type", "year_from", "year_to", "mode", "offset"];

function go(url, replace = false) {
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  route();
}

function searchParamsFromForm() {
  const p = new URLSearchParams();
  const q = $("q").value.trim();
  if (q) p.set("q", q);
  for (const name of ["member", "area", "doc_type"]) {
    for (const box of document.querySelectorAll(`#filter-form input[name="${name}"]:checked`)) p.append(name, box.value);
  }
  for (const name of ["year_from", "year_to"]) if ($(name).value) p.set(name, $(name).value);
  if ($("mode").value !== "hybrid") p.set("mode", $("mode").value);
  return p;
}

function showView(name) {
  for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== `view-${name}`;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.dataset.view === name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function route() {
  const url = new URL(window.location.href);
  const params = url.searchParams;
  try {
    await loadVocabularies();
    if (url.pathname.startsWith("/read/")) {
      showView("read");
      await renderReader(decodeURIComponent(url.pathname.slice("/read/".length)), decodeURIComponent(url.hash.slice(1)));
      return;
    }
    const view = params.get("view") || "search";
    if (view === "compare") { showView("compare"); await renderCompare(params); }
    else if (view === "precedents") { showView("precedents"); await renderPrecedents(params); }
    else if (view === "documents") { showView("documents"); await renderDocuments(); }
    else { showView("search"); await renderSearch(params); }
  } catch (err) {
    const target = document.querySelector(".view:not([hidden]) .summary") || $("read-body");
    showError(target, err);
  } finally {
    state.focusResults = false;  // only the render a form submission started moves the focus
  }
}

// ---------------------------------------------------------------------------------------------------------
// search view

async function renderSearch(params) {
  document.title = "Search · Bali Process knowledge base";
  const q = params.get("q") || "";
  $("q").value = q;
  $("year_from").value = params.get("year_from") || "";
  $("year_to").value = params.get("year_to") || "";
  $("mode").value = params.get("mode") || "hybrid";
  const results = clear($("results"));
  $("search-tools").hidden = true;
  $("pager").hidden = true;
  if (!q) {
    state.search = null;
    renderFacets(await globalFacets(), params);
    clear($("search-summary")).append(el("p", { text: "Search by question or keywords; quote a phrase to require it. Filters narrow every search; the numbers are matching sections." }));
    return;
  }
  clear($("search-summary")).append(el("p", { class: "loading", text: "Searching…" }));
  const api_params = new URLSearchParams();
  for (const k of SEARCH_KEYS) for (const v of params.getAll(k)) api_params.append(k, v);
  api_params.set("top_k", String(PAGE_SIZE));
  const data = await api(`/search?${api_params}`);
  state.search = data;
  document.title = `${q} · Bali Process knowledge base`;
  renderFacets(data.facets, params);
  const from = data.offset + 1;
  const to = data.offset + data.results.length;
  clear($("search-summary")).append(el("p", {},
    data.total ? `${data.total} matching section${data.total === 1 ? "" : "s"}; showing ${from === to ? from : `${from}-${to}`}.` : "No matching sections. Try fewer filters or other words."));
  for (const r of data.results) results.append(resultItem(r));
  $("search-tools").hidden = !data.results.length;
  if (data.total > PAGE_SIZE) {
    $("pager").hidden = false;
    $("prev").disabled = data.offset === 0;
    $("next").disabled = to >= data.total;
    $("page-info").textContent = `Page ${Math.floor(data.offset / PAGE_SIZE) + 1} of ${Math.ceil(data.total / PAGE_SIZE)}`;
  }
  announce(`${data.total} matching sections`);
}

function submitSearch(offset = 0) {
  const p = searchParamsFromForm();
  if (!p.get("q")) { $("q").focus(); return; }
  if (offset) p.set("offset", String(offset));
  go(`/?${p}`);
}

// ---------------------------------------------------------------------------------------------------------
// compare view

async function renderCompare(params) {
  document.title = "Compare members · Bali Process knowledge base";
  await loadMembers();
  const chosen = params.getAll("member");
  memberChoices($("c-member"), "member", chosen);
  $("cq").value = params.get("q") || "";
  if (params.get("per_member")) $("per_member").value = params.get("per_member");
  const out = clear($("compare-out"));
  clear($("compare-summary"));
  $("compare-results-title").hidden = true;
  if (!params.get("q") || chosen.length < 2) return;
  $("compare-summary").append(el("p", { class: "loading", text: "Comparing…" }));
  const p = new URLSearchParams({ q: params.get("q"), per_member: $("per_member").value });
  for (const m of chosen) p.append("member", m);
  const data = await api(`/compare?${p}`);
  clear($("compare-summary")).append(el("p", { text: `“${data.query}” in ${data.rows.length} members' texts.` }));
  const table = el("table", { class: "matrix" },
    el("caption", { class: "visually-hidden", text: `Comparison of members on: ${data.query}` }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Member" }),
      Array.from({ length: data.per_member }, (_, i) => el("th", { scope: "col", text: `Passage ${i + 1}` })))));
  const body = el("tbody");
  for (const row of data.rows) {
    const tr = el("tr", { dataset: { member: row.member } }, el("th", { scope: "row", text: row.member }));
    for (let i = 0; i < data.per_member; i++) {
      const r = row.results[i];
      if (!r) {
        tr.append(el("td", { class: "empty" }, i === 0 ? "No matching passage in this member's texts." : ""));
        continue;
      }
      tr.append(el("td", {},
        el("a", { href: readerHref(r.doc_id, r.section_id), "data-nav": true, class: "cell-title",
          text: [r.citation.section_number, r.citation.section_title].filter(Boolean).join(" ") || r.citation.title }),
        el("p", { class: "passage" }, highlighted(r.text.length > 600 ? r.text.slice(0, 600) : r.text, r.highlights.filter((s) => s[1] <= 600)),
          r.text.length > 600 ? "…" : ""),
        el("p", { class: "citation" }, el("cite", { text: r.citation.text })),
        copyButton(() => citationString(r))));
    }
    body.append(tr);
  }
  table.append(body);
  out.append(el("div", { class: "matrix-wrap" }, table));
  revealResults($("compare-results-title"), `Comparison: ${data.query}`);
  announce(`Compared ${data.rows.length} members`);
}

// ---------------------------------------------------------------------------------------------------------
// precedents view

async function renderPrecedents(params) {
  document.title = "Precedents · Bali Process knowledge base";
  await loadMembers();
  memberChoices($("p-member"), "member", params.getAll("member"));
  const stored = window.sessionStorage.getItem("kb-draft");
  const text = params.get("text") || (params.get("draft") === "session" && stored) || "";
  $("draft").value = text;
  updateDraftCount();
  clear($("prec-results"));
  clear($("prec-summary"));
  $("prec-tools").hidden = true;
  $("prec-results-title").hidden = true;
  if (!text.trim()) return;
  $("prec-summary").append(el("p", { class: "loading", text: "Looking for similar provisions…" }));
  const data = await api("/precedents", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text, member: params.getAll("member"), top_k: 10 }),
  });
  state.precedents = data;
  clear($("prec-summary")).append(el("p", { text: `${data.results.length} most similar provisions` +
    (data.draft_chunks > 1 ? ` (the draft was read in ${data.draft_chunks} parts).` : ".") }));
  for (const r of data.results) $("prec-results").append(resultItem(r, "h3"));
  $("prec-tools").hidden = !data.results.length;
  revealResults($("prec-results-title"), "Similar provisions");
  announce(`${data.results.length} similar provisions`);
}

function updateDraftCount() {
  $("draft-count").textContent = `${$("draft").value.length} characters`;
}

// ---------------------------------------------------------------------------------------------------------
// documents and reader

async function renderDocuments() {
  document.title = "Documents · Bali Process knowledge base";
  const data = await api("/documents");
  clear($("docs-summary")).append(el("p", { text: `${data.total} documents.` }));
  const list = clear($("docs-list"));
  for (const d of data.documents) {
    const facts = [docTypeLabel(d.doc_type), d.year, d.jurisdiction || d.members.join(", "), `${d.sections} sections`]
      .filter(Boolean).join(" · ");
    list.append(el("li", {}, el("a", { href: readerHref(d.doc_id), "data-nav": true, text: d.title }),
      el("p", { class: "meta", text: facts })));
  }
}

const readerCache = new Map();

async function renderReader(docId, sectionId) {
  let data = readerCache.get(docId);
  if (!data) {
    clear($("read-body")).append(el("p", { class: "loading", text: "Loading the document…" }));
    data = await api(`/documents/${encodeURIComponent(docId)}`);
    readerCache.set(docId, data);
  }
  const doc = data.document;
  if ($("read-body").dataset.docId !== docId) {
    document.title = `${doc.title} · Bali Process knowledge base`;
    $("read-title").textContent = doc.title;
    $("read-meta").textContent = [docTypeLabel(doc.doc_type),
      doc.year ? (doc.year_to && doc.year_to !== doc.year ? `${doc.year}-${doc.year_to}` : doc.year) : null,
      doc.jurisdiction, doc.language ? `language: ${doc.language}` : null, doc.pages ? `${doc.pages} pages` : null]
      .filter(Boolean).join(" · ");
    const toc = clear($("toc-list"));
    const body = clear($("read-body"));
    body.dataset.docId = docId;
    for (const s of data.sections) {
      const label = [s.number, s.title].filter(Boolean).join(" ") || s.kind;
      toc.append(el("li", { class: `lvl-${Math.min(s.level, 4)}` },
        el("a", { href: readerHref(docId, s.section_id), "data-nav": true, text: label })));
      const level = Math.min(2 + Math.max(0, s.level - 1), 6);
      const page = pages(s);
      const sec = el("section", { id: s.section_id, class: `doc-section lvl-${Math.min(s.level, 4)}`, tabindex: "-1" },
        el(`h${level}`, { class: "section-title" }, label,
          page ? el("span", { class: "pages", text: ` (${page})` }) : null),
        areaBadges(s.priority_areas));
      for (const para of s.text.split(/\n\s*\n/)) {
        if (para.trim()) sec.append(el("p", { class: "section-text", text: para.trim() }));
      }
      sec.append(el("div", { class: "actions" },
        copyButton(() => `${s.citation}. ${new URL(readerHref(docId, s.section_id), window.location.origin).href}`),
        el("a", { class: "permalink", href: readerHref(docId, s.section_id), "data-nav": true, text: "Link to this section" })));
      body.append(sec);
    }
  }
  for (const prev of document.querySelectorAll(".doc-section.current")) prev.classList.remove("current");
  const target = sectionId ? document.getElementById(sectionId) : null;
  if (target) {
    target.classList.add("current");
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  } else {
    window.scrollTo(0, 0);
    if (sectionId) announce("That section is not in this document");
  }
}

// ---------------------------------------------------------------------------------------------------------
// wiring

function init() {
  document.addEventListener("click", (event) => {
    const a = event.target.closest("a[data-nav]");
    if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(a.href, window.location.origin);
    if (url.origin !== window.location.origin) return;
    event.preventDefault();
    go(url.pathname + url.search + url.hash);
  });
  window.addEventListener("popstate", route);
  window.addEventListener("hashchange", route);
  document.addEventListener("keydown", (event) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName) || document.activeElement.isContentEditable;
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      if ($("view-search").hidden) go("/");
      $("q").focus();
      $("q").select();
    }
  });
  $("search-form").addEventListener("submit", (e) => { e.preventDefault(); submitSearch(); });
  $("filter-form").addEventListener("submit", (e) => { e.preventDefault(); submitSearch(); });
  $("filter-form").addEventListener("change", (e) => {
    if (e.target.type === "checkbox" || e.target.id === "mode") submitSearch();
  });
  $("clear-filters").addEventListener("click", () => {
    const q = $("q").value.trim();
    go(q ? `/?${new URLSearchParams({ q })}` : "/");
  });
  $("prev").addEventListener("click", () => submitSearch(Math.max(0, (state.search?.offset || 0) - PAGE_SIZE)));
  $("next").addEventListener("click", () => submitSearch((state.search?.offset || 0) + PAGE_SIZE));
  exportButtons("", () => state.search, "bali-kb-search");
  exportButtons("prec-", () => state.precedents, "bali-kb-precedents");

  $("compare-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const members = [...document.querySelectorAll("#c-member input:checked")].map((b) => b.value);
    if (members.length < 2 || members.length > 8) {
      showError($("compare-summary"), new Error("Choose between 2 and 8 members."));
      return;
    }
    const p = new URLSearchParams({ view: "compare", q: $("cq").value.trim(), per_member: $("per_member").value });
    for (const m of members) p.append("member", m);
    state.focusResults = true;
    go(`/?${p}`);
  });
  $("prec-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("draft").value;
    const p = new URLSearchParams({ view: "precedents" });
    if (text.length <= MAX_URL_DRAFT) p.set("text", text);
    else { window.sessionStorage.setItem("kb-draft", text); p.set("draft", "session"); }
    for (const b of document.querySelectorAll("#p-member input:checked")) p.append("member", b.value);
    state.focusResults = true;
    go(`/?${p}`);
  });
  $("draft").addEventListener("input", updateDraftCount);
  $("auth").addEventListener("submit", (e) => {
    e.preventDefault();
    window.sessionStorage.setItem("kb-token", $("auth-token").value.trim());
    $("auth").hidden = true;
    state.globalFacets = null;
    route();
  });
  const wide = window.matchMedia("(min-width: 60rem)");
  $("filters").open = wide.matches;
  route();
}

document.addEventListener("DOMContentLoaded", init);
