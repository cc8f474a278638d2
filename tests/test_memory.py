"""gclint's own memory behaviour: no cyclic garbage, no growth, a prompt Ctrl-C.

Nothing here measures time: memory is counted in objects and allocated
blocks, and the interrupt test waits for events (workers started) with
generous hang guards only.
"""
import gc
import os
import signal
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT
from gclint import lint_source
from gclint.config import Settings
from gclint.runner import Done, lint_files

ALL_RULES = Settings(select=("GCL",))
STDLIB = Path(sysconfig.get_paths()["stdlib"])
# Every 8th top-level module of the standard library (tests aside): about 25 files of all sizes.
STDLIB_SAMPLE = sorted(p for p in STDLIB.glob("*.py") if not p.name.startswith("test"))[::8]


def _cyclic_garbage_after(sources):
    """Types of the objects a full collection finds after linting `sources`
    with the collector off (empty: everything was freed by reference counts)."""
    lint_source(sources[0][1], "warm-up.py", ALL_RULES)
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for path, data in sources:
            assert lint_source(data, path, ALL_RULES) is not None
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        return sorted({type(o).__name__ for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


def test_linting_the_stdlib_sample_with_every_rule_leaves_no_cyclic_garbage():
    sources = [(str(p), p.read_bytes()) for p in STDLIB_SAMPLE]
    assert len(sources) > 10
    assert _cyclic_garbage_after(sources) == []


def test_linting_every_fixture_with_every_rule_leaves_no_cyclic_garbage():
    """Fixtures have findings, so positions and reports are exercised too."""
    sources = [(str(p), p.read_bytes()) for p in sorted(FIXTURES.rglob("*.py"))]
    assert _cyclic_garbage_after(sources) == []


def test_a_file_that_fails_to_parse_leaves_no_cyclic_garbage():
    sources = [("bad.py", b"def f(:\n"), ("deep.py", b"x = " + b"(" * 300 + b")" * 300 + b"\n")]
    assert _cyclic_garbage_after([("ok.py", b"x = 1\n"), *sources]) == []


SMALL_FILE_WITH_FINDINGS = textwrap.dedent("""\
    import functools
    import gc

    _alive = []


    class Node:
        def __init__(self, parent):
            self.parent = parent
            parent.children.append(self)
            self.children = []

        def __del__(self):
            _alive.append(self)


    class Cache:
        @functools.lru_cache(maxsize=None)
        def get(self, key):
            return key


    def read(path):
        f = open(path)
        return f.read()


    def collect():
        gc.collect(0)
    """)


def _blocks_and_objects():
    gc.collect()
    return sys.getallocatedblocks(), len(gc.get_objects())


@pytest.mark.slow  # 18 s of CPU: in .ci/run's slow step
def test_linting_the_same_file_2000_times_grows_nothing():
    """A per-file table kept by mistake in a module, a class attribute or a
    cache grows by at least one block per file linted; 2,000 runs make it
    thousands. Small fluctuations (free lists, caches of bounded size) stay
    far below that."""
    data = SMALL_FILE_WITH_FINDINGS
    # Findings of every family: positions and reports run each time.
    assert {f.code[:4] for f in lint_source(data, "same.py", ALL_RULES)} >= {"GCL1", "GCL2", "GCL3", "GCL4", "GCL5"}
    for _ in range(100):  # warm every cache of bounded size
        lint_source(data, "same.py", ALL_RULES)
    blocks_before, objects_before = _blocks_and_objects()
    for _ in range(2000):
        lint_source(data, "same.py", ALL_RULES)
    blocks_after, objects_after = _blocks_and_objects()
    assert objects_after - objects_before < 200, (objects_before, objects_after)
    assert blocks_after - blocks_before < 1000, (blocks_before, blocks_after)


def test_progress_counts_files_and_bytes_from_zero_to_all(tmp_path):
    for i in range(6):
        (tmp_path / f"m{i}.py").write_text("import gc\n" + "x = 1\n" * (i * 50))
    files = sorted(str(p) for p in tmp_path.glob("*.py"))
    total_bytes = sum(os.path.getsize(f) for f in files)
    for jobs in (1, 2):
        seen = []
        lint_files(files, ALL_RULES, jobs=jobs, progress=seen.append)
        assert seen[0] == Done(0, 6, 0, total_bytes)
        assert seen[-1] == Done(6, 6, total_bytes, total_bytes)
        assert [d.files for d in seen] == list(range(7))
        assert [d.bytes for d in seen] == sorted(d.bytes for d in seen)


def _big_project(directory: Path, files: int) -> None:
    body = "".join(
        textwrap.dedent(f"""
        class C{i}:
            def __init__(self):
                self.f = open("p{i}")
                self.cb = self.method
            def method(self):
                return [x for x in range({i})]
        """)
        for i in range(400)
    )
    for n in range(files):
        (directory / f"m{n}.py").write_text(body)


def _wait_for(condition, what: str) -> None:
    """Poll until `condition()` holds; a hang guard, not a timing assertion."""
    import time

    deadline = time.monotonic() + 120
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"hang guard: {what} did not happen in 120 s")
        time.sleep(0.05)


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_stops_the_run_and_its_workers_with_status_130_and_no_traceback(tmp_path, jobs):
    psutil = pytest.importorskip("psutil")
    _big_project(tmp_path, 60)
    command = [sys.executable, "-m", "gclint", "check", "--no-config", "--no-cache", "--select", "GCL", "--jobs", str(jobs), str(tmp_path)]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        process = psutil.Process(run.pid)
        if jobs > 1:
            _wait_for(lambda: len(process.children()) >= jobs, "the workers starting")
        else:
            _wait_for(lambda: process.num_threads() > 1, "the first parse starting")  # the parse runs on its own thread
        os.killpg(run.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    assert run.returncode == 130, err
    assert b"Traceback" not in err, err.decode()
    assert err.decode().strip().endswith("interrupted")
    left = [p for p in psutil.process_iter(["pid"]) if _in_group(p, run.pid)]
    assert left == []


def _in_group(process, group: int) -> bool:
    try:
        return os.getpgid(process.pid) == group
    except OSError:
        return False
