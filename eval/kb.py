"""The ``kb`` command: every package's subcommands under one name.

It lives in ``eval`` because imports run ``eval -> search_api -> ingest`` and only ``eval`` may see all three;
each package owns its subcommands (``ingest/cli.py``, ``search_api/cli.py``, ``eval/cli.py``) and this module
only builds the parser and dispatches.
"""

from __future__ import annotations

import sys

from eval import cli as eval_cli
from ingest import cli as ingest_cli
from search_api import cli as search_cli

DESCRIPTION = "Bali Process knowledge base: ingest, search, evaluate, serve."


def main(argv: list[str] | None = None) -> int:
    parser = ingest_cli.build_parser([ingest_cli.register, search_cli.register, eval_cli.register], "kb", DESCRIPTION)
    return ingest_cli.dispatch(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
