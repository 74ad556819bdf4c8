"""The API kit: the one error body, the exception handler that produces it, the schema class that documents
it on every operation, strict query parameters, and the month field. Domain-free: no app of the project."""
