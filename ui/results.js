// Rendering results and filters (facet counts), with the labels of GET /vocabularies.

import { $, state, el, clear, highlighted, readerHref, areaLabel, docTypeLabel, api, citationString, copyButton,
  language, languageLabel, langAttrs, statusOf, statusLabel } from "./lib.js";

// ---------------------------------------------------------------------------------------------------------
// rendering a result

export function areaBadges(tags) {
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

/** The language of a result: its passage's or section's when the API gives one, else its document's. */
export function resultLanguage(r) {
  return r.language || (r.document && r.document.language) || "und";
}

/** Badges for a text's language (by name; its own name in the tooltip) and its status (in force, repealed). */
export function factBadges(code, status) {
  const l = language(code);
  const native = l.native_name && l.native_name !== l.name ? l.native_name : null;
  return el("ul", { class: "badges facts", "aria-label": "Language and status" },
    el("li", {}, el("span", { class: "badge lang", dataset: { lang: l.code }, title: native ? `${l.name}: ${native}` : l.name },
      el("span", { class: "name", text: l.name }),
      native ? el("span", { class: "visually-hidden", text: ` (${native})`, ...langAttrs(l.code) }) : null)),
    el("li", {}, el("span", { class: `badge status ${status}`, dataset: { status }, text: statusLabel(status) })));
}

/** A section's designation as printed (มาตรา ๖, 第二百四十条) with its heading: the result's or the reader's title. */
export function sectionLabel(number, title) {
  return [number, title].filter(Boolean).join(" ");
}

export function resultItem(r, headingLevel = "h2") {
  const c = r.citation;
  const heading = sectionLabel(c.section_number, c.section_title) || c.title;
  const code = resultLanguage(r);
  const lang = langAttrs(code);
  const facts = [docTypeLabel(r.document.doc_type),
    r.document.year ? (r.document.year_to && r.document.year_to !== r.document.year ? `${r.document.year}-${r.document.year_to}` : r.document.year) : null,
    r.members.length ? r.members.join(", ") : null].filter(Boolean).join(" · ");
  return el("li", { class: "result", dataset: { sectionId: r.section_id, lang: code } },
    el("article", {},
      el(headingLevel, { class: "result-title" },
        el("a", { href: readerHref(r.doc_id, r.section_id), "data-nav": true, text: heading, ...lang })),
      el("p", { class: "doc-title", text: c.title, ...lang }),
      el("p", { class: "meta", text: facts }),
      factBadges(code, statusOf(r)),
      areaBadges(r.priority_areas),
      el("blockquote", { class: "passage", ...lang }, highlighted(r.text, r.highlights)),
      el("p", { class: "citation" }, el("span", { class: "label", text: "Cite: " }), el("cite", { text: c.text, ...lang })),
      el("div", { class: "actions" },
        copyButton(() => citationString(r)),
        el("a", { class: "button-link", href: readerHref(r.doc_id, r.section_id), "data-nav": true, text: "Open in document" })),
      explanation(r.explanation)));
}

// ---------------------------------------------------------------------------------------------------------
// filters with facet counts

function optionList(container, name, entries, selected, labeller, languages = false) {
  clear(container);
  const chosen = new Set(selected);
  const seen = new Set();
  const add = (value, count) => {
    seen.add(value);
    const id = `${container.id}-${value.replace(/[^a-z0-9]+/gi, "-")}`;
    container.append(el("div", { class: "option" },
      el("input", { type: "checkbox", id, name, value, checked: chosen.has(value) }),
      el("label", { for: id },
        el("span", { class: "opt-label", text: labeller ? labeller(value) : value },
          languages && language(value).native_name !== language(value).name
            ? el("span", { class: "native", text: ` ${language(value).native_name}`, ...langAttrs(value) }) : null),
        count === null ? null : el("span", { class: "count", text: String(count), "aria-label": `${count} sections` }))));
  };
  for (const [value, count] of entries) add(value, count);
  for (const value of chosen) if (!seen.has(value)) add(value, 0);
  if (!container.childElementCount) container.append(el("p", { class: "hint", text: "none in these results" }));
}

export function renderFacets(facets, params) {
  optionList($("f-member"), "member", Object.entries(facets.member || {}), params.getAll("member"));
  // areas in the vocabulary's order (the strategies' numbering), not by count
  const counts = facets.priority_area || {};
  const order = state.vocab ? Object.keys(state.vocab.priority_areas) : Object.keys(counts);
  const areas = order.filter((a) => counts[a]).map((a) => [a, counts[a]]);
  optionList($("f-area"), "area", areas, params.getAll("area"), areaLabel);
  optionList($("f-doc_type"), "doc_type", Object.entries(facets.doc_type || {}), params.getAll("doc_type"), docTypeLabel);
  // languages by name, most sections first; the option's label carries the language's own name in its script
  optionList($("f-language"), "language", Object.entries(facets.language || {}), params.getAll("language"), languageLabel, true);
  const statuses = ["in_force", "repealed", "unknown"].filter((st) => (facets.status || {})[st]).map((st) => [st, facets.status[st]]);
  optionList($("f-status"), "status", statuses, params.getAll("status"), statusLabel);
  const years = Object.entries(facets.year || {});
  $("f-year").textContent = years.length ? `Sections by year: ${years.map(([y, n]) => `${y} (${n})`).join(", ")}` : "";
}

export async function loadVocabularies() {
  if (!state.vocab) state.vocab = await api("/vocabularies");
  return state.vocab;
}

export async function globalFacets() {
  if (!state.globalFacets) state.globalFacets = (await api("/facets")).facets;
  return state.globalFacets;
}

export function memberChoices(container, name, selected) {
  const members = state.members.length ? state.members : [];
  optionList(container, name, members.map((m) => [m, null]), selected);
}

export async function loadMembers() {
  if (!state.members.length) {
    const f = await globalFacets();
    state.members = Object.keys(f.member || {}).sort((a, b) => a.localeCompare(b));
  }
  return state.members;
}
