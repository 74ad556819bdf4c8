"""Allocation runs: the engine's inputs read from the database, the pure engine, the run services and
selectors, and the pages. Reads the rule sets from ``rules``."""
