"""The cyclic garbage collector, paused while a bulk call runs.

Loading a plan or records, evaluating and writing JSON each allocate many
small objects and free almost none of them before they return, so the
collector's passes over them only cost time. On 100,002 events,
``Result.to_json`` took 3.0 s of CPU with the collector running and 1.9 s
with it paused. A bulk call pauses it and gives the caller's setting back
afterwards, even on error.

Pausing alone moves the cost instead of saving it: the objects made in the
block stay in the youngest generation, and the first allocation after the
collector is enabled again traverses all of them (about 75 ms for the
330,000 tracked objects of a result of 100,002 events), and later passes of
the middle generation traverse them once more. Those objects are long-lived
by design, so on resume they go straight to the oldest generation, the one
they would reach after two passes. ``gc.freeze`` followed by ``gc.unfreeze``
does that in constant time. It promotes the caller's young objects too, so
their garbage cycles, if any, are freed at the next full collection instead
of the next young one. The caller's ``gc.callbacks`` see up to 20 extra
collections of empty generations (see ``_promote_young``). The library's bulk calls leave no cycles of
their own (``gc.collect()`` after each finds nothing), except the first
``load_plan`` of a process, which builds the parser and leaves about 5,400
objects in cycles once.

Only a block that leaves many new objects promotes them. The incremental
engine pauses the collector for every update, which makes a few hundred
objects. If each update promoted the caller's young objects, their garbage
cycles would wait in the oldest generation for full collections, which a
steady service triggers rarely.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]

# Net new tracked objects (the collector's young count) above which a block
# promotes them. A young pass over 10,000 objects takes about 2 ms, so a
# smaller block gains little from skipping it.
PROMOTE_ABOVE = 10_000


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block, then restore the caller's setting."""
    # NOTE: the setting is per process, so a change that another thread makes
    # during the block is overwritten when the block ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            if gc.get_count()[0] > PROMOTE_ABOVE:
                _promote_young()
            gc.enable()


def _promote_young() -> None:
    """Move every young object to the oldest generation without traversing it.

    A caller may keep objects in the permanent generation (``gc.freeze``
    before forking workers). ``gc.unfreeze`` would release those too, so then
    the young objects stay where they are.
    """
    # NOTE: objects that another thread freezes between these two calls are
    # released again. Programs freeze once at start-up, so there is no lock.
    if gc.get_freeze_count() != 0:
        return
    _, middle_count, oldest_count = gc.get_count()
    gc.freeze()
    gc.unfreeze()
    # gc.freeze() also zeroes every generation's count, which starves full
    # collections. Collecting the just-emptied generations restores the counts.
    for _ in range(oldest_count):
        gc.collect(1)
    for _ in range(middle_count):
        gc.collect(0)
