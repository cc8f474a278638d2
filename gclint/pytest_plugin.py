"""gclint's pytest plugin: run a test suite under gc inspection and attribute
every leak to the test that made it.

Inactive unless `--gclint` is given. Automatic collection stays on. Each
test's window spans its setup, call and teardown:

- cyclic garbage: at the window's start the heap is frozen (gc.freeze()), so
  every collection inside the window, automatic or explicit, examines only
  objects made since; a gc callback saves what those collections find
  (DEBUG_SAVEALL, only while a collection runs: finalizers and weakref
  callbacks still run as usual), and a last collection after teardown finds
  the rest. The saved garbage is split into strongly connected components:
  one report per cycle, with a chain through the cycle's own members. A
  cycle is the test's when one of its members is the project's code, an
  instance of a project class, or (under --gclint-trace) allocated by a
  project line; cycles of pytest, pluggy, the import system and class
  creation are not. Garbage left by earlier tests is frozen, never blamed.
- ResourceWarnings, with the leaked object's allocation site under tracing;
- exceptions raised in finalizers (sys.unraisablehook, chained: pytest's own
  unraisableexception plugin still sees them);
- threads started in the window and still alive after it;
- asyncio tasks created in the window and left pending.

Give the report path with "=" (`--gclint-report=R.json`): pytest finds its
rootdir and ini file before it knows a plugin's options, so a separate value
would be taken for a test path.

Cost: the first run traces nothing (unless --gclint-trace N), so a suite
with no leaks pays for one collection of its own young objects per test.
The tests whose evidence has no allocation site then run again under
tracemalloc, quickest first and within a time budget; see _rerun_traced.
"""
from __future__ import annotations

import gc
import importlib.util
import json
import os
import re
import sys
import sysconfig
import threading
import time
import tracemalloc
import types
import warnings
import weakref
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import pytest


def _load_probe() -> types.ModuleType:
    # By path, as the child runs it: importing the gclint.dynamic package
    # would bring libcst into every pytest run.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dynamic", "probe.py")
    spec = importlib.util.spec_from_file_location("gclint_probe", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


probe = _load_probe()


def _load_growth_mode() -> types.ModuleType:
    # --gclint-repeat and the per-test gc profile live in their own module.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pytest_growth.py")
    spec = importlib.util.spec_from_file_location("gclint_pytest_growth", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


growth_mode = _load_growth_mode()

KINDS = ("cycle", "resource", "unraisable", "thread", "retained")
# Objects of garbage looked at one by one per test; past that, counted.
_EXAMINED_OBJECTS = 50000
# Members of one cycle looked at for the places they come from, and places kept.
_DESCRIBED_MEMBERS = 200
_MAX_SITES = 20
# Every this many tests, one full collection of the whole heap (unattributed):
# garbage that became unreachable while frozen is freed there.
_FULL_COLLECTION_EVERY = 200
# Modules whose objects in a cycle mean the cycle is theirs, not the test's.
# How long a thread the test started may take to end after it (joined, not
# polled): a thread just finishing its last line is not left running.
_THREAD_GRACE_SECONDS = 0.2
# Re-runs go shallow first: one frame names the site of most leaks at a
# fifth of the cost of ten (tornado, 30 tests: 0.46 s against 2.1 s of CPU),
# and only a shape that one frame could not place (made in a library the
# project called) is re-run deeper. Per depth: (frames, tests re-run for one
# shape of evidence at most); a re-run that names the site ends its shape's
# re-runs, and the other tests of that shape borrow the site (and say so).
_RERUN_DEPTHS = ((1, 2), (10, 1))
# The re-runs' time budget, as a factor of the first run's time in tests
# (pytest's durations; the re-runs' own CPU time is what is counted against
# it, never less than the floor), and what tracing a test at each depth
# multiplies its time by (bench/plugin_overhead.py; tornado: 3-5x at 1 frame,
# 10-15x at 10), to leave out a test that would overrun the budget before it starts.
_RERUN_BUDGET = 0.5
_RERUN_BUDGET_FLOOR = 1.0
_TRACED_SLOWDOWN = {1: 4.0, 10: 15.0}
# gc functions that do not see frozen objects, given the whole heap inside a window.
_HEAP_WALKS = ("get_objects", "get_referrers")
_INFRASTRUCTURE = ("_pytest", "pytest", "pluggy", "importlib", "_frozen_importlib", "_frozen_importlib_external", "gclint", "py", "_pytest_cache")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gclint", "gclint: gc inspection of each test")
    group.addoption("--gclint", action="store_true", help="record cycles, unclosed resources, finalizer errors, threads and tasks each test leaves")
    group.addoption("--gclint-report", metavar="PATH", help="write the evidence per test as JSON")
    group.addoption("--gclint-fail", action="store_true", help="fail a test that leaves evidence (see the gclint_allow marker)")
    group.addoption("--gclint-trace", type=int, default=0, metavar="N", help="trace every test's allocations with N frames (costly; by default only the tests that leave evidence are re-run traced)")
    group.addoption("--gclint-no-rerun", action="store_true", help="do not re-run the tests that left evidence under tracemalloc to name allocation sites")
    group.addoption("--gclint-rerun-budget", type=float, default=_RERUN_BUDGET, metavar="FACTOR", help=f"re-runs may take FACTOR times the first run's test time, at least {_RERUN_BUDGET_FLOOR:g} s; the quickest tests run first (default: {_RERUN_BUDGET:g})")
    group.addoption("--gclint-graph", metavar="DIR", help="write each cycle as a Graphviz DOT file (and SVG when `dot` is on PATH) to DIR")
    growth_mode.add_options(group)
    group.addoption("--gclint-thread-grace", type=float, default=_THREAD_GRACE_SECONDS, metavar="SECONDS", help=f"how long threads a test started may take to end before they count as left running (default: {_THREAD_GRACE_SECONDS:g})")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "gclint_allow(*kinds): accept these kinds of gclint evidence (all kinds without arguments) for this test")
    if config.getoption("gclint") or config.getoption("gclint_report"):
        config.pluginmanager.register(Inspector(config), "gclint-inspector")
        growth_mode.register(config)


# -- the project: which code is the user's -----------------------------------


class Project:
    """Files of the project under test: under the root, not installed packages."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root) + os.sep
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
        prefixes.update(p for p in (sysconfig.get_paths().get(k) for k in ("purelib", "platlib", "stdlib")) if p)
        self.installed = tuple(os.path.realpath(p) + os.sep for p in prefixes)
        self._known: Dict[str, Optional[str]] = {}

    def path(self, filename: Optional[str]) -> Optional[str]:
        """The real path of a project file, None for anything else."""
        if not filename:
            return None
        known = self._known.get(filename, "")
        if known != "":
            return known
        real = os.path.realpath(filename) if not filename.startswith("<") else ""
        # A real file: compiled templates and exec'd strings have made-up names.
        ours = real.startswith(self.root) and not real.startswith(self.installed) and "site-packages" not in real and os.path.isfile(real)
        self._known[filename] = real if ours else None
        return self._known[filename]

    def frame_site(self, frame: Optional[types.FrameType]) -> Optional[Tuple[str, int]]:
        """The innermost project frame, from `frame` outwards."""
        while frame is not None:
            path = self.path(frame.f_code.co_filename)
            if path:
                return path, frame.f_lineno
            frame = frame.f_back
        return None

    def traceback_site(self, tb: Optional[types.TracebackType]) -> Optional[Tuple[str, int]]:
        site = None
        while tb is not None:
            path = self.path(tb.tb_frame.f_code.co_filename)
            if path:
                site = (path, tb.tb_lineno)
            tb = tb.tb_next
        return site

    def allocation_site(self, obj: Any) -> Optional[Tuple[str, int]]:
        """The innermost project frame of the object's allocation (tracing only)."""
        trace = tracemalloc.get_object_traceback(obj) if tracemalloc.is_tracing() else None
        for frame in reversed(trace or ()):  # a Traceback lists the oldest frame first
            path = self.path(frame.filename)
            if path:
                return path, frame.lineno
        return None


def _module_of(obj: Any) -> str:
    if isinstance(obj, types.FrameType):
        return obj.f_globals.get("__name__", "") if isinstance(obj.f_globals, dict) else ""
    if isinstance(obj, types.FunctionType):
        return getattr(obj, "__module__", "") or ""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return getattr(type(obj), "__module__", "") or ""


def _is_infrastructure(obj: Any) -> bool:
    if isinstance(obj, (type, types.ModuleType)):
        return True  # class creation and the import system
    top = _module_of(obj).split(".")[0]
    return top in _INFRASTRUCTURE


# -- strongly connected components of the garbage --------------------------------


def strongly_connected(objects: Sequence[Any]) -> List[List[Any]]:
    """The cyclic SCCs among `objects` (edges: gc.get_referents inside the
    set): each is one cycle, or several cycles through shared members.
    Members in the order the search leaves them (the probe lists them the
    other way round)."""
    cycles, _ = probe.strongly_connected(objects)
    return [members[::-1] for members in cycles]


def chain(members: Sequence[Any]) -> Optional[str]:
    """A readable path around the cycle through its own members, e.g.
    `Node.children -> list[0] -> Node.parent -> Node` (the probe's formatter,
    the one dynamic mode uses too)."""
    return probe.cycle_chain(members)


def _type_name(obj: Any) -> str:
    return type(obj).__name__


# How a member refers to another, as a chain step: `.attribute`, `[key]`, `[index]`.
_edge = probe.reference_label


# -- one test's window -----------------------------------------------------------


class Window:
    """What happens between a test's setup and the end of its teardown."""

    def __init__(self, project: Project, test_site: Optional[Tuple[str, int]]) -> None:
        self.project = project
        # Where evidence with no project frame of its own is shown: the test function.
        self.test_site = test_site
        self.saved: List[Any] = []
        self.saving = False
        self.collecting_for_us = False
        self.collection_debug = 0
        self.garbage_start = 0
        self.threads_before = set(threading.enumerate())
        self.thread_sites: "weakref.WeakKeyDictionary[threading.Thread, Tuple[str, int]]" = weakref.WeakKeyDictionary()
        self.tasks_before = {id(t) for t in _all_tasks()}
        self.warnings: List[warnings.WarningMessage] = []
        self.unraisables: List[Dict[str, Any]] = []
        self.unattributed = 0
        # ids of the test's objects frozen with the heap by its own gc.collect() or heap walk.
        self.refrozen: Set[int] = set()
        # Python 3.11, traced re-runs: where each project __init__ was called
        # from ({id: (type, site)}), as tracemalloc misses plain instances there.
        self.instance_sites: Optional[Dict[int, Tuple[type, Tuple[str, int]]]] = None
        self.profile_before: Any = None
        # Whether tracemalloc was started for this window (a traced re-run).
        self.tracing = False

    # gc callback: save what each collection in the window finds
    def on_gc(self, phase: str, info: Dict[str, Any]) -> None:
        if phase == "start":
            self.collection_debug = gc.get_debug()
            self.garbage_start = len(gc.garbage)
            # Not while garbage older than the test is collected (saving off),
            # nor under the test's own SAVEALL: then gc.garbage is the test's.
            self.collecting_for_us = self.saving and not self.collection_debug & gc.DEBUG_SAVEALL
            if self.collecting_for_us:
                # Undone by the "stop" call of this same collection, below.
                gc.set_debug(self.collection_debug | gc.DEBUG_SAVEALL)  # noqa: GCL405
            return
        if not self.collecting_for_us:
            return
        gc.set_debug(self.collection_debug)
        self.saved.extend(gc.garbage[self.garbage_start:])
        del gc.garbage[self.garbage_start:]

    def on_unraisable(self, unraisable: Any) -> None:
        site = self.project.traceback_site(unraisable.exc_traceback)
        obj = getattr(unraisable.object, "__wrapped__", unraisable.object)
        code = getattr(obj, "__code__", None)
        if site is None and code is not None:
            path = self.project.path(code.co_filename)
            site = (path, code.co_firstlineno) if path else None
        name = unraisable.exc_type.__name__ if unraisable.exc_type else "exception"
        text = f"{name}: {unraisable.exc_value}" if unraisable.exc_value is not None else name
        where = getattr(obj, "__qualname__", None) or _short_repr(obj)
        self.unraisables.append({"site": site, "message": f"{text[:300]} raised in finalizer {where}", "exception": name})

    def instance_site(self, obj: Any) -> Optional[Tuple[str, int]]:
        entry = self.instance_sites.get(id(obj)) if self.instance_sites else None
        # The type check guards against an id reused by another object.
        return entry[1] if entry and entry[0] is type(obj) else None

    def on_thread_start(self, thread: threading.Thread, frame: Optional[types.FrameType]) -> None:
        site = self.project.frame_site(frame)
        if site:
            self.thread_sites[thread] = site


def _instance_noter(window: Window) -> Any:
    """A sys.setprofile function noting where each project class's __init__
    is called from (the innermost project frame outside __init__s of the
    same object), so an instance's cycle can be placed on 3.11."""
    window.instance_sites = sites = {}
    project = window.project

    def note(frame: types.FrameType, event: str, arg: Any) -> None:
        code = frame.f_code
        if event != "call" or code.co_name != "__init__" or not code.co_argcount or not project.path(code.co_filename):
            return
        obj = frame.f_locals.get(code.co_varnames[0])
        caller = frame.f_back
        # A base class's __init__ run by the subclass's: the subclass's call site counts.
        while caller is not None and caller.f_code.co_name == "__init__" and caller.f_code.co_argcount and caller.f_locals.get(caller.f_code.co_varnames[0]) is obj:
            caller = caller.f_back
        site = project.frame_site(caller)
        if obj is not None and site:
            sites[id(obj)] = (type(obj), site)

    return note


def _sizeof(obj: Any) -> int:
    try:
        return sys.getsizeof(obj)
    except Exception:  # a broken __sizeof__ in the code under test
        return 0


def _short_repr(obj: Any) -> str:
    try:
        return repr(obj)[:80]
    except Exception:  # a broken __repr__ in the object being finalized
        return type(obj).__name__


def _all_tasks() -> List[Any]:
    """Every asyncio task the interpreter tracks, without needing a running loop."""
    module = sys.modules.get("asyncio.tasks")
    if module is None:
        return []
    tasks: List[Any] = []
    for name in ("_all_tasks", "_scheduled_tasks", "_eager_tasks"):
        group = getattr(module, name, None)
        if group is not None:
            try:
                tasks.extend(list(group))
            except RuntimeError:  # changed size while iterating
                continue
    return tasks


# -- the plugin ------------------------------------------------------------------


class Inspector:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.project = Project(str(config.rootpath))
        self.fail = bool(config.getoption("gclint_fail"))
        self.report_path = config.getoption("gclint_report")
        self.trace_frames = max(0, int(config.getoption("gclint_trace") or 0))
        # Traced throughout, every site is named already: nothing to re-run.
        self.rerun = not config.getoption("gclint_no_rerun") and not self.trace_frames
        self.thread_grace = max(0.0, float(config.getoption("gclint_thread_grace")))
        self.rerun_budget = max(0.0, float(config.getoption("gclint_rerun_budget")))
        self.over_budget = 0
        self.graph_dir = config.getoption("gclint_graph")
        self.window: Optional[Window] = None
        self.results: Dict[str, Dict[str, Any]] = {}
        # While the tests that left evidence run again under tracemalloc, their
        # windows fill this instead; the outcome of the first run stands.
        self.rerunning = False
        self.rerun_results: Dict[str, Dict[str, Any]] = {}
        self.reruns = 0
        # tracemalloc's depth for the test being re-run; traced only inside its window.
        self.rerun_frames = 0
        # Python 3.11: tracemalloc does not know plain instances (then re-runs note their __init__ calls).
        self.instances_untraced = False
        self.tests_since_full = 0
        self._real_collect = gc.collect
        self._real_heap_walks = {name: getattr(gc, name) for name in _HEAP_WALKS}
        self._real_thread_start = threading.Thread.start

    # session --------------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.trace_frames and not tracemalloc.is_tracing():
            tracemalloc.start(self.trace_frames)
        if self.trace_frames:
            self.instances_untraced = not probe._tracemalloc_sees_instances()

    # the window: opened before setup, closed after teardown ----------------
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        self._open(item)
        return (yield from self._phase())

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item):
        return (yield from self._phase())

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: Optional[pytest.Item]):
        try:
            return (yield from self._phase())
        finally:
            self._close(item)

    def _phase(self):
        """One phase inside our own warning catcher and unraisable hook,
        both handing everything on to pytest's."""
        window = self.window
        if window is None:
            return (yield)
        previous_hook = sys.unraisablehook

        def chained(unraisable: Any) -> None:
            try:
                window.on_unraisable(unraisable)
            finally:
                previous_hook(unraisable)

        sys.unraisablehook = chained
        catcher = warnings.catch_warnings(record=True)
        log = catcher.__enter__()
        _show_resource_warnings()
        if hasattr(warnings, "_showwarnmsg_impl"):
            # Each warning is looked at as it is issued, inside the finalizer:
            # once the object is freed, tracemalloc forgets its allocation.
            project = self.project

            def record(message: warnings.WarningMessage) -> None:
                source = getattr(message, "source", None)
                message.gclint_allocated = project.allocation_site(source) if source is not None else None
                log.append(message)

            warnings._showwarnmsg_impl = record
        try:
            return (yield)
        finally:
            catcher.__exit__(None, None, None)
            if sys.unraisablehook is chained:
                sys.unraisablehook = previous_hook
            for message in log:
                window.warnings.append(message)
                _pass_on(message)
            del log[:]

    def _open(self, item: pytest.Item) -> None:
        self.tests_since_full += 1
        if self.tests_since_full >= _FULL_COLLECTION_EVERY:
            self.tests_since_full = 0
            self._real_collect()
        window = self.window = Window(self.project, _test_site(item))
        self._results()[item.nodeid] = {"nodeid": item.nodeid, "outcome": "passed", "evidence": [], "unattributed_objects": 0}
        if self.rerun_frames and not tracemalloc.is_tracing():
            # Only the test is traced, not pytest's reporting around it.
            tracemalloc.start(self.rerun_frames)
            window.tracing = True
        if self.instances_untraced and (window.tracing or self.trace_frames):
            window.profile_before = sys.getprofile()
            sys.setprofile(_instance_noter(window))
        gc.freeze()
        if window.tracing:
            # A full collection empties the interpreter's free lists (lists,
            # tuples, dicts, frames): an object reused from one was allocated
            # before tracing began, and tracemalloc would not know it. With
            # the heap frozen it examines nothing older than this line.
            self._real_collect()
        window.saving = True
        gc.callbacks.append(window.on_gc)
        gc.collect = self._collect_for_test
        for name, walk in self._real_heap_walks.items():
            setattr(gc, name, self._whole_heap(walk))
        inspector = self

        def start(thread: threading.Thread, *args: Any, **kwargs: Any) -> Any:
            window.on_thread_start(thread, sys._getframe(1))
            return inspector._real_thread_start(thread, *args, **kwargs)

        threading.Thread.start = start

    def _collect_for_test(self, generation: int = 2) -> int:
        """The test's own gc.collect(): first what the test made (the heap
        from before it is frozen), saved as its evidence; then, for a full
        collection, the rest of the heap unfrozen, as the test expects
        everything to be examined, but not saved: that garbage is older."""
        found = self._real_collect(generation)
        window = self.window
        if generation < 2 or window is None:
            return found
        window.saving = False
        self._unfreeze(window)
        try:
            return found + self._real_collect(generation)
        finally:
            gc.freeze()
            window.saving = True

    def _whole_heap(self, walk: Any) -> Any:
        """gc.get_objects() and gc.get_referrers() skip frozen objects: inside
        the window they see the whole heap, as they would without the plugin."""

        def whole(*args: Any, **kwargs: Any) -> Any:
            window = self.window
            if window is None:
                return walk(*args, **kwargs)
            self._unfreeze(window)
            try:
                found = walk(*args, **kwargs)
            finally:
                gc.freeze()
            # The garbage saved as evidence is freed only after the test: the
            # test must not find it (werkzeug counts its Rules after collecting).
            hidden = {id(obj) for obj in window.saved}
            hidden.add(id(window.saved))
            return [obj for obj in found if id(obj) not in hidden]

        whole.__doc__ = walk.__doc__
        return whole

    def _unfreeze(self, window: "Window") -> None:
        """Unfreeze the heap for a moment; the test's objects alive now are
        frozen with the rest afterwards, so they are noted (see _collect_refrozen)."""
        window.refrozen.update(map(id, self._real_heap_walks["get_objects"]()))
        gc.unfreeze()

    def _collect_refrozen(self, window: "Window") -> None:
        """The test's objects that were frozen along with the heap by its own
        gc.collect() or heap walk, and are garbage now: one collection of the
        whole heap finds them; older garbage it finds is freed, not saved."""
        if not window.refrozen:
            return
        window.saving = False
        debug = gc.get_debug()
        start = len(gc.garbage)
        gc.unfreeze()
        gc.set_debug(debug | gc.DEBUG_SAVEALL)  # noqa: GCL405 (restored at once, below)
        try:
            self._real_collect()
        finally:
            gc.set_debug(debug)
            found = gc.garbage[start:]
            del gc.garbage[start:]
            gc.freeze()
            window.saving = True
        # An id noted then is this object's: what was garbage among those ids was collected earlier.
        window.saved.extend(obj for obj in found if id(obj) in window.refrozen)

    @pytest.hookimpl(trylast=True, specname="pytest_runtest_teardown")
    def pytest_runtest_teardown_collect(self, item: pytest.Item) -> None:
        """After the fixtures' teardown and before pytest's unraisableexception
        plugin looks (among trylast hooks the later registered runs first):
        a finalizer error this collection triggers is still this test's."""
        if self.window is not None:
            self._real_collect()
            self._collect_refrozen(self.window)

    def _close(self, item: pytest.Item) -> None:
        window = self.window
        if window is None:
            return
        self.window = None
        window.saving = False
        if window.instance_sites is not None:
            sys.setprofile(window.profile_before)
        if window.on_gc in gc.callbacks:
            gc.callbacks.remove(window.on_gc)
        gc.collect = self._real_collect
        for name, walk in self._real_heap_walks.items():
            setattr(gc, name, walk)
        threading.Thread.start = self._real_thread_start
        try:
            evidence = self._evidence(window)
        finally:
            window.saved.clear()
            window.warnings.clear()  # their sources are the leaked objects
            self._real_collect()  # frees the saved garbage (the heap is still frozen: cheap)
            gc.unfreeze()
            if window.tracing:
                tracemalloc.stop()
        _apply_allowances(item, evidence)
        result = self._results()[item.nodeid]
        result["evidence"] = evidence
        result["unattributed_objects"] = window.unattributed

    def _results(self) -> Dict[str, Dict[str, Any]]:
        return self.rerun_results if self.rerunning else self.results

    # re-running what left evidence, traced ------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        finished = yield
        if self.rerun and session.items:
            self._rerun_traced(session)
        return finished

    def _rerun_traced(self, session: pytest.Session) -> None:
        """Run again, under tracemalloc, the tests whose evidence has no
        allocation site: tracing every test costs 3-18x, these few cost it
        once. A test whose every unnamed shape was named by other tests'
        re-runs borrows the site found there (and says so)."""
        plan = RerunPlan(self.results)
        if not plan.pending:
            return
        self.instances_untraced = not probe._tracemalloc_sees_instances()
        from _pytest.runner import runtestprotocol

        items = {item.nodeid: item for item in session.items}
        first_run = sum(r.get("seconds", 0.0) for r in self.results.values())
        budget = max(_RERUN_BUDGET_FLOOR, self.rerun_budget * first_run)
        began = time.process_time()
        over_budget: Set[str] = set()
        self.rerunning = True
        try:
            for nodeid, frames in plan.schedule():
                item = items.get(nodeid)
                if item is None:
                    continue
                spent = time.process_time() - began
                if spent + _TRACED_SLOWDOWN[frames] * self.results[nodeid].get("seconds", 0.0) > budget:
                    self.results[nodeid].setdefault("rerun", "not re-run: over the re-run budget (--gclint-rerun-budget)")
                    over_budget.add(nodeid)
                    continue
                self.rerun_frames = frames
                _fresh_request(item)
                runtestprotocol(item, nextitem=None, log=False)
                self.reruns += 1
                again = self.rerun_results.pop(nodeid, None)
                _adopt_sites(self.results[nodeid], again, nodeid, plan.learned, frames)
        finally:
            self.rerunning = False
            self.rerun_frames = 0
        self.over_budget = len(over_budget - {n for n, r in self.results.items() if str(r.get("rerun", "")).startswith("traced")})
        for nodeid, _ in plan.pending:
            _borrow_sites(self.results[nodeid], plan.learned)

    # evidence ---------------------------------------------------------------
    def _evidence(self, window: Window) -> List[Dict[str, Any]]:
        evidence = self._cycles(window)
        evidence += self._resources(window)
        evidence += [_item("unraisable", u["site"], u["message"], exception=u["exception"]) for u in window.unraisables if u["site"]]
        evidence += self._threads(window)
        evidence += self._tasks(window)
        return evidence

    def _cycles(self, window: Window) -> List[Dict[str, Any]]:
        objects = window.saved[:_EXAMINED_OBJECTS]
        found = []
        for members in strongly_connected(objects):
            if any(_is_infrastructure(o) for o in members):
                continue
            site = self._cycle_site(members, window)
            if site is None:
                window.unattributed += len(members)
                continue
            found.append(self._cycle_item(members, site))
            if self.graph_dir and not self.rerunning:
                found[-1]["graph"] = _write_graph(self.graph_dir, members, found[-1], self.project)
        window.unattributed += max(0, len(window.saved) - len(objects))
        return _merge_cycles(found)

    def _cycle_site(self, members: Sequence[Any], window: Window) -> Optional[Tuple[Tuple[str, int], str]]:
        """Where the cycle was made, and how that is known."""
        # What tracemalloc knows first; where an __init__ was called from (3.11) only then.
        for site in (self.project.allocation_site(obj) for obj in members):
            if site:
                return site, "allocation"
        for site in (window.instance_site(obj) for obj in members):
            if site:
                return site, "allocation"
        for obj in members:
            site = self._code_site(obj)
            if site:
                return site, "code"
        places = [site for site in (self._class_site(type(obj)) for obj in members) if site]
        # A class with a method names its own line; one without, only its module.
        for site in sorted(places, key=lambda place: place[1] == 1):
            return site, "class definition"
        return None

    def _code_site(self, obj: Any) -> Optional[Tuple[str, int]]:
        if isinstance(obj, types.FrameType):
            path = self.project.path(obj.f_code.co_filename)
            return (path, obj.f_lineno) if path else None
        if isinstance(obj, types.FunctionType):
            path = self.project.path(obj.__code__.co_filename)
            return (path, obj.__code__.co_firstlineno) if path else None
        return None

    def _class_site(self, cls: type) -> Optional[Tuple[str, int]]:
        """A project class: the first line of its first method (classes do not record their own line)."""
        for value in vars(cls).values():
            code = getattr(getattr(value, "__func__", value), "__code__", None)
            if code is not None:
                path = self.project.path(code.co_filename)
                return (path, code.co_firstlineno) if path else None
        module = sys.modules.get(cls.__module__)
        path = self.project.path(getattr(module, "__file__", None))
        return (path, 1) if path else None

    def _cycle_item(self, members: Sequence[Any], where: Tuple[Tuple[str, int], str]) -> Dict[str, Any]:
        site, via = where
        types_count: Dict[str, int] = {}
        for obj in members:
            types_count[type(obj).__name__] = types_count.get(type(obj).__name__, 0) + 1
        names = ", ".join(sorted(types_count, key=lambda n: (-types_count[n], n))[:4])
        steps = probe.cycle_steps(members, self.project.allocation_site)
        text = probe.chain_text(steps)
        noun = "object" if len(members) == 1 else "objects"
        message = f"reference cycle of {len(members)} {noun} ({names}) freed only by the cycle collector"
        return _item(
            "cycle", site, message + (f": {text}" if text else ""), objects=len(members), types=types_count, chain=text, site_from=via, cycles=1,
            bytes=sum(_sizeof(o) for o in members), sites=self._member_sites(members), classes=self._member_classes(members),
            steps=steps,
        )

    def _member_sites(self, members: Sequence[Any]) -> List[List[Any]]:
        """Every project place the cycle's members come from (allocation
        lines, the code of functions and frames), for matching to findings."""
        sites: List[List[Any]] = []
        for obj in members[:_DESCRIBED_MEMBERS]:
            for site in (self.project.allocation_site(obj), self._code_site(obj)):
                if site and list(site) not in sites:
                    sites.append(list(site))
        return sites[:_MAX_SITES]

    def _member_classes(self, members: Sequence[Any]) -> List[Dict[str, Any]]:
        classes: List[Dict[str, Any]] = []
        for cls in {type(obj) for obj in members[:_DESCRIBED_MEMBERS]}:
            site = self._class_site(cls)
            if site:
                classes.append({"name": cls.__qualname__, "path": site[0], "line": site[1]})
        return sorted(classes, key=lambda c: (c["path"], c["line"], c["name"]))[:_MAX_SITES]

    def _resources(self, window: Window) -> List[Dict[str, Any]]:
        found = []
        for message in window.warnings:
            if not issubclass(message.category, ResourceWarning):
                continue
            allocated = getattr(message, "gclint_allocated", None)
            released = (self.project.path(message.filename), message.lineno) if self.project.path(message.filename) else None
            # Released in pytest's frame (the test function's locals going): the test's.
            site = allocated or released or window.test_site
            if site is None:
                continue
            text = re.sub(r" at 0x[0-9a-f]+", "", str(message.message))[:300]
            via = "allocation" if allocated else "release" if released else "test"
            found.append(_item("resource", site, text, allocated_at=_place(allocated), released_at=_place(released), site_from=via))
        return found

    def _threads(self, window: Window) -> List[Dict[str, Any]]:
        started = [t for t in threading.enumerate() if t not in window.threads_before and t.is_alive()]
        _join_until(started, time.monotonic() + self.thread_grace)
        found = []
        for thread in started:
            if not thread.is_alive():
                continue
            site = window.thread_sites.get(thread) or self._code_site(getattr(thread, "_target", None))
            if site:
                found.append(_item("thread", site, f"thread {thread.name!r} started here is still running after the test"))
        return found

    def _tasks(self, window: Window) -> List[Dict[str, Any]]:
        found = []
        for task in _all_tasks():
            if id(task) in window.tasks_before or task.done():
                continue
            coroutine = task.get_coro()
            code = getattr(coroutine, "cr_code", None)
            path = self.project.path(code.co_filename) if code else None
            if path:
                frame = getattr(coroutine, "cr_frame", None)
                found.append(_item("retained", (path, frame.f_lineno if frame else code.co_firstlineno), f"asyncio task {task.get_name()!r} left pending after the test"))
        return found

    # outcome, failure and reports ---------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        result = self.results.get(item.nodeid)
        if result is None or self.rerunning:
            return report
        if report.when == "teardown" and self.fail:
            blocking = [e for e in result["evidence"] if not e.get("allowed")]
            if blocking and not report.failed:
                report.outcome = "failed"
                report.longrepr = "gclint: the test left evidence:\n" + "\n".join(_line(e) for e in blocking)
        result["seconds"] = result.get("seconds", 0.0) + (getattr(report, "duration", 0.0) or 0.0)
        if report.failed:
            result["outcome"] = "failed" if report.when == "call" else "error"
        elif report.skipped and result["outcome"] == "passed":
            result["outcome"] = "skipped"
        return report

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        leaking = [r for r in self.results.values() if r["evidence"]]
        terminalreporter.section("gclint")
        unattributed = sum(r["unattributed_objects"] for r in self.results.values())
        terminalreporter.write_line(f"{len(self.results)} tests inspected, {len(leaking)} left evidence")
        if self.reruns:
            terminalreporter.write_line(f"{self.reruns} of them re-run under tracemalloc to name allocation sites")
        if self.over_budget:
            terminalreporter.write_line(f"{self.over_budget} not re-run: over the re-run budget (--gclint-rerun-budget)")
        for result in leaking:
            terminalreporter.write_line(result["nodeid"])
            for evidence in result["evidence"]:
                terminalreporter.write_line("    " + _line(evidence))
                for row in _tree_rows(evidence):
                    terminalreporter.write_line("        " + row)
        if unattributed:
            terminalreporter.write_line(f"{unattributed} objects of cyclic garbage had no project member nor a project allocation line")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.report_path:
            with open(self.report_path, "w", encoding="utf-8") as out:
                json.dump({"tests": list(self.results.values())}, out, indent=1)


# -- helpers -----------------------------------------------------------------------


def _item(kind: str, site: Tuple[str, int], message: str, **more: Any) -> Dict[str, Any]:
    return {"kind": kind, "path": site[0], "line": site[1], "message": message, **more}


def _test_site(item: pytest.Item) -> Optional[Tuple[str, int]]:
    code = getattr(getattr(item, "function", None), "__code__", None)
    if code is not None:
        return os.path.realpath(code.co_filename), code.co_firstlineno
    path, line, _ = item.location
    return (os.path.realpath(os.path.join(str(item.config.rootpath), path)), (line or 0) + 1) if path else None


def _place(site: Optional[Tuple[str, int]]) -> Optional[List[Any]]:
    return list(site) if site else None


def _line(evidence: Dict[str, Any]) -> str:
    allowed = " (allowed)" if evidence.get("allowed") else ""
    return f"{evidence['kind']}{allowed} at {os.path.relpath(evidence['path'])}:{evidence['line']}: {evidence['message']}"


def _merge_cycles(items: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The same cycle shape made many times at one place is one report."""
    merged: Dict[Tuple[Any, ...], Dict[str, Any]] = {}
    for item in items:
        key = (item["path"], item["line"], tuple(sorted(item["types"].items())))
        if key in merged:
            merged[key]["cycles"] += 1
        else:
            merged[key] = item
    return list(merged.values())


def _apply_allowances(item: pytest.Item, evidence: List[Dict[str, Any]]) -> None:
    allowed: Set[str] = set()
    everything = False
    for mark in item.iter_markers(name="gclint_allow"):
        everything = everything or not mark.args
        allowed.update(mark.args)
    for entry in evidence:
        if everything or entry["kind"] in allowed:
            entry["allowed"] = True


def _show_resource_warnings() -> None:
    """ResourceWarning is ignored by default; inside our catcher it is shown,
    unless the suite decides about it itself: the first filter that matches
    it is kept, unless it is Python's own default "ignore"."""
    for position, entry in enumerate(warnings.filters):
        action, message, category, module = entry[0], entry[1], entry[2], entry[3]
        if not issubclass(ResourceWarning, category) or message is not None or module is not None:
            continue
        if (action, category) == ("ignore", ResourceWarning):
            warnings.filters[position] = ("always",) + tuple(entry[1:])
            mutated = getattr(warnings, "_filters_mutated", None)
            if mutated is not None:
                mutated()
        return
    warnings.filterwarnings("always", category=ResourceWarning, append=True)


def _pass_on(message: warnings.WarningMessage) -> None:
    """Hand a warning we caught to whoever catches outside us (pytest)."""
    show = getattr(warnings, "_showwarnmsg", None)
    if show is not None:
        show(message)
    else:
        warnings.showwarning(message.message, message.category, message.filename, message.lineno, message.file, message.line)


def _join_until(threads: Sequence[threading.Thread], deadline: float) -> None:
    """Give threads that are just ending until `deadline` to end."""
    for thread in threads:
        try:
            thread.join(max(0.0, deadline - time.monotonic()))
        except (RuntimeError, AssertionError):  # a dummy thread (started outside threading) cannot be joined
            continue


# -- re-running under tracemalloc ------------------------------------------------


def _needs_site(evidence: Dict[str, Any]) -> bool:
    return evidence["kind"] in ("cycle", "resource") and evidence.get("site_from") != "allocation"


def _shape(evidence: Dict[str, Any], placed: bool = True) -> Tuple[Any, ...]:
    """What makes two pieces of evidence the same leak: kind, what leaked and,
    when `placed`, where it was seen. A re-run names another line (the
    allocation), so matching across runs leaves the place out."""
    # A resource's message names the file or address, which differ between runs.
    # A cycle's shape is the types in it, not how many of each: a registry of n rules is one shape for every n.
    what = tuple(sorted(evidence.get("types", {}))) if evidence["kind"] == "cycle" else _VARYING.sub("_", evidence["message"])
    return (evidence["kind"], what, evidence["path"], evidence["line"]) if placed else (evidence["kind"], what)


_VARYING = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


_UNATTRIBUTED = ("cycle", "no project member")


def _shapes_needing_sites(result: Dict[str, Any]) -> Set[Tuple[Any, ...]]:
    """Unattributed garbage counts as one shape, never named: only a re-run
    under tracing can place it (cycles of plain containers)."""
    shapes = {_shape(e) for e in result["evidence"] if _needs_site(e)}
    if result["unattributed_objects"]:
        shapes.add(_UNATTRIBUTED)
    return shapes


class RerunPlan:
    """Which tests to re-run traced, and how deep: the quickest first
    (tracing multiplies a test's time, and one slow test could cost more
    than all the others), at each depth of _RERUN_DEPTHS in turn, and only
    while one of the test's shapes is still unnamed and under its quota."""

    def __init__(self, results: Dict[str, Dict[str, Any]]) -> None:
        quickest = sorted(results.items(), key=lambda pair: pair[1].get("seconds", 0.0))
        self.pending = [(nodeid, shapes) for nodeid, shapes in ((n, _shapes_needing_sites(r)) for n, r in quickest) if shapes]
        # Filled by the re-runs (_adopt_sites): shape -> (evidence with its site, the test that named it).
        self.learned: Dict[Tuple[Any, ...], Tuple[Dict[str, Any], str]] = {}
        self._attempts: Dict[Tuple[Tuple[Any, ...], int], int] = {}

    def schedule(self):
        """(nodeid, frames) to re-run next; reads what the re-runs so far learned."""
        for frames, quota in _RERUN_DEPTHS:
            for nodeid, shapes in self.pending:
                wanted = [s for s in shapes if s not in self.learned and self._attempts.get((s, frames), 0) < quota]
                if not wanted:
                    continue
                for shape in wanted:
                    self._attempts[(shape, frames)] = self._attempts.get((shape, frames), 0) + 1
                yield nodeid, frames


def _fresh_request(item: pytest.Item) -> None:
    """A test function runs again with a new fixture request (as rerun plugins do)."""
    initrequest = getattr(item, "_initrequest", None)
    if callable(initrequest):
        initrequest()


def _adopt_sites(result: Dict[str, Any], again: Optional[Dict[str, Any]], nodeid: str, learned: Dict[Tuple[Any, ...], Tuple[Dict[str, Any], str]], frames: int) -> None:
    """Give the first run's evidence the allocation sites its traced re-run
    found; add what only tracing could attribute (cycles of plain containers)."""
    result["rerun"] = f"traced ({frames} {'frame' if frames == 1 else 'frames'})"
    named = {}
    for evidence in (again or {}).get("evidence", ()):
        if evidence.get("site_from") == "allocation":
            named.setdefault(_shape(evidence, placed=False), evidence)
    used = set()
    for evidence in result["evidence"]:
        if not _needs_site(evidence):
            continue
        found = named.get(_shape(evidence, placed=False))
        if found is None:
            evidence["rerun"] = "not seen again when re-run traced"
            continue
        learned.setdefault(_shape(evidence), (found, nodeid))
        used.add(id(found))
        _take_site(evidence, found)
    if result["unattributed_objects"]:
        known = {_shape(e, placed=False) for e in result["evidence"]}
        for evidence in named.values():
            if id(evidence) not in used and evidence["kind"] == "cycle" and _shape(evidence, placed=False) not in known:
                result["evidence"].append({**evidence, "rerun": "found only when re-run traced"})


def _borrow_sites(result: Dict[str, Any], learned: Dict[Tuple[Any, ...], Tuple[Dict[str, Any], str]]) -> None:
    for evidence in result["evidence"]:
        if _needs_site(evidence) and _shape(evidence) in learned:
            found, nodeid = learned[_shape(evidence)]
            _take_site(evidence, found)
            evidence["site_borrowed_from"] = nodeid


def _take_site(evidence: Dict[str, Any], traced: Dict[str, Any]) -> None:
    evidence.setdefault("first_seen_at", [evidence["path"], evidence["line"], evidence.get("site_from")])
    evidence.pop("rerun", None)  # "not seen again" by a shallower re-run
    for key in ("path", "line", "site_from", "sites", "allocated_at", "steps"):
        if key in traced:
            evidence[key] = traced[key]


# -- pictures ------------------------------------------------------------------------


def cycle_picture(members: Sequence[Any], item: Dict[str, Any], project: Any) -> Any:
    """The cycle as a gclint.report.graph Picture: one node per member (its
    type, and its allocation site when traced), one edge per reference
    between members (the attribute, key or index); the members allocated
    at the line the evidence names are highlighted."""
    from gclint.report import graph

    shown = list(members[: graph.MAX_NODES])
    number = {id(obj): n for n, obj in enumerate(shown)}
    nodes = tuple(graph.Node(_type_name(obj), site=project.allocation_site(obj)) for obj in shown)
    edges = tuple(graph.Edge(n, number[id(ref)], label) for n, obj in enumerate(shown) for ref, label in _member_edges(obj, number))
    title = f"{os.path.basename(item['path'])}:{item['line']}: {item.get('chain') or 'cycle'}"
    return graph.highlighted(graph.Picture(graph.CYCLE, title, nodes, edges), site=(item["path"], item["line"]))


def _member_edges(obj: Any, number: Dict[int, int]):
    """(member, label) for each member `obj` refers to, through its own
    __dict__ too (describing a chain makes 3.11+ build that dict, after
    which the instance refers to the dict rather than to its values)."""
    for ref in gc.get_referents(obj):
        if id(ref) in number:
            yield ref, _edge(obj, ref)
        elif isinstance(ref, dict) and _edge(obj, ref) == ".__dict__":
            for key, value in list(ref.items()):
                if id(value) in number:
                    yield value, f".{key}"


def _graph() -> Optional[types.ModuleType]:
    """gclint.report.graph, or None where the plugin runs without gclint
    installed (loaded by path by `gclint check --run "-m pytest"` under
    another interpreter): there it draws nothing."""
    try:
        from gclint.report import graph
    except ImportError:
        return None
    return graph


def _tree_rows(evidence: Dict[str, Any]) -> List[str]:
    """The evidence's cycle as a tree, for the terminal summary."""
    graph = _graph()
    picture = graph.evidence_picture(evidence) if graph and (evidence.get("steps") or evidence.get("chain_steps")) else None
    try:
        return graph.tree_text(picture).splitlines() if picture else []
    except ImportError:  # rich is not installed there either
        return []


def _write_graph(directory: str, members: Sequence[Any], item: Dict[str, Any], project: Any) -> Optional[str]:
    """cycle-N.dot (and .svg with Graphviz's dot); the DOT file's path."""
    graph = _graph()
    return graph.write_picture(directory, cycle_picture(members, item, project)) if graph else None
