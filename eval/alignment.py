"""Scores the Protocol implementation map against ``eval/alignment_dev`` (``kb eval-align``, or ``python -m eval.alignment``),
or another judged set in its format such as the held-out ``eval/alignment_test`` (``kb eval-align eval/alignment_test``).

For each judged cell (article x member) the map's ranked provisions are compared with the judged ones (either
grade counts):

* **top-1**: the first provision shown is a judged one; **top-3**: one of the (up to three) shown is;
  both over the cells that have a judged provision. A cell said ``none found`` still shows its closest
  provisions, and they are scored, so these measure the ranking; ``answered top-1`` counts a ``none found``
  cell as a miss.
* **none found**: its precision (of the cells the map says ``none found``, how many were judged ``none``) and
  its recall.

``--calibrate`` prints, for the best score of each cell, the thresholds that would give the ``strong`` and
``none found`` labels their precision: it reads the judgements, so the figures it reports for the thresholds it
picks are in-sample.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

DEFAULT_SET = Path(__file__).resolve().parent / "alignment_dev"


def read_cells(directory: Path) -> list[dict]:
    with open(Path(directory) / "cells.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    for r in rows:
        r["gold"] = [] if r["provisions"].strip() == "none" else r["provisions"].split(";")
    return rows


def cell_results(amap, rows: list[dict]) -> list[dict]:
    """Each judged cell with the map's cell for it."""
    maps = {inst: amap.get(inst) for inst in sorted({r["instrument"] for r in rows})}
    out = []
    for r in rows:
        row = next(a for a in maps[r["instrument"]]["articles"] if a["article_id"] == r["article"])
        cell = next((c for c in row["cells"] if c["member"] == r["member"]), None)
        out.append({**r, "cell": cell})
    return out


def shown(r: dict) -> list[str]:
    """The section ids the map's cell shows, in order."""
    return [p["section_id"] for p in (r["cell"] or {}).get("provisions", [])]


def first_right(r: dict) -> bool:
    """Whether the cell's first provision is a judged one."""
    first = shown(r)[:1]
    return bool(first) and first[0] in r["gold"]


def score(results: list[dict]) -> dict:
    judged = [r for r in results if r["gold"]]
    nones = [r for r in results if not r["gold"]]
    said_none = [r for r in results if r["cell"] is None or r["cell"]["confidence"] == "none found"]
    top1 = sum(first_right(r) for r in judged)
    answered = sum(first_right(r) and r["cell"]["confidence"] != "none found" for r in judged)
    top3 = sum(any(s in r["gold"] for s in shown(r)[:3]) for r in judged)
    right_none = sum(not r["gold"] for r in said_none)
    by_conf = defaultdict(lambda: [0, 0])
    for r in judged:
        c = r["cell"]["confidence"] if r["cell"] else "none found"
        by_conf[c][0] += 1
        by_conf[c][1] += first_right(r)
    return {
        "cells": len(results), "judged": len(judged), "none_cells": len(nones),
        "top1": round(top1 / len(judged), 3), "top3": round(top3 / len(judged), 3),
        "answered_top1": round(answered / len(judged), 3),
        "none_said": len(said_none),
        "none_precision": round(right_none / len(said_none), 3) if said_none else None,
        "none_recall": round(right_none / len(nones), 3) if nones else None,
        "top1_by_confidence": {k: {"cells": v[0], "top1": round(v[1] / v[0], 3)} for k, v in sorted(by_conf.items())},
    }


def calibrate(results: list[dict]) -> dict:
    """Candidate thresholds: the highest ``none found`` threshold whose precision is at least 0.8, and the lowest
    ``strong`` threshold whose top-1 precision is at least 0.8 (in-sample)."""
    best = sorted(((r["cell"]["score"] if r["cell"] else 0.0), bool(r["gold"]), first_right(r)) for r in results)
    none_at = None
    for i in range(1, len(best) + 1):
        below = best[:i]
        if sum(not g for _, g, _ in below) / i >= 0.8:
            none_at = (best[i][0] if i < len(best) else best[-1][0] + 1e-6, i)
    strong_at = None
    for i in range(len(best)):
        above = best[i:]
        if sum(ok for _, _, ok in above) / len(above) >= 0.8:
            strong_at = (best[i][0], len(above))
            break
    return {"none_threshold": none_at, "strong_threshold": strong_at,
            "scores": [(round(s, 3), g, ok) for s, g, ok in best]}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", nargs="?", default=str(DEFAULT_SET), help="a judged set (default eval/alignment_dev)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--calibrate", action="store_true", help="also the thresholds that would give 0.8 precision (in-sample)")
    p.add_argument("--misses", action="store_true", help="list the cells whose first provision is not judged")


def run(args: argparse.Namespace, settings) -> int:
    """``kb eval-align``: score the map of the index ``settings`` name on the judged set."""
    from search_api.searcher import Searcher

    results = cell_results(Searcher(settings).alignments, read_cells(Path(args.directory)))
    out = score(results)
    if args.calibrate:
        out["calibration"] = calibrate(results)
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(json.dumps({k: v for k, v in out.items() if k != "calibration"}, ensure_ascii=False))
    if args.calibrate:
        c = out["calibration"]
        print("none found threshold (precision >= 0.8):", c["none_threshold"])
        print("strong threshold (top-1 >= 0.8):", c["strong_threshold"])
    if args.misses:
        for r in results:
            if r["gold"] and not first_right(r):
                print(r["article"], r["member"], "| got", shown(r), "| judged", r["gold"])
    return 0


def main(argv: list[str] | None = None) -> int:
    from ingest.settings import Settings

    p = argparse.ArgumentParser(prog="python -m eval.alignment", description=__doc__.split("\n")[0])
    add_arguments(p)
    return run(p.parse_args(argv), Settings())


if __name__ == "__main__":
    raise SystemExit(main())
