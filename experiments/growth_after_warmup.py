"""Does "grew in every measured run after warm-up" tell a leak from a cache that fills once?"""
import collections, gc, sys, tracemalloc
cache, leaked = {}, []
def fills_once(): cache.setdefault("k", ["x"] * 100)            # fills on the first call only
def grows(): leaked.append(ValueError("boom %d" % len(leaked)))  # one more stored exception per call
def counts(): gc.collect(); return collections.Counter(type(o).__name__ for o in gc.get_objects())
def measure(run, warmup=2, runs=5):
    for _ in range(warmup): run()
    seen = [counts()]
    for _ in range(runs): run(); seen.append(counts())
    return {t: [b[t] - a[t] for a, b in zip(seen, seen[1:])] for t in set().union(*seen) if any(b[t] != a[t] for a, b in zip(seen, seen[1:]))}
tracemalloc.start()
print(sys.version.split()[0], "fills_once", measure(fills_once), "| grows", measure(grows))
