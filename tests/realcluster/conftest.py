"""The real-cluster suite runs only when KB_OPENSEARCH_URL names a cluster; otherwise its tests are deselected
(reported as deselected, never as skipped), so CI without a cluster stays green and honest."""

from __future__ import annotations

from pathlib import Path

from ingest.settings import Settings

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    if Settings().opensearch_url:
        return
    deselected = [item for item in items if HERE in Path(item.path).parents]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if HERE not in Path(item.path).parents]
