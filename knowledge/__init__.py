"""Policy documents: ingest, chunking, embeddings and hybrid search, within one employer."""
