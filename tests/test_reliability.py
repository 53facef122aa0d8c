"""Reliability of ingest and the embedded index: odd input, limits, and damaged index files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.errors import IndexUnavailableError
from ingest.pipeline import ingest
from ingest.settings import Settings
from ingest.stores import IndexDir, open_current
from search_api.engine import EmbeddedEngine

pytestmark = pytest.mark.integration


@pytest.fixture()
def small_index(tmp_path, corpus_slice, embedder) -> Settings:
    settings = Settings(index_dir=tmp_path / "index")
    assert ingest([corpus_slice], settings, embedder=embedder).ok
    return settings


def test_unicode_oddities_are_ingested_cleanly(tmp_path, embedder):
    docs = tmp_path / "odd"
    docs.mkdir()
    (docs / "rtl_zero_width.md").write_text(
        "# Article 1\u200b Definitions\n\nالاتجار بالأشخاص means trafficking in persons.\u200f Zero\u200dwidth joiners \ufeffhere.\n\n"
        "# Article 2 Scope\n\nApplies to all persons \u202eredirected text\u202c and combining accents: e\u0301.\n",
        "utf-8",
    )
    (docs / "nul_bytes.txt").write_bytes(b"SECTION 1. Title\n\nText with a NUL \x00 byte inside a line.\n")
    (docs / "malformed.md").write_text("# **Unclosed bold\n\n<p><i>stray tags</p>\n\n```\nunclosed fence\n\n## Heading ## \n\ntext", "utf-8")
    report = ingest([docs], Settings(index_dir=tmp_path / "index"), embedder=embedder)
    ingested = set(report.added)
    failed = {Path(f.path).name: f.error for f in report.failed}
    # each file is either ingested or rejected with an error naming it -- never a crashed run
    assert len(ingested) + len(failed) == 3
    for name, error in failed.items():
        assert name in error
    assert "rtl-zero-width" in ingested and "malformed" in ingested
    gen = open_current(tmp_path / "index")
    texts = " ".join(s.text for s in gen.sections_of("rtl-zero-width"))
    assert "الاتجار بالأشخاص" in texts


def test_files_over_the_size_limit_are_refused_by_name(tmp_path, corpus_slice, embedder):
    settings = Settings(index_dir=tmp_path / "index", max_file_bytes=20_000)
    report = ingest([corpus_slice], settings, embedder=embedder)
    big = [f for f in report.failed if f.kind == "FileTooLargeError"]
    assert big and all("KB_MAX_FILE_BYTES" in f.error and Path(f.path).name in f.error for f in big)
    assert report.added  # the small files still went in


@pytest.mark.parametrize(
    "damage, named",
    [
        (lambda g: (g / "vectors.npy").write_bytes(b"\x93NUMPY garbage"), "vectors.npy"),
        (lambda g: (g / "manifest.json").write_text("{not json", "utf-8"), "manifest.json"),
        (lambda g: (g / "store.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4096), "store.sqlite"),
        (lambda g: (g / "p_section.npy").unlink(), "p_section.npy"),
        (lambda g: shutil.rmtree(g), "CURRENT"),
    ],
    ids=["vectors", "manifest", "sqlite", "missing-column", "missing-generation"],
)
def test_a_damaged_index_fails_at_startup_naming_the_file_and_the_fix(small_index, damage, named):
    gen_dir = IndexDir(small_index.index_dir).current_path()
    damage(gen_dir)
    with pytest.raises(IndexUnavailableError) as exc:
        EmbeddedEngine(small_index.index_dir)
    assert named in str(exc.value) and "kb ingest" in str(exc.value)


def test_a_damaged_index_is_rebuilt_by_the_next_ingest(small_index, corpus_slice, embedder):
    gen_dir = IndexDir(small_index.index_dir).current_path()
    (gen_dir / "vectors.npy").write_bytes(b"garbage")
    report = ingest([corpus_slice], small_index, embedder=embedder)
    assert report.ok and report.generation != gen_dir.name
    assert EmbeddedEngine(small_index.index_dir).info()["documents"] == 4


def test_no_index_yet_is_a_clear_error(tmp_path):
    with pytest.raises(IndexUnavailableError, match="kb ingest"):
        EmbeddedEngine(tmp_path / "nothing-here")


def test_a_generation_keeps_what_is_derived_from_it_once_for_concurrent_searches(small_index):
    """``Generation.derived`` builds a value on first use and hands every later caller, on any thread, the one it
    kept; a new generation starts without it."""
    from concurrent.futures import ThreadPoolExecutor

    gen = open_current(small_index.index_dir)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: gen.derived("probe", object), range(64)))
    assert all(g is got[0] for g in got) and gen.cached("probe") is got[0]
    assert gen.derived("nothing", lambda: None) is None and gen.derived("nothing", object) is None, "None is kept too"
    gen.forget("probe")
    assert gen.cached("probe") is None and gen.derived("probe", object) is not got[0]
    again = open_current(small_index.index_dir)
    assert again.cached("probe") is None
    gen.close()
    again.close()
