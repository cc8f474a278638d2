"""Growth over repeated runs: what a test or a target's main() keeps more of
every time it runs.

Stdlib only, loaded by path (by the probe in the child and by the pytest
plugin), like probe.py: it must not bring gclint's package, or libcst, into
the process it measures.

How one test or target is measured (`repeat`):
1. WARMUP_RUNS runs that are not measured: the first run fills caches,
   imports modules, interns names and specialises code; the second catches
   what the first one's measurement itself set up. Each is followed by a
   measurement, so the measured runs all see the same measuring code.
2. `runs` measured runs. After each: a full collection (cyclic garbage is
   not growth), then the live objects counted by type (gc.get_objects) and,
   when tracemalloc is tracing, the bytes and blocks still allocated by each
   line of the project (the innermost project frame of each trace).
3. A type or a line **keeps growing** when its count (or its bytes) rose in
   every one of the measured runs, compared with the run before: growth
   that stops after warm-up (a cache that fills once) shows a zero and is
   not reported; a line must also have grown by at least MIN_BYTES in all.
   Only counts are compared: no timing enters the decision. A bounded
   cache that is still filling after WARMUP_RUNS + runs runs looks the same
   as a leak: more runs tell them apart.
4. For what keeps growing: a sample object made in the last run, and the
   chain of references that keeps it alive, found by a breadth-first walk
   from the modules (their globals, their classes' attributes): the
   shortest chain from a long-lived root to the sample.

A chain (`chain_steps` in the report; `chain` is its one-line text) is a
list of steps, plain data for the text report and for pictures:
    {"type": "module", "name": "app.cache", "edge": None, "site": None}
    {"type": "dict", "name": None, "edge": {"kind": "attr", "label": "CACHE"}, "site": ["/p/app/cache.py", 3]}
    {"type": "list", "name": None, "edge": {"kind": "key", "label": "'k7'"}, "site": ["/p/app/cache.py", 9]}
`edge` is the reference from the previous step to this one: kind "attr"
(an attribute or a module global, the __dict__ hop folded in), "key" (a
dict key, as repr), "index" (list or tuple position), "cell" (a closure
variable), "item" (a set member, a deque entry) or "referent" (anything
else gc.get_referents reports). `site` is the step's allocation site (the
innermost project frame) under tracemalloc, else None; `name` is set for
modules, classes and functions.
"""
from __future__ import annotations

import collections
import gc
import os
import sys
import tracemalloc
import types

# Runs made before measuring starts (see the module docstring).
WARMUP_RUNS = 2
# Fewest measured runs that can say "grew every time" with some confidence.
MIN_RUNS = 2
# A line must hold at least this many more bytes after the measured runs.
MIN_BYTES = 64
# Growing types and lines reported per test or target, largest first.
MAX_REPORTED = 10
# Objects the chain search visits at most (a whole heap of a big suite is
# a few million); past that the chain is left out, and the report says so.
MAX_VISITED = 3000000
MAX_CHAIN_STEPS = 30
_LABEL_LENGTH = 60
# gclint's own files (the probe, the plugin, this module): what they allocate
# while the code runs (the probe's bookkeeping, per instance on 3.11) is never the project's.
_GCLINT_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep


class Measurement:
    """Live objects by type and project bytes by line, after one run."""

    __slots__ = ("counts", "sites")

    def __init__(self, counts, sites):
        # Plain dicts of str -> int: not tracked by gc, so never counted themselves.
        self.counts = counts
        self.sites = sites


class Meter:
    """Measures one test or target; `project_path(filename)` is the real path
    of a project file, or None for everything else."""

    def __init__(self, project_path, collect=None):
        self.project_path = project_path
        self.collect = collect or gc.collect
        self.measurements = []
        # Made here and filled later, so its own appearance is not growth of `set`.
        self.ids_before_last = set()
        self._type_names = {}
        # filename -> project path, None (not the project's) or "" (gclint's own)
        self._paths = {}

    def measure(self):
        self.collect()
        self.measurements.append(Measurement(self._count_types(), self._count_sites()))

    def remember_objects(self):
        """The ids alive now: a sample must be an object made after this."""
        self.collect()
        self.ids_before_last.clear()
        self.ids_before_last.update(id(o) for o in gc.get_objects())

    def _count_types(self):
        # Counter counts in C: a heap of a million objects in a fraction of a second.
        by_type = collections.Counter(map(type, gc.get_objects()))
        counts = {}
        names = self._type_names
        for cls, count in by_type.items():
            name = names.get(cls)
            if name is None:
                name = names[cls] = type_key(cls)
            counts[name] = counts.get(name, 0) + count
        by_type.clear()
        return counts

    def _count_sites(self):
        if not tracemalloc.is_tracing():
            return {}
        totals = {}
        paths = self._paths
        # Many blocks share one traceback: each is looked at once.
        sites = {}
        # Snapshot.filter_traces takes seconds on a big heap; the raw traces take a fraction.
        for trace in getattr(tracemalloc.take_snapshot().traces, "_traces", ()):
            site = sites.get(trace[2], False)
            if site is False:
                site = sites[trace[2]] = self._innermost(trace[2], paths)
            if site is not None:
                key = f"{site[0]}:{site[1]}"
                size, blocks = totals.get(key, (0, 0))
                totals[key] = (size + trace[1], blocks + 1)
        return {key: size for key, (size, _) in totals.items()}

    def site_of(self, obj):
        """[path, line]: the innermost project frame of the object's allocation."""
        trace = tracemalloc.get_object_traceback(obj) if tracemalloc.is_tracing() else None
        if trace is None:
            return None
        # A Traceback lists the oldest frame first; _innermost wants the newest.
        raw = getattr(trace, "_frames", None)
        frames = reversed(raw) if raw is not None else [(f.filename, f.lineno) for f in reversed(trace)]
        site = self._innermost(frames, self._paths)
        return list(site) if site else None

    def _innermost(self, frames, paths):
        for filename, line in frames or ():  # most recent frame first
            path = paths.get(filename, False)
            if path is False:
                path = paths[filename] = self.project_path(filename) if not is_gclint_file(filename) else ""
            if path == "":
                return None  # allocated by gclint, called from the project's code
            if path:
                return path, line
        return None


def is_gclint_file(filename):
    return os.path.realpath(filename).startswith(_GCLINT_DIR) if filename and not filename.startswith("<") else False


def type_key(cls):
    module = getattr(cls, "__module__", None) or "?"
    return f"{module}.{getattr(cls, '__qualname__', cls.__name__)}"


# -- deciding what keeps growing -------------------------------------------------


def growing(series, minimum=1):
    """The per-run increases when the value rose in every run and by at
    least `minimum` in all, else None. `series` is the values after the
    last warm-up run and after each measured run."""
    steps = [after - before for before, after in zip(series, series[1:])]
    if len(steps) < MIN_RUNS or min(steps) <= 0 or sum(steps) < minimum:
        return None
    return steps


def grown_types(measurements):
    """{type name: per-run increases} for every type that grew every run."""
    names = set().union(*(m.counts for m in measurements)) - {type_key(Measurement)}
    found = {}
    for name in names:
        steps = growing([m.counts.get(name, 0) for m in measurements])
        if steps:
            found[name] = steps
    return found


def grown_sites(measurements):
    """{"path:line": per-run byte increases} for every project line that grew every run."""
    keys = set().union(*(m.sites for m in measurements))
    found = {}
    for key in keys:
        steps = growing([m.sites.get(key, 0) for m in measurements], MIN_BYTES)
        if steps:
            found[key] = steps
    return found


# -- repeating a test or a target ----------------------------------------------------


def repeat(run_once, runs, meter):
    """Run `run_once` WARMUP_RUNS + `runs` times, measuring after each
    warm-up and measured run; the growth items (see report_items)."""
    for _ in range(WARMUP_RUNS):
        run_once()
    meter.measure()
    for number in range(runs):
        if number == runs - 1:
            meter.remember_objects()
        run_once()
        meter.measure()
    return report_items(meter, runs)


def report_items(meter, runs):
    """One item per project line that grew every run (with the types of the
    objects it made, a sample and its chain), then one per project class
    whose instances grew with no growing line to show for them."""
    measurements = meter.measurements[-(runs + 1):]
    types_grown = grown_types(measurements)
    sites_grown = grown_sites(measurements)
    samples = Samples(meter, types_grown, sites_grown)
    items = [_site_item(key, steps, samples, runs) for key, steps in _largest(sites_grown)]
    shown = {name for item in items for name in item.get("types", {})}
    for name, steps in _largest(types_grown):
        if name.rpartition(".")[2] not in shown and samples.project_class_site(name):
            items.append(_type_item(name, steps, samples, runs))
    # Lines whose objects gc does not track (strings, numbers) get their sample during the walk.
    unsampled = {item["_key"] for item in items if item["_sample"] is None and item.get("_key")}
    walk = Walk(meter, [item["_sample"] for item in items if item["_sample"] is not None], samples, unsampled)
    for item in items:
        _attach_chain(item, samples, walk)
    walk.release()
    samples.release()
    return merge_by_holder(items)[:MAX_REPORTED]


def _attach_chain(item, samples, walk):
    sample = item.pop("_sample")
    key = item.pop("_key", None)
    if sample is None and key:
        sample = samples.at_site(key)
        item["types"] = samples.types_at_site(key)
        item["message"] = _site_message(item)
    chain = walk.chain_to(sample) if sample is not None else None
    if chain is not None:
        item["chain_steps"] = chain
        item["chain"] = chain_text(chain)
        item["message"] += f"; kept by {item['chain']}"
    elif walk.truncated:
        item["chain_missing"] = f"the chain search stopped at its limit of {MAX_VISITED} objects"


def merge_by_holder(items):
    """Lines whose grown objects sit in the same container (the chain up to
    its first key, index or item) are one leak: one item with the other
    lines in its `sites`. The item shown is the one whose sample the
    container holds directly (the shortest chain: the cached value, the
    listener, the stored exception), not what hangs off it."""
    groups = {}
    order = []
    for item in items:
        holder = _holder(item.get("chain_steps")) or id(item)
        if holder not in groups:
            groups[holder] = []
            order.append(holder)
        groups[holder].append(item)
    return [_merged(groups[holder]) for holder in order]


def _merged(group):
    shown = min(group, key=lambda i: (len(i.get("chain_steps") or ()), -i.get("bytes", i.get("objects", 0))))
    for item in group:
        site = [item["path"], item["line"]]
        if item is not shown and site != [shown["path"], shown["line"]] and site not in shown.setdefault("sites", []):
            shown["sites"].append(site)
    if shown.get("sites"):
        shown["message"] += "; also growing, in the same container: " + ", ".join(f"{os.path.basename(path)}:{line}" for path, line in shown["sites"])
    return shown


def _holder(steps):
    if not steps:
        return None
    for position, step in enumerate(steps):
        edge = step.get("edge")
        if position and edge and edge["kind"] in ("key", "index", "item"):
            return chain_text(steps[:position])
    return None


def _largest(grown):
    return sorted(grown.items(), key=lambda pair: (-sum(pair[1]), pair[0]))[:MAX_REPORTED]


def _site_item(key, steps, samples, runs):
    path, _, line = key.rpartition(":")
    sample = samples.at_site(key)
    types_made = samples.types_at_site(key)
    item = {
        "kind": "retained", "path": path, "line": int(line), "runs": runs, "warmup_runs": WARMUP_RUNS,
        "bytes": sum(steps), "bytes_per_run": steps, "types": types_made, "grown_by": "allocation site",
    }
    item["message"] = _site_message(item)
    item["_key"] = key
    return _with_sample(item, sample)


def _type_item(name, steps, samples, runs):
    site = samples.project_class_site(name)
    sample = samples.of_type(name)
    allocated = samples.site_of(sample) if sample is not None else None
    where = allocated or site
    item = {
        "kind": "retained", "path": where[0], "line": where[1], "runs": runs, "warmup_runs": WARMUP_RUNS,
        "objects": sum(steps), "objects_per_run": steps, "types": {name.rpartition(".")[2]: sum(steps)},
        "grown_by": "allocation site" if allocated else "class definition",
    }
    item["message"] = f"{sum(steps)} more {name.rpartition('.')[2]} objects alive after {runs} runs ({_per_run(steps)}): they keep growing"
    return _with_sample(item, sample)


def _with_sample(item, sample):
    item["_sample"] = sample
    return item


def _site_message(item):
    made = ", ".join(sorted(item["types"], key=lambda n: (-item["types"][n], n))[:4])
    what = f" ({made})" if made else ""
    return f"{_size(item['bytes'])} more allocated here still held after {item['runs']} runs{what}, {_per_run(item['bytes_per_run'])}: it keeps growing"


def _per_run(steps):
    return "+" + ", +".join(str(s) for s in steps) + " per run"


def _size(count):
    for unit in ("B", "KiB", "MiB"):
        if count < 1024 or unit == "MiB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"


# -- samples of what grew ------------------------------------------------------------


class Samples:
    """Objects made in the last measured run, looked up by type or by site."""

    def __init__(self, meter, types_grown, sites_grown):
        self.meter = meter
        self.by_type = {}
        self.by_site = {}
        self.site_types = {}
        self._find(set(types_grown), set(sites_grown))

    def _find(self, type_names, site_keys):
        before = self.meter.ids_before_last
        tracing = tracemalloc.is_tracing()
        for obj in gc.get_objects():
            if id(obj) not in before:
                self._consider(obj, type_names, site_keys, tracing)

    def offer_untracked(self, obj, site_keys):
        """Strings, bytes and numbers are not in gc.get_objects(): the walk
        offers each one it meets. The last one met on the walk's level is
        kept: dicts and lists keep insertion order, the newest last."""
        key = self._site_key(obj)
        if key in site_keys:
            self.by_site[key] = obj
            self._count_type(key, obj)

    def _count_type(self, key, obj):
        counts = self.site_types.setdefault(key, {})
        short = type(obj).__name__
        counts[short] = counts.get(short, 0) + 1

    def _consider(self, obj, type_names, site_keys, tracing):
        name = type_key(type(obj))
        if name in type_names and name not in self.by_type:
            self.by_type[name] = obj
        if not tracing or not site_keys:
            return
        key = self._site_key(obj)
        if key in site_keys:
            self.by_site.setdefault(key, obj)
            self._count_type(key, obj)

    def _site_key(self, obj):
        site = self.site_of(obj)
        return f"{site[0]}:{site[1]}" if site else None

    def site_of(self, obj):
        return self.meter.site_of(obj)

    def at_site(self, key):
        return self.by_site.get(key)

    def types_at_site(self, key):
        return dict(self.site_types.get(key, {}))

    def of_type(self, name):
        return self.by_type.get(name)

    def project_class_site(self, name):
        """Where a project class is defined (its first method), None for other types."""
        cls = type(self.by_type[name]) if name in self.by_type else None
        if cls is None:
            return None
        module = sys.modules.get(cls.__module__)
        path = self.meter.project_path(getattr(module, "__file__", None) or "")
        if not path:
            return None
        for value in vars(cls).values():
            code = getattr(getattr(value, "__func__", value), "__code__", None)
            if code is not None and self.meter.project_path(code.co_filename):
                return [path, code.co_firstlineno]
        return [path, 1]

    def release(self):
        self.by_type.clear()
        self.by_site.clear()


# -- the chain that keeps a sample alive ------------------------------------------------


class Walk:
    """Breadth first over gc.get_referents from the modules: the parent of
    each object reached, until every wanted sample is reached and every
    line that wants an untracked sample has one, at most MAX_VISITED objects."""

    def __init__(self, meter, wanted, samples, unsampled):
        self.meter = meter
        self.parents = {}
        self.truncated = False
        if wanted or unsampled:
            self._walk({id(s) for s in wanted}, samples, unsampled)

    def _walk(self, wanted, samples, unsampled):
        parents = self.parents
        frontier = []
        for module in _roots(self.meter):
            if id(module) not in parents:
                parents[id(module)] = (module, None)
                frontier.append(module)
        own = {id(parents), id(frontier), id(wanted), id(self), id(samples), id(self.meter), id(self.meter.measurements)}
        missing = set(wanted) - set(parents)
        # Once every line has a sample the walk stops: the breadth-first level it is on is finished.
        while frontier and (missing or not set(unsampled) <= set(samples.by_site)):
            if len(parents) >= MAX_VISITED:
                self.truncated = True
                return
            frontier = self._step(frontier, own, missing, samples, unsampled)

    def _step(self, frontier, own, missing, samples, unsampled):
        parents = self.parents
        following = []
        for obj in frontier:
            for ref in gc.get_referents(obj):
                key = id(ref)
                if key in parents or key in own:
                    continue
                parents[key] = (ref, obj)
                following.append(ref)
                missing.discard(key)
                if unsampled and not gc.is_tracked(ref):
                    samples.offer_untracked(ref, unsampled)
        return following

    def chain_to(self, sample):
        if id(sample) not in self.parents:
            return None
        return _steps(_path_to(sample, self.parents), self.meter)

    def release(self):
        self.parents.clear()


def _roots(meter):
    """Modules, the project's first: of two equally short chains, the one
    through the project's own globals is the one worth showing."""
    modules = [m for m in list(sys.modules.values()) if isinstance(m, types.ModuleType)]
    ours = [m for m in modules if meter.project_path(getattr(m, "__file__", None) or "")]
    return ours + [m for m in modules if not meter.project_path(getattr(m, "__file__", None) or "")]


def _path_to(sample, parents):
    path = [sample]
    while len(path) <= MAX_CHAIN_STEPS * 2:
        parent = parents[id(path[-1])][1]
        if parent is None:
            break
        path.append(parent)
    path.reverse()
    return path


def _steps(path, meter):
    """The path as chain steps, each object's own __dict__ folded into the edge."""
    steps = [_step(path[0], None, meter)]
    position = 1
    while position < len(path):
        holder, target = path[position - 1], path[position]
        if _is_own_dict(holder, target) and position + 1 < len(path):
            value = path[position + 1]
            steps.append(_step(value, {"kind": "attr", "label": _key_label(target, value, attribute=True)}, meter))
            position += 2
            continue
        steps.append(_step(target, _edge(holder, target), meter))
        position += 1
    return steps[:MAX_CHAIN_STEPS]


def _step(obj, edge, meter):
    name = None
    if isinstance(obj, (types.ModuleType, type, types.FunctionType)):
        name = getattr(obj, "__name__", None)
    return {"type": type(obj).__name__, "name": name, "edge": edge, "site": meter.site_of(obj)}


def _is_own_dict(holder, target):
    if not isinstance(target, dict):
        return False
    if isinstance(holder, type):
        # A class shows a read-only proxy of its dict, never the dict itself.
        attributes = vars(holder)
        return len(attributes) == len(target) and all(attributes.get(k, target) is v for k, v in list(target.items()))
    try:
        return object.__getattribute__(holder, "__dict__") is target
    except Exception:  # no __dict__, or a hostile __getattribute__
        return False


def _edge(holder, target):
    if isinstance(holder, dict):
        return {"kind": "key", "label": _key_label(holder, target)}
    if isinstance(holder, (list, tuple)):
        index = next((i for i, v in enumerate(holder) if v is target), None)
        return {"kind": "index", "label": str(index) if index is not None else None}
    if isinstance(holder, (set, frozenset)) or type(holder).__name__ == "deque":
        return {"kind": "item", "label": None}
    if isinstance(holder, types.CellType if hasattr(types, "CellType") else ()):
        return {"kind": "cell", "label": None}
    if isinstance(holder, types.FunctionType) and holder.__closure__ and target in holder.__closure__:
        index = holder.__closure__.index(target)
        names = holder.__code__.co_freevars
        return {"kind": "cell", "label": names[index] if index < len(names) else None}
    return {"kind": "attr", "label": _attribute_name(holder, target)} if _attribute_name(holder, target) else {"kind": "referent", "label": None}


def _attribute_name(holder, target):
    for attribute in ("__self__", "__func__", "__traceback__", "__context__", "__cause__", "tb_next", "__defaults__", "__kwdefaults__"):
        try:
            if getattr(holder, attribute, None) is target:
                return attribute
        except Exception:  # a hostile property
            continue
    try:
        attributes = object.__getattribute__(holder, "__dict__")
    except Exception:  # no __dict__
        return None
    return next((k for k, v in list(attributes.items()) if v is target and isinstance(k, str)), None)


def _key_label(holder, target, attribute=False):
    key = next((k for k, v in list(holder.items()) if v is target), None)
    if key is None:
        # The key itself is what the dict holds (a key, not a value).
        key = next((k for k in list(holder) if k is target), None)
        return f"key {_short(key)}" if key is not None else None
    return key if attribute and isinstance(key, str) else _short(key)


def _short(value):
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ in the code measured
        text = type(value).__name__
    return text if len(text) <= _LABEL_LENGTH else text[:_LABEL_LENGTH - 3] + "..."


def chain_text(steps):
    """`module app.cache .CACHE -> dict ['k7'] -> list`: one line per chain."""
    parts = []
    for step in steps:
        what = step["type"] + (f" {step['name']}" if step.get("name") and step["type"] in ("module", "type") else "")
        edge = step.get("edge")
        if edge is None:
            parts.append(what)
        elif edge["kind"] == "attr":
            parts.append(f".{edge['label']} -> {what}")
        elif edge["kind"] in ("key", "index"):
            parts.append(f"[{edge['label']}] -> {what}")
        elif edge["kind"] == "cell":
            parts.append(f"(closure {edge['label'] or '?'}) -> {what}")
        else:
            parts.append(f"-> {what}")
    return " ".join(parts)


def project_path_under(root):
    """A project_path for files under `root` that are not installed packages."""
    prefix = os.path.realpath(root) + os.sep
    installed = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    known = {}

    def project_path(filename):
        if not filename or filename.startswith("<"):
            return None
        if filename not in known:
            real = os.path.realpath(filename)
            ours = real.startswith(prefix) and not real.startswith(installed) and "site-packages" not in real
            known[filename] = real if ours else None
        return known[filename]

    return project_path
