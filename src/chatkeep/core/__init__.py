"""The core: data model, query types, repository and services. Knows nothing of HTTP."""
