"""Search: the hybrid searcher over the index, and the FastAPI service that serves it."""
