"""Evaluation: BEIR-layout datasets, IR metrics, and runs of the searcher against judgements."""
