"""``python -m ingest``: ingest, documents and show without the search or eval packages (``kb`` has every command)."""

import sys

from ingest.cli import main

sys.exit(main())
