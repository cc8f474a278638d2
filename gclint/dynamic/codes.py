"""Codes for dynamic-mode evidence that no static finding explains."""
from typing import Dict, Optional

from gclint.model import RuleInfo, Severity

_KNOWN_LIMITS = (
    "Only what the run exercised is seen, and only in the files gclint checked. "
    "The probe keeps automatic collection off while the target runs and collects "
    "at its own checkpoints (each explicit gc.collect(), after main() returns, at exit)."
)

DYNAMIC_CODES: Dict[str, RuleInfo] = {
    "GCL901": RuleInfo(
        code="GCL901",
        name="cyclic-garbage-observed",
        severity=Severity.WARNING,
        summary="A run made reference cycles that only the cycle collector could free, where no static finding explains them.",
        sections={
            "What it flags": "The allocation site of objects that became unreachable in a reference "
            "cycle during a `--dynamic` run: their types, count, bytes and a reference chain "
            "around the cycle. On Python 3.11, where tracemalloc does not know plain instances, "
            "the site is that of a container of the same cycle or the class definition.",
            "Why it matters": "Reference counting cannot free a cycle: it waits for the next "
            "collection of its generation, and a cycle promoted to the oldest generation can "
            "wait a long time. No GCL2xx rule saw it, so the static pass is blind to this shape.",
            "Known limits": _KNOWN_LIMITS,
        },
    ),
    "GCL902": RuleInfo(
        code="GCL902",
        name="resource-left-to-collector-observed",
        severity=Severity.WARNING,
        summary="A run emitted a ResourceWarning: a file, socket or process was closed by its finalizer, not by the code.",
        sections={
            "What it flags": "The allocation site of the object a `ResourceWarning` was raised "
            "for (where it was opened), with the place where the last reference went.",
            "Why it matters": "The resource stayed open until the object was freed: at once under "
            "reference counting, much later if it sat in a cycle, never if it was resurrected.",
            "Known limits": _KNOWN_LIMITS + " A target that filters ResourceWarning itself hides them.",
        },
    ),
    "GCL903": RuleInfo(
        code="GCL903",
        name="resurrection-observed",
        severity=Severity.ERROR,
        summary="A `__del__` left its object referenced after it ran: the object was resurrected.",
        sections={
            "What it flags": "The `__del__` of a class defined in a checked file after which the "
            "object was still alive (seen through a weak reference taken in the finalizer, or "
            "through a larger reference count where the class has no weak references).",
            "Why it matters": "A finalizer runs at most once: the resurrected object will never be "
            "finalized again, and whatever it holds stays alive as long as its new referrer.",
            "Known limits": _KNOWN_LIMITS + " Only classes defined with a `class` statement in a checked file are watched.",
        },
    ),
    "GCL904": RuleInfo(
        code="GCL904",
        name="finalizer-exception-observed",
        severity=Severity.WARNING,
        summary="An exception escaped a finalizer (`__del__`, weakref callback) and was only printed.",
        sections={
            "What it flags": "The line that raised inside a finalizer, as reported to "
            "`sys.unraisablehook` during the run.",
            "Why it matters": "Python cannot propagate an exception out of a finalizer: it prints "
            "\"Exception ignored in\" and goes on, so the cleanup silently did not happen.",
            "Known limits": _KNOWN_LIMITS,
        },
    ),
    "GCL905": RuleInfo(
        code="GCL905",
        name="gc-collect-cost-observed",
        severity=Severity.INFO,
        summary="An explicit gc.collect() call site ran often or long during a run.",
        sections={
            "What it flags": "A `gc.collect()` call site that ran at least 10 times or took at "
            "least 0.1 s in all, with its calls, generations, objects reclaimed and time.",
            "Why it matters": "Each full collection walks every tracked object: its cost grows "
            "with the heap, not with the garbage it finds.",
            "Known limits": _KNOWN_LIMITS + " Times are CPU time of the collecting thread "
            "(a loaded machine does not inflate them), measured with the probe's own "
            "bookkeeping off, but tracemalloc is on, which slows allocation.",
        },
    ),
    "GCL906": RuleInfo(
        code="GCL906",
        name="growth-observed",
        severity=Severity.WARNING,
        summary="Run again and again (`--repeat N`), main() left more memory allocated at this line after every run.",
        sections={
            "What it flags": "A line of a checked file whose allocations still alive grew in every one "
            "of the N measured runs of main() after two warm-up runs, by at least 64 bytes in all "
            "(tracemalloc), or a class of a checked file whose live instances grew in every run; with a "
            "sample object made in the last run and the chain of references from a module global or "
            "class attribute that keeps it alive.",
            "Why it matters": "Memory that grows with every request, job or call is a leak in a "
            "long-running process even when no cycle is involved: a cache with no bound, listeners "
            "never removed, exceptions (with their tracebacks and frames) stored for later.",
            "Known limits": "Growth that stops after the warm-up runs (a cache filling once) is not "
            "reported; a bounded cache still filling after all the runs looks like a leak: more runs "
            "tell them apart. Strings and numbers have no gc identity, so their sample may come from "
            "an earlier run. On Python 3.11, tracemalloc does not know plain instances: their growth "
            "is placed at the class definition.",
        },
    ),
}

_CODE_FOR_KIND = {
    "cycle": "GCL901",
    "resource-warning": "GCL902",
    "resurrection": "GCL903",
    "finalizer-exception": "GCL904",
    "gc-call": "GCL905",
    "retained": "GCL906",
}


def code_for_evidence(kind: str) -> Optional[str]:
    """The code evidence of this kind is reported under when no finding explains it."""
    return _CODE_FOR_KIND.get(kind)
