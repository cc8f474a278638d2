"""The pytest plugin, run on a suite of our own (tests/leaky_suite) whose
tests each leave one kind of evidence, next to clean tests."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, python_with_pytest

SUITE = ROOT / "tests" / "leaky_suite"
SUITE_FILE = "leaks_tests.py"
# Each test of the suite, and the exact kinds and places it must be blamed for.
EXPECTED = {
    "test_parent_child_cycle": [("cycle", "helpers.py")],
    "test_unclosed_file": [("resource", SUITE_FILE)],
    "test_raising_finalizer": [("unraisable", SUITE_FILE)],
    "test_thread_left_running": [("thread", SUITE_FILE)],
    "test_exception_kept_in_frame": [("cycle", SUITE_FILE)],
    "test_task_left_pending": [("retained", SUITE_FILE)],
    "test_cycle_dropped_after_an_explicit_collect": [("cycle", "helpers.py")],
    "test_cycle_of_two_instances": [("cycle", SUITE_FILE)],
    "test_collected_cycles_are_gone_from_the_heap": [("cycle", "helpers.py")],
    "test_allowed_cycle": [("cycle", "helpers.py")],
    "test_clean_arithmetic": [],
    "test_clean_pytest_raises": [],
    "test_clean_closed_file": [],
    "test_clean_joined_thread": [],
    "test_clean_thread_ending_with_the_test": [],
    "test_clean_class_defined_locally": [],
    "test_clean_explicit_collect": [],
    "test_clean_own_saveall_check": [],
    "test_clean_heap_walks_see_the_whole_heap": [],
    "test_clean_parametrized[1]": [],
    "test_clean_parametrized[2]": [],
}
# Hang guard for a whole run of the suite (a few seconds when quiet).
RUN_GUARD_SECONDS = 600
# How long a test's threads may take to end: a hang guard for the thread that
# ends with its test (it ends at once), paid in full by the one left running.
THREAD_GRACE = "--gclint-thread-grace=3"


def _run_suite(python, tmp_path, *options, pythonpath=None):
    report = tmp_path / "R.json"
    environment = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    if pythonpath:
        environment["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [python, "-m", "pytest", "-p", "gclint.pytest_plugin", "--gclint", f"--gclint-report={report}", THREAD_GRACE, *options],
        cwd=SUITE, env=environment, capture_output=True, text=True, timeout=RUN_GUARD_SECONDS,
    )
    data = json.loads(report.read_text()) if report.exists() else None
    return done, data


def _by_test(data):
    return {t["nodeid"].split("::", 1)[1]: t for t in data["tests"]}


def _check_attribution(done, data):
    assert data is not None, done.stdout + done.stderr
    tests = _by_test(data)
    assert sorted(tests) == sorted(EXPECTED), done.stdout
    for name, expected in EXPECTED.items():
        found = [(e["kind"], Path(e["path"]).name) for e in tests[name]["evidence"]]
        assert found == expected, (name, tests[name]["evidence"])
        for evidence in tests[name]["evidence"]:
            assert isinstance(evidence["line"], int) and evidence["message"]
        # Every test passed: with gc.isenabled() asserted inside two of them.
        assert tests[name]["outcome"] == "passed", (name, done.stdout)


def test_each_test_is_blamed_for_exactly_what_it_left(tmp_path):
    done, data = _run_suite(sys.executable, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    _check_attribution(done, data)
    tests = _by_test(data)
    (cycle,) = tests["test_parent_child_cycle"]["evidence"]
    # One strongly connected component, its chain through its own members.
    assert cycle["types"] == {"Node": 2, "list": 1} or cycle["types"] == {"Node": 2, "list": 1, "dict": 2}
    assert cycle["chain"] == "Node.parent -> Node.children -> list[0] -> Node"
    (kept,) = tests["test_exception_kept_in_frame"]["evidence"]
    assert sorted(kept["types"]) == ["ValueError", "frame", "traceback"]
    (allowed,) = tests["test_allowed_cycle"]["evidence"]
    assert allowed["allowed"] is True
    assert "gclint" in done.stdout and "6 left evidence" not in done.stdout
    assert "21 tests inspected, 10 left evidence" in done.stdout
    _check_sites_named(tests)
    # Only the tests whose evidence had no allocation site ran again, at one
    # frame (each site is in the project's own code), and of the four tests
    # with the same Node cycle only one: the others borrow the site it named.
    rerun = {name: t["rerun"] for name, t in tests.items() if t.get("rerun")}
    family = {"test_allowed_cycle", "test_parent_child_cycle", "test_cycle_dropped_after_an_explicit_collect", "test_collected_cycles_are_gone_from_the_heap"}
    (named_by,) = family & set(rerun)
    once = "traced (1 frame)"
    assert rerun == {"test_exception_kept_in_frame": once, "test_unclosed_file": once, "test_cycle_of_two_instances": once, named_by: once}
    for borrower in family - {named_by}:
        (borrowed,) = tests[borrower]["evidence"]
        assert borrowed["site_borrowed_from"].endswith("::" + named_by) and borrowed["site_from"] == "allocation"
    assert "4 of them re-run under tracemalloc" in done.stdout


def _check_sites_named(tests):
    """Each cycle and unclosed file is placed at the line that allocated it."""
    helpers = (SUITE / "helpers.py").read_text().splitlines()
    suite = (SUITE / SUITE_FILE).read_text().splitlines()
    (cycle,) = tests["test_parent_child_cycle"]["evidence"]
    assert cycle["site_from"] == "allocation"
    # A member's allocation: the instance, its list, or (3.9, 3.10) its __dict__, made by the first attribute set.
    assert helpers[cycle["line"] - 1].strip() in ("root = Node()", "Node(root)", "self.children = []", "self.parent = parent")
    (resource,) = tests["test_unclosed_file"]["evidence"]
    assert resource["site_from"] == "allocation"
    assert suite[resource["line"] - 1].strip() == "handle = open(path)"
    # The instances (3.12+; on 3.11 where their __init__ was called from) or, 3.9-3.10, their __dict__s.
    (pair,) = tests["test_cycle_of_two_instances"]["evidence"]
    assert pair["site_from"] == "allocation"
    assert suite[pair["line"] - 1].strip() in ("first, second = Pair(), Pair()", "self.other = None")


def test_without_rerun_sites_come_from_the_code_and_classes(tmp_path):
    done, data = _run_suite(sys.executable, tmp_path, "--gclint-no-rerun")
    _check_attribution(done, data)
    tests = _by_test(data)
    assert not any(t.get("rerun") for t in tests.values())
    (cycle,) = tests["test_parent_child_cycle"]["evidence"]
    assert cycle["site_from"] == "class definition"
    assert cycle["classes"] == [{"name": "Node", "path": str((SUITE / "helpers.py").resolve()), "line": cycle["line"]}]
    (resource,) = tests["test_unclosed_file"]["evidence"]
    assert resource["site_from"] != "allocation"


def _result(nodeid, *evidence, unattributed=0):
    return nodeid, {"nodeid": nodeid, "evidence": list(evidence), "unattributed_objects": unattributed}


def _cycle(line, site_from="class definition"):
    return {"kind": "cycle", "path": "/p/a.py", "line": line, "types": {"Node": 2, "list": 1}, "site_from": site_from, "message": "m"}


def _replay(plan, names_at):
    """Run a RerunPlan as the plugin does; a re-run at `frames` names the
    shapes names_at(nodeid, frames) says, as the plugin's _adopt_sites would."""
    ran = []
    for nodeid, frames in plan.schedule():
        ran.append((nodeid, frames))
        for shape in names_at(nodeid, frames):
            plan.learned.setdefault(shape, ({}, nodeid))
    return ran


def _shape_of(results, nodeid):
    from gclint.pytest_plugin import _shape

    return _shape(results[nodeid]["evidence"][0])


def test_a_shape_named_by_one_rerun_is_borrowed_by_the_other_tests():
    from gclint.pytest_plugin import RerunPlan

    results = dict(_result(f"t{n}", _cycle(9)) for n in range(4))
    results.update([_result("named", _cycle(9, "allocation")), _result("clean")])
    plan = RerunPlan(results)
    assert [nodeid for nodeid, _ in plan.pending] == ["t0", "t1", "t2", "t3"]
    assert _replay(plan, lambda nodeid, frames: [_shape_of(results, nodeid)]) == [("t0", 1)]


def test_a_shape_one_frame_cannot_place_is_rerun_twice_then_once_deeper():
    from gclint.pytest_plugin import RerunPlan

    results = dict(_result(f"t{n}", _cycle(9)) for n in range(4))
    results.update([_result("other", _cycle(20))])
    plan = RerunPlan(results)
    deep_only = _shape_of(results, "t0")
    # t0..t3's shape is placed only at 10 frames; "other" at once.
    ran = _replay(plan, lambda nodeid, frames: [_shape_of(results, nodeid)] if frames == 10 or nodeid == "other" else [])
    assert ran == [("t0", 1), ("t1", 1), ("other", 1), ("t0", 10)]
    assert plan.learned[deep_only][1] == "t0"


def test_unattributed_garbage_is_rerun_within_its_quota_at_each_depth():
    from gclint.pytest_plugin import RerunPlan

    results = dict(_result(f"plain{n}", unattributed=3) for n in range(4))
    ran = _replay(RerunPlan(results), lambda nodeid, frames: [])
    assert ran == [("plain0", 1), ("plain1", 1), ("plain0", 10)]


def test_gclint_fail_fails_each_leaking_test_but_the_allowed_one(tmp_path):
    done, data = _run_suite(sys.executable, tmp_path, "--gclint-fail")
    assert done.returncode == 1
    outcomes = {name: t["outcome"] for name, t in _by_test(data).items()}
    failing = sorted(name for name, outcome in outcomes.items() if outcome != "passed")
    assert failing == sorted(name for name, kinds in EXPECTED.items() if kinds and name != "test_allowed_cycle")
    assert "9 errors" in done.stdout.splitlines()[-1], done.stdout


def test_cycle_sites_are_allocation_lines_under_tracing(tmp_path):
    done, data = _run_suite(sys.executable, tmp_path, "--gclint-trace=1")
    _check_attribution(done, data)
    tests = _by_test(data)
    _check_sites_named(tests)
    assert not any(t.get("rerun") for t in tests.values())


def test_the_plugin_is_inactive_without_its_option(tmp_path):
    environment = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "gclint.pytest_plugin", "-q"],
        cwd=SUITE, env=environment, capture_output=True, text=True, timeout=RUN_GUARD_SECONDS,
    )
    assert done.returncode == 0 and "gclint" not in done.stdout


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    from importlib.metadata import entry_points

    found = entry_points()
    group = found.select(group="pytest11") if hasattr(found, "select") else found.get("pytest11", [])
    assert "gclint.pytest_plugin" in [e.value for e in group]


# -- other interpreters: pytest in a venv of their own ----------------------------


@pytest.fixture(scope="session")
def venv_root(tmp_path_factory):
    return tmp_path_factory.mktemp("plugin-venvs")


@pytest.mark.slow  # other interpreters: in .ci/run's slow step
@pytest.mark.parametrize("version", ["3.9.18", "3.13.0"])
def test_the_attribution_holds_on_other_interpreters(version, venv_root, tmp_path):
    python = python_with_pytest(version, venv_root)
    # Only the plugin's own module is needed there: gclint's package imports nothing heavy at first.
    done, data = _run_suite(python, tmp_path, pythonpath=str(ROOT))
    _check_attribution(done, data)
    _check_sites_named(_by_test(data))


# -- gclint check --run "-m pytest ...": static findings confirmed by the suite ----


def _check_through_the_suite(*environment, python=sys.executable):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--select", "GCL", "--no-cache", "--format", "json", "--exit-zero",
         "--python", python, "--run", "-m pytest -q", "helpers.py", SUITE_FILE],
        cwd=SUITE, env=dict(os.environ, **dict(environment)), capture_output=True, text=True, timeout=RUN_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stderr
    return done, {(f["path"], f["code"], f["line"]): f for f in json.loads(done.stdout)}


@pytest.mark.parametrize("autoload", ["1", ""])
def test_a_suite_run_confirms_findings_with_the_test_that_showed_them(autoload):
    # With autoload, gclint's own entry point is there too: the plugin must not load twice.
    _check_suite_run_statuses(*_check_through_the_suite(("PYTEST_DISABLE_PLUGIN_AUTOLOAD", autoload)))


@pytest.mark.slow  # other interpreters: in .ci/run's slow step
@pytest.mark.parametrize("version", ["3.9.18", "3.13.0"])
def test_a_suite_run_confirms_the_same_on_other_interpreters(version, venv_root):
    # Lines recorded with sys.settrace on 3.9, sys.monitoring on 3.13; gclint is not installed there.
    python = python_with_pytest(version, venv_root)
    _check_suite_run_statuses(*_check_through_the_suite(("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"), python=python))


def _check_suite_run_statuses(done, findings):
    helpers = (SUITE / "helpers.py").read_text().splitlines()
    line_of = {}
    for number, text in enumerate(helpers, 1):
        line_of.setdefault(text.strip(), number)
    statuses = {key: (f["status"], [t for e in f["evidence"] for t in e.get("tests", [])]) for key, f in findings.items()}
    test = SUITE_FILE + "::"
    suite = (SUITE / SUITE_FILE).read_text().splitlines()
    # No rule foresees the cycle of two instances either: its line is the
    # instances' (3.11+) or, on 3.9-3.10, their __dict__s' (the first attribute set).
    (pair,) = [key for key in statuses if key[:2] == (SUITE_FILE, "GCL901") and suite[key[2] - 1].strip() in ("first, second = Pair(), Pair()", "self.other = None")]
    assert statuses.pop(pair) == ("confirmed", [test + "test_cycle_of_two_instances"])
    assert statuses == {
        ("helpers.py", "GCL204", line_of["self.parent = parent"]): ("confirmed", [test + "test_parent_child_cycle", test + "test_cycle_dropped_after_an_explicit_collect", test + "test_collected_cycles_are_gone_from_the_heap"]),
        # Made between tests (the suite's own hook), so no test's: it ran, no test showed it.
        ("helpers.py", "GCL203", line_of["self.me = self"]): ("not reproduced", []),
        ("helpers.py", "GCL203", len(helpers)): ("not executed", []),
        (SUITE_FILE, "GCL301", 19): ("confirmed", [test + "test_unclosed_file"]),
        (SUITE_FILE, "GCL206", 40): ("confirmed", [test + "test_exception_kept_in_frame"]),
        # No rule foresees it: reported from the evidence alone, with its test.
        (SUITE_FILE, "GCL904", 25): ("confirmed", [test + "test_raising_finalizer"]),
    }, done.stderr
    # Every test passed (two assert gc.isenabled()): pytest's status is 0, so no diagnostic.
    assert "exited with status" not in done.stderr


# -- pictures (issue 15, DOT per cycle) ----------------------------------------------

def _dot_graph(text):
    """Nodes and edges of a DOT file, read by a strict DOT parser."""
    from dotcheck import parse

    graph = parse(text)
    return set(graph.nodes), [(source, target) for source, target, _ in graph.edges]


def test_each_cycle_is_drawn_as_a_dot_file_of_its_members(tmp_path):
    import shutil

    graphs = tmp_path / "graphs"
    done, data = _run_suite(sys.executable, tmp_path, f"--gclint-graph={graphs}")
    _check_attribution(done, data)
    drawn = {name: e["graph"] for name, t in _by_test(data).items() for e in t["evidence"] if e["kind"] == "cycle"}
    assert sorted(drawn) == [
        "test_allowed_cycle", "test_collected_cycles_are_gone_from_the_heap", "test_cycle_dropped_after_an_explicit_collect", "test_cycle_of_two_instances",
        "test_exception_kept_in_frame", "test_parent_child_cycle",
    ]
    for name, path in drawn.items():
        nodes, edges = _dot_graph(Path(path).read_text())
        # A strongly connected component: from any member, every member is reachable.
        reached, frontier = {min(nodes)}, [min(nodes)]
        while frontier:
            here = frontier.pop()
            for source, target in edges:
                if source == here and target not in reached:
                    reached.add(target)
                    frontier.append(target)
        assert reached == nodes, (name, edges)
        if shutil.which("dot"):
            assert Path(path).with_suffix(".svg").read_text().lstrip().startswith("<")
    from dotcheck import parse

    family = parse(Path(drawn["test_parent_child_cycle"]).read_text())
    assert {".parent", ".children", "[0]"} <= {attributes.get("label") for _, _, attributes in family.edges}
