"""Unexpected exceptions worded for the person who sent the file."""


def failure_text(exc: BaseException) -> str:
    """An unexpected exception while reading or storing a file, in words a person can act on, with the
    place it happened (``add_note``) when known."""
    if isinstance(exc, UnicodeDecodeError):
        text = f"the file is not valid UTF-8 (byte {exc.start} of a block)"
    elif isinstance(exc, MemoryError):
        text = "the file needs more memory than the server has"
    elif isinstance(exc, OverflowError | ArithmeticError):
        text = f"a number or date in the file is out of range ({exc})"
    else:
        text = f"an unexpected error ({type(exc).__name__}: {exc})"
    notes = [n for n in getattr(exc, "__notes__", ()) if n]
    return f"{text}, {', '.join(notes)}" if notes else text
