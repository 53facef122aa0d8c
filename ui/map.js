// The Protocol map (GET /alignment): how members' laws implement an instrument, article by article.
// Rule: text from the index is only ever put on the page as text nodes (textContent), never as HTML.

import { $, el, clear, announce, readerHref, api, showError, langAttrs, languageLabel, csvText, download } from "./lib.js";
import { sectionLabel } from "./results.js";

const DEFAULT_INSTRUMENT = "un-trafficking-protocol-2000";
// The first request for an instrument computes its map (seconds; a minute on a busy server); later ones are
// served from the server's memory.
const MAP_TIMEOUT_MS = 180000;
// Each confidence with its label and a mark, so that it never rests on colour alone.
const CONFIDENCE = {
  strong: { key: "strong", label: "Strong", mark: "●" },
  possible: { key: "possible", label: "Possible", mark: "◐" },
  "none found": { key: "none", label: "None found", mark: "○" },
};

const maps = new Map();  // instrument -> the promise of its whole map, kept for the page's life
let instruments = null;
let shown = null;  // what the matrix shows, for the CSV export: { data, rows, members }
let renders = 0;  // a render started later supersedes one still waiting for its map

/** The map view's URL: the instrument, and optionally one article (its path in the instrument) and one member. */
export function mapUrl(instrument, { article = "", member = "" } = {}) {
  const p = new URLSearchParams({ view: "map", instrument });
  if (article) p.set("article", article);
  if (member) p.set("member", member);
  return `/?${p}`;
}

/** An article's path in its instrument (ch-i.art-3), as the URL carries it. */
function articlePath(articleId) {
  return articleId.slice(articleId.indexOf(":") + 1);
}

async function loadInstruments() {
  if (!instruments) instruments = (await api("/alignment/instruments")).instruments;
  return instruments;
}

function loadMap(instrument) {
  if (!maps.has(instrument)) {
    const request = api(`/alignment?${new URLSearchParams({ instrument })}`, { signal: AbortSignal.timeout(MAP_TIMEOUT_MS) });
    request.catch(() => maps.delete(instrument));  // a failure is not kept: asking again tries again
    maps.set(instrument, request);
  }
  return maps.get(instrument);
}

function cellOf(article, member) {
  return article.cells.find((c) => c.member === member) || null;
}

function confidenceOf(cell) {
  return CONFIDENCE[cell.confidence] || { key: "none", label: cell.confidence, mark: "?" };
}

function shortCitation(p) {
  return sectionLabel(p.citation.section_number, p.citation.section_title) || p.citation.title;
}

function confBadge(conf) {
  return el("span", { class: `conf ${conf.key}` }, el("span", { class: "mark", "aria-hidden": "true", text: `${conf.mark} ` }), conf.label);
}

// ---------------------------------------------------------------------------------------------------------
// rendering

export async function renderMap(params) {
  const token = ++renders;
  document.title = "Protocol map · Bali Process knowledge base";
  shown = null;
  $("map-tools").hidden = true;
  $("map-gaps").hidden = true;
  clear($("map-out"));
  const list = await loadInstruments();
  const fallback = list.some((i) => i.doc_id === DEFAULT_INSTRUMENT) ? DEFAULT_INSTRUMENT : (list[0] && list[0].doc_id);
  const inst = params.get("instrument") || fallback;
  const article = params.get("article") || "";
  const member = params.get("member") || "";
  const known = list.find((i) => i.doc_id === inst);
  instrumentChoices(list, known ? inst : "");
  if ($("map-article").dataset.instrument !== inst) {  // another instrument's articles are no choice for this one
    clear($("map-article")).append(el("option", { value: "", text: "All articles" }));
    delete $("map-article").dataset.instrument;
  }
  const summary = clear($("map-summary"));
  if (!inst) {
    summary.append(el("p", { text: "No protocols or conventions are indexed: there is nothing to map." }));
    return;
  }
  const name = known ? known.title : inst;
  const elapsed = el("span", { class: "elapsed" });
  summary.append(el("p", { class: "loading" }, `Building the map of ${name}: each article is searched for in every member's laws. `
    + "The first time takes a while (up to a minute); then it is kept. ", elapsed));
  const started = Date.now();
  const ticker = window.setInterval(() => { elapsed.textContent = `${Math.round((Date.now() - started) / 1000)} s`; }, 1000);
  announce("Building the map");
  let data;
  try {
    data = await loadMap(inst);
  } catch (err) {
    if (token !== renders || $("view-map").hidden) return;
    const why = err.name === "TimeoutError" ? `it was not ready after ${MAP_TIMEOUT_MS / 1000} seconds; try again later` : err.message;
    showError(summary, new Error(`Could not show the map of “${inst}”: ${why}.` + (known ? "" : " Choose an instrument above.")));
    return;
  } finally {
    window.clearInterval(ticker);
  }
  if (token !== renders || $("view-map").hidden) return;  // another render, or another view, took over
  const title = data.instrument.title;
  document.title = `Protocol map: ${title} · Bali Process knowledge base`;
  articleChoices(data, article);
  memberChoices(data.members, member);

  let rows = data.articles;
  if (article) {
    const wanted = article.includes(":") ? article : `${inst}:${article}`;
    rows = rows.filter((a) => a.article_id === wanted);
    if (!rows.length) {
      showError(summary, new Error(`No article “${article}” in ${title}. Choose an article above.`));
      return;
    }
  }
  let members = data.members;
  if (member) {
    const found = members.find((m) => m.toLowerCase() === member.toLowerCase());
    if (!found) {
      showError(summary, new Error(`No laws of “${member}” are in the map. The members whose laws are indexed: ${members.join(", ")}.`));
      return;
    }
    members = [found];
    $("map-member").value = found;
  }

  const searched = rows.filter((a) => !a.final_clause);
  const counts = { strong: 0, possible: 0, none: 0 };
  for (const a of searched) for (const m of members) { const c = cellOf(a, m); if (c) counts[confidenceOf(c).key] += 1; }
  const finals = rows.length - searched.length;
  clear(summary).append(el("p", {},
    `${title}: ${searched.length} article${searched.length === 1 ? "" : "s"} searched in ${members.length === 1 ? `${members[0]}'s laws` : `the laws of ${members.length} members`}`
    + (finals ? ` (${finals} final clause${finals === 1 ? "" : "s"} not searched)` : "")
    + `. Cells: ${counts.strong} strong, ${counts.possible} possible, ${counts.none} none found.`));
  shown = { data, rows, members };
  $("map-tools").hidden = false;
  if (members.length === 1) renderGaps(data, members[0]);
  $("map-out").append(matrix(data, rows, members, article));
  announce(`Map of ${searched.length} articles and ${members.length} members`);
}

function instrumentChoices(list, selected) {
  const select = clear($("map-instrument"));
  if (!selected) select.append(el("option", { value: "", text: "Choose an instrument" }));
  for (const i of list) select.append(el("option", { value: i.doc_id, text: i.year ? `${i.title} (${i.year})` : i.title }));
  select.value = selected;
}

function articleChoices(data, selected) {
  const select = clear($("map-article"));
  select.append(el("option", { value: "", text: "All articles" }));
  for (const a of data.articles) {
    select.append(el("option", { value: articlePath(a.article_id), text: `${a.number} ${a.title}` + (a.final_clause ? " (final clause)" : "") }));
  }
  select.value = selected ? articlePath(selected) : "";
  select.dataset.instrument = data.instrument.doc_id;
}

function memberChoices(members, selected) {
  const select = clear($("map-member"));
  select.append(el("option", { value: "", text: "All members" }));
  for (const m of members) select.append(el("option", { value: m, text: m }));
  select.value = members.includes(selected) ? selected : "";
}

function matrix(data, rows, members, article) {
  const inst = data.instrument.doc_id;
  const title = data.instrument.title;
  const table = el("table", { class: "map-matrix", id: "map-table" },
    el("caption", { class: "visually-hidden", text: `How members' laws implement ${title}: one row per article, one column per member` }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Article" }),
      members.map((m) => el("th", { scope: "col", dataset: { member: m } }, members.length === 1 ? m
        : el("a", { href: mapUrl(inst, { article: article ? articlePath(article) : "", member: m }), "data-nav": true,
          title: `Only ${m}, with its gaps`, text: m }))))));
  const body = el("tbody");
  for (const a of rows) {
    const head = el("th", { scope: "row" },
      el("a", { href: readerHref(inst, a.article_id), "data-nav": true, class: "article-link" },
        el("span", { class: "article-number", text: a.number }), " ", a.title),
      a.elements.length ? el("span", { class: "article-elements", text: `${a.elements.length} elements` }) : null);
    if (a.final_clause) {
      body.append(el("tr", { class: "final", dataset: { articleId: a.article_id } }, head,
        el("td", { colspan: members.length, class: "final-clause", text: "Final clause: not searched (it binds the parties, not their laws)" })));
      continue;
    }
    body.append(el("tr", { dataset: { articleId: a.article_id } }, head, members.map((m) => cellNode(a, cellOf(a, m), m))));
  }
  table.append(body);
  if (members.length > 1) table.append(totals(data, rows, members, article));
  // a region that scrolls sideways: reachable and scrollable by keyboard, named for screen readers
  return el("div", { class: "matrix-wrap map-wrap", tabindex: "0", role: "region", "aria-label": `Protocol map of ${title} (scrolls sideways)` }, table);
}

function totals(data, rows, members, article) {
  const inst = data.instrument.doc_id;
  return el("tfoot", {}, el("tr", {}, el("th", { scope: "row", text: "Per member" }), members.map((m) => {
    const n = { strong: 0, possible: 0, none: 0 };
    for (const a of rows) { const c = a.final_clause ? null : cellOf(a, m); if (c) n[confidenceOf(c).key] += 1; }
    return el("td", { dataset: { member: m } },
      el("p", { text: `${n.strong} strong · ${n.possible} possible · ${n.none} none found` }),
      el("a", { href: mapUrl(inst, { article: article ? articlePath(article) : "", member: m }), "data-nav": true, class: "gaps-link" },
        "Gaps", el("span", { class: "visually-hidden", text: ` in ${m}'s laws` })));
  })));
}

function cellNode(article, cell, member) {
  if (!cell) return el("td", { class: "map-cell empty", dataset: { member }, text: "Not searched" });
  const conf = confidenceOf(cell);
  const td = el("td", { class: `map-cell ${conf.key}`, dataset: { member, confidence: cell.confidence } },
    el("p", { class: "cell-head" }, confBadge(conf),
      cell.reviewed ? el("span", { class: "reviewed", title: "A person read this provision and confirmed it" },
        el("span", { "aria-hidden": "true", text: "✓ " }), "Reviewed") : null));
  const first = cell.provisions[0];
  if (first) {
    const lang = langAttrs(first.language);
    const link = el("a", { href: readerHref(first.doc_id, first.section_id), "data-nav": true, class: "cell-title",
      title: first.citation.text, dataset: { sectionId: first.section_id }, text: shortCitation(first), ...lang });
    // a cell with nothing found still names its closest provision, greyed: it is no implementation
    td.append(conf.key === "none"
      ? el("p", { class: "closest" }, el("span", { class: "label", text: "closest: " }), link)
      : el("p", { class: "cell-cite" }, link));
    td.append(el("p", { class: "cell-doc", title: first.citation.title, text: first.citation.title, ...lang }));
    td.append(details(article, cell, conf, member));
  } else {
    td.append(el("p", { class: "hint", text: "No provision came close." }));
  }
  return td;
}

function details(article, cell, conf, member) {
  const n = cell.provisions.length;
  const covered = new Set(cell.provisions.flatMap((p) => p.elements.map((e) => e.element)));
  const total = article.elements.length;
  return el("details", { class: "cell-more" },
    el("summary", {}, `${n} provision${n === 1 ? "" : "s"}` + (total ? `, elements ${covered.size} of ${total}` : ""),
      el("span", { class: "visually-hidden", text: ` (${member}, ${article.number})` })),
    el("ol", { class: "provisions" }, cell.provisions.map((p) => provisionItem(article, p, conf.key === "none"))));
}

function provisionItem(article, p, closest) {
  const lang = langAttrs(p.language);
  const checklist = article.elements.length ? article.elements : p.elements;
  const facts = [closest ? "Closest, below the threshold: not an implementation" : null, `Score ${Number(p.score).toFixed(2)}`,
    languageLabel(p.language),
    p.reviewed ? (p.review_note && p.review_note !== "confirmed" ? `Reviewed: ${p.review_note}` : "Reviewed") : null];
  return el("li", { class: closest ? "provision closest" : "provision", dataset: { sectionId: p.section_id } },
    el("a", { href: readerHref(p.doc_id, p.section_id), "data-nav": true, class: "prov-title", text: shortCitation(p), ...lang }),
    el("p", { class: "doc-title", text: p.citation.title, ...lang }),
    el("p", { class: "meta", text: facts.filter(Boolean).join(" · ") }),
    p.excerpt ? el("blockquote", { class: "excerpt", text: p.excerpt.length >= 300 ? `${p.excerpt}…` : p.excerpt, ...lang }) : null,
    checklist.length ? el("ul", { class: "elements", "aria-label": `Elements of ${article.number}` }, checklist.map((e) => {
      const found = p.elements.find((x) => x.element === e.element);
      return found
        ? el("li", { class: "covered", dataset: { element: e.element } },
          el("span", { class: "el-mark", "aria-hidden": "true", text: "✓ " }), el("span", { class: "visually-hidden", text: "Covered: " }),
          e.label, ": ", el("q", { class: "evidence", text: found.evidence, ...lang }))
        : el("li", { class: "missing", dataset: { element: e.element } },
          el("span", { class: "el-mark", "aria-hidden": "true", text: "– " }), el("span", { class: "visually-hidden", text: "Not covered: " }),
          e.label, el("span", { class: "hint", text: " (not found in this provision)" }));
    })) : null);
}

/** One member's gaps: the articles where its cell is "none found" (and, after them, those with only a possible
 * match), over the whole instrument whatever article the matrix shows. */
function renderGaps(data, member) {
  const inst = data.instrument.doc_id;
  const searched = data.articles.filter((a) => !a.final_clause);
  const none = searched.filter((a) => { const c = cellOf(a, member); return c && c.confidence === "none found"; });
  const possible = searched.filter((a) => { const c = cellOf(a, member); return c && c.confidence === "possible"; });
  $("map-gaps-title").textContent = `Gaps in ${member}'s laws`;
  const body = clear($("map-gaps-body"));
  const item = (a) => {
    const c = cellOf(a, member);
    const p = c.provisions[0];
    return el("li", { dataset: { articleId: a.article_id } },
      el("a", { href: readerHref(inst, a.article_id), "data-nav": true, text: `${a.number} ${a.title}` }),
      p ? el("span", { class: "closest" }, c.confidence === "none found" ? " (closest: " : " (best match: ",
        el("a", { href: readerHref(p.doc_id, p.section_id), "data-nav": true, text: shortCitation(p), ...langAttrs(p.language) }), ")") : null);
  };
  if (none.length) {
    body.append(el("p", { text: `No provision found for ${none.length} of the ${searched.length} searched articles:` }),
      el("ol", { id: "map-gap-list", class: "gap-list" }, none.map(item)));
  } else {
    body.append(el("p", { id: "map-no-gaps", text: `No gaps: a provision was found for each of the ${searched.length} searched articles (final clauses are not searched).` }));
  }
  if (possible.length) {
    body.append(el("h3", { text: `Only a possible match (${possible.length})` }),
      el("ol", { id: "map-possible-list", class: "gap-list" }, possible.map(item)));
  }
  $("map-gaps").hidden = false;
}

// ---------------------------------------------------------------------------------------------------------
// exporting

const CSV_HEAD = ["instrument", "article_id", "article_number", "article_title", "member", "confidence", "score", "reviewed",
  "section_ids", "citations", "provision_scores", "elements", "links", "note"];

/** One row per article and member of the matrix as shown; a cell's provisions in the order shown, joined by " | ". */
function mapCsv({ data, rows, members }) {
  const link = (p) => new URL(readerHref(p.doc_id, p.section_id), window.location.origin).href;
  const out = [CSV_HEAD];
  for (const a of rows) {
    for (const m of members) {
      const base = [data.instrument.doc_id, a.article_id, a.number, a.title, m];
      const c = cellOf(a, m);
      if (a.final_clause || !c) {
        out.push([...base, a.final_clause ? "final clause" : "not searched", "", "", "", "", "", "", "", a.final_clause ? "not searched" : ""]);
        continue;
      }
      const ps = c.provisions;
      out.push([...base, c.confidence, c.score, c.reviewed ? "yes" : "no",
        ps.map((p) => p.section_id).join(" | "),
        ps.map((p) => p.citation.text).join(" | "),
        ps.map((p) => p.score).join(" | "),
        ps.map((p) => p.elements.map((e) => `${e.element}: ${e.evidence}`).join("; ")).join(" | "),
        ps.map(link).join(" | "),
        c.confidence === "none found" ? "closest provisions, not an implementation" : ""]);
    }
  }
  return csvText(out);
}

function exportCsv() {
  if (!shown) return;
  const stamp = new Date().toISOString().slice(0, 10);
  const who = shown.members.length === 1 ? `-${shown.members[0].replace(/[^a-z0-9]+/gi, "-")}` : "";
  // the byte order mark lets spreadsheets read the members' scripts (Thai, Bengali, Chinese) as UTF-8
  download(`bali-kb-map-${shown.data.instrument.doc_id}${who}-${stamp}.csv`, "text/csv;charset=utf-8", `\ufeff${mapCsv(shown)}`);
  announce("Map exported as CSV");
}

// ---------------------------------------------------------------------------------------------------------
// wiring

/** The form's events; ``go`` navigates (pushes the URL and renders). */
export function installMap(go) {
  const url = () => {
    const inst = $("map-instrument").value;
    // an article filter belongs to the instrument it was chosen in
    const sameInstrument = $("map-article").dataset.instrument === inst;
    return mapUrl(inst, { article: sameInstrument ? $("map-article").value : "", member: $("map-member").value });
  };
  $("map-form").addEventListener("submit", (e) => {
    e.preventDefault();
    if ($("map-instrument").value) go(url());
    else $("map-instrument").focus();
  });
  // narrowing to an article or a member is instant (the map is in memory); a new instrument waits for "Show map",
  // as it may need computing
  for (const id of ["map-article", "map-member"]) {
    $(id).addEventListener("change", () => {
      if ($("map-article").dataset.instrument === $("map-instrument").value) go(url());
    });
  }
  $("map-export-csv").addEventListener("click", exportCsv);
}
