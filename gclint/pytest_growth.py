"""The pytest plugin's growth mode and gc-cost profile (loaded by path by
gclint/pytest_plugin.py under --gclint, like the probe).

- Every test's first run gets a gc profile in the report (`"gc"`): the
  collections that ran during it, by generation, objects collected and
  uncollectable, and the total pause (gcprofile.py). Collections that
  gclint's own code started (its per-test collections, or allocations of its
  own evidence-building) are counted apart, as `gclint_collections`.
- `--gclint-repeat N`: after the whole suite ran once, each test that passed
  runs again, WARMUP_RUNS times then N measured times, in the same process,
  under tracemalloc; what grew in every measured run is added to the test's
  evidence as kind "retained" (growth.py says how it is decided). Between
  runs only the test's own (function-scoped) fixtures are torn down; module,
  class and session fixtures stay up, as they do in a normal run, so what
  they gather per test counts as growth. The first run's outcome and
  evidence stand: a repeat cannot fail a test.
"""
from __future__ import annotations

import gc
import importlib.util
import os
import sys
import tracemalloc
import types
from typing import Any, List, Optional

import pytest

# Frames kept per allocation while tests are repeated (the plugin's re-runs keep as many).
REPEAT_FRAMES = 10
# The plugin's own function that forwards the test's gc.collect(): its collections are the test's.
_FORWARDS_THE_TESTS_COLLECT = "_collect_for_test"


def _load(name: str) -> types.ModuleType:
    # By path, as the probe loads them: gclint need not be importable where the suite runs.
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dynamic", name + ".py")
    spec = importlib.util.spec_from_file_location("gclint_pytest_" + name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


growth = _load("growth")
gcprofile = _load("gcprofile")


def add_options(group: Any) -> None:
    group.addoption("--gclint-repeat", type=int, default=0, metavar="N", help=f"run each passing test again, {growth.WARMUP_RUNS} warm-up runs then N measured ones, and report what grew in every measured run")


def register(config: pytest.Config) -> None:
    config.pluginmanager.register(Repeater(config), "gclint-growth")


def gclint_is_collecting() -> bool:
    """Whether the collection starting now was started by gclint's own code:
    the innermost frame outside the gc callbacks is gclint's, and is not the
    plugin forwarding the test's own gc.collect()."""
    frame = sys._getframe(1)
    while frame is not None and os.path.realpath(frame.f_code.co_filename) == os.path.realpath(gcprofile.__file__):
        frame = frame.f_back
    if frame is None:
        return False
    return growth.is_gclint_file(frame.f_code.co_filename) and frame.f_code.co_name != _FORWARDS_THE_TESTS_COLLECT


class Repeater:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.runs = max(0, int(config.getoption("gclint_repeat") or 0))
        self.project_path = growth.project_path_under(str(config.rootpath))
        self.real_collect = gc.collect
        self.repeated = 0

    def _inspector(self) -> Any:
        return self.config.pluginmanager.get_plugin("gclint-inspector")

    # the gc profile of each test's first run -------------------------------------
    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: Optional[pytest.Item]):
        profile = gcprofile.GcProfile(is_ours=gclint_is_collecting)
        profile.install()
        try:
            return (yield)
        finally:
            profile.remove()
            inspector = self._inspector()
            result = inspector.results.get(item.nodeid) if inspector is not None else None
            if result is not None:
                result["gc"] = profile.as_dict()

    # growth --------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session):
        finished = yield
        inspector = self._inspector()
        if self.runs and inspector is not None and session.items:
            self._repeat_all(session, inspector)
        return finished

    def _repeat_all(self, session: pytest.Session, inspector: Any) -> None:
        chosen = [item for item in session.items if inspector.results.get(item.nodeid, {}).get("outcome") == "passed"]
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start(REPEAT_FRAMES)
        try:
            for position, item in enumerate(chosen):
                following = chosen[position + 1] if position + 1 < len(chosen) else None
                self._repeat(item, following, inspector)
        finally:
            if started:
                tracemalloc.stop()

    def _repeat(self, item: pytest.Item, following: Optional[pytest.Item], inspector: Any) -> None:
        from _pytest.runner import runtestprotocol

        failed: List[str] = []

        def run_once() -> None:
            _fresh_request(item)
            inspector.rerunning = True  # the windows fill rerun_results: the first run's results stand
            try:
                # Up to the test's parent: only its function-scoped fixtures are torn down.
                reports = runtestprotocol(item, nextitem=item.parent, log=False)
            finally:
                inspector.rerunning = False
                inspector.rerun_results.pop(item.nodeid, None)
            failed.extend(r.when for r in reports if r.failed)

        result = inspector.results[item.nodeid]
        try:
            items = growth.repeat(run_once, self.runs, growth.Meter(self.project_path, self.real_collect))
        except Exception as exc:  # a bug in measuring must cost this test's growth, not the session
            result["growth"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
            return
        finally:
            item.session._setupstate.teardown_exact(following)
        self.repeated += 1
        result["growth"] = {"runs": self.runs, "warmup_runs": growth.WARMUP_RUNS, "failed_runs": len(failed)}
        allowed = _allowed_kinds(item)
        for evidence in items:
            if allowed is not None and (not allowed or "retained" in allowed):
                evidence["allowed"] = True
        result["evidence"].extend(items)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.runs:
            terminalreporter.write_line(f"gclint: {self.repeated} passing tests run {growth.WARMUP_RUNS} + {self.runs} more times to measure growth")


def _fresh_request(item: pytest.Item) -> None:
    """A test function runs again with a new fixture request (as rerun plugins do)."""
    initrequest = getattr(item, "_initrequest", None)
    if callable(initrequest):
        initrequest()


def _allowed_kinds(item: pytest.Item) -> Optional[List[str]]:
    """The gclint_allow marker's kinds ([] for all), None without the marker."""
    kinds: Optional[List[str]] = None
    for mark in item.iter_markers(name="gclint_allow"):
        if not mark.args:
            return []
        kinds = (kinds or []) + list(mark.args)
    return kinds
