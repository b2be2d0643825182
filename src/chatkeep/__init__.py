"""chatkeep: a self-hostable chat-session service for LLM question-answering apps."""

__version__ = "0.1.0"
