"""What repeated full collections cost and what each one frees (GCL402).

Builds a heap shaped like a long-running service (a few hundred thousand
tracked objects: instances with dict attributes, lists, nested containers),
then measures:
- the time of one full `gc.collect()` on that heap, and of N in a row;
- for garbage whose finalizers release further cycles (the reason code
  collects "a few times to settle"), how many objects each successive
  collection frees.
Prints one JSON object. Run: python experiments/gc_collect_repeat_cost.py [objects]
"""
import gc
import json
import sys
import time


class Record:
    def __init__(self, i):
        self.id = i
        self.tags = [str(i), "x"]
        self.meta = {"n": i, "parent": None}


def build_heap(count):
    records = [Record(i) for i in range(count)]
    for a, b in zip(records, records[1:]):
        a.meta["parent"] = b  # long chains, like an object graph
    return records


class Holder:
    """A cycle whose finalizer drops a reference to another cycle."""

    def __init__(self, inner):
        self.me = self
        self.inner = inner

    def __del__(self):
        # Hands the inner cycle to a new cycle that only a later collection sees.
        later = [self.inner]
        later.append(later)


def nested_garbage(depth, width):
    for _ in range(width):
        inner = None
        for _ in range(depth):
            inner = Holder(inner)


def timed_collections(rounds):
    start = time.perf_counter()
    for _ in range(rounds):
        gc.collect()
    return time.perf_counter() - start


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300_000
    gc.disable()
    heap = build_heap(count)
    gc.collect()
    tracked = len(gc.get_objects())
    per_round = {str(n): round(timed_collections(n) * 1000, 1) for n in (1, 2, 3, 5, 10)}
    nested_garbage(depth=3, width=1000)
    freed = [gc.collect() for _ in range(6)]
    print(json.dumps({
        "python": sys.version.split()[0],
        "tracked_objects": tracked,
        "ms_for_n_full_collections": per_round,
        "objects_freed_by_successive_collections": freed,
    }))
    del heap


if __name__ == "__main__":
    main()
