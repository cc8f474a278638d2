"""What gc.collect(0), gc.collect(1) and gc.collect() really free.

A reference cycle that is still reachable during a full collection is
promoted to the oldest generation. Once it becomes garbage, young
collections do not look at it; only a full collection (no argument, or 2)
frees it. Prints one JSON line; tests/test_gc_facts.py runs it on every
installed CPython.
"""
import gc
import json
import platform
import weakref


class Node:
    pass


def promoted_cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    gc.collect()  # a and b are reachable: they survive into the oldest generation
    return weakref.ref(a)


def main():
    gc.disable()
    result = {"version": platform.python_version()}
    for label, collect in (("gen0", lambda: gc.collect(0)), ("gen1", lambda: gc.collect(1)), ("full", gc.collect)):
        ref = promoted_cycle()
        collect()
        result[f"{label}_freed_promoted_cycle"] = ref() is None
        gc.collect()
    result["no_argument_means_generation_2"] = "full collection" in (gc.collect.__doc__ or "")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
