"""Allocation rule sets: the rule document, its checks, its plain-language description, files, the editor
and the pages. Imports nothing from ``runs``."""
