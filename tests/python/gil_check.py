"""Shared by the tests: does a long compiled call release the GIL?"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable


def assert_releases_gil(call: Callable[[], Any]) -> Any:
    """Runs ``call`` (which should take 0.1 s or more) in a thread while this one ticks; had the
    call held the GIL, no tick could fall in the middle half of it. Returns the call's result."""
    span: list = []
    result: list = []
    started, done = threading.Event(), threading.Event()

    def work() -> None:
        started.set()
        t0 = time.perf_counter()
        result.append(call())
        span.extend([t0, time.perf_counter()])
        done.set()

    thread = threading.Thread(target=work)
    thread.start()
    started.wait()
    ticks = []
    while not done.is_set():
        ticks.append(time.perf_counter())
    thread.join()
    t0, t1 = span
    middle = [t for t in ticks if t0 + 0.25 * (t1 - t0) < t < t0 + 0.75 * (t1 - t0)]
    assert len(middle) > 0, (t1 - t0, len(ticks))
    return result[0]
