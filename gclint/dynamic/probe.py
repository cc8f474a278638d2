"""gclint's dynamic-mode probe: runs one target under gc inspection.

Run by path in the child (gclint's pytest plugin imports only its pure
cycle-graph helpers: strongly_connected, cycle_chain, reference_label): any
CPython 3.9-3.13 can run it with the standard library alone, in the user's
own environment:

    python probe.py CONFIG.json        (or: python -X tracemalloc=N probe.py CONFIG.json)

CONFIG (written by gclint.dynamic.child) names the target, the watched files
(the files gclint checked), the tracemalloc depth and the evidence file to
write. tracemalloc starts (or, under -X tracemalloc, restarts its traces)
right after a main() target is imported (before, with "trace_imports"), and
before a program (--run) starts. While the target
runs, automatic collection stays off; the probe collects itself at
checkpoints (each explicit gc.collect() of the target, after the target
returns, at exit) with DEBUG_SAVEALL, records the unreachable objects, then
frees them for real.
"""
from __future__ import annotations

import atexit
import builtins
import dis
import faulthandler
import gc
import importlib.util
import json
import operator
import os
import re
import runpy
import signal
import sys
import threading
import time
import tracemalloc
import types
import warnings
import weakref

_HERE = os.path.dirname(os.path.realpath(__file__))
# Running a script by path puts its directory first on sys.path; the
# target must not import the probe's siblings by accident.
if sys.path and os.path.realpath(sys.path[0] or os.curdir) == _HERE:
    del sys.path[0]

_GC_NAMES = ("collect", "enable", "disable", "isenabled", "set_debug", "get_debug", "set_threshold", "get_threshold")
_REAL_GC = {name: getattr(gc, name) for name in _GC_NAMES}
_REAL_OS_EXIT = os._exit
_REAL_BUILD_CLASS = builtins.__build_class__
# How many reference-chain steps and resurrection referrers are worth describing.
_CHAIN_STEPS = 12
_DESCRIBED_RESURRECTIONS = 20
_RETAINED_SITES = 20
# At most this many instance sites are noted on 3.11 (live ones, once
# pruned), each with this many watched frames.
_MAX_INSTANCE_SITES = 40000
_INSTANCE_FRAMES = 5
# Garbage objects examined one by one at a checkpoint; the rest are counted.
_EXAMINED_OBJECTS = 20000
# How many objects of one cycle are looked up in tracemalloc, and sites kept.
_TRACED_MEMBERS = 200
_MAX_SITES = 20
# Below this, growth at a line is interpreter bookkeeping (caches, interned names).
_RETAINED_MIN_BYTES = 1024


class Watched:
    """The files gclint checked: only code in them is traced and blamed."""

    def __init__(self, files):
        self.files = set(files)
        self.added = set()
        self._known = {}

    def add(self, path):
        real = os.path.realpath(path)
        if real not in self.files:
            self.added.add(real)
        self.files.add(real)
        self._known.clear()

    def path(self, filename):
        """The real path of `filename` when it is watched, else None."""
        known = self._known.get(filename, False)
        if known is False:
            real = os.path.realpath(filename) if filename and not filename.startswith("<") else ""
            known = real if real in self.files else None
            self._known[filename] = known
        return known

    def frame_site(self, frame):
        """[path, line] of the innermost watched frame, starting at `frame`."""
        while frame is not None:
            path = self.path(frame.f_code.co_filename)
            if path:
                return [path, frame.f_lineno]
            frame = frame.f_back
        return None

    def traceback_site(self, tb):
        site = None
        while tb is not None:
            path = self.path(tb.tb_frame.f_code.co_filename)
            if path:
                site = [path, tb.tb_lineno]
            tb = tb.tb_next
        return site

    def allocation_frames(self, obj):
        """Watched frames of the object's allocation, innermost first: empty
        when a library allocated it (even on the target's behalf, as an
        import does), None when tracemalloc does not know the object."""
        trace = tracemalloc.get_object_traceback(obj)
        if trace is None:
            return None
        frames = []
        for frame in reversed(list(trace)):
            path = self.path(frame.filename)
            if path:
                frames.append([path, frame.lineno])
            elif not frames:
                return []
        return frames


def _rss_bytes():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _sizeof(obj):
    try:
        return sys.getsizeof(obj)
    except Exception:  # a broken __sizeof__ in the target is not our problem
        return 0


def _error_text(exc):
    text = str(exc)
    return type(exc).__name__ + (": " + text[:300] if text else "")


class Recorder:
    """Everything the probe observes, and how it is written out."""

    def __init__(self, config):
        self.config = config
        self.pid = os.getpid()
        self.watched = Watched(config["watched"])
        self.outcome = {"status": "running"}
        self.lines = {}
        self.cycles = {}
        self.resurrections = {}
        self.warnings = {}
        self.finalizer_errors = {}
        self.gc_calls = {}
        self.state_changes = {}
        self.retained = []
        self.checkpoints = []
        self.other_garbage = {"objects": 0, "bytes": 0}
        self.pending_finalized = []
        self.handed_to_target = set()
        self.classes = weakref.WeakKeyDictionary()
        # The target starts with the interpreter's defaults, whatever the probe does.
        self.virtual = {"enabled": True, "debug": gc.get_debug(), "threshold": list(gc.get_threshold())}
        self.open_changes = {}
        self.rss = {"start": _rss_bytes()}
        self.warning_log = []
        self.busy = threading.RLock()
        self.collecting = False
        self.probe_errors = []
        self.kept_namespaces = []
        # Python 3.11 only: tracemalloc does not find plain instances, so the
        # line tracer notes where each __init__ of a watched class was called.
        self.track_instances = False
        # tracemalloc's depth when it starts only after a main() target's import (0: not so).
        self.trace_after_import = 0
        self.init_codes = set()
        self.instance_sites = {}
        # `--run "-m pytest ..."`: gclint's pytest plugin watches each test;
        # its results are read from the session's config when evidence is written.
        self.pytest_config = None
        # Off under pytest, whose plugin collects per test with automatic collection on.
        self.checkpoints_wanted = True

    # -- output -------------------------------------------------------------

    def write(self):
        data = {
            "version": 1,
            "python": sys.version.split()[0],
            "outcome": self.outcome,
            "evidence": self._evidence(),
            "lines": {path: sorted(lines) for path, lines in list(self.lines.items())},
            "rss": self.rss,
            "gc_at_exit": dict(self.virtual),
            "checkpoints": self.checkpoints,
            "other_garbage": self.other_garbage,
            "probe_errors": self.probe_errors[:10],
            "added_files": sorted(self.watched.added),
        }
        target = self.config["evidence"]
        with open(target + ".tmp", "w") as out:
            json.dump(data, out)
        os.replace(target + ".tmp", target)

    def _evidence(self):
        items = []
        for group in (self.cycles, self.resurrections, self.warnings, self.finalizer_errors, self.gc_calls):
            items.extend(group.values())
        items.extend(self._state_evidence())
        items.extend(self.retained)
        items.extend(self._test_evidence())
        return items

    def _test_evidence(self):
        """What gclint's pytest plugin saw in each test, as evidence items
        naming the tests, placed at a watched line (or left out)."""
        config = self.pytest_config
        inspector = config.pluginmanager.get_plugin("gclint-inspector") if config is not None else None
        if inspector is None:
            return []
        merged = {}
        for result in list(inspector.results.values()):
            for evidence in list(result["evidence"]):
                item = _from_test(evidence, self.watched) if not evidence.get("allowed") else None
                if item is not None:
                    _merge_test_item(merged, item, result["nodeid"])
        return list(merged.values())

    def _state_evidence(self):
        items = []
        for item in self.state_changes.values():
            shown = dict(item)
            shown["at_exit"] = any(c["site"] == [item["path"], item["line"]] for c in self.open_changes.values())
            items.append(shown)
        return items

    def keep(self, namespace):
        """A program's globals live until exit, as its __main__ would; let go,
        its functions and their globals would all look like cyclic garbage."""
        self.kept_namespaces.append(namespace)

    def note_error(self, where, exc):
        self.probe_errors.append(where + ": " + _error_text(exc))

    # -- executed lines -----------------------------------------------------

    def line_set(self, path):
        lines = self.lines.get(path)
        if lines is None:
            lines = self.lines[path] = set()
        return lines

    # -- allocation sites ---------------------------------------------------

    def allocation_frames(self, obj):
        frames = self.watched.allocation_frames(obj)
        if frames is not None or not self.instance_sites:
            return frames
        entry = self.instance_sites.get(id(obj))
        # A dead reference is fine: the collection clears weak references to
        # the garbage it saves; the type check guards against a reused id.
        if entry and entry[1]() is type(obj) and entry[0]() in (obj, None):
            return entry[2]
        return None

    def note_instance(self, frame):
        """Where a watched class's __init__ was called from, for 3.11."""
        code = frame.f_code
        obj = frame.f_locals.get(code.co_varnames[0]) if code.co_argcount else None
        if obj is None or not type(obj).__weakrefoffset__:
            return
        entry = self.instance_sites.get(id(obj))
        if entry and entry[0]() is obj:
            return  # a base class's __init__, called from the subclass's
        frames = []
        caller = frame.f_back
        while caller is not None and len(frames) < _INSTANCE_FRAMES:
            path = self.watched.path(caller.f_code.co_filename)
            if path:
                frames.append([path, caller.f_lineno])
            caller = caller.f_back
        if frames:
            # Weakly, the class too: the probe must not keep a class alive
            # after its last instance (a suite checking that a class is freed fails).
            self.instance_sites[id(obj)] = (weakref.ref(obj), weakref.ref(type(obj)), frames)
        if len(self.instance_sites) >= _MAX_INSTANCE_SITES:
            self.prune_instance_sites()
            if len(self.instance_sites) >= _MAX_INSTANCE_SITES // 2:
                # Each note costs tens of microseconds: enough is known.
                self.init_codes.clear()

    def prune_instance_sites(self):
        """Forget instances that are gone (never during a collection: then a
        dead reference may belong to garbage not yet recorded)."""
        for key in [k for k, entry in self.instance_sites.items() if entry[0]() is None]:
            del self.instance_sites[key]

    # -- gc state, as the target sees it -----------------------------------

    def set_state(self, key, value, call, frame):
        self.virtual[key] = value
        site = self.watched.frame_site(frame)
        off = _collection_hindered(key, value)
        if off and key not in self.open_changes and site:
            self.open_changes[key] = {"site": site, "since": time.perf_counter(), "kept": 0}
            self._note_state_call(site, call, key)
        elif not off and key in self.open_changes:
            self._close_change(key, site)

    def _note_state_call(self, site, call, key):
        item = self.state_changes.get(tuple(site))
        if item is None:
            item = self.state_changes[tuple(site)] = {
                "kind": "gc-state", "path": site[0], "line": site[1], "call": call,
                "effect": _EFFECTS[key], "calls": 0, "seconds": 0.0, "restored_at": None, "kept_objects": 0,
            }
        item["calls"] += 1

    def _close_change(self, key, site):
        change = self.open_changes.pop(key)
        item = self.state_changes[tuple(change["site"])]
        item["seconds"] += time.perf_counter() - change["since"]
        item["kept_objects"] += change["kept"]
        item["restored_at"] = site

    def target_saves_all(self):
        return bool(self.virtual["debug"] & gc.DEBUG_SAVEALL)

    # -- collections --------------------------------------------------------

    def collect_for_target(self, generation, frame):
        site = self.watched.frame_site(frame)
        with self.busy:
            if self.collecting:  # a finalizer collecting inside our own collection
                return _REAL_GC["collect"](generation)
            self.collecting = True
            try:
                found, saved = self._collect_saving(generation, site)
                self._free_for_real(saved)
            finally:
                self.collecting = False
        return found

    def checkpoint(self, label):
        with self.busy:
            self.collecting = True
            try:
                _, saved = self._collect_saving(2, None, label)
                self._free_for_real(saved)
            finally:
                self.collecting = False

    def _collect_saving(self, generation, site, label=None):
        """The target's collection, under DEBUG_SAVEALL so that what it finds
        can be looked at; returns what gc.collect() would have returned."""
        start = len(gc.garbage)
        # CPU time of this thread: what the collection cost, not how long a
        # loaded machine kept the process waiting (GCL905 has a threshold).
        began = time.thread_time()
        found = _collect_with_saveall(generation)
        seconds = time.thread_time() - began
        reclaimed = len(gc.garbage) - start
        if generation < 2 and not self.target_saves_all():
            # What the young collection left behind in older generations.
            _collect_with_saveall(2)
        missed = len(gc.garbage) - start - reclaimed
        if label is None:
            label = "gc.collect(%d) at %s:%d" % (generation, os.path.basename(site[0]), site[1]) if site else "gc.collect()"
        if site:
            self._note_gc_call(site, generation, reclaimed, missed, seconds)
        self._settle(start, label)
        return found, reclaimed + missed

    def _note_gc_call(self, site, generation, reclaimed, missed, seconds):
        item = self.gc_calls.get(tuple(site))
        if item is None:
            item = self.gc_calls[tuple(site)] = {
                "kind": "gc-call", "path": site[0], "line": site[1], "calls": 0, "generations": [],
                "reclaimed": 0, "missed_in_older_generations": 0, "seconds": 0.0,
            }
        item["calls"] += 1
        item["reclaimed"] += reclaimed
        item["missed_in_older_generations"] += missed
        item["seconds"] += seconds
        if generation not in item["generations"]:
            item["generations"].append(generation)

    def _settle(self, start, label):
        """Record the garbage our collections saved, then let it go (or leave
        it in gc.garbage when the target asked for DEBUG_SAVEALL itself)."""
        saved = gc.garbage[start:]
        if self.target_saves_all():
            self.handed_to_target.update(id(o) for o in saved)
            for change in self.open_changes.values():
                change["kept"] += len(saved)
            return
        del gc.garbage[start:]
        ours = saved
        if self.handed_to_target:
            ours = [o for o in saved if id(o) not in self.handed_to_target]
            self.handed_to_target.difference_update(id(o) for o in saved)
        del saved
        try:
            self._record_garbage(ours, label)
        except Exception as exc:  # the probe must never break the target
            self.note_error("recording garbage", exc)

    def _free_for_real(self, saved):
        # Only what our own collection just saved is unreachable now.
        if saved and not self.target_saves_all():
            _REAL_GC["collect"](2)
        self._check_resurrections()
        self.drain_warnings()
        if self.instance_sites:
            self.prune_instance_sites()

    # -- cyclic garbage -----------------------------------------------------

    def _record_garbage(self, objects, label):
        # Every object looked at costs traced allocations of our own: past a
        # sample, garbage is only counted (its bytes estimated from the sample).
        sample = objects[:_EXAMINED_OBJECTS]
        sampled = sum(_sizeof(o) for o in sample)
        total = sampled * len(objects) // len(sample) if sample else 0
        checkpoint = {"label": label, "objects": len(objects), "bytes": total}
        if len(sample) < len(objects):
            checkpoint["examined"] = len(sample)
        self.checkpoints.append(checkpoint)
        cycles, hangers_on = strongly_connected(sample)
        for members in cycles:
            self._record_cycle(members, label, checkpoint)
        # Freed along with a cycle that holds them, but not part of one.
        self.other_garbage["objects"] += len(hangers_on)
        self.other_garbage["bytes"] += sum(_sizeof(o) for o in hangers_on)

    def _record_cycle(self, members, label, checkpoint):
        sizes = sum(_sizeof(o) for o in members)
        classes = self._watched_classes(members)
        traced = self._traced_members(members)
        code_sites = [site for site in map(self._code_site, members[:_TRACED_MEMBERS]) if site]
        site, frames, via = _primary_site(traced, members, classes, code_sites)
        if site is None:
            self.other_garbage["objects"] += len(members)
            self.other_garbage["bytes"] += sizes
            return
        counts = {}
        for obj in members:
            name = type(obj).__name__
            counts[name] = counts.get(name, 0) + 1
        key = (tuple(sorted(counts)), tuple(site))
        item = self.cycles.get(key)
        if item is None:
            steps = self._steps(members)
            item = self.cycles[key] = {
                "kind": "cycle", "path": site[0], "line": site[1], "frames": _all_frames(frames, traced), "site_from": via,
                "sites": self._member_sites(traced, members), "classes": classes, "types": {},
                "objects": 0, "bytes": 0, "cycles": 0, "chain": chain_text(steps), "checkpoints": [],
                "steps": steps,
            }
        elif len(item["sites"]) < _MAX_SITES:
            # Another cycle of the same shape made at the same place: its
            # members may run other code (two frames, each kept by itself).
            item["sites"].extend(s for s in self._member_sites(traced, members) if s not in item["sites"])
            del item["sites"][_MAX_SITES:]
        item["cycles"] += 1
        item["objects"] += len(members)
        item["bytes"] += sizes
        for name, count in counts.items():
            item["types"][name] = item["types"].get(name, 0) + count
        if label not in item["checkpoints"] and len(item["checkpoints"]) < 5:
            item["checkpoints"].append(label)
        if "examined" in checkpoint:
            item["sampled"] = {"examined": checkpoint["examined"], "garbage": checkpoint["objects"]}

    def _steps(self, members):
        """The cycle's steps with each member's allocation site (see cycle_steps)."""

        def site_of(obj):
            frames = self.allocation_frames(obj)
            return frames[0] if frames else None

        return cycle_steps(members, site_of)

    def _watched_classes(self, members):
        found = []
        for obj in members:
            where = self.classes.get(type(obj))
            if where and where not in found:
                found.append(where)
        return found

    def _traced_members(self, members):
        """(object, watched allocation frames) for members tracemalloc knows,
        best witnesses first: instances of watched classes, then functions
        and frames (they name code), then the most deeply traced."""
        traced = []
        for obj in members[:_TRACED_MEMBERS]:
            frames = self.allocation_frames(obj)
            if frames:
                traced.append((obj, frames))
        traced.sort(key=lambda pair: (type(pair[0]) not in self.classes, not _names_code(pair[0]), -len(pair[1])))
        return traced

    def _member_sites(self, traced, members):
        """Every watched place the cycle's objects come from: where each was
        allocated, and the code of its functions and frames."""
        sites = []
        for _, frames in traced:
            if frames[0] not in sites:
                sites.append(frames[0])
        for obj in members[:_TRACED_MEMBERS]:
            site = self._code_site(obj)
            if site and site not in sites:
                sites.append(site)
        return sites[:_MAX_SITES]

    def _code_site(self, obj):
        if isinstance(obj, types.FunctionType):
            path = self.watched.path(obj.__code__.co_filename)
            return [path, obj.__code__.co_firstlineno] if path else None
        if isinstance(obj, types.FrameType):
            path = self.watched.path(obj.f_code.co_filename)
            return [path, obj.f_lineno] if path else None
        return None

    # -- finalizers ---------------------------------------------------------

    def after_finalizer(self, obj, original, refcount_grew):
        # The finalizer's code, not the class or the function (whose __class__
        # cell may hold the class): a finalized object's class must be free to go.
        info = {"code": original.__code__, "refcount_grew": refcount_grew}
        if type(obj).__weakrefoffset__:
            # Now, before a resurrection makes tracemalloc re-trace the object.
            info["frames"] = self.allocation_frames(obj)
            self.pending_finalized.append((weakref.ref(obj), info))
        elif refcount_grew:
            self._record_resurrection(obj, info, "reference count")

    def _check_resurrections(self):
        """An object still alive after the interpreter finalized it (and after
        our collection) was resurrected by its finalizer."""
        waiting = []
        for ref, info in self.pending_finalized:
            obj = ref()
            if obj is None:
                continue
            if gc.is_finalized(obj):
                self._record_resurrection(obj, info, "weak reference")
            else:
                waiting.append((ref, info))  # __del__ called by hand on a live object
            del obj
        self.pending_finalized = waiting

    def _record_resurrection(self, obj, info, method):
        cls, code = type(obj), info["code"]
        where = self.classes.get(cls) or {"name": cls.__qualname__, "path": None, "line": None}
        key = (cls.__qualname__, code.co_filename, code.co_firstlineno)
        item = self.resurrections.get(key)
        if item is None:
            frames = info.get("frames") or self.allocation_frames(obj) or []
            item = self.resurrections[key] = {
                "kind": "resurrection", "path": self.watched.path(code.co_filename) or code.co_filename,
                "line": code.co_firstlineno, "classes": [where], "frames": frames, "objects": 0,
                "detected_by": method, "refcount_grew": info["refcount_grew"], "held_by": None,
            }
        item["objects"] += 1
        if item["held_by"] is None and len(self.resurrections) <= _DESCRIBED_RESURRECTIONS:
            item["held_by"] = self._holder(obj)

    def _holder(self, obj):
        """A short description of what references a resurrected object."""
        referrers = gc.get_referrers(obj)
        for ref in referrers:
            if isinstance(ref, dict) and "__name__" in ref and ref.get("__file__"):
                name = next((k for k, v in ref.items() if v is obj), None)
                if name:
                    return "global %s of %s" % (name, os.path.basename(ref["__file__"]))
        # Containers before plain dicts: on 3.9-3.10 tracing gives frames
        # locals dicts that also refer to the object.
        for kinds in ((list, set), (dict,)):
            for ref in referrers:
                if isinstance(ref, kinds) and ref is not self.pending_finalized:
                    return type(ref).__name__ + _allocated_at(self.watched.allocation_frames(ref))
        return None

    def on_unraisable(self, unraisable):
        try:
            self._record_finalizer_error(unraisable)
        except Exception as exc:
            self.note_error("recording an exception in a finalizer", exc)
        _REAL_UNRAISABLEHOOK(unraisable)

    def _record_finalizer_error(self, unraisable):
        obj = getattr(unraisable.object, "__wrapped__", unraisable.object)
        code = getattr(obj, "__code__", None)
        function = [self.watched.path(code.co_filename), code.co_firstlineno] if code else None
        site = self.watched.traceback_site(unraisable.exc_traceback)
        site = site or (function if function and function[0] else None)
        if site is None:
            return
        exc = _error_text(unraisable.exc_value) if unraisable.exc_value is not None else unraisable.exc_type.__name__
        key = (tuple(site), unraisable.exc_type.__name__)
        item = self.finalizer_errors.get(key)
        if item is None:
            item = self.finalizer_errors[key] = {
                "kind": "finalizer-exception", "path": site[0], "line": site[1], "exception": exc,
                "in": getattr(obj, "__qualname__", None) or repr(obj)[:80], "function": function, "count": 0,
            }
        item["count"] += 1

    # -- ResourceWarning ----------------------------------------------------

    def drain_warnings(self):
        while self.warning_log:
            message = self.warning_log.pop(0)
            try:
                self._note_warning(message)
            except Exception as exc:
                self.note_error("recording a warning", exc)
            del message

    def on_warning(self, message):
        try:
            self._note_warning(message)
        except Exception as exc:
            self.note_error("recording a warning", exc)

    def _note_warning(self, message):
        if not issubclass(message.category, ResourceWarning):
            sys.stderr.write(warnings.formatwarning(message.message, message.category, message.filename, message.lineno, message.line))
            return
        frames = self.allocation_frames(message.source) if message.source is not None else None
        # Where the last reference went: the warning's own location is often
        # the library's __del__, so take the innermost watched frame running.
        released = self.watched.frame_site(sys._getframe(1))
        site = frames[0] if frames else released
        if site is None:
            return
        text = _warning_text(message.message)
        key = (tuple(site), text.split("<")[0])
        item = self.warnings.get(key)
        if item is None:
            item = self.warnings[key] = {
                "kind": "resource-warning", "path": site[0], "line": site[1], "frames": frames or [],
                "message": text, "released_at": released, "count": 0,
            }
        item["count"] += 1

    # -- retained memory ----------------------------------------------------

    def count_instances(self):
        """{class: live instances} for the classes defined in watched files."""
        watched = set(self.classes.keys())
        counts = {}
        for obj in gc.get_objects():
            cls = type(obj)
            if cls in watched:
                counts[cls] = counts.get(cls, 0) + 1
        return counts

    def retained_since(self, before, instances_before):
        """Memory allocated in watched files while the target ran, and
        instances of watched classes created meanwhile, that are still alive
        after it returned and after a full collection."""
        for cls, count in self.count_instances().items():
            grown = count - instances_before.get(cls, 0)
            where = self.classes.get(cls)
            if grown > 0 and where:
                self.retained.append({"kind": "retained-object", "path": where["path"], "line": where["line"], "classes": [where], "objects": grown})
        if before is None:
            return
        grown = []
        old = self._watched_allocations(before)
        for key, (size, count) in self._watched_allocations(tracemalloc.take_snapshot()).items():
            old_size, old_count = old.get(key, (0, 0))
            if size - old_size >= _RETAINED_MIN_BYTES and count > old_count:
                grown.append((size - old_size, count - old_count, key))
        for size, count, (path, line) in sorted(grown, reverse=True)[:_RETAINED_SITES]:
            self.retained.append({"kind": "retained-object", "path": path, "line": line, "bytes": size, "blocks": count})

    def _watched_allocations(self, snapshot):
        """{(path, line): (bytes, blocks)} for allocations made directly by a
        watched line. Snapshot.filter_traces would take seconds on the
        probe's own traces; the raw trace tuples take milliseconds."""
        totals = {}
        paths = {}
        for trace in getattr(snapshot.traces, "_traces", ()):
            if not trace[2]:
                continue
            filename, line = trace[2][0]
            path = paths.get(filename, False)
            if path is False:
                path = paths[filename] = self.watched.path(filename)
            if path:
                size, count = totals.get((path, line), (0, 0))
                totals[(path, line)] = (size + trace[1], count + 1)
        return totals


_EFFECTS = {
    "enabled": "turned automatic collection off",
    "debug": "turned DEBUG_SAVEALL on (unreachable objects are kept in gc.garbage)",
    "threshold": "set the generation-0 threshold to 0 (automatic collection off)",
}


def _warning_text(message):
    """The warning without what differs between runs (addresses, pids)."""
    text = re.sub(r" at 0x[0-9a-f]+", "", str(message))
    return re.sub(r"subprocess \d+ is", "subprocess is", text)[:200]


def _allocated_at(frames):
    return " allocated at %s:%d" % (os.path.basename(frames[0][0]), frames[0][1]) if frames else ""


def _flag_names(flags):
    if flags == gc.DEBUG_LEAK:
        return "gc.DEBUG_LEAK"
    names = [n for n in ("DEBUG_STATS", "DEBUG_COLLECTABLE", "DEBUG_UNCOLLECTABLE", "DEBUG_SAVEALL") if flags & getattr(gc, n)]
    return " | ".join("gc." + n for n in names) or str(flags)


def _collection_hindered(key, value):
    if key == "enabled":
        return not value
    if key == "debug":
        return bool(value & gc.DEBUG_SAVEALL)
    return value[0] == 0


def _collect_with_saveall(generation):
    """One real collection that keeps what it finds in gc.garbage."""
    old = _REAL_GC["get_debug"]()
    _REAL_GC["set_debug"](gc.DEBUG_SAVEALL)
    try:
        return _REAL_GC["collect"](generation)
    finally:
        _REAL_GC["set_debug"](old)


def _all_frames(first, traced):
    """The primary object's allocation frames, then those of the others."""
    frames = list(first)
    for _, more in traced:
        frames.extend(f for f in more if f not in frames)
    return frames[:_MAX_SITES]


def _names_code(obj):
    return isinstance(obj, (types.FunctionType, types.FrameType))


def _primary_site(traced, members, classes, code_sites):
    """Where the cycle was made: the allocation of its best-traced object;
    on 3.11, where plain instances have no traceback, a container of the
    same cycle; then the code a frame or function of the cycle runs (a
    frame made by a library call such as inspect.currentframe() has no
    traced allocation in a watched file); failing all, the definition of
    its class."""
    if traced:
        obj, frames = traced[0]
        instance = any(c["name"] == type(obj).__qualname__ for c in classes)
        via = "allocation" if instance or not classes else "container of the same cycle"
        return frames[0], frames, via
    if code_sites:
        return code_sites[0], code_sites, "code"
    if classes:
        site = [classes[0]["path"], classes[0]["line"]]
        return site, [site], "class definition"
    return None, [], None


_TEST_KINDS = {"cycle": "cycle", "resource": "resource-warning", "unraisable": "finalizer-exception"}
# Tests named per evidence item; the rest are counted.
_NAMED_TESTS = 20


def _from_test(evidence, watched):
    """One piece of the pytest plugin's evidence as the probe's own kind,
    at its first watched place; None when it names none (a test file's own
    code) or no static rule observes its kind (threads, tasks)."""
    kind = _TEST_KINDS.get(evidence.get("kind"))
    if kind is None:
        return None
    places = [[evidence.get("path"), evidence.get("line")]] + list(evidence.get("sites") or ())
    places += [[c.get("path"), c.get("line")] for c in evidence.get("classes") or ()]
    sites = [[watched.path(p[0]), p[1]] for p in places if p[0] and watched.path(p[0])]
    if not sites:
        return None
    item = {"kind": kind, "path": sites[0][0], "line": sites[0][1], "tests": []}
    if kind == "cycle":
        item.update(
            objects=evidence.get("objects", 0), cycles=evidence.get("cycles", 1), bytes=evidence.get("bytes", 0), types=dict(evidence.get("types") or {}),
            chain=evidence.get("chain"), site_from=evidence.get("site_from"), sites=sites[1:_MAX_SITES],
            classes=[c for c in evidence.get("classes") or () if watched.path(c.get("path") or "")],
        )
    elif kind == "resource-warning":
        allocated = evidence.get("allocated_at")
        released = evidence.get("released_at")
        item.update(
            message=_warning_text(evidence.get("message", "")), count=1,
            frames=[[watched.path(allocated[0]), allocated[1]]] if allocated and watched.path(allocated[0]) else [],
            released_at=[watched.path(released[0]), released[1]] if released and watched.path(released[0]) else None,
        )
    else:
        exception, _, where = evidence.get("message", "").partition(" raised in finalizer ")
        item.update(exception=exception[:300], count=1)
        item["in"] = where[:80] or None
    return item


def _merge_test_item(merged, item, nodeid):
    """The same evidence in many tests is one item naming them."""
    what = item.get("message") or item.get("exception") or tuple(sorted(item.get("types", {})))
    key = (item["kind"], item["path"], item["line"], what)
    known = merged.setdefault(key, item)
    if known is not item:
        for count in ("objects", "cycles", "bytes", "count"):
            if count in item:
                known[count] += item[count]
    if len(known["tests"]) < _NAMED_TESTS:
        known["tests"].append(nodeid)
    known["test_count"] = known.get("test_count", 0) + 1


def strongly_connected(objects):
    """The cyclic strongly connected components among `objects` (edges:
    gc.get_referents inside the set), and the objects in none of them.
    Each component is one cycle, or cycles through shared members; an object
    that only hangs off a cycle (a list a member holds) is in none: grouping
    by weak connection instead glued unrelated cycles into one blob.
    gclint's pytest plugin imports this one, so the probe stays one file."""
    index = {id(o): i for i, o in enumerate(objects)}
    edges = [[index[id(r)] for r in gc.get_referents(o) if id(r) in index] for o in objects]
    order = [-1] * len(objects)
    low = [0] * len(objects)
    on_stack = [False] * len(objects)
    stack = []
    cyclic = []
    in_cycle = [False] * len(objects)
    counter = 0
    for root in range(len(objects)):
        if order[root] != -1:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        work = [(root, 0)]
        while work:
            node, position = work[-1]
            if position < len(edges[node]):
                work[-1] = (node, position + 1)
                child = edges[node][position]
                if order[child] == -1:
                    order[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack[child] = True
                    work.append((child, 0))
                elif on_stack[child]:
                    low[node] = min(low[node], order[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] != order[node]:
                continue
            component = []
            while True:
                member = stack.pop()
                on_stack[member] = False
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                for member in component:
                    in_cycle[member] = True
                cyclic.append([objects[i] for i in reversed(component)])
    rest = [o for i, o in enumerate(objects) if not in_cycle[i]]
    return cyclic, rest


def cycle_steps(members, site_of=None):
    """The shortest way around the cycle through its own members, from its
    first member that is not a plain container, as data: each step's type,
    its reference to the next step and (with `site_of`) its allocation site.
    [] past _CHAIN_STEPS steps. Computed once per cycle: naming an attribute
    makes 3.11+ build the instance's __dict__, after which the instance refers
    to that dict and the same path is gone. Pictures (gclint/report/graph.py)
    draw these steps; chain_text() writes them."""
    inside = {id(o) for o in members}
    start = next((o for o in members if not isinstance(o, (dict, list, tuple, set))), members[0])
    path = _path_back(start, inside)
    if path is None:
        return []
    steps = [
        {"type": type(holder).__name__, "edge": reference_label(holder, target), "site": site_of(holder) if site_of else None}
        for holder, target in zip(path, path[1:])
    ]
    return _fold_instance_dicts(steps)


def chain_text(steps):
    """The one formatter of cycle chains (dynamic mode and gclint's pytest
    plugin), e.g. `Node.children -> list[0] -> Node.parent -> Node`."""
    if not steps:
        return None
    return " -> ".join(step["type"] + step["edge"] for step in steps) + " -> " + steps[0]["type"]


def cycle_chain(members):
    """The chain text of a cycle's members (cycle_steps, then chain_text)."""
    return chain_text(cycle_steps(members))


def _fold_instance_dicts(steps):
    """An instance and its __dict__ read better as one step (`Node.parent`)."""
    folded = []
    for step in steps:
        key = re.fullmatch(r"\['(\w+)'\]", step["edge"])
        if folded and folded[-1]["edge"] == ".__dict__" and step["type"] == "dict" and key:
            folded[-1]["edge"] = "." + key.group(1)
            continue
        folded.append(step)
    return folded


def _path_back(start, inside):
    """The shortest chain of references from `start` back to itself, both ends included."""
    previous = {}
    frontier = [start]
    for _ in range(_CHAIN_STEPS):
        following = []
        for obj in frontier:
            for ref in gc.get_referents(obj):
                if ref is start:
                    return _unwind(previous, obj, start)
                if id(ref) in inside and id(ref) not in previous:
                    previous[id(ref)] = obj
                    following.append(ref)
        frontier = following
    return None


def _unwind(previous, last, start):
    path = [last]
    while path[-1] is not start:
        path.append(previous[id(path[-1])])
    path.reverse()
    return path + [start]


def reference_label(holder, target):
    """How `holder` refers to `target`: `[key]`, `[index]`, `.attribute`,
    `.f_locals['name']`, or "" when it cannot be told."""
    if isinstance(holder, dict):
        key = next((k for k, v in holder.items() if v is target), None)
        return "[%r]" % (key,) if key is not None and len(repr(key)) < 40 else ""
    if isinstance(holder, (list, tuple)):
        return next(("[%d]" % i for i, v in enumerate(holder) if v is target), "")
    named = _builtin_reference(holder, target)
    if named:
        return named
    try:
        attributes = object.__getattribute__(holder, "__dict__")
    except Exception:  # no __dict__, or a hostile __getattribute__
        return ""
    if attributes is target:
        return ".__dict__"
    return next(("." + k for k, v in attributes.items() if v is target and isinstance(k, str)), "")


# References of built-in objects that chains go through, read without running
# the target's code (object.__getattribute__ reaches the C slots).
_BUILTIN_REFERENCES = (
    (BaseException, ("__traceback__", "__context__", "__cause__")),
    (types.TracebackType, ("tb_frame", "tb_next")),
    (types.MethodType, ("__self__", "__func__")),
    (types.FunctionType, ("__closure__", "__defaults__", "__kwdefaults__", "__globals__")),
    (types.CellType, ("cell_contents",)),
    (types.FrameType, ("f_back",)),
)


def _builtin_reference(holder, target):
    for kind, names in _BUILTIN_REFERENCES:
        if isinstance(holder, kind):
            for name in names:
                try:
                    if object.__getattribute__(holder, name) is target:
                        return "." + name
                except Exception:  # an empty cell, a hostile subclass
                    continue
    if isinstance(holder, types.FrameType):
        try:
            if holder.f_locals is target:  # 3.9-3.12 keep the dict they made
                return ".f_locals"
            name = next((k for k, v in holder.f_locals.items() if v is target), None)
        except Exception:
            return ""
        return ".f_locals[%r]" % (name,) if name is not None else ""
    return ""


# -- hooks --------------------------------------------------------------------


def _install_gc_hooks(rec):
    """The target sees its own gc state; the real collector stays under the probe's control."""

    def collect(generation=2):
        return rec.collect_for_target(generation, sys._getframe(1))

    def enable():
        rec.set_state("enabled", True, "gc.enable()", sys._getframe(1))

    def disable():
        rec.set_state("enabled", False, "gc.disable()", sys._getframe(1))

    def isenabled():
        return rec.virtual["enabled"]

    def set_debug(flags):
        flags = operator.index(flags)
        rec.set_state("debug", flags, "gc.set_debug(%s)" % _flag_names(flags), sys._getframe(1))

    def get_debug():
        return rec.virtual["debug"]

    def set_threshold(threshold0, *rest):
        values = [operator.index(v) for v in (threshold0,) + rest][:3]
        new = values + rec.virtual["threshold"][len(values):]
        rec.set_state("threshold", new, "gc.set_threshold(%s)" % ", ".join(map(str, values)), sys._getframe(1))

    def get_threshold():
        return tuple(rec.virtual["threshold"])

    for function in (collect, enable, disable, isenabled, set_debug, get_debug, set_threshold, get_threshold):
        function.__doc__ = _REAL_GC[function.__name__].__doc__
        setattr(gc, function.__name__, function)


def _install_class_hook(rec):
    """Wrap `__del__` of every class whose body is in a watched file."""

    def build_class(func, name, *bases, **kwargs):
        cls = _REAL_BUILD_CLASS(func, name, *bases, **kwargs)
        path = rec.watched.path(getattr(getattr(func, "__code__", None), "co_filename", ""))
        if path and isinstance(cls, type):
            rec.classes[cls] = {"name": cls.__qualname__, "path": path, "line": func.__code__.co_firstlineno}
            init = getattr(cls.__dict__.get("__init__"), "__code__", None)
            if rec.track_instances and init is not None:
                rec.init_codes.add(init)
            original = cls.__dict__.get("__del__")
            if callable(original) and hasattr(original, "__code__"):
                cls.__del__ = _wrap_finalizer(rec, original)
        return cls

    builtins.__build_class__ = build_class


def _wrap_finalizer(rec, original):
    def __del__(self):
        # Both counts are taken in this frame, so they are comparable on
        # every version; the difference is what the finalizer added.
        before = sys.getrefcount(self)
        try:
            original(self)
        finally:
            # Counted before the call below pushes `self` as an argument.
            grew = sys.getrefcount(self) > before
            rec.after_finalizer(self, original, grew)

    __del__.__wrapped__ = original
    __del__.__qualname__ = original.__qualname__
    return __del__


def _install_line_tracking(rec):
    if hasattr(sys, "monitoring"):
        _monitor_lines(rec)
    else:
        sys.settrace(_line_tracer(rec))
        threading.settrace(_line_tracer(rec))


def _monitor_lines(rec):
    monitoring = sys.monitoring
    tool = next((t for t in (monitoring.COVERAGE_ID, 3, 4) if monitoring.get_tool(t) is None), None)
    if tool is None:
        return
    monitoring.use_tool_id(tool, "gclint-probe")

    def on_line(code, line):
        path = rec.watched.path(code.co_filename)
        if path:
            rec.line_set(path).add(line)
        # Each line is worth one event: after that, free.
        return monitoring.DISABLE

    monitoring.register_callback(tool, monitoring.events.LINE, on_line)
    monitoring.set_events(tool, monitoring.events.LINE)


class _LineRecorder:
    """The local trace function of frames in one watched file (an object
    rather than a closure that returns itself, which would be a cycle).
    Once every line of a function has run, its frames are not traced."""

    def __init__(self, lines):
        self.lines = lines
        self.missing = {}

    def wants(self, code):
        missing = self.missing.get(code)
        if missing is None:
            missing = self.missing[code] = {line for _, line in dis.findlinestarts(code) if line} - self.lines
        return bool(missing)

    def __call__(self, frame, event, arg):
        if event != "line":
            return self
        line = frame.f_lineno
        self.lines.add(line)
        missing = self.missing.get(frame.f_code)
        if missing is not None:
            missing.discard(line)
            if not missing:
                return None
        return self


def _line_tracer(rec):
    """A global trace function that traces lines only in watched files.
    It runs on every call in the process: one dict lookup decides."""
    recorders = {}
    by_code = {}

    def recorder_for(code):
        path = rec.watched.path(code.co_filename)
        recorder = None
        if path:
            recorder = recorders.get(path)
            if recorder is None:
                recorder = recorders[path] = _LineRecorder(rec.line_set(path))
        by_code[code] = recorder
        return recorder

    def on_call(frame, event, arg):
        code = frame.f_code
        if code in rec.init_codes:
            rec.note_instance(frame)
        recorder = by_code.get(code, False)
        if recorder is False:
            recorder = recorder_for(code)
        return recorder if recorder is not None and recorder.wants(code) else None

    return on_call


def _install_exit_hooks(rec):
    def os_exit(status):
        if os.getpid() == rec.pid:
            rec.outcome = {"status": "os-exit", "code": status, "at": rec.watched.frame_site(sys._getframe(1))}
            _write_quietly(rec)
        _REAL_OS_EXIT(status)

    def on_term(signum, frame):
        if os.getpid() == rec.pid:
            rec.outcome = {"status": "stopped", "at": rec.watched.frame_site(frame)}
            # What is known now first (the parent kills us a few seconds
            # after SIGTERM), then the garbage made since the last
            # checkpoint: a target stopped for its timeout keeps its evidence.
            _write_quietly(rec)
            if not rec.collecting and rec.checkpoints_wanted:
                try:
                    rec.checkpoint("when stopped")
                except Exception as exc:
                    rec.note_error("checkpoint when stopped", exc)
                _write_quietly(rec)
        _REAL_OS_EXIT(128 + signum)

    os._exit = os_exit
    signal.signal(signal.SIGTERM, on_term)


def _write_quietly(rec):
    try:
        rec.write()
    except Exception as exc:  # the parent reports a missing evidence file
        sys.stderr.write("gclint probe: cannot write evidence: %s\n" % _error_text(exc))


def _start_warning_capture(rec):
    """Record warnings with their `source` (catch_warnings(record=True) keeps
    it; a replaced showwarning would not see it)."""
    catcher = warnings.catch_warnings(record=True)
    rec.warning_log = catcher.__enter__()
    warnings.simplefilter("always", ResourceWarning)
    if hasattr(warnings, "_showwarnmsg_impl"):
        # Look at each warning as it is issued, inside the finalizer: keeping
        # the source in a list would resurrect it, and resurrection makes
        # tracemalloc forget where it was allocated.
        warnings._showwarnmsg_impl = rec.on_warning
    return catcher


_REAL_UNRAISABLEHOOK = sys.unraisablehook


# -- running the target -------------------------------------------------------


def _limit_memory(megabytes):
    try:
        import resource
    except ImportError:
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = megabytes * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _package_name(path):
    """`pkg.sub.mod` for a file inside packages (directories with
    __init__.py), with the directory above the outermost one; else None."""
    directory, filename = os.path.split(path)
    parts = [os.path.splitext(filename)[0]]
    while os.path.isfile(os.path.join(directory, "__init__.py")):
        directory, package = os.path.split(directory)
        parts.insert(0, package)
    if len(parts) == 1 or not all(part.isidentifier() for part in parts):
        return None
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts), directory


def _import_file(path):
    """A module of a package is imported as that module (its relative
    imports work); a lone file under its own name, from its directory."""
    package = _package_name(path)
    if package is not None:
        name, root = package
        sys.path.insert(0, root)
        return importlib.import_module(name)
    directory = os.path.dirname(path)
    sys.path.insert(0, directory)
    stem = os.path.splitext(os.path.basename(path))[0]
    name = stem if stem.isidentifier() and stem not in sys.modules else "__gclint_target__"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _failure(rec, status, exc):
    return {"status": status, "error": _error_text(exc), "at": rec.watched.traceback_site(exc.__traceback__)}


def _run_main(rec, path):
    sys.argv = [path]
    try:
        module = _import_file(path)
    except SystemExit as exc:
        return {"status": "exit", "code": _exit_code(exc)}
    except BaseException as exc:
        return _failure(rec, "import-error", exc)
    if rec.trace_after_import:
        _start_tracing(rec.trace_after_import)
    # Garbage made at import is the target's too, but not its main()'s.
    rec.checkpoint("after import")
    before = (tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None, rec.count_instances())
    outcome = _call(rec, module.main)
    main = module.main
    del module
    rec.checkpoint("after main() returned")
    try:
        rec.retained_since(*before)
    except Exception as exc:
        rec.note_error("measuring retained memory", exc)
    if rec.config["target"].get("repeat") and outcome["status"] == "ok":
        _repeat_main(rec, main, path)
    return outcome


def _repeat_main(rec, main, path):
    """--repeat N: main() again, warm-up runs then N measured ones, with
    automatic collection as the target left it (gc.collect its real self),
    and what kept growing as evidence (see growth.py)."""
    runs = int(rec.config["target"]["repeat"])
    try:
        growth = _load_sibling("growth")
        gcprofile = _load_sibling("gcprofile")
        profile = gcprofile.GcProfile()

        def run_once():
            profile.install()
            try:
                _call(rec, main)
            finally:
                profile.remove()

        items = _with_real_gc(rec, lambda: growth.repeat(run_once, runs, growth.Meter(rec.watched.path, _REAL_GC["collect"])))
        rec.retained.extend(items)
        line = getattr(getattr(main, "__code__", None), "co_firstlineno", 1)
        rec.retained.append({"kind": "gc-profile", "path": os.path.realpath(path), "line": line, "runs": growth.WARMUP_RUNS + runs, **profile.as_dict()})
    except Exception as exc:
        rec.note_error("measuring growth", exc)


def _with_real_gc(rec, work):
    hooked = gc.collect
    gc.collect = _REAL_GC["collect"]
    if rec.virtual["enabled"] and rec.virtual["threshold"][0]:
        _REAL_GC["enable"]()
    try:
        return work()
    finally:
        _REAL_GC["disable"]()  # noqa: GCL404
        gc.collect = hooked


def _load_sibling(name):
    """growth.py, gcprofile.py: stdlib-only modules next to the probe, by path."""
    spec = importlib.util.spec_from_file_location("gclint_probe_" + name, os.path.join(_HERE, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call(rec, function):
    try:
        function()
    except SystemExit as exc:
        return {"status": "exit", "code": _exit_code(exc)}
    except BaseException as exc:
        return _failure(rec, "exception", exc)
    return {"status": "ok"}


def _exit_code(exc):
    code = exc.code
    return code if isinstance(code, int) or code is None else str(code)


def _run_program(rec, target):
    args = list(target.get("args", ()))
    if _runs_pytest(target):
        args = _with_plugin(rec, args)
    if "module" in target:
        # As `python -m` does: the current directory first on sys.path.
        sys.path.insert(0, os.getcwd())
        spec = _find_module(target["module"])
        if spec is not None and spec.origin and os.path.exists(spec.origin):
            rec.watched.add(spec.origin)
        sys.argv = [spec.origin if spec else target["module"]] + args
        outcome = _call(rec, lambda: rec.keep(runpy.run_module(target["module"], run_name="__main__", alter_sys=True)))
    else:
        rec.watched.add(target["script"])
        sys.argv = [target["script"]] + args
        sys.path.insert(0, os.path.dirname(os.path.realpath(target["script"])))
        outcome = _call(rec, lambda: rec.keep(runpy.run_path(target["script"], run_name="__main__")))
    if rec.checkpoints_wanted:
        rec.checkpoint("after the program finished")
    return outcome


def _runs_pytest(target):
    return target.get("module") == "pytest"


_PLUGIN = os.path.join(os.path.dirname(_HERE), "pytest_plugin.py")
_PLUGIN_NAME = "gclint_pytest_plugin"


def _with_plugin(rec, args):
    """pytest's arguments with gclint's plugin, loaded by path (gclint need
    not be installed where the suite runs; where it is, its entry point is
    blocked so the plugin is not registered twice), and a plugin of the
    probe's own that hands it the session's config."""
    spec = importlib.util.spec_from_file_location(_PLUGIN_NAME, _PLUGIN)
    plugin = importlib.util.module_from_spec(spec)
    sys.modules[_PLUGIN_NAME] = plugin
    spec.loader.exec_module(plugin)
    session = types.ModuleType("gclint_probe_session")

    def pytest_configure(config):
        rec.pytest_config = config

    session.pytest_configure = pytest_configure
    sys.modules[session.__name__] = session
    return ["-p", "no:gclint", "-p", _PLUGIN_NAME, "-p", session.__name__, "--gclint"] + args


def _tracemalloc_sees_instances():
    """False on 3.11, where get_object_traceback misses plain instances."""

    class Plain:
        pass

    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start(1)
    try:
        return tracemalloc.get_object_traceback(Plain()) is not None
    finally:
        if started:
            tracemalloc.stop()


def _start_tracing(frames):
    """Trace from here on. What the interpreter and the probe allocated so
    far is never evidence; tracing it (-X tracemalloc) costs about 0.4 s of
    startup and makes every snapshot several times slower."""
    if tracemalloc.is_tracing():
        tracemalloc.clear_traces()
    else:
        tracemalloc.start(max(1, frames))


def _find_module(name):
    try:
        return importlib.util.find_spec(name)
    except Exception:  # runpy reports it properly below
        return None


def _at_exit(rec):
    if os.getpid() != rec.pid:
        return
    try:
        if rec.checkpoints_wanted:
            rec.checkpoint("at exit")
        rec.rss["exit"] = _rss_bytes()
    except Exception as exc:
        rec.note_error("exit checkpoint", exc)
    _write_quietly(rec)


def _run(config):
    _limit_memory(config.get("memory_limit_mb", 2048))
    faulthandler.enable()
    rec = Recorder(config)
    if _runs_pytest(config["target"]):
        _run_pytest(rec, config["target"])
        return
    _install_gc_hooks(rec)
    _install_class_hook(rec)
    _install_exit_hooks(rec)
    _start_warning_capture(rec)
    sys.unraisablehook = rec.on_unraisable
    # Registered before the target's own handlers, so it runs after them.
    atexit.register(_at_exit, rec)
    # Both can be turned off only by bench/probe_overhead.py, which measures what each costs.
    frames = config.get("tracemalloc_frames", 10)
    target = config["target"]
    if frames:
        # Decided before the import: it registers the classes the import defines.
        rec.track_instances = not hasattr(sys, "monitoring") and not _tracemalloc_sees_instances()
        # A main() target's import is traced only when asked: what it leaves
        # is placed at its class or code, and tracing the libraries it
        # imports costs more than its main() often does (bench/probe_overhead.py).
        if "file" in target and not config.get("trace_imports", False):
            rec.trace_after_import = frames
        else:
            _start_tracing(frames)
    if config.get("record_lines", True):
        _install_line_tracking(rec)
    outcome = _run_main(rec, target["file"]) if "file" in target else _run_program(rec, target)
    rec.outcome = outcome
    rec.rss["after"] = _rss_bytes()


def _run_pytest(rec, target):
    """A test suite: gclint's pytest plugin records each test's evidence with
    automatic collection on and the suite's own hooks in place; the probe
    adds which lines ran and the containment. No tracemalloc here: the
    plugin re-runs the tests that left evidence traced."""
    rec.checkpoints_wanted = False
    _install_exit_hooks(rec)
    atexit.register(_at_exit, rec)
    _install_line_tracking(rec)
    rec.outcome = _run_program(rec, target)
    rec.rss["after"] = _rss_bytes()


def _entry(argv):
    with open(argv[0]) as source:
        config = json.load(source)
    if not _runs_pytest(config["target"]):
        # Automatic collection stays off until the process ends: the probe
        # collects itself, at checkpoints it controls.
        gc.disable()  # noqa: GCL404
    _run(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(_entry(sys.argv[1:]))
