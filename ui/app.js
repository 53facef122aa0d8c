// Bali Process knowledge base: the web UI. Plain DOM, no build step.
// Rule: text from the index is only ever put on the page as text nodes (textContent), never as HTML.

import { $, state, el, clear, announce, highlighted, readerHref, pages, docTypeLabel, api, showError, revealResults, citationString, copyButton, exportButtons,
  languageLabel, langAttrs, statusOf, statusLabel } from "./lib.js";
import { areaBadges, resultItem, renderFacets, loadVocabularies, globalFacets, memberChoices, loadMembers, factBadges, resultLanguage, sectionLabel } from "./results.js";
import { renderMap, installMap } from "./map.js";

const PAGE_SIZE = 10;
const MAX_URL_DRAFT = 1500; // longer drafts stay out of the URL

// ---------------------------------------------------------------------------------------------------------
// URL <-> view

const SEARCH_KEYS = ["q", "member", "area", "doc_type", "language", "status", "year_from", "year_to", "mode", "offset"];

function go(url, replace = false) {
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  route();
}

function searchParamsFromForm() {
  const p = new URLSearchParams();
  const q = $("q").value.trim();
  if (q) p.set("q", q);
  for (const name of ["member", "area", "doc_type", "language", "status"]) {
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
  const reading = url.pathname.startsWith("/read/");
  const asked = params.get("view");
  const view = reading ? "read" : (["compare", "precedents", "map", "documents"].includes(asked) ? asked : "search");
  showView(view);  // at once, before any request: a key pressed meanwhile ("/") finds its view shown
  // and the search box (or the draft box) holds the URL's text at once too: filled after the vocabularies
  // arrive, it wiped out what was typed into it meanwhile
  if (view === "search") $("q").value = params.get("q") || "";
  if (view === "precedents") {
    $("draft").value = urlDraft(params);
    updateDraftCount();
  }
  try {
    await loadVocabularies();
    if (reading) await renderReader(decodeURIComponent(url.pathname.slice("/read/".length)), decodeURIComponent(url.hash.slice(1)));
    else if (view === "compare") await renderCompare(params);
    else if (view === "precedents") await renderPrecedents(params);
    else if (view === "map") await renderMap(params);
    else if (view === "documents") await renderDocuments();
    else await renderSearch(params);
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
  const q = params.get("q") || "";  // route() has put it in the search box
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
  if (data.scope) $("search-summary").append(scopeNote(data.scope));
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

// What the question names (members, instruments), whose documents the search ranked first.
function scopeNote(scope) {
  const named = [...scope.members];
  const titles = Object.values(scope.titles || {});
  if (titles.length) named.push(...titles);
  else if (scope.instruments) named.push("the international instruments");
  const years = scope.years && scope.years.length ? ` (of ${scope.years.join(", ")})` : "";
  return el("p", { class: "scope-note", text: `Ranked first, because the question names them: ${named.join("; ")}${years}. Filter by member to search only some members' texts.` });
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
      const lang = langAttrs(resultLanguage(r));
      tr.append(el("td", { dataset: { lang: resultLanguage(r) } },
        el("a", { href: readerHref(r.doc_id, r.section_id), "data-nav": true, class: "cell-title",
          text: sectionLabel(r.citation.section_number, r.citation.section_title) || r.citation.title, ...lang }),
        factBadges(resultLanguage(r), statusOf(r)),
        el("p", { class: "passage", ...lang }, highlighted(r.text.length > 600 ? r.text.slice(0, 600) : r.text, r.highlights.filter((s) => s[1] <= 600)),
          r.text.length > 600 ? "…" : ""),
        el("p", { class: "citation" }, el("cite", { text: r.citation.text, ...lang })),
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
  const text = urlDraft(params);  // route() has put it in the draft box
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

/** The draft the URL names: its own text, or the one kept in this tab's session storage (too long for a URL). */
function urlDraft(params) {
  const stored = window.sessionStorage.getItem("kb-draft");
  return params.get("text") || (params.get("draft") === "session" && stored) || "";
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
    const facts = [docTypeLabel(d.doc_type), d.year, d.jurisdiction || d.members.join(", "), languageLabel(d.language),
      statusLabel(statusOf(d)), `${d.sections} sections`].filter(Boolean).join(" · ");
    list.append(el("li", { dataset: { docId: d.doc_id } }, el("a", { href: readerHref(d.doc_id), "data-nav": true, text: d.title, ...langAttrs(d.language) }),
      el("p", { class: "meta", text: facts })));
  }
}

const readerCache = new Map();

function setLang(node, code) {
  const { lang, dir } = langAttrs(code);
  node.setAttribute("lang", lang);
  if (dir) node.setAttribute("dir", dir);
  else node.removeAttribute("dir");
}

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
    const code = doc.language || "und";
    $("read-title").textContent = doc.title;
    setLang($("read-title"), code);
    $("read-meta").textContent = [docTypeLabel(doc.doc_type),
      doc.year ? (doc.year_to && doc.year_to !== doc.year ? `${doc.year}-${doc.year_to}` : doc.year) : null,
      doc.jurisdiction, doc.pages ? `${doc.pages} pages` : null]
      .filter(Boolean).join(" · ");
    clear($("read-facts")).append(factBadges(code, statusOf(doc)));
    const toc = clear($("toc-list"));
    const body = clear($("read-body"));
    body.dataset.docId = docId;
    for (const s of data.sections) {
      // the designation as printed (มาตรา ๖, 第二百四十条), in the text's own language and script
      const label = sectionLabel(s.number, s.title) || s.kind;
      const lang = langAttrs(s.language || code);
      toc.append(el("li", { class: `lvl-${Math.min(s.level, 4)}` },
        el("a", { href: readerHref(docId, s.section_id), "data-nav": true, text: label, ...lang })));
      const level = Math.min(2 + Math.max(0, s.level - 1), 6);
      const page = pages(s);
      const sec = el("section", { id: s.section_id, class: `doc-section lvl-${Math.min(s.level, 4)}`, tabindex: "-1" },
        el(`h${level}`, { class: "section-title" }, el("span", { text: label, ...lang }),
          page ? el("span", { class: "pages", text: ` (${page})` }) : null),
        // a provision repealed on its own, in a law still in force, says so where it is read
        s.status === "repealed" && statusOf(doc) !== "repealed"
          ? el("p", { class: "badge status repealed", text: statusLabel("repealed") }) : null,
        areaBadges(s.priority_areas));
      for (const para of s.text.split(/\n\s*\n/)) {
        if (para.trim()) sec.append(el("p", { class: "section-text", text: para.trim(), ...lang }));
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
      if ($("view-search").hidden) { showView("search"); go("/"); }  // shown before focus: a hidden box takes none
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
  installMap(go);
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
