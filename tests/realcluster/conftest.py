"""The real-cluster suite is collected only when ``KB_OPENSEARCH_URL`` names a cluster.

Without it the files here are not collected at all (``collect_ignore``), so a run without a cluster (CI)
reports neither failures nor skips for them; with it they run like any other test:

    KB_OPENSEARCH_URL=http://127.0.0.1:9200 .venv/bin/pytest tests/realcluster -q
"""

from __future__ import annotations

from ingest.settings import Settings

collect_ignore = [] if Settings().opensearch_url else ["test_opensearch_cluster.py"]
