"""Ingest: load documents, split them into citable sections and passages, embed, and write the index."""
