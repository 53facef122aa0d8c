"""``kb bench``: query latency at 10k-1M passages, baselines, ingest throughput, memory and API load, in one run.

Writes ``report.json`` (every number), ``report.md`` (tables and what they mean) and ``latency.png``
(latency against corpus size) to ``--out`` (default ``eval/bench_results/``).

Tiers beyond the real corpus are synthetic (see ``eval/synth.py``) and written with the product's own
``ingest.stores.write_generation``; they are cached under ``var/bench/`` by size and code version.
Each tier is measured in a fresh worker process (``python -m eval.bench.worker --worker SPEC``) so its resident
memory is that of a process that opened that tier and ran the queries, nothing else.

Modules, in the order a run uses them: ``common`` (queries, modes, targets, percentiles), ``ingest_rounds``,
``tiers``, ``worker`` (search, the floor, Haystack), ``api_load``, ``report``; ``runner`` drives them.
This file imports none of them, so that the worker process starts without the rest.
"""
