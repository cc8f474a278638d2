"""What the garbage collector cost while a test or a target ran: the
collections by generation, objects collected and uncollectable, and the
total pause, from gc.callbacks.

Stdlib only, loaded by path (see growth.py). Collections gclint makes for
its own measurements are told apart by `is_ours()` (asked when each
collection starts) and only counted, so the profile is the code's own.

The pause is wall-clock time between a collection's "start" and "stop"
callbacks: useful to read, never to assert on (a loaded machine stretches
it). The counts do not depend on timing.
"""
from __future__ import annotations

import gc
import time


class GcProfile:
    """Install, run the code, remove, then `as_dict()`."""

    def __init__(self, is_ours=None):
        self.is_ours = is_ours or (lambda: False)
        self.collections = [0, 0, 0]
        self.collected = 0
        self.uncollectable = 0
        self.pause_seconds = 0.0
        self.longest_pause_seconds = 0.0
        self.gclint_collections = 0
        self._started = None
        self._ours = False

    def install(self):
        if self.on_gc not in gc.callbacks:
            gc.callbacks.append(self.on_gc)

    def remove(self):
        if self.on_gc in gc.callbacks:
            gc.callbacks.remove(self.on_gc)

    def on_gc(self, phase, info):
        if phase == "start":
            self._ours = self._ask_is_ours()
            self._started = time.perf_counter()
            return
        if self._started is None:
            return  # installed in the middle of a collection
        pause = time.perf_counter() - self._started
        self._started = None
        if self._ours:
            self.gclint_collections += 1
            return
        generation = info.get("generation", 2)
        self.collections[generation if generation in (0, 1, 2) else 2] += 1
        self.collected += info.get("collected", 0)
        self.uncollectable += info.get("uncollectable", 0)
        self.pause_seconds += pause
        self.longest_pause_seconds = max(self.longest_pause_seconds, pause)

    def _ask_is_ours(self):
        try:
            return bool(self.is_ours())
        except Exception:  # a profile must never break a collection
            return False

    def as_dict(self):
        return {
            "collections": {"0": self.collections[0], "1": self.collections[1], "2": self.collections[2]},
            "collected": self.collected,
            "uncollectable": self.uncollectable,
            # Timing: for people to read, never for a test to assert on.
            "pause_seconds": round(self.pause_seconds, 6),
            "longest_pause_seconds": round(self.longest_pause_seconds, 6),
            "gclint_collections": self.gclint_collections,
        }


def summary(profile):
    """One line: `12 collections (10/1/1 by generation), 340 objects collected, 1.2 ms paused`."""
    counts = profile["collections"]
    total = sum(counts.values())
    text = f"{total} collection{'' if total == 1 else 's'} ({counts['0']}/{counts['1']}/{counts['2']} by generation), {profile['collected']} objects collected"
    if profile["uncollectable"]:
        text += f", {profile['uncollectable']} uncollectable"
    return text + f", {profile['pause_seconds'] * 1000:.1f} ms paused"
