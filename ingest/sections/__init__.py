"""Split a loaded document into citable sections along its own structure.

The splitter reads the document line by line and recognises, without knowing which file it reads:

* Markdown headings (``#`` .. ``########``, also ``##Title`` without a space), bold and ALL-CAPS headings;
* legal containers -- Part/PART/BAHAGIAN, Chapter/BAB, Division, Title, Bagian -- and legal units --
  Article/Pasal, Section/SEC./Seksyen/§ and numbered clauses ``12. (1) ...`` / ``**5a.**`` -- with their
  titles (the line after a container, a bold line before a clause, or a PDF marginal note);
* zones that restart numbering: an arrangement of clauses / table of contents (one ``contents`` section,
  so clause 12 of the list never takes the id of the real clause 12), an explanatory statement or
  *Penjelasan* (kind ``explanatory``) and schedules;
* sections quoted inside amending provisions (they stay in the amending section: their numbers break the
  sequence of the Act's own numbering or they open with a quotation mark);
* tab-separated tables (one ``row`` section per action item, the other columns in ``attributes`` --
  ``priority_area``, ``lead``, ``status``, and ``theme`` from group rows -- and repeated at the end of the
  row's text as ``Priority area: ...; Lead: ...`` so that they are searchable);
* plain prose, grouped into paragraphs of a readable size.

Paths are built from the document's own designations (``part-iii.s-12``, ``bab-i.pasal-1``,
``penjelasan.ii.pasal-5``, ``actions.row-7``, ``law-enforcement``), so unchanged text always gives the same
ids. A counter suffix (``-2``) is used only to separate two units with the same designation.

Modules, in the order the text flows through them: ``lines`` (the document's lines, furniture dropped),
``parser`` (one pass that builds the section tree, asking each structure family in turn: ``headings``,
``designations`` -- the table of legal designations and numerals --, ``front_matter`` and ``tables``),
``clauses`` (long units split at their subdivisions) and ``build`` (ids, heading paths, text, pages).

Laws in Thai and Chinese -- scripts without capitals or spaces between words -- go another way, chosen by
``scripts.dominant_script``: ``statutes`` splits them along ``มาตรา ๖`` / ``หมวด ๑`` and ``第二百四十条`` /
``第一编`` / ``第四章`` / ``第一节`` (the ``thai`` and ``han`` rows of the designations table, numbers read by
``numerals``), with ASCII ids (``ch-1.s-6``, ``pt-2.ch-4.art-240``, ``art-120-1`` for 第一百二十条之一,
``s-5-bis`` for มาตรา ๕ ทวิ) and the designation as printed as the section's number; wrapped lines are joined
without a space between Thai letters or Chinese characters, and a Thai Act's back matter (notes, schedule,
amending Acts, Gazette footnotes) stays apart from its last section.
"""

from __future__ import annotations

from ingest.sections.build import PROSE_GROUP_WORDS, split_sections
from ingest.sections.clauses import LONG_UNIT_WORDS

# Bump whenever the splitter's output (ids, titles, kinds, heading paths, text, pages, attributes) changes for
# the same input: the ingest fingerprint is built from it, so a bump re-splits and re-embeds every document.
# tests/test_sections.py records a digest of the output for each version.
# 2: Thai and Chinese laws split along their designations (statutes.py); SECTION I above Article 1 is a container
# 3: Law 6458's article headings, which its provision JSON glues to the end of the article before, are moved to
#    their articles (provision_sections.split_glued_heading)
# 4: a web page's script scraped into a provision's content is cut (Law 6458's Madde 126)
SPLITTER_VERSION = 4

__all__ = ["LONG_UNIT_WORDS", "PROSE_GROUP_WORDS", "SPLITTER_VERSION", "split_sections"]
