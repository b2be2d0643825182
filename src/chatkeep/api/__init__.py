"""HTTP interfaces: one thin adapter per dialect over the core services."""
