"""Ingest end to end on real documents with the real model: reports, incremental updates, bad input, crashes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfWriter

from ingest.cli import main as kb_main
from ingest.errors import IndexLockedError
from ingest.pipeline import ingest
from ingest.settings import PROJECT_ROOT, Settings
from ingest.stores import IndexDir, open_current

pytestmark = pytest.mark.integration

SLICE_IDS = {"bp-strategy-2018", "un-trafficking-protocol-2000", "us-8-usc-1324", "lk-act-30-2005"}


def _section_ids(settings: Settings) -> dict[str, list[str]]:
    gen = open_current(settings.index_dir)
    return {d: [s.section_id for s in gen.sections_of(d)] for d in gen.documents()}


@pytest.fixture()
def slice_index(tmp_path, corpus_slice, embedder) -> tuple[Settings, Path]:
    settings = Settings(index_dir=tmp_path / "index")
    report = ingest([corpus_slice], settings, embedder=embedder)
    assert report.ok, report.failed
    return settings, corpus_slice


def test_first_ingest_reports_what_it_indexed(slice_index):
    settings, _ = slice_index
    gen = open_current(settings.index_dir)
    assert set(gen.documents()) == SLICE_IDS
    counts = gen.manifest["counts"]
    assert counts["documents"] == 4 and counts["sections"] >= 40 and counts["passages"] >= counts["sections"]
    # the PDF keeps page numbers on every section
    for s in gen.sections_of("lk-act-30-2005"):
        assert s.page_start is not None and 1 <= s.page_start <= (s.page_end or s.page_start) <= 10


def test_reingest_of_unchanged_corpus_skips_everything_and_keeps_ids(slice_index, embedder):
    settings, corpus = slice_index
    before_ids = _section_ids(settings)
    before_gen = IndexDir(settings.index_dir).current_name()
    report = ingest([corpus], settings, embedder=embedder)
    assert report.ok
    assert sorted(report.unchanged) == sorted(SLICE_IDS)
    assert report.added == report.updated == report.deleted == []
    assert report.passages_embedded == 0
    assert report.generation == before_gen  # nothing changed: no new generation at all
    assert _section_ids(settings) == before_ids


def test_changed_document_is_replaced_and_removed_one_deleted(slice_index, embedder):
    settings, corpus = slice_index
    law = corpus / "laws" / "us_8usc_1324_bringing_in_harboring_aliens.md"
    law.write_text(law.read_text("utf-8") + "\n\n##### (f) Quokka clause\n\nAny quokka smuggled across the border shall be returned.\n", "utf-8")
    (corpus / "bali_process" / "bp_2018_strategy_for_cooperation_update.txt").unlink()
    report = ingest([corpus], settings, embedder=embedder)
    assert report.ok
    assert report.updated == ["us-8-usc-1324"]
    assert report.deleted == ["bp-strategy-2018"]
    assert sorted(report.unchanged) == ["lk-act-30-2005", "un-trafficking-protocol-2000"]
    gen = open_current(settings.index_dir)
    assert "bp-strategy-2018" not in gen.documents()
    texts = [s.text for s in gen.sections_of("us-8-usc-1324")]
    assert any("quokka smuggled" in t for t in texts)


def test_ingesting_one_file_adds_it_without_touching_the_rest(slice_index, embedder, tmp_path):
    settings, _ = slice_index
    extra = tmp_path / "elsewhere" / "ph_ra11862_expanded_anti_trafficking_2022.md"
    extra.parent.mkdir()
    shutil.copy(PROJECT_ROOT / "corpus/laws/ph_ra11862_expanded_anti_trafficking_2022.md", extra)
    report = ingest([extra], settings, embedder=embedder)
    assert report.ok and report.deleted == []
    (added,) = report.added
    assert set(open_current(settings.index_dir).documents()) == SLICE_IDS | {added}
    # no manifest covers it: its metadata was inferred, and the report says which fields
    assert added in report.inferred and "doc_type" in report.inferred[added]


def _bad_files(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    files = {
        "empty": directory / "empty.pdf",
        "truncated": directory / "truncated.pdf",
        "encrypted": directory / "encrypted.pdf",
        "junk": directory / "junk.md",
        "unsupported": directory / "notes.docx",
        "malformed_json": directory / "law_broken.json",
        "json_without_content": directory / "law_no_content.json",
        "json_without_provisions": directory / "law_empty.json",
    }
    files["empty"].write_bytes(b"")
    real = (PROJECT_ROOT / "corpus/laws/lk_act_16_2006_penal_code_amendment_trafficking.pdf").read_bytes()
    files["truncated"].write_bytes(real[: len(real) // 3])
    writer = PdfWriter(clone_from=str(PROJECT_ROOT / "corpus/laws/lk_act_16_2006_penal_code_amendment_trafficking.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner")
    with open(files["encrypted"], "wb") as fh:
        writer.write(fh)
    files["junk"].write_bytes(os.urandom(2048) + b"\x00\x00")
    files["unsupported"].write_bytes(b"PK\x03\x04 not really a docx")
    files["malformed_json"].write_text('{"title": "Act",\n "provisions": [}', "utf-8")
    files["json_without_content"].write_text(json.dumps({"title": "Act", "provisions": [{"provision_ref": "s1", "section": "1"}]}), "utf-8")
    files["json_without_provisions"].write_text(json.dumps({"title": "Act", "provisions": []}), "utf-8")
    return files


def test_bad_files_are_named_in_the_report_and_the_rest_is_ingested(slice_index, embedder, tmp_path):
    settings, corpus = slice_index
    bad = _bad_files(corpus / "incoming")
    before = open_current(settings.index_dir).manifest["counts"]
    report = ingest([corpus], settings, embedder=embedder)
    assert not report.ok
    failed = {Path(f.path).name: f for f in report.failed}
    assert set(failed) == {p.name for p in bad.values()}
    for f in report.failed:
        assert Path(f.path).name in f.error  # every message names its file
    assert "encrypted" in failed["encrypted.pdf"].error
    assert "line 2, column" in failed["law_broken.json"].error
    assert "'content'" in failed["law_no_content.json"].error and "empty" in failed["law_empty.json"].error
    assert open_current(settings.index_dir).manifest["counts"] == before  # nothing already indexed was lost


def test_a_file_that_turns_bad_keeps_its_indexed_version(slice_index, embedder):
    settings, corpus = slice_index
    before = _section_ids(settings)["lk-act-30-2005"]
    pdf = corpus / "laws" / "lk_act_30_2005_saarc_trafficking_convention.pdf"
    pdf.write_bytes(pdf.read_bytes()[:500])
    report = ingest([corpus], settings, embedder=embedder)
    assert [Path(f.path).name for f in report.failed] == [pdf.name]
    assert _section_ids(settings)["lk-act-30-2005"] == before


def test_cli_exits_non_zero_on_failures_and_prints_a_json_report(slice_index, tmp_path, capsys, monkeypatch):
    settings, corpus = slice_index
    bad = _bad_files(corpus / "incoming")
    monkeypatch.setenv("KB_INDEX_DIR", str(settings.index_dir))
    code = kb_main(["ingest", str(corpus), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["ok"] is False and len(out["failed"]) == len(bad)  # every bad file, named
    assert out["documents"] == 4 and sorted(out["unchanged"]) == sorted(SLICE_IDS)


def test_a_second_concurrent_ingest_is_refused_with_a_clear_message(slice_index, embedder):
    settings, corpus = slice_index
    with IndexDir(settings.index_dir).lock():
        with pytest.raises(IndexLockedError, match="being written by pid"):
            ingest([corpus], settings, embedder=embedder)


def test_unwritable_index_directory_is_a_clear_error(tmp_path, corpus_slice, embedder):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the index directory should be")
    with pytest.raises(Exception, match="not-a-dir"):
        ingest([corpus_slice], Settings(index_dir=blocker / "index"), embedder=embedder)


def _full_disk() -> None:
    """In the child: every file may grow to 64 kB only, then writes fail (EFBIG), as on a full disk.

    A real full disk would need a small mounted filesystem, which CI cannot make; the file-size limit makes the
    operating system refuse writes part way through in the same places, which is what the code must survive.
    """
    import resource

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))


@pytest.mark.slow
def test_a_full_disk_is_a_clear_error_and_the_live_index_stays(slice_index):
    settings, corpus = slice_index
    good = open_current(settings.index_dir)
    good_name, good_counts = good.path.name, good.manifest["counts"]
    law = corpus / "laws" / "us_8usc_1324_bringing_in_harboring_aliens.md"
    law.write_text(law.read_text("utf-8") + "\n\n##### (z) Added clause\n\n" + "An added sentence about harbouring. " * 200, "utf-8")
    env = {**os.environ, "KB_INDEX_DIR": str(settings.index_dir), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "ingest", "ingest", str(corpus)], env=env, capture_output=True,
                          text=True, preexec_fn=_full_disk, timeout=600)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert "is the disk full or the directory not writable?" in proc.stderr
    assert f"The live index ({good_name}) is unchanged" in proc.stderr
    after = open_current(settings.index_dir)
    assert after.path.name == good_name and after.manifest["counts"] == good_counts
    assert [p.name for p in (settings.index_dir / "generations").iterdir()] == [good_name]  # no partial left behind


@pytest.mark.slow
def test_kill_9_at_any_point_leaves_the_last_good_index_readable(slice_index, tmp_path):
    """Kill `kb ingest` at several moments of a re-ingest that changes a document; the index must stay whole."""
    settings, corpus = slice_index
    good = open_current(settings.index_dir).manifest["counts"]
    law = corpus / "laws" / "us_8usc_1324_bringing_in_harboring_aliens.md"
    original = law.read_text("utf-8")
    env = {**os.environ, "KB_INDEX_DIR": str(settings.index_dir), "HF_HUB_OFFLINE": "1"}
    for i, delay in enumerate((0.5, 2.0, 4.0, 6.0, 8.0)):
        # a different change each time, so every run has real work to do
        law.write_text(original + f"\n\n##### (z{i}) Added clause\n\n" + "An added sentence about harbouring. " * (40 * (i + 1)), "utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "ingest", "ingest", str(corpus)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        gen = open_current(settings.index_dir)  # must open without error
        counts = gen.manifest["counts"]
        assert counts["documents"] == good["documents"]
        assert set(gen.documents()) == SLICE_IDS
        # and it answers a search, fully hydrated
        from search_api.engine import bm25_scores

        scores = bm25_scores(gen, "trafficking in persons")
        assert scores.max() > 0
        top = int(scores.argmax())
        assert gen.passage_by_row([top])[top].text
        gen.close()


def test_documents_processed_two_at_a_time_give_what_one_at_a_time_gives(slice_index, embedder, tmp_path, monkeypatch):
    """DOCUMENT_WORKERS runs documents concurrently (largest first); the index and the report must not show it."""
    import numpy as np

    import ingest.pipeline as pipeline

    assert pipeline.DOCUMENT_WORKERS == 2
    concurrent, corpus = slice_index
    monkeypatch.setattr(pipeline, "DOCUMENT_WORKERS", 1)
    serial = Settings(index_dir=tmp_path / "serial")
    report = ingest([corpus], serial, embedder=embedder)
    assert report.ok and sorted(report.added) == sorted(SLICE_IDS)
    a, b = open_current(concurrent.index_dir), open_current(serial.index_dir)
    assert a.n_passages == b.n_passages
    for doc_id in SLICE_IDS:
        assert a.sections_of(doc_id) == b.sections_of(doc_id)
    rows = list(range(a.n_passages))
    assert a.passage_by_row(rows) == b.passage_by_row(rows)
    np.testing.assert_allclose(a.float_vectors(), b.float_vectors(), atol=3e-3)  # an int8 step is ~1.3e-3


def _tiny_model(tmp_path: Path, width: int) -> Path:
    """A one-layer BERT of ``width`` with random weights and the packaged model's tokenizer, saved by
    sentence-transformers as Transformer > mean Pooling > Normalize (no hub: everything is built here)."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel

    packaged = Settings().resolved_model_path()
    bert_dir = tmp_path / "bert"
    torch.manual_seed(0)
    BertModel(BertConfig(hidden_size=width, num_hidden_layers=1, num_attention_heads=2, intermediate_size=2 * width)).save_pretrained(bert_dir)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        shutil.copy(packaged / name, bert_dir / name)
    word = models.Transformer(str(bert_dir), max_seq_length=128)
    st = SentenceTransformer(modules=[word, models.Pooling(width, pooling_mode="mean"), models.Normalize()], device="cpu")
    st.save(str(tmp_path / "tiny"))
    return tmp_path / "tiny"


def test_a_model_of_another_width_gives_vectors_of_its_width(tmp_path, corpus_slice):
    from ingest.embedder import Embedder

    model = _tiny_model(tmp_path, 48)
    settings = Settings(index_dir=tmp_path / "index", model_path=model)
    embedder = Embedder(settings)
    assert embedder.dim == 48 and embedder.info()["dim"] == 48
    report = ingest([corpus_slice / "laws" / "us_8usc_1324_bringing_in_harboring_aliens.md"], settings, embedder=embedder)
    assert report.ok, report.failed
    gen = open_current(settings.index_dir)
    assert gen.vectors.shape == (report.passages, 48) and gen.manifest["model"]["dim"] == 48
    gen.close()


# ---------------------------------------------------------------------------------------------------------
# The ingest fingerprint names each stage's version; a digest of each stage's output over the bundled corpus
# checks that a change of output comes with a bump.

DIGESTS = Path(__file__).parent / "data" / "splitting_digest.json"
STAGE_CONSTANTS = {
    "loader": "LOADER_VERSION in ingest/loaders.py",
    "splitter": "SPLITTER_VERSION in ingest/sections",
    "metadata": "METADATA_VERSION in ingest/metadata",
    "passages": "PASSAGE_VERSION in ingest/passages.py",
}


def _corpus_stage_digests() -> dict[str, str]:
    """sha256 of each stage's output over every bundled corpus file, with its manifest metadata, as ingest runs
    them: what the loader reads, the sections split (before annotation), the metadata and the sections' members
    and areas, the passages."""
    import hashlib

    from ingest.manifest import find_manifest, load_manifest
    from ingest.pipeline import collect_files
    from ingest.processing import DocumentProcessor

    processor = DocumentProcessor(Settings())
    digests = {stage: hashlib.sha256() for stage in STAGE_CONSTANTS}

    def add(stage: str, value) -> None:
        digests[stage].update(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str).encode())

    files, missing = collect_files([PROJECT_ROOT / "corpus"])
    assert files and not missing
    manifests = {}
    for path in files:
        mf = find_manifest(path)
        if mf not in manifests:
            manifests[mf] = load_manifest(mf)
        loaded = processor.load(path)
        add("loader", [path.name, loaded.format, loaded.pages, loaded.paged, loaded.ocr_pages,
                       [vars(n) for n in loaded.margin_notes]])
        meta = processor.describe(path, loaded, manifests[mf].get(path))
        sections = processor.split(path, meta, loaded)
        add("splitter", [s.to_dict() for s in sections])
        processor.annotate(meta, sections)
        add("metadata", [meta.to_dict(), [(s.members, [vars(t) for t in s.priority_areas]) for s in sections]])
        add("passages", [p.to_dict() for p in processor.cut_passages(sections)])
    return {stage: h.hexdigest()[:32] for stage, h in digests.items()}


def digest_problem(recorded: dict, versions: str, current: dict[str, str]) -> str | None:
    """Why the corpus digests do not match what is recorded for these versions, or None when they do."""
    how = f"then record the new digests: KB_UPDATE_GOLDEN=1 pytest tests/test_ingest.py -k corpus_digest ({DIGESTS.name})"
    if versions not in recorded:
        return f"no corpus digest recorded for stage versions {versions}: {how}"
    changed = [stage for stage, d in current.items() if recorded[versions].get(stage) != d]
    if not changed:
        return None
    bump = "; ".join(STAGE_CONSTANTS[s] for s in changed)
    return (f"the output of {', '.join(changed)} changed over the bundled corpus under the same versions ({versions}). "
            f"Bump {bump} (the first stage listed is usually the cause: later stages read its output), so that ingest "
            f"processes and embeds the documents again; a new pypdf or tesseract can change the loader's output too. "
            f"{how}")


def _versions_key() -> str:
    from ingest.pipeline import stage_versions

    return " ".join(f"{k}={v}" for k, v in stage_versions().items())


def test_stage_output_over_the_corpus_changes_only_with_a_version_bump():
    current, versions = _corpus_stage_digests(), _versions_key()
    recorded = json.loads(DIGESTS.read_text("utf-8")) if DIGESTS.exists() else {}
    if os.environ.get("KB_UPDATE_GOLDEN") == "1":
        recorded[versions] = current
        DIGESTS.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n", "utf-8")
    problem = digest_problem(recorded, versions, current)
    assert problem is None, problem


def test_a_changed_stage_output_names_the_constant_to_bump():
    recorded = {"schema=1 loader=1": {"loader": "a", "splitter": "b", "metadata": "c", "passages": "d"}}
    assert digest_problem(recorded, "schema=1 loader=1", {"loader": "a", "splitter": "b", "metadata": "c", "passages": "d"}) is None
    problem = digest_problem(recorded, "schema=1 loader=1", {"loader": "a", "splitter": "B", "metadata": "c", "passages": "D"})
    assert "splitter, passages changed" in problem and "SPLITTER_VERSION" in problem and "PASSAGE_VERSION" in problem
    assert "LOADER_VERSION" not in problem and "KB_UPDATE_GOLDEN=1" in problem
    assert "no corpus digest recorded" in digest_problem(recorded, "schema=1 loader=2", {"loader": "a"})


def test_the_fingerprint_follows_stage_versions_not_source_text(monkeypatch):
    """A comment edit in a stage's module keeps every artifact; a version bump makes new ones.

    Stand-ins, since a test must not rewrite the checkout's sources: reading any .py file returns it with a comment
    added (the old fingerprint hashed module sources, so this fails on it), and the version constants are raised
    in place of editing them."""
    import ingest.passages
    import ingest.sections
    from ingest.pipeline import passage_fingerprint, pipeline_fingerprint

    info = {"name": "m", "dim": 384, "dtype": "fp32", "max_tokens": 256}
    settings = Settings()
    before = pipeline_fingerprint(settings, info), passage_fingerprint(settings, info)
    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read_bytes(self) + (b"\n# a comment\n" if self.suffix == ".py" else b""))
    assert (pipeline_fingerprint(settings, info), passage_fingerprint(settings, info)) == before
    monkeypatch.setattr(ingest.sections, "SPLITTER_VERSION", ingest.sections.SPLITTER_VERSION + 1)
    assert pipeline_fingerprint(settings, info) != before[0] and passage_fingerprint(settings, info) == before[1]
    monkeypatch.setattr(ingest.passages, "PASSAGE_VERSION", ingest.passages.PASSAGE_VERSION + 1)
    assert passage_fingerprint(settings, info) != before[1]


def test_a_file_in_no_identifiable_language_is_indexed_as_und_and_named_in_a_warning(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tariff_table.txt").write_text("\n".join(f"{n:04d} | {n * 7 % 97:>3} | {n * 13 % 89:>3}" for n in range(60)), "utf-8")
    (corpus / "note.txt").write_text("The Working Group met in Bangkok to discuss victim referral.", "utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    report = ingest([corpus], settings, embedder=embedder)
    assert report.ok, report.failed
    assert len(report.warnings) == 1 and "tariff_table.txt" in report.warnings[0] and "und" in report.warnings[0]
    docs = open_current(settings.index_dir).documents()
    assert (docs["tariff-table"].language, docs["note"].language) == ("und", "en")
