"""Growth over repeated runs (gclint/dynamic/growth.py) and the gc-cost
profile (gcprofile.py): the decision rule on its own, then the real thing on
the targets in tests/growth_targets, under `gclint check --repeat` and
under the pytest plugin's `--gclint-repeat`, on 3.11 and (slow) 3.13."""
import importlib.util
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, pyenv_python, python_with_pytest

TARGETS = ROOT / "tests" / "growth_targets"
SUITE = TARGETS / "suite"
RUN_GUARD_SECONDS = 900
MEASURED_RUNS = 4


def _load(name):
    spec = importlib.util.spec_from_file_location("growth_test_" + name, ROOT / "gclint" / "dynamic" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


growth = _load("growth")
gcprofile = _load("gcprofile")


# -- the rule: grew in every measured run, by enough --------------------------------


@pytest.mark.parametrize(
    "series, minimum, expected",
    [
        pytest.param([10, 11, 12, 13], 1, [1, 1, 1], id="one-more-every-run"),
        pytest.param([10, 10, 10, 10], 1, None, id="flat"),
        pytest.param([10, 11, 11, 12], 1, None, id="paused-once"),
        pytest.param([10, 12, 11, 13], 1, None, id="fell-once"),
        pytest.param([100, 50, 60, 70], 1, None, id="fell-then-grew-is-only-growth-after-a-fall"),
        pytest.param([10, 11], 1, None, id="one-run-is-not-enough"),
        pytest.param([0, 20, 40, 60], 64, None, id="below-the-byte-threshold"),
        pytest.param([0, 30, 60, 90], 64, [30, 30, 30], id="above-the-byte-threshold"),
    ],
)
def test_growth_is_an_increase_in_every_measured_run(series, minimum, expected):
    assert growth.growing(series, minimum) == expected


def test_growth_that_stops_after_warm_up_is_not_reported_in_process():
    """The rule on a live heap (this process): a dict filled on the first
    call only, then a list that gets one more exception per call."""
    filled_once, kept = {}, []

    def fills_once():
        filled_once.setdefault("k", ["x"] * 100)

    def keeps_one_more():
        kept.append(ValueError("boom"))

    once = growth.Meter(lambda filename: None)
    assert growth.repeat(fills_once, 3, once) == []  # nothing of the project's: no line, no class
    assert growth.grown_types(once.measurements[-4:]) == {}
    grows = growth.Meter(lambda filename: None)
    growth.repeat(keeps_one_more, 3, grows)
    assert growth.grown_types(grows.measurements[-4:]).get("builtins.ValueError") == [1, 1, 1]


def test_chain_text_names_attributes_keys_and_indexes():
    steps = [
        {"type": "module", "name": "app", "edge": None, "site": None},
        {"type": "dict", "name": None, "edge": {"kind": "attr", "label": "CACHE"}, "site": None},
        {"type": "list", "name": None, "edge": {"kind": "key", "label": "'k'"}, "site": None},
        {"type": "str", "name": None, "edge": {"kind": "index", "label": "3"}, "site": None},
    ]
    assert growth.chain_text(steps) == "module app .CACHE -> dict ['k'] -> list [3] -> str"


def test_lines_growing_in_one_container_are_one_item():
    def item(line, chain_types, size):
        steps = [{"type": "module", "name": "m", "edge": None, "site": None}, {"type": "list", "name": None, "edge": {"kind": "attr", "label": "L"}, "site": None}]
        steps += [{"type": t, "name": None, "edge": {"kind": "index", "label": "0"} if n == 0 else {"kind": "attr", "label": "x"}, "site": None} for n, t in enumerate(chain_types)]
        return {"path": "/p/m.py", "line": line, "bytes": size, "message": "grew", "chain_steps": steps}

    merged = growth.merge_by_holder([item(20, ["ValueError", "traceback"], 900), item(13, ["ValueError"], 300), item(40, [], 50)])
    assert [(m["line"], m.get("sites")) for m in merged] == [(13, [["/p/m.py", 20]]), (40, None)]


def test_gc_profile_counts_collections_and_leaves_gclints_own_apart():
    ours = []
    profile = gcprofile.GcProfile(is_ours=lambda: bool(ours))
    profile.install()
    try:
        for _ in range(3):
            first, second = [], []
            first.append(second)
            second.append(first)
            del first, second
            gc_collect_generation(0)
        ours.append(True)
        gc_collect_generation(2)
    finally:
        profile.remove()
    data = profile.as_dict()
    assert data["collections"]["0"] >= 3  # automatic ones may add to the three
    assert data["collected"] >= 6
    assert data["gclint_collections"] == 1


def gc_collect_generation(generation):
    import gc

    gc.collect(generation)


# -- gclint check --repeat on the targets ---------------------------------------------


def _check(python, *files):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-cache", "--python", python, "--repeat", str(MEASURED_RUNS), "--format", "json", *files],
        cwd=TARGETS, capture_output=True, text=True, timeout=RUN_GUARD_SECONDS,
    )
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout), done.stderr


def _growth_by_file(findings):
    found = {}
    for finding in findings:
        if finding["code"] == "GCL906":
            found.setdefault(os.path.basename(finding["path"]), []).append(finding)
    return found


def _lines_and_chains(findings):
    lines, chains = set(), []
    for finding in findings:
        lines.add(finding["line"])
        for evidence in finding["evidence"]:
            lines.update(site[1] for site in evidence.get("sites") or ())
            if evidence.get("chain"):
                chains.append(evidence["chain"])
    return lines, chains


def _interpreter(version):
    python = pyenv_python(version)
    if python is None:
        pytest.skip(f"Python {version} is not installed")
    return python


@pytest.fixture(scope="module", params=["3.11.7", pytest.param("3.13.0", marks=pytest.mark.slow)])
def repeated(request):
    python = _interpreter(request.param)
    findings, stderr = _check(python, "cache_grows.py", "cache_fills_once.py", "listeners.py", "stored_errors.py", "collects_often.py")
    return _growth_by_file(findings), stderr


def test_a_cache_growing_per_call_is_reported_at_its_line_with_its_chain(repeated):
    lines, chains = _lines_and_chains(repeated[0]["cache_grows.py"])
    assert 10 in lines
    assert any(chain.startswith("module cache_grows ._RESULTS -> dict [") for chain in chains), chains


def test_a_listener_never_removed_is_reported_with_the_bus_in_its_chain(repeated):
    lines, chains = _lines_and_chains(repeated[0]["listeners.py"])
    assert 23 in lines  # BUS.subscribe(self.on_event)
    assert any(chain.startswith("module listeners .BUS -> EventBus .listeners -> list [") for chain in chains), chains


def test_stored_exceptions_are_reported_with_the_class_attribute_in_their_chain(repeated):
    lines, chains = _lines_and_chains(repeated[0]["stored_errors.py"])
    assert 13 in lines  # int(text) raised it: the exception's allocation
    assert any(chain.startswith("module stored_errors .Recorder -> type Recorder .failures -> list [") for chain in chains), chains


def test_a_cache_that_fills_once_and_code_that_only_makes_garbage_are_not_growth(repeated):
    assert "cache_fills_once.py" not in repeated[0]
    assert "collects_often.py" not in repeated[0]  # its cycles are garbage, and the probe's own bookkeeping is not the target's


def test_each_target_gets_a_gc_profile_of_its_repeated_runs(repeated):
    profiles = {line.split(":")[2].strip(): line for line in repeated[1].splitlines() if "gc during" in line}
    assert set(profiles) == {"cache_grows.py", "cache_fills_once.py", "listeners.py", "stored_errors.py", "collects_often.py"}
    often = profiles["collects_often.py"]
    assert f"gc during {growth.WARMUP_RUNS + MEASURED_RUNS} runs of main()" in often
    collections = int(often.split("main(): ")[1].split()[0])
    assert collections > 0  # 5,000 cycles per run set off young collections; the count, never the pause


def test_repeat_needs_two_measured_runs():
    done = subprocess.run([sys.executable, "-m", "gclint", "check", "--repeat", "1", "cache_grows.py"], cwd=TARGETS, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--repeat" in done.stderr


# -- the pytest plugin: --gclint-repeat --------------------------------------------------


def _python_with_pytest(version, root):
    return sys.executable if version == "3.11.7" else python_with_pytest(version, root)


@pytest.fixture(scope="module", params=["3.11.7", pytest.param("3.13.0", marks=pytest.mark.slow)])
def suite_run(request, tmp_path_factory):
    python = _python_with_pytest(request.param, tmp_path_factory.mktemp("growth-venvs"))
    report = tmp_path_factory.mktemp("growth-report") / "R.json"
    environment = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [python, "-m", "pytest", "-p", "gclint.pytest_plugin", "--gclint", f"--gclint-report={report}", "--gclint-repeat=3", "--gclint-no-rerun"],
        cwd=SUITE, env=environment, capture_output=True, text=True, timeout=RUN_GUARD_SECONDS,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {t["nodeid"].split("::", 1)[1]: t for t in json.loads(report.read_text())["tests"]}


def _retained(test):
    return [e for e in test["evidence"] if e["kind"] == "retained"]


@pytest.mark.parametrize(
    "test, line, chain_start",
    [
        pytest.param("test_render_grows", 13, "module app ._RENDERED -> dict [", id="cache"),
        pytest.param("test_listener_never_removed", 34, "module app .Bus -> type Bus .listeners -> list [", id="listener"),
        pytest.param("test_failures_are_stored", 42, "module app .FAILURES -> list [", id="stored-exception"),
    ],
)
def test_each_growing_test_is_reported_at_its_line_with_its_chain(suite_run, test, line, chain_start):
    found = _retained(suite_run[test])
    assert found, suite_run[test]
    lines = {e["line"] for e in found} | {site[1] for e in found for site in e.get("sites") or ()}
    assert line in lines
    assert any((e.get("chain") or "").startswith(chain_start) for e in found), [e.get("chain") for e in found]
    steps = next(e["chain_steps"] for e in found if e.get("chain_steps"))
    assert steps[0]["type"] == "module" and steps[0]["edge"] is None
    assert all(step["edge"]["kind"] in ("attr", "key", "index", "cell", "item", "referent") for step in steps[1:])


@pytest.mark.parametrize("test", ["test_template_cache_fills_once", "test_clean_arithmetic", "test_makes_cycles_the_collector_frees"])
def test_tests_that_do_not_grow_get_no_growth(suite_run, test):
    assert _retained(suite_run[test]) == []
    assert suite_run[test]["growth"] == {"runs": 3, "warmup_runs": growth.WARMUP_RUNS, "failed_runs": 0}


def test_every_test_has_a_gc_profile_and_gclints_collections_are_apart(suite_run):
    for test in suite_run.values():
        assert set(test["gc"]) >= {"collections", "collected", "uncollectable", "pause_seconds", "gclint_collections"}
        assert test["gc"]["gclint_collections"] >= 1  # the plugin's own collection after teardown
    cycles = suite_run["test_makes_cycles_the_collector_frees"]["gc"]
    assert int(cycles["collections"]["0"]) > 0 and cycles["collected"] > 0
