"""Scripts that made or studied the evaluation data; not part of the product (``kb`` never imports them).

Run from the project root: ``python -m eval.scripts.export_sections``, ``python -m eval.scripts.study_obliqa_passages``.
They use the product's own manifest reader, metrics and analyzer.
"""
