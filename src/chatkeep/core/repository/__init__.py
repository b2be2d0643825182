"""All SQL lives here; the services decide, these functions fetch and store."""
