"""Running a producer a step ahead of its consumer, in a thread.

Ingest is two kinds of work: parsing and pricing lines (Python, holds the GIL) and writing chunks
(mostly waiting on the database, GIL released). With the reader one chunk ahead in a thread of its
own, the two overlap instead of taking turns. The queue is bounded, so memory stays at a few chunks
whatever the file's size.

While it runs, the interpreter's switch interval is shortened (5 ms to 0.05 ms): every database round
trip of the consumer releases the GIL and must win it back from the busy producer, and at 5 ms a
round trip measured 8.8 ms instead of 0.1 ms.
"""

import queue
import sys
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
SWITCH_INTERVAL = 0.00005


class _Failed:
    def __init__(self, exc: BaseException):
        self.exc = exc


_interval_lock = threading.Lock()
_interval_users = 0
_interval_saved = 0.0


def _shorten_switch_interval() -> None:
    global _interval_users, _interval_saved
    with _interval_lock:
        if _interval_users == 0:
            _interval_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_interval_saved, SWITCH_INTERVAL))
        _interval_users += 1


def _restore_switch_interval() -> None:
    """The last of overlapping runs (e.g. two uploads in a threaded web server) restores it."""
    global _interval_users
    with _interval_lock:
        _interval_users -= 1
        if _interval_users == 0:
            sys.setswitchinterval(_interval_saved)


def run_ahead(items: Iterator[T], *, depth: int = 1, name: str = "run-ahead") -> Iterator[T]:
    """Yield what ``items`` yields, producing up to ``depth`` items ahead in a background thread.
    An exception in the producer is raised here; stopping early (an exception or ``close()`` on
    this side) stops the producer at its next item."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:
            put(_Failed(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    _shorten_switch_interval()
    try:
        worker.start()
        while True:
            try:
                item = handoff.get(timeout=1)
            except queue.Empty:
                if worker.is_alive():
                    continue
                raise RuntimeError(f"{name} stopped without finishing or reporting an error") from None
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        if worker.is_alive():
            worker.join()
        _restore_switch_interval()
