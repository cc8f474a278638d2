"""Dynamic mode: fixtures confirmed on several interpreters, every kind of
evidence recorded, and misbehaving targets reported without harm."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import FIXTURES, ROOT, expectations, pyenv_python
from gclint.dynamic import DynamicOptions, confirm, defines_main, program_targets
from gclint.dynamic.codes import DYNAMIC_CODES
from gclint.dynamic.confirm import matches
from gclint.model import CONFIRMED, NOT_EXECUTED, NOT_REPRODUCED, Finding, Severity
from gclint.rule import known_codes, required_sections_missing, rule_for

TARGETS = ROOT / "tests" / "dynamic_targets"
EVIDENCE_TARGET = TARGETS / "gc_evidence.py"


def _interpreter(version):
    if version is None:
        return sys.executable
    path = pyenv_python(version)
    if path is None:
        pytest.skip(f"Python {version} is not installed")
    return path


INTERPRETERS = [
    pytest.param(None, id="test-interpreter"),
    # Other interpreters: in .ci/run's slow step, so the README command stays short.
    pytest.param("3.12.1", id="3.12.1", marks=pytest.mark.slow),
    pytest.param("3.13.0", id="3.13.0", marks=pytest.mark.slow),
    pytest.param("3.9.18", id="3.9.18", marks=pytest.mark.slow),
]
# Evidence some interpreters cannot give: (code, first version that can).
OBSERVABLE_SINCE = {
    "GCL304": (3, 13),  # sqlite3 warns about an unclosed connection only since 3.13
}


# Hang guards only: on a quiet machine each of these waits takes well under a second.
STARTUP_GUARD_SECONDS = 120
EXIT_GUARD_SECONDS = 60


def _gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _version_of(version):
    return sys.version_info[:2] if version is None else tuple(int(n) for n in version.split(".")[:2])


def _gclint(*args, cwd=ROOT):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-config", *args],
        capture_output=True, text=True, cwd=cwd, timeout=600,  # a hang guard
    )
    return done


def _json_findings(done):
    return json.loads(done.stdout)


# -- fixtures ------------------------------------------------------------------


@pytest.mark.parametrize("version", INTERPRETERS)
def test_fixtures_are_confirmed_and_clean_fixtures_give_no_evidence(version):
    python = _interpreter(version)
    done = _gclint("--dynamic", "--python", python, "--select", "GCL", "fixtures", "--format", "json")
    assert done.returncode == 1, done.stderr
    assert "gclint: dynamic:" not in done.stderr
    findings = _json_findings(done)
    by_place = {(Path(f["path"]).resolve(), f["line"], f["code"]): f for f in findings}
    checked = 0
    for path in sorted(FIXTURES.rglob("*.py")):
        for line, code in expectations(path):
            if rule_for(code).EVIDENCE == "none" or _version_of(version) < OBSERVABLE_SINCE.get(code, (3, 0)):
                continue
            found = by_place[(path, line, code)]
            assert found["status"] == CONFIRMED, found
            assert all(e["summary"] for e in found["evidence"])
            checked += 1
    assert checked >= 7  # at least the GCL4xx expectations of fixtures/gc
    clean = [f for f in findings if Path(f["path"]).name.startswith("clean_")]
    assert clean == []


def test_text_output_prints_status_and_summary_under_the_finding():
    done = _gclint("--dynamic", "fixtures/gc/young_collect.py")
    assert re.search(
        r"GCL401 .*\n.*\n.*\n    confirmed: gc\.collect\(0\) ran once: 0 objects reclaimed in (<?[\d.]+ ms|[\d.]+ s); "
        r"100 objects of cyclic garbage in older generations survived it\n",
        done.stdout,
    ), done.stdout


# -- evidence of every kind, on every installed version ------------------------


@pytest.mark.parametrize("version", ["3.9.18", "3.10.13", None, "3.12.1", "3.13.0"])
def test_probe_records_every_kind_of_evidence(version):
    outcome = confirm([], [str(EVIDENCE_TARGET)], DynamicOptions(python=_interpreter(version), timeout=STARTUP_GUARD_SECONDS))
    assert outcome.diagnostics == []
    by_code = {}
    for finding in outcome.findings:
        by_code.setdefault(finding.code, []).append(finding)
    assert sorted(by_code) == ["GCL901", "GCL902", "GCL903", "GCL904", "GCL905"]

    tree, bare = sorted(by_code["GCL901"], key=lambda f: -f.evidence[0]["objects"])
    evidence = tree.evidence[0]
    assert evidence["types"]["Node"] == 3 and evidence["cycles"] == 1
    assert "freed only by the cycle collector" in evidence["summary"]
    # On 3.11 tracemalloc does not know plain instances: the probe notes
    # where __init__ was called from instead (Node has one, Bare has none,
    # so Bare falls back to its class definition).
    assert (tree.line, evidence["site_from"]) == (54, "allocation")
    if version == "3.11.7" or (version is None and sys.version_info[:2] == (3, 11)):
        assert (bare.line, bare.evidence[0]["site_from"]) == (44, "class definition")
    else:
        assert (bare.line, bare.evidence[0]["site_from"]) == (49, "allocation")

    resurrected = {f.evidence[0]["classes"][0]["name"]: f.evidence[0] for f in by_code["GCL903"]}
    assert sorted(resurrected) == ["Phoenix", "SlotPhoenix"]  # not Quiet, not SlotQuiet
    assert resurrected["Phoenix"]["detected_by"] == "weak reference"
    assert resurrected["SlotPhoenix"]["detected_by"] == "reference count"
    # The reference count grows on both, so either method would do for Phoenix.
    assert resurrected["Phoenix"]["refcount_grew"] and resurrected["SlotPhoenix"]["refcount_grew"]

    (warning,) = by_code["GCL902"]
    assert warning.line == 60 and "unclosed file" in warning.message  # where it was opened
    (failure,) = by_code["GCL904"]
    assert failure.line == 41 and "ValueError: cleanup failed" in failure.message
    (collect,) = by_code["GCL905"]
    assert collect.line == 74 and collect.evidence[0]["calls"] == 12


# -- matching ------------------------------------------------------------------

_PATH = os.path.realpath(EVIDENCE_TARGET)


def _finding(line, code="GCL204"):
    return Finding(str(EVIDENCE_TARGET), line, 5, code, "m", Severity.WARNING)


@pytest.mark.parametrize(
    "finding_line, evidence, expected",
    [
        pytest.param(74, {"kind": "gc-call", "path": _PATH, "line": 74}, True, id="same-statement"),
        pytest.param(54, {"kind": "cycle", "path": _PATH, "line": 56}, True, id="same-function"),
        pytest.param(54, {"kind": "cycle", "path": _PATH, "line": 60}, False, id="other-function"),
        pytest.param(54, {"kind": "cycle", "path": _PATH, "line": 90, "frames": [[_PATH, 54]]}, True, id="outer-frame-at-statement"),
        pytest.param(9, {"kind": "cycle", "path": _PATH, "line": 7, "classes": [{"name": "Node", "path": _PATH, "line": 7}]}, True, id="instance-of-the-class"),
        pytest.param(9, {"kind": "cycle", "path": _PATH, "line": 15, "classes": [{"name": "Phoenix", "path": _PATH, "line": 15}]}, False, id="instance-of-another-class"),
        pytest.param(9, {"kind": "cycle", "path": "/elsewhere.py", "line": 9}, False, id="other-file"),
        pytest.param(70, {"kind": "cycle", "path": _PATH, "line": 5, "sites": [[_PATH, 68]]}, True, id="member-site-in-function"),
    ],
)
def test_evidence_matches_statement_function_or_class(finding_line, evidence, expected):
    assert matches(evidence, _finding(finding_line)) is expected


def test_statuses_from_evidence_and_executed_lines(monkeypatch):
    # Rules of other families may not declare their evidence kind yet.
    kinds = {"GCL204": "cycle", "GCL402": "gc-call"}
    # (gclint.dynamic.confirm is the function; the module is only in sys.modules.)
    monkeypatch.setattr(sys.modules["gclint.dynamic.confirm"], "rule_evidence_kind", lambda code: kinds.get(code, "none"))
    findings = [_finding(9, "GCL204"), _finding(55, "GCL204"), _finding(29, "GCL204"), _finding(74, "GCL402")]
    outcome = confirm(findings, [str(EVIDENCE_TARGET)], DynamicOptions(python=sys.executable))
    statuses = {(f.line, f.code): f.status for f in outcome.findings if not f.code.startswith("GCL9")}
    assert statuses == {
        (9, "GCL204"): CONFIRMED,  # inside class Node, whose instances made the cycle
        (55, "GCL204"): CONFIRMED,  # inside build_tree, where the cycle was allocated
        (29, "GCL204"): NOT_REPRODUCED,  # Quiet.__del__ ran, no cycle there
        (74, "GCL402"): CONFIRMED,
    }
    # The explained tree cycle and gc.collect() call are no longer reported
    # as GCL901 / GCL905; the Bare pair, which no finding explains, still is.
    assert [f.evidence[0]["types"] for f in outcome.findings if f.code in ("GCL901", "GCL905")] == [{"Bare": 2}]


def test_findings_in_code_that_never_ran_are_not_executed(tmp_path):
    target = tmp_path / "partial.py"
    target.write_text("import gc\n\n\ndef unused():\n    gc.disable()\n\n\ndef main():\n    return 1\n")
    finding = Finding(str(target), 5, 5, "GCL404", "m", Severity.WARNING)
    outcome = confirm([finding], [str(target)], DynamicOptions(python=sys.executable))
    assert [f.status for f in outcome.findings] == [NOT_EXECUTED]


# -- targets and options -------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        pytest.param("def main():\n    pass\n", True, id="plain"),
        pytest.param("def main(argv=None, *, verbose=False):\n    pass\n", True, id="defaults"),
        pytest.param("def main(argv):\n    pass\n", False, id="required-argument"),
        pytest.param("def main(*, flag):\n    pass\n", False, id="required-keyword"),
        pytest.param("class C:\n    def main(self):\n        pass\n", False, id="method"),
        pytest.param("async def main():\n    pass\n", False, id="async"),
        pytest.param("def main(:\n", False, id="syntax-error"),
    ],
)
def test_a_target_defines_main_without_required_arguments(tmp_path, source, expected):
    path = tmp_path / "target.py"
    path.write_text(source)
    assert defines_main(str(path)) is expected


def test_run_option_parses_scripts_and_modules():
    script, module = program_targets(["tool.py --fast 'a b'", "-m pkg.cli run"])
    assert script.spec == {"script": os.path.abspath("tool.py"), "args": ["--fast", "a b"]}
    assert module.spec == {"module": "pkg.cli", "args": ["run"]}


@pytest.mark.parametrize("run", ["gc_evidence.py", "-m gc_evidence"])
def test_run_option_runs_a_script_or_module_instead(run):
    done = _gclint("--run", run, "gc_evidence.py", "--format", "json", "--select", "GCL9", cwd=TARGETS)
    codes = sorted({f["code"] for f in _json_findings(done)})
    assert codes == ["GCL901", "GCL902", "GCL903", "GCL904", "GCL905"], done.stderr


def test_no_target_is_a_diagnostic(tmp_path):
    path = tmp_path / "library.py"
    path.write_text("def helper(x):\n    return x\n")
    outcome = confirm([], [str(path)], DynamicOptions(python=sys.executable))
    assert outcome.findings == [] and "no target" in outcome.diagnostics[0]


def test_missing_interpreter_is_a_diagnostic():
    outcome = confirm([], [str(EVIDENCE_TARGET)], DynamicOptions(python="/nonexistent/python3"))
    assert outcome.findings == [] and "cannot start /nonexistent/python3" in outcome.diagnostics[0]


# -- misbehaving targets -------------------------------------------------------

BAD_TARGETS = {
    "huge_allocation.py": r"raised MemoryError at tests/dynamic_targets/huge_allocation.py:5 \(the address-space limit is 2048 MB",
    "os_exit.py": r"called os\._exit\(3\) at tests/dynamic_targets/os_exit.py:6: no exit handlers",
    "segfault.py": r"crashed by SIGSEGV at tests/dynamic_targets/segfault.py:6 in main; no evidence",
    "grandchild.py": r"left 1 process running after it ended \(pid (\d+): .*time\.sleep\(120\)\); killed",
    "flood.py": r"flooded its output \(more than 16 MiB on stdout/stderr\); stopped",
    "import_error.py": r"failed at import: ModuleNotFoundError: No module named 'gclint_no_such_module' at tests/dynamic_targets/import_error.py:2",
}
# Long enough for the probe to start and reach main() on a loaded machine:
# the diagnostic names the line the target was stopped at.
HANG_TIMEOUT = "10"


def test_misbehaving_targets_get_a_diagnostic_and_harm_nothing():
    paths = [f"tests/dynamic_targets/{name}" for name in BAD_TARGETS] + ["fixtures/gc/collect_in_loop.py"]
    static = _gclint(*paths, "--format", "json")
    # A generous timeout: none of these targets may be stopped for taking long.
    dynamic = _gclint("--dynamic", "--timeout", "300", *paths, "--format", "json")
    assert dynamic.returncode == static.returncode == 1
    diagnostics = [line for line in dynamic.stderr.splitlines() if line.startswith("gclint: dynamic: ")]
    assert len(diagnostics) == len(BAD_TARGETS), dynamic.stderr
    for name, pattern in BAD_TARGETS.items():
        line = next((d for d in diagnostics if d.startswith(f"gclint: dynamic: tests/dynamic_targets/{name}: ")), "")
        match = re.search(pattern, line)
        assert match, (name, line)
        if name == "grandchild.py":
            assert _gone(int(match.group(1)))
    # The well-behaved target beside them is confirmed as usual.
    loop = [f for f in _json_findings(dynamic) if f["code"] == "GCL402"]
    assert [f["status"] for f in loop] == [CONFIRMED]
    static_keys = {(f["path"], f["line"], f["code"]) for f in _json_findings(static)}
    assert {(f["path"], f["line"], f["code"]) for f in _json_findings(dynamic) if not f["code"].startswith("GCL9")} == static_keys


def test_a_hanging_target_is_stopped_at_its_timeout_where_it_was():
    done = _gclint("--dynamic", "--timeout", HANG_TIMEOUT, "tests/dynamic_targets/hang.py")
    assert re.search(
        rf"gclint: dynamic: tests/dynamic_targets/hang.py: timed out after {HANG_TIMEOUT} s \(wall clock\) at tests/dynamic_targets/hang.py:[67]; stopped",
        done.stderr,
    ), done.stderr


# -- codes -----------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(DYNAMIC_CODES))
def test_dynamic_codes_are_documented_and_selectable(code):
    info = DYNAMIC_CODES[code]
    assert code in known_codes()
    assert required_sections_missing(info) == []
    done = subprocess.run([sys.executable, "-m", "gclint", "explain", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and info.summary in done.stdout


# -- containment: gclint's end is its targets' end -------------------------------

def _wait_until(condition, guard, what):
    deadline = time.monotonic() + guard
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {guard} s")
        time.sleep(0.05)


def _pids_written(pidfile, count):
    def ready():
        try:
            return len(pidfile.read_text().split()) == count
        except OSError:
            return False

    return ready


def _start_gclint_on(target, pidfile):
    """gclint, in its own session (as CI runs it), running a target that
    never ends; returns it once the target said which processes it made."""
    environment = dict(os.environ, GCLINT_TEST_PIDFILE=str(pidfile))
    gclint = subprocess.Popen(
        [sys.executable, "-m", "gclint", "check", "--no-config", "--dynamic", "--timeout", "600", str(TARGETS / target)],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        _wait_until(_pids_written(pidfile, 2), STARTUP_GUARD_SECONDS, "the target to start")
    except AssertionError:
        gclint.kill()
        raise
    return gclint, [int(pid) for pid in pidfile.read_text().split()]


def _kill_for_cleanup(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_signal_to_gclint_kills_the_target_and_its_daemon(tmp_path, signum):
    gclint, pids = _start_gclint_on("hang_with_daemon.py", tmp_path / "pids")
    try:
        assert not any(_gone(pid) for pid in pids)
        gclint.send_signal(signum)
        gclint.wait(timeout=EXIT_GUARD_SECONDS)
        _wait_until(lambda: all(_gone(pid) for pid in pids), EXIT_GUARD_SECONDS, f"{pids} to end")
    finally:
        gclint.kill()
        _kill_for_cleanup(pids)
    # The signal still ends gclint the way it ends any program; Ctrl-C is
    # the shell's convention, exit status 130, without a traceback.
    expected = 130 if signum == signal.SIGINT else -signum
    assert gclint.returncode == expected, gclint.stderr.read().decode()


def test_a_target_that_kills_gclint_dies_with_its_daemon(tmp_path):
    gclint, pids = _start_gclint_on("kills_parent.py", tmp_path / "pids")
    try:
        gclint.wait(timeout=EXIT_GUARD_SECONDS)
        assert gclint.returncode == -signal.SIGKILL
        # Nothing of gclint is left to act: the run's keeper ends the tree.
        _wait_until(lambda: all(_gone(pid) for pid in pids), EXIT_GUARD_SECONDS, f"{pids} to end")
    finally:
        _kill_for_cleanup(pids)


def test_a_daemonised_grandchild_is_reported_and_killed(tmp_path, monkeypatch):
    pidfile = tmp_path / "pids"
    monkeypatch.setenv("GCLINT_TEST_PIDFILE", str(pidfile))
    outcome = confirm([], [str(TARGETS / "daemon.py")], DynamicOptions(python=sys.executable, timeout=STARTUP_GUARD_SECONDS))
    (daemon,) = [int(pid) for pid in pidfile.read_text().split()]
    try:
        (diagnostic,) = outcome.diagnostics
        assert re.search(rf"daemon\.py: left 1 process running after it ended \(pid {daemon}: .*\); killed", diagnostic), diagnostic
        _wait_until(lambda: _gone(daemon), EXIT_GUARD_SECONDS, "the daemon to end")
    finally:
        _kill_for_cleanup([daemon])


def test_gclint_is_no_subreaper_after_dynamic_mode():
    from gclint.dynamic.contain import subreaper_active

    assert not subreaper_active()
    confirm([], [str(TARGETS / "daemon.py")], DynamicOptions(python=sys.executable, timeout=STARTUP_GUARD_SECONDS))
    assert not subreaper_active()


# -- evidence from the target is checked before it is used -----------------------


def test_malformed_evidence_items_are_dropped_and_the_rest_kept():
    target = TARGETS / "malformed_evidence.py"
    outcome = confirm([], [str(target)], DynamicOptions(python=sys.executable, timeout=STARTUP_GUARD_SECONDS))
    (diagnostic,) = outcome.diagnostics
    assert "malformed_evidence.py: 6 malformed evidence items dropped (first: cycle: path and line are not a line of a checked file)" in diagnostic
    # The real ResourceWarning survives its mangled neighbours.
    assert [(f.code, f.line) for f in outcome.findings] == [("GCL902", 8)]


_GOOD = {"kind": "cycle", "path": _PATH, "line": 54, "objects": 3, "cycles": 1}


@pytest.mark.parametrize(
    "item, problem",
    [
        pytest.param(_GOOD, None, id="good"),
        pytest.param({**_GOOD, "unknown_field": "x" * 10}, None, id="extra-fields-are-ignored"),
        pytest.param({k: v for k, v in _GOOD.items() if k != "line"}, "path and line", id="no-line"),
        pytest.param({**_GOOD, "line": "54"}, "path and line", id="line-as-text"),
        pytest.param({**_GOOD, "line": True}, "path and line", id="line-as-bool"),
        pytest.param({**_GOOD, "line": 0}, "path and line", id="line-zero"),
        pytest.param({**_GOOD, "line": 100000}, "path and line", id="line-past-the-end"),
        pytest.param({**_GOOD, "path": "/etc/passwd", "line": 1}, "path and line", id="unchecked-file"),
        pytest.param({**_GOOD, "path": None}, "path and line", id="no-path"),
        pytest.param({**_GOOD, "objects": -1}, "'objects'", id="negative-count"),
        pytest.param({k: v for k, v in _GOOD.items() if k != "cycles"}, "'cycles' missing", id="missing-required"),
        pytest.param({**_GOOD, "frames": [["/etc/shadow", 1]]}, "'frames' names a place", id="frame-elsewhere"),
        pytest.param({**_GOOD, "classes": [{"name": "Node", "path": _PATH, "line": "7"}]}, "'classes'", id="class-line-text"),
        pytest.param({**_GOOD, "kind": "worm"}, "unknown kind", id="unknown-kind"),
        pytest.param({"kind": "gc-call", "path": _PATH, "line": 74, "calls": 1, "reclaimed": 0, "seconds": float("nan")}, "'seconds'", id="nan-seconds"),
        pytest.param(["cycle", _PATH, 54], "not an object", id="not-an-object"),
    ],
)
def test_each_evidence_item_is_validated(item, problem):
    from gclint.dynamic.evidence import Places, item_problem

    found = item_problem(item, Places({_PATH}))
    assert (found is None) if problem is None else (problem in (found or "")), found


@pytest.mark.parametrize(
    "content, problem",
    [
        pytest.param(b'{"evidence": [', "is not valid JSON", id="truncated"),
        pytest.param(b"[1, 2]", "does not hold an object", id="not-an-object"),
        pytest.param(b"[" * 100000 + b"]" * 100000, "is not valid JSON", id="deeply-nested"),
    ],
)
def test_a_broken_evidence_file_is_a_diagnostic(tmp_path, content, problem):
    from gclint.dynamic.evidence import read_evidence

    path = tmp_path / "evidence.json"
    path.write_bytes(content)
    assert read_evidence(str(path), {_PATH}) == (None, [f"the evidence file {problem}; its evidence is lost"])


def test_an_evidence_file_that_is_a_symlink_or_fifo_is_not_followed(tmp_path):
    from gclint.dynamic.evidence import read_evidence

    link = tmp_path / "link.json"
    link.symlink_to("/dev/zero")
    evidence, problems = read_evidence(str(link), {_PATH})
    assert evidence is None and "cannot open the evidence file" in problems[0]
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    evidence, problems = read_evidence(str(fifo), {_PATH})
    assert evidence is None and "not a regular file" in problems[0]


def test_each_cycle_is_its_own_strongly_connected_component():
    outcome = confirm([], [str(TARGETS / "two_cycles.py")], DynamicOptions(python=sys.executable, timeout=STARTUP_GUARD_SECONDS))
    assert outcome.diagnostics == []
    cycles = {tuple(sorted(n for n in f.evidence[0]["types"] if n != "dict")): f for f in outcome.findings if f.code == "GCL901"}
    assert sorted(cycles) == [("Child", "Parent"), ("Registry",)]
    family, registry = cycles[("Child", "Parent")].evidence[0], cycles[("Registry",)].evidence[0]
    # The list that links them belongs to neither cycle.
    assert "list" not in family["types"] and "list" not in registry["types"]
    assert family["chain"] in ("Parent.child -> Child.parent -> Parent", "Child.parent -> Parent.child -> Child")
    assert registry["chain"] == "Registry.me -> Registry"


def test_a_target_stopped_for_its_timeout_keeps_its_evidence():
    done = _gclint("--dynamic", "--timeout", HANG_TIMEOUT, "--select", "GCL", "tests/dynamic_targets/cycles_then_hang.py", "--format", "json")
    assert "timed out after" in done.stderr
    # The static finding on `self.me = self` is confirmed by the cycle
    # recorded at the last checkpoint, the one made when it was stopped.
    (finding,) = [f for f in _json_findings(done) if f["code"] == "GCL203"]
    assert finding["status"] == CONFIRMED, done.stdout
    (evidence,) = finding["evidence"]
    assert (evidence["line"], evidence["types"], evidence["checkpoints"]) == (11, {"Loop": 1}, ["when stopped"])


def test_a_failing_target_shows_the_end_of_its_output():
    outcome = confirm([], [str(TARGETS / "exits_with_status.py")], DynamicOptions(python=sys.executable, timeout=STARTUP_GUARD_SECONDS))
    assert outcome.diagnostics == [
        f"{TARGETS / 'exits_with_status.py'}: exited with status 3; its output ends: collected 2 items | === 1 failed, 1 passed in 0.1s ==="
    ]


def test_the_whole_output_of_each_target_goes_to_the_target_output_file(tmp_path):
    log = tmp_path / "out.txt"
    target = TARGETS / "exits_with_status.py"
    done = _gclint("--dynamic", "--target-output", str(log), "--", str(target))
    assert "its output ends: collected 2 items" in done.stderr
    assert log.read_text() == (
        f"===== {target}: exited with status 3; its output ends: collected 2 items | === 1 failed, 1 passed in 0.1s ===\n"
        "collected 2 items\n=== 1 failed, 1 passed in 0.1s ===\n"
    )


def test_a_module_of_a_package_runs_as_that_module():
    target = TARGETS / "package_target" / "inner" / "tool.py"
    outcome = confirm([], [str(target), str(TARGETS / "package_target" / "inner" / "helpers.py")], DynamicOptions(python=sys.executable, timeout=STARTUP_GUARD_SECONDS))
    assert outcome.diagnostics == []  # no ImportError from the relative import
    (cycle,) = [f for f in outcome.findings if f.code == "GCL901"]
    # Made by Pair() in tool.py, inside Pair.__init__ in helpers.py: either
    # line names it, depending on what tracemalloc sees on the interpreter.
    assert Path(cycle.path).name in ("tool.py", "helpers.py") and cycle.evidence[0]["types"].get("Pair") == 2


@pytest.mark.parametrize("version", INTERPRETERS)
def test_the_probe_keeps_no_class_alive(version):
    python = _interpreter(version)
    target = TARGETS / "classes_freed.py"
    outcome = confirm([], [str(target)], DynamicOptions(python=python, timeout=STARTUP_GUARD_SECONDS))
    # The target raises AssertionError naming each class that was not freed.
    assert outcome.diagnostics == []


def _kept_exception():
    try:
        raise ValueError("kept")
    except ValueError as error:
        kept = error
    return kept


class _Node:
    pass


def test_cycle_chains_have_one_formatter_for_dynamic_mode_and_the_plugin():
    from gclint import pytest_plugin

    probe = pytest_plugin.probe
    assert pytest_plugin._edge is probe.reference_label
    parent, child = _Node(), _Node()
    parent.children = [child]
    child.parent = parent
    family = [parent, vars(parent), parent.children, child, vars(child)]
    kept = _kept_exception()
    frame_cycle = [kept.__traceback__.tb_frame, kept, kept.__traceback__]
    for members, expected in [
        (family, "_Node.children -> list[0] -> _Node.parent -> _Node"),
        (frame_cycle, "frame.f_locals['kept'] -> ValueError.__traceback__ -> traceback.tb_frame -> frame"),
    ]:
        assert probe.cycle_chain(members) == expected
        assert pytest_plugin.chain(members) == expected
    parent.children = child.parent = None
    kept.__traceback__ = None
