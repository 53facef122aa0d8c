"""The elements of the Protocols' articles (ingest/vocabularies/protocol_elements.csv) and which of them a
provision covers, read in the provision's own language through the term bank."""

from __future__ import annotations

import pytest

from search_api.elements import ElementsError, covered, elements_of, load_elements, read_elements

HEADER = "instrument,article,element,label,concepts\n"


def test_every_article_with_elements_is_an_article_of_its_bundled_instrument(searcher):
    for (instrument, path), elements in load_elements().items():
        _, sections = searcher.document(instrument)
        assert path in {s.path for s in sections}, (instrument, path)
        assert elements and all(e.concepts for e in elements)
    assert [e.element for e in elements_of("un-trafficking-protocol-2000:ch-i.art-3")] == ["act", "means", "purpose", "child"]
    assert elements_of("un-trafficking-protocol-2000:ch-iv.art-18") == []  # an article without a checklist


@pytest.mark.parametrize("row, message", [
    ("un-tip,art-3,act,The act,recruitment\nun-tip,art-3,act,Again,transfer", "element 'act' is given twice"),
    ("un-tip,art-3,act,The act,no_such_concept", "no_such_concept are not in the term bank"),
    ("un-tip,art-3,act,,recruitment", "label is empty"),
    ("un-tip,art-3,act,The act,", "concepts is empty"),
    ("UN TIP,art-3,act,The act,recruitment", "instrument 'UN TIP' is not a lower-case id"),
])
def test_a_malformed_elements_file_is_refused_naming_its_line(row, message):
    with pytest.raises(ElementsError, match=message) as err:
        read_elements(HEADER + row + "\n", "elements.csv")
    assert "elements.csv:" in str(err.value)
    with pytest.raises(ElementsError, match="header"):
        read_elements("article,element\nart-3,act\n", "elements.csv")


@pytest.mark.parametrize("section_id, evidence", [
    ("sg-phta-2014:part-2.s-3", {"act": "recruits", "means": "threat", "purpose": "exploitation", "child": "child"}),
    ("th-atipa-2008:ch-1.s-6", {"act": "เป็นธุระจัดหา", "means": "ข่มขู่", "purpose": "แสวงหาประโยชน์โดยมิชอบ", "child": "เด็ก"}),
    ("cn-criminal-law-2023:pt-2.ch-4.art-240", {"act": "出卖", "means": "诱骗", "purpose": "卖淫", "child": "拐卖妇女、儿童"}),
    ("my-atip-bill-2007-ms:part-i.s-2", {"act": "perekrutan", "means": "paksaan", "purpose": "eksploitasi", "child": "kanak-kanak"}),
    # Bengali \u09df (U+09DF) is decomposed by NFC, so the matched text is longer than the source: mapped back
    ("bd-pshta-2012:ch-1.s-3", {"act": "বিক্র\u09df", "means": "ভ\u09dfভীতি প্রদর্শন", "purpose": "যৌন শোষণ", "child": "শিশু পাচার"}),
])
def test_a_definition_of_trafficking_covers_act_means_purpose_and_child_in_its_own_words(searcher, section_id, evidence):
    """Article 3's elements found in four members' definitions, each quoted as the provision writes it (Thai,
    Chinese and Malay as themselves), each quote at its place in the provision's text."""
    doc_id = section_id.split(":")[0]
    meta, sections = searcher.document(doc_id)
    text = next(s.text for s in sections if s.section_id == section_id)
    found = covered("un-trafficking-protocol-2000:ch-i.art-3", text, meta.language)
    assert {c.element: c.evidence for c in found} == evidence
    assert all(text[c.start : c.end] == c.evidence for c in found)


def test_a_provision_covers_only_what_it_names(searcher):
    """Pakistan's s.13 (compensation) covers Article 6's compensation and nothing else of its checklist."""
    meta, sections = searcher.document("pk-pta-2018")
    text = next(s.text for s in sections if s.section_id == "pk-pta-2018:s-13")
    assert [c.element for c in covered("un-trafficking-protocol-2000:ch-ii.art-6", text, meta.language)] == ["compensation"]
