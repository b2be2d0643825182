"""Knowledge: documents in domains, their ingestion into chunks, and retrieval over them."""
