"""All of the knowledge area's SQL."""
