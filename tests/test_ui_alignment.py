"""The Protocol map view (GET /alignment in the web UI) in headless Chromium against a real uvicorn server over the
real corpus and model: the matrix and its cells, opening a provision in the reader, the member and article
filters, a member's gap list, the CSV export, and an unknown instrument in the URL."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import expect

import test_ui_browser

# The browser tests' fixtures, shared: a real uvicorn server over the indexed corpus (base_url), Chromium (browser),
# and a page that fails its test on any script error (page).
base_url = test_ui_browser.base_url
browser = test_ui_browser.browser
page = test_ui_browser.page

pytestmark = [pytest.mark.browser, pytest.mark.integration]

INSTRUMENT = "un-trafficking-protocol-2000"
ART3 = f"{INSTRUMENT}:ch-i.art-3"
SG_S3 = "sg-phta-2014:part-2.s-3"  # Prevention of Human Trafficking Act 2014 (Singapore), section 3
MAP_WAIT = 300_000  # ms: the first request for an instrument computes its map (a wait limit, not an assertion)
CSV_HEAD = ["instrument", "article_id", "article_number", "article_title", "member", "confidence", "score", "reviewed",
            "section_ids", "citations", "provision_scores", "elements", "links", "note"]
LABELS = {"strong": "Strong", "possible": "Possible", "none found": "None found"}


@pytest.fixture(scope="module")
def api_map(base_url) -> dict:
    """The map as the API serves it: what the page must show."""
    r = httpx.get(f"{base_url}/alignment", params={"instrument": INSTRUMENT}, timeout=MAP_WAIT / 1000)
    assert r.status_code == 200, r.text
    return r.json()


def _cell(data: dict, article_id: str, member: str) -> dict:
    article = next(a for a in data["articles"] if a["article_id"] == article_id)
    return next(c for c in article["cells"] if c["member"] == member)


def _open_map(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#map-table", timeout=MAP_WAIT)


def test_the_map_shows_each_article_by_member_and_opens_the_reader_at_a_provision(page, base_url, api_map, artifacts_dir):
    # reached from the navigation; while the map is computed the page says so (the answer is held back here, so
    # that the message is seen whether or not the server already has the map)
    held = []
    page.route(re.compile(r"/alignment\?"), lambda route: held.append(route))
    page.goto(base_url + "/")
    page.get_by_role("link", name="Protocol map").click()
    expect(page.locator("#map-summary .loading")).to_contain_text("Building the map")
    assert "view=map" in page.url
    expect(page.locator(".tabs a[data-view='map']")).to_have_attribute("aria-current", "page")
    expect(page.locator("#map-instrument")).to_have_value(INSTRUMENT)  # the default instrument
    assert held, "the page asked for the map"
    for route in held:
        route.continue_()
    page.unroute(re.compile(r"/alignment\?"))
    page.wait_for_selector("#map-table", timeout=MAP_WAIT)

    # table semantics: members as column headers, articles as row headers, one row per article
    members = page.locator("#map-table thead th[data-member]").evaluate_all("ths => ths.map((th) => th.dataset.member)")
    assert members == api_map["members"]
    assert page.locator("#map-table thead th[scope='col']").count() == len(members) + 1
    rows = page.locator("#map-table tbody tr")
    assert rows.evaluate_all("trs => trs.map((tr) => tr.dataset.articleId)") == [a["article_id"] for a in api_map["articles"]]
    assert page.locator("#map-table tbody th[scope='row']").count() == len(api_map["articles"])
    finals = [a["article_id"] for a in api_map["articles"] if a["final_clause"]]
    assert finals  # the Protocol's final clauses: shown greyed, not searched
    assert page.locator("#map-table tbody tr.final").evaluate_all("trs => trs.map((tr) => tr.dataset.articleId)") == finals
    for text in page.locator("#map-table tr.final td").all_inner_texts():
        assert text.startswith("Final clause")

    # Article 3 x Singapore: the Prevention of Human Trafficking Act 2014, section 3
    row = page.locator(f"#map-table tbody tr[data-article-id='{ART3}']")
    assert row.locator("th[scope='row'] a").get_attribute("href") == f"/read/{INSTRUMENT}#{ART3.replace(':', '%3A')}"
    expected = _cell(api_map, ART3, "Singapore")
    assert expected["provisions"][0]["section_id"] == SG_S3
    cell = row.locator("td[data-member='Singapore']")
    assert cell.get_attribute("data-confidence") == expected["confidence"]
    assert LABELS[expected["confidence"]] in cell.locator(".conf").inner_text()  # in text, not colour alone
    link = cell.locator("a.cell-title")
    assert link.get_attribute("data-section-id") == SG_S3
    assert link.inner_text().strip().startswith("Section 3")
    assert link.get_attribute("lang") == "en"

    # the cell's details, opened from the keyboard: every provision with its score, the elements with their evidence
    summary = cell.locator("details.cell-more > summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(cell.locator("details.cell-more")).to_have_attribute("open", "")
    items = cell.locator("ol.provisions > li")
    assert items.evaluate_all("lis => lis.map((li) => li.dataset.sectionId)") == [p["section_id"] for p in expected["provisions"]]
    first = expected["provisions"][0]
    shown_score = re.search(r"Score (\d+\.\d\d)", items.first.locator(".meta").inner_text())
    assert shown_score and abs(float(shown_score.group(1)) - first["score"]) <= 0.005
    evidence = items.first.locator("li.covered q.evidence")
    assert evidence.all_inner_texts() == [e["evidence"] for e in first["elements"]]
    assert set(evidence.evaluate_all("qs => qs.map((q) => q.lang)")) == {"en"}

    # evidence in a member's own language carries its lang: Thailand's cell for Article 3
    thai = _cell(api_map, ART3, "Thailand")["provisions"][0]
    assert thai["language"] == "th"
    thai_cell = row.locator("td[data-member='Thailand']")
    assert thai_cell.locator("a.cell-title").get_attribute("lang") == "th"
    thai_cell.locator("details.cell-more > summary").click()
    if thai["elements"]:
        q = thai_cell.locator("ol.provisions > li").first.locator("q.evidence").first
        assert q.get_attribute("lang") == "th" and q.inner_text() == thai["elements"][0]["evidence"]

    page.screenshot(path=str(artifacts_dir / "ui-map-1280.png"))
    cell.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "ui-map-cell-1280.png"))

    # narrow: the page does not scroll sideways; the matrix does, inside its own keyboard-reachable region
    page.set_viewport_size({"width": 375, "height": 800})
    wrap = page.locator("#map-out .map-wrap")
    assert wrap.get_attribute("tabindex") == "0" and wrap.get_attribute("role") == "region"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")
    page.screenshot(path=str(artifacts_dir / "ui-map-375.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    # the cell's provision opens the reader at that section
    link.click()
    page.wait_for_selector(".doc-section.current")
    assert page.locator(".doc-section.current").get_attribute("id") == SG_S3
    assert "/read/sg-phta-2014" in page.url
    # and back to the map (from the server's memory now)
    page.go_back()
    page.wait_for_selector(f"#map-table tr[data-article-id='{ART3}'] td[data-member='Singapore']", timeout=MAP_WAIT)


def _expect_gaps(page, data: dict, member: str) -> None:
    """The gap list shows the articles where the member's cell is "none found", then those with only a possible one."""
    searched = [a for a in data["articles"] if not a["final_clause"]]
    conf = {a["article_id"]: next(c for c in a["cells"] if c["member"] == member)["confidence"] for a in searched}
    expect(page.locator("#map-gaps")).to_be_visible()
    expect(page.locator("#map-gaps-title")).to_have_text(f"Gaps in {member}'s laws")
    none = [a for a, c in conf.items() if c == "none found"]
    possible = [a for a, c in conf.items() if c == "possible"]
    if none:
        assert page.locator("#map-gap-list > li").evaluate_all("lis => lis.map((li) => li.dataset.articleId)") == none
        # in the matrix, such a cell says so, and names its closest provision greyed, never as an implementation
        for article_id in none:
            cell = page.locator(f"#map-table tr[data-article-id='{article_id}'] td[data-member='{member}']")
            assert cell.get_attribute("data-confidence") == "none found"
            assert "None found" in cell.locator(".conf").inner_text()
            assert cell.locator(".cell-cite").count() == 0
            if cell.locator("details.cell-more").count():
                expect(cell.locator("p.closest")).to_contain_text("closest:")
                assert cell.locator("ol.provisions > li.provision.closest").count() == cell.locator("ol.provisions > li").count()
                assert "not an implementation" in cell.locator("ol.provisions > li .meta").first.text_content()
    else:
        expect(page.locator("#map-no-gaps")).to_contain_text("No gaps")
        assert page.locator("#map-gap-list").count() == 0
    if possible:
        assert page.locator("#map-possible-list > li").evaluate_all("lis => lis.map((li) => li.dataset.articleId)") == possible
    else:
        assert page.locator("#map-possible-list").count() == 0


def test_member_and_article_filters_and_a_members_gap_list(page, base_url, api_map, artifacts_dir):
    _open_map(page, f"{base_url}/?view=map&instrument={INSTRUMENT}")
    assert page.locator("#map-gaps").is_hidden()  # a gap list is for one member

    # the member filter: one column, in the URL, with that member's gap list
    page.select_option("#map-member", "Singapore")
    page.wait_for_url("**member=Singapore**")
    page.wait_for_selector("#map-table thead th[data-member='Singapore']")
    assert page.locator("#map-table thead th[data-member]").count() == 1
    searched = [a for a in api_map["articles"] if not a["final_clause"]]
    assert page.locator("#map-table td.map-cell").count() == len(searched)
    assert set(page.locator("#map-table td.map-cell").evaluate_all("tds => tds.map((td) => td.dataset.member)")) == {"Singapore"}
    _expect_gaps(page, api_map, "Singapore")

    # the member with the most cells short of "strong" (its gaps first, then its possible matches), from the
    # footer's per-member "Gaps" link
    def shortfall(m: str) -> tuple[int, int]:
        confs = [_cell(api_map, a["article_id"], m)["confidence"] for a in searched]
        return confs.count("none found"), confs.count("possible")

    member = max(api_map["members"], key=shortfall)
    page.select_option("#map-member", "")
    page.wait_for_selector("#map-table tfoot")
    page.locator(f"#map-table tfoot td[data-member='{member}'] a.gaps-link").click()
    page.wait_for_selector(f"#map-table thead th[data-member='{member}']")
    assert parse_qs(urlparse(page.url).query)["member"] == [member]
    _expect_gaps(page, api_map, member)
    page.screenshot(path=str(artifacts_dir / "ui-map-member-1280.png"), full_page=True)

    # the article filter: one row; the URL keeps both filters, and a reload restores them
    page.select_option("#map-article", "ch-i.art-3")
    page.wait_for_url("**article=ch-i.art-3**")
    expect(page.locator("#map-table tbody tr")).to_have_count(1)
    assert page.locator("#map-table tbody tr").get_attribute("data-article-id") == ART3
    page.reload()
    page.wait_for_selector("#map-table", timeout=MAP_WAIT)
    expect(page.locator("#map-article")).to_have_value("ch-i.art-3")
    expect(page.locator("#map-member")).to_have_value(member)
    assert page.locator("#map-table td.map-cell").count() == 1


def test_csv_export_has_a_row_per_article_and_member(page, base_url, api_map):
    _open_map(page, f"{base_url}/?view=map&instrument={INSTRUMENT}")
    with page.expect_download() as info:
        page.click("#map-export-csv")
    download = info.value
    assert download.suggested_filename.startswith(f"bali-kb-map-{INSTRUMENT}") and download.suggested_filename.endswith(".csv")
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8, marked for spreadsheets
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == CSV_HEAD
    body = [dict(zip(CSV_HEAD, r)) for r in rows[1:]]
    assert all(len(r) == len(CSV_HEAD) for r in rows)
    assert len(body) == len(api_map["articles"]) * len(api_map["members"])
    assert {(r["article_id"], r["member"]) for r in body} == {
        (a["article_id"], m) for a in api_map["articles"] for m in api_map["members"]}
    sg = next(r for r in body if r["article_id"] == ART3 and r["member"] == "Singapore")
    expected = _cell(api_map, ART3, "Singapore")
    assert sg["confidence"] == expected["confidence"]
    assert sg["section_ids"].split(" | ") == [p["section_id"] for p in expected["provisions"]]
    assert sg["citations"].split(" | ")[0] == expected["provisions"][0]["citation"]["text"]
    assert sg["article_title"] == "Use of terms" and sg["article_number"] == "Article 3"
    assert "act: recruits" in sg["elements"].split(" | ")[0]
    assert sg["links"].split(" | ")[0].endswith("/read/sg-phta-2014#sg-phta-2014%3Apart-2.s-3")
    finals = {a["article_id"] for a in api_map["articles"] if a["final_clause"]}
    assert {r["confidence"] for r in body if r["article_id"] in finals} == {"final clause"}
    for r in body:  # a "none found" cell's provisions are its closest, and the row says they implement nothing
        assert (r["note"] == "closest provisions, not an implementation") == (r["confidence"] == "none found")
    assert any(re.search("[\u0e01-\u0e5b]", r["citations"]) for r in body)  # Thai survives the round trip

    # the export follows the filters: one member, one row per article
    page.select_option("#map-member", "Singapore")
    page.wait_for_selector("#map-table thead th[data-member='Singapore']")
    with page.expect_download() as info:
        page.click("#map-export-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig"), newline="")))
    assert rows[0] == CSV_HEAD and len(rows) - 1 == len(api_map["articles"])
    assert {r[4] for r in rows[1:]} == {"Singapore"}


@pytest.mark.parametrize("query, says", [
    ("instrument=no-such-protocol-1999", "no instrument 'no-such-protocol-1999' in the index"),
    ("instrument=sg-phta-2014", "not an instrument"),  # a law, not a protocol or convention
    (f"instrument={INSTRUMENT}&member=Atlantis", "No laws of “Atlantis”"),
    (f"instrument={INSTRUMENT}&article=ch-ix.art-99", "No article “ch-ix.art-99”"),
], ids=["unknown-instrument", "a-law", "unknown-member", "unknown-article"])
def test_an_unknown_instrument_member_or_article_in_the_url_is_a_clear_error(page, base_url, api_map, query, says):
    page.goto(f"{base_url}/?view=map&{query}")
    error = page.locator("#map-summary .error[role='alert']")
    expect(error).to_contain_text(says, timeout=MAP_WAIT)
    assert page.locator("#map-table").count() == 0
    assert page.locator("#map-tools").is_hidden()
