// The web UI's shared parts: DOM helpers, the API client, copying and exporting, the view state.
// Rule: text from the index is only ever put on the page as text nodes (textContent), never as HTML.

export const $ = (id) => document.getElementById(id);
// Labels come from the API (GET /vocabularies), the one home of the vocabularies; ids show until they arrive.
export const state = { search: null, precedents: null, globalFacets: null, members: [], vocab: null, focusResults: false };

// ---------------------------------------------------------------------------------------------------------
// small DOM helpers

export function el(tag, attrs = {}, ...children) {
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

export function clear(node) {
  node.replaceChildren();
  return node;
}

export function announce(message) {
  const s = $("status");
  s.textContent = "";
  window.setTimeout(() => { s.textContent = message; }, 30);
}

/** Text with [start, end) spans wrapped in <mark>, built from text nodes only. */
export function highlighted(text, spans) {
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

export function readerHref(docId, sectionId) {
  return `/read/${encodeURIComponent(docId)}` + (sectionId ? `#${encodeURIComponent(sectionId)}` : "");
}

export function pages(c) {
  if (c.page_start === null || c.page_start === undefined) return "";
  return c.page_end && c.page_end !== c.page_start ? `pp. ${c.page_start}-${c.page_end}` : `p. ${c.page_start}`;
}

export function areaLabel(id) {
  return (state.vocab && state.vocab.priority_areas[id]) || id;
}

export function docTypeLabel(id) {
  return (state.vocab && state.vocab.doc_types[id]) || id;
}

/** A language by its code, with its names and lang tag from GET /vocabularies; an unknown code stands for itself. */
export function language(code) {
  const known = state.vocab && (state.vocab.languages || []).find((l) => l.code === code);
  return known || { code: code || "und", name: code || "Undetermined", native_name: code || "Undetermined", tag: code || "und", direction: "ltr" };
}

export function languageLabel(code) {
  return language(code).name;
}

// The three values of the status contract (documents, sections, results, the facet and the filter), labelled by
// GET /vocabularies (these stand in until it answers); a result without one (an index built before status
// existed) counts as unknown.
const STATUS_LABELS = { in_force: "In force", repealed: "Repealed", unknown: "Status unknown" };

export function statusOf(r) {
  const s = r.status || (r.document && r.document.status);
  return s in STATUS_LABELS ? s : "unknown";
}

export function statusLabel(status) {
  const labels = (state.vocab && state.vocab.statuses) || STATUS_LABELS;
  return labels[status] || labels.unknown || STATUS_LABELS.unknown;
}

/** Attributes for an element holding text in a language: its lang tag and direction, for fonts, line breaking
 * and screen readers. */
export function langAttrs(code) {
  const l = language(code);
  return { lang: l.tag, dir: l.direction === "rtl" ? "rtl" : null };
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

export async function api(path, options = {}) {
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

export function showError(container, err) {
  clear(container).append(el("p", { class: "error", role: "alert", text: err.message || String(err) }));
}

/** Show a view's results heading; after the user asked for the results, bring it into view and focus it, so
 * keyboard and screen-reader users land on what they asked for (the results render below the form). */
export function revealResults(heading, text) {
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

export function citationString(r) {
  const url = new URL(readerHref(r.doc_id, r.section_id), window.location.origin).href;
  return `${r.citation.text}. ${url}`;
}

export function copyButton(getText, label = "Copy citation") {
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

export function download(filename, type, content) {
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

/** Rows (arrays of values) as CSV text: every cell quoted, CRLF line ends. */
export function csvText(rows) {
  return rows.map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

function resultsCsv(results) {
  const head = ["rank", "score", "citation", "doc_id", "section_id", "pages", "members", "priority_areas", "link", "text"];
  const rows = results.map((r) => [
    r.rank, r.score, r.citation.text, r.doc_id, r.section_id, pages(r.citation), r.members.join("; "),
    r.priority_areas.map((a) => `${a.label} (${a.basis})`).join("; "),
    new URL(readerHref(r.doc_id, r.section_id), window.location.origin).href, r.text,
  ]);
  return csvText([head, ...rows]);
}

export function exportButtons(kind, getData, name) {
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
