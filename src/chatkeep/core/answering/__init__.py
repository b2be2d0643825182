"""Answers: an LLM answers a session's question from its domain's documents (DESIGN.md)."""
