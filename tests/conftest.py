"""Shared fixtures: the real corpus, ingested once per session with the real packaged model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.embedder import Embedder, MultilingualEmbedder, passage_embedder
from ingest.manifest import copy_slice
from ingest.settings import PROJECT_ROOT, Settings

CORPUS = PROJECT_ROOT / "corpus"
DATA = Path(__file__).parent / "data"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def embedder() -> Embedder | MultilingualEmbedder:
    """One loaded model for the whole session: the default one (multilingual-e5-small)."""
    e = passage_embedder(Settings())
    e.warm_up()
    return e


@pytest.fixture(scope="session")
def query_embedder(embedder):
    """The search side's query embedder over the session's loaded model."""
    from search_api.query_embedding import query_embedder as make_query_embedder

    return make_query_embedder(Settings(), embedder)


@pytest.fixture(scope="session")
def indexed_corpus(tmp_path_factory, embedder) -> Settings:
    """Settings pointing at an index of the whole bundled corpus (read-only for tests: never ingest into it)."""
    from ingest.pipeline import ingest

    index_dir = tmp_path_factory.mktemp("index-corpus")
    settings = Settings(index_dir=index_dir)
    report = ingest([CORPUS], settings, embedder=embedder)
    assert report.ok, report.failed
    return settings


@pytest.fixture(scope="session")
def searcher(indexed_corpus, query_embedder):
    from search_api.searcher import Searcher

    return Searcher(indexed_corpus, embedder=query_embedder)


@pytest.fixture()
def corpus_slice(tmp_path) -> Path:
    """A writable copy of a few real documents with their manifest rows, for tests that change files."""
    keep = {
        "bali_process/bp_2018_strategy_for_cooperation_update.txt",
        "international/un_trafficking_protocol_2000_en.md",
        "laws/us_8usc_1324_bringing_in_harboring_aliens.md",
        "laws/lk_act_30_2005_saarc_trafficking_convention.pdf",
    }
    return copy_slice(CORPUS, tmp_path / "corpus", keep)


@pytest.fixture()
def artifacts_dir() -> Path:
    """Where tests keep things a person may want to look at (screenshots, reports); kept after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
