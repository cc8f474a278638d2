"""One-line, human summaries of evidence, as the text reporter prints them
under a finding (`confirmed: <summary>`), and the GCL9xx messages."""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

Evidence = Mapping[str, Any]

# GCL905: a gc.collect() call site is worth a finding from this many calls or seconds.
COSTLY_CALLS = 10
COSTLY_SECONDS = 0.1


def size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n / (1024 * 1024):.1f} MiB"


def duration(seconds: float) -> str:
    if seconds < 0.00001:
        return "<0.01 ms"
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _site(site: Optional[Sequence[Any]]) -> str:
    return f"{os.path.basename(site[0])}:{site[1]}" if site and site[0] else "?"


def _times(n: int) -> str:
    return "once" if n == 1 else f"{n} times"


def _types(types: Mapping[str, int]) -> str:
    names = sorted(types, key=lambda name: (-types[name], name))
    return ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")


def _cycle(e: Evidence) -> str:
    cycles = f"{_count(e['cycles'], 'cycle')}, " if e.get("cycles", 1) > 1 else ""
    text = f"{cycles}{_count(e['objects'], 'object')} ({_types(e.get('types', {}))}), {size(e.get('bytes', 0))}, freed only by the cycle collector; "
    where = _site([e["path"], e["line"]])
    if e.get("site_from") == "class definition":
        why = " (Python 3.11's tracemalloc does not see plain instances)" if str(e.get("python", "")).startswith("3.11") else ""
        text += f"allocation site unknown{why}; class defined at {where}"
    elif e.get("site_from") == "container of the same cycle":
        text += f"allocated at {where} (a container of the same cycle)"
    else:
        text += f"allocated at {where}"
    text += f"; cycle: {e['chain']}" if e.get("chain") else ""
    sampled = e.get("sampled")
    if sampled:
        text += f" (counted among the first {sampled['examined']} of {sampled['garbage']} garbage objects)"
    return text


def _resurrection(e: Evidence) -> str:
    classes = e.get("classes") or [{}]
    name = classes[0].get("name", "object")
    text = f"{_count(e.get('objects', 1), name + ' object')} still referenced after __del__ ran (seen by {e.get('detected_by')})"
    if e.get("held_by"):
        text += f"; held by {e['held_by']}"
    if e.get("frames"):
        text += f"; allocated at {_site(e['frames'][0])}"
    return text


def _resource_warning(e: Evidence) -> str:
    count = e.get("count", 1)
    text = f"ResourceWarning {_times(count)}: {e.get('message')}; "
    if not e.get("frames"):
        return text + f"released at {_site(e.get('released_at'))} (allocation site unknown)"
    text += f"allocated at {_site([e['path'], e['line']])}"
    if e.get("released_at"):
        text += f", released at {_site(e['released_at'])}"
    return text


def _finalizer_exception(e: Evidence) -> str:
    return f"{e.get('exception')} raised in {e.get('in')} ({_times(e.get('count', 1))}) at {_site([e['path'], e['line']])}"


def _gc_call(e: Evidence) -> str:
    generations = ", ".join(str(g) for g in e.get("generations", []))
    text = f"gc.collect({generations}) ran {_times(e['calls'])}: {_count(e['reclaimed'], 'object')} reclaimed in {duration(e['seconds'])}"
    missed = e.get("missed_in_older_generations", 0)
    if missed:
        text += f"; {_count(missed, 'object')} of cyclic garbage in older generations survived it"
    return text


def _gc_state(e: Evidence) -> str:
    text = f"{e['call']} {e['effect']}"
    if e.get("calls", 1) > 1:
        text += f" ({_times(e['calls'])})"
    if e.get("at_exit"):
        text += "; still in effect at exit"
    elif e.get("restored_at"):
        text += f"; undone {duration(e.get('seconds', 0.0))} later at {_site(e['restored_at'])}"
    if e.get("kept_objects"):
        text += f"; {_count(e['kept_objects'], 'object')} kept in gc.garbage meanwhile"
    return text


def _retained(e: Evidence) -> str:
    if "objects" in e:
        name = (e.get("classes") or [{}])[0].get("name", "object")
        return f"{_count(e['objects'], name + ' object')} created while the target ran still alive after it returned"
    return f"{size(e['bytes'])} in {e['blocks']} blocks allocated here still held after the target returned"


def _growth(e: Evidence) -> str:
    runs = e["runs"]
    if "bytes" in e:
        text = f"{size(e['bytes'])} more held after {runs} more runs (+{', +'.join(map(str, e.get('bytes_per_run', ())))} bytes per run)"
    else:
        name = next(iter(e.get("types") or {}), "object")
        text = f"{_count(e.get('objects', 0), name + ' object')} more alive after {runs} more runs"
    if e.get("chain"):
        text += f"; kept by {e['chain']}"
    if e.get("sites"):
        text += "; also growing, in the same container: " + ", ".join(f"{os.path.basename(site[0])}:{site[1]}" for site in e["sites"])
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


_SUMMARIES: Dict[str, Callable[[Evidence], str]] = {
    "cycle": _cycle,
    "resurrection": _resurrection,
    "resource-warning": _resource_warning,
    "finalizer-exception": _finalizer_exception,
    "gc-call": _gc_call,
    "gc-state": _gc_state,
    "retained-object": _retained,
    "retained": _growth,
}


def summarize(e: Evidence) -> str:
    try:
        return _SUMMARIES[e["kind"]](e) + _in_tests(e)
    except (KeyError, TypeError, IndexError):
        return f"{e.get('kind', 'evidence')} observed"


def _in_tests(e: Evidence) -> str:
    """Which tests showed it, when a suite ran under the pytest plugin."""
    tests = e.get("tests") or []
    if not tests:
        return ""
    more = max(len(tests), e.get("test_count", 0)) - 1
    return f"; in test {tests[0]}" + (f" and {_count(more, 'other')}" if more else "")


def is_worth_reporting(e: Evidence) -> bool:
    """Evidence is reported on its own unless it is an ordinary gc.collect()."""
    if e.get("kind") != "gc-call":
        return True
    return e.get("calls", 0) >= COSTLY_CALLS or e.get("seconds", 0.0) >= COSTLY_SECONDS


def finding_message(e: Evidence) -> str:
    kind = e.get("kind")
    if kind == "cycle":
        return f"reference cycles made here were freed only by the cycle collector ({_count(e['objects'], 'object')}, {size(e.get('bytes', 0))}); no static finding explains them"
    if kind == "resource-warning":
        return f"resource left to the garbage collector to close: {e.get('message')}"
    if kind == "resurrection":
        name = (e.get("classes") or [{}])[0].get("name", "the object")
        return f"{name}.__del__ resurrects its object: it is still referenced after the finalizer ran"
    if kind == "finalizer-exception":
        return f"exception raised in a finalizer and only printed: {e.get('exception')}"
    if kind == "retained":
        return f"memory kept growing over repeated runs: {_growth(e)}"
    return f"explicit gc.collect() ran {_times(e['calls'])}, {duration(e['seconds'])} in all, reclaiming {_count(e['reclaimed'], 'object')}"
