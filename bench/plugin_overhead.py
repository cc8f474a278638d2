"""Cost of the pytest plugin, as ratios of the CPU time of plain pytest.

    python bench/plugin_overhead.py [--repeat 3] [--python PATH] [--cwd DIR] [PYTEST ARGS...]

With no pytest arguments it writes an allocation-heavy suite with no leaks
(200 tests, each building and dropping about 60,000 objects) to a temporary
directory and measures that. Each mode runs in a fresh process; the figure is
the best of N interleaved rounds of the child's user+system CPU time:

    plain            pytest
    gclint           pytest --gclint   (the default: tests that left evidence
                                        without an allocation site run again
                                        under tracemalloc, 1 frame, and
                                        10 for what 1 could not place)
    gclint-no-rerun  pytest --gclint --gclint-no-rerun
    gclint+trace1    pytest --gclint --gclint-trace=1   (every test traced)
    gclint+trace10   pytest --gclint --gclint-trace=10

--modes picks some of them (comma-separated).
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

MODES = {
    "plain": [],
    "gclint": ["--gclint"],
    "gclint-no-rerun": ["--gclint", "--gclint-no-rerun"],
    "gclint+trace1": ["--gclint", "--gclint-trace=1"],
    "gclint+trace10": ["--gclint", "--gclint-trace=10"],
}

HEAVY_SUITE = '''
import pytest


class Record:
    def __init__(self, key, tags):
        self.key = key
        self.tags = tags


def build(n):
    records = [Record(i, {"a": [i, str(i)], "b": (i, i + 1)}) for i in range(n)]
    index = {r.key: r for r in records}
    return sum(len(r.tags["a"]) for r in index.values())


@pytest.mark.parametrize("n", range(200))
def test_heavy(n):
    assert build(10000) == 20000
'''


def cpu_of(command, cwd, environment) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--cwd", default=None, help="directory to run pytest in")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes to measure (plain is always measured)")
    args, pytest_args = parser.parse_known_args()
    if subprocess.run([args.python, "-c", "import pytest"], capture_output=True).returncode != 0:
        raise SystemExit(f"{args.python} has no pytest")
    environment = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent.parent), environment.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as tmp:
        cwd = args.cwd
        if not pytest_args:
            Path(tmp, "test_heavy.py").write_text(HEAVY_SUITE)
            cwd, pytest_args = tmp, ["test_heavy.py"]
        base = [args.python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "gclint.pytest_plugin", *pytest_args]
        wanted = ["plain"] + [m for m in args.modes.split(",") if m in MODES and m != "plain"]
        # Interleaved rounds, so a change in the machine's load hits every mode alike.
        runs = {mode: [] for mode in wanted}
        for _ in range(args.repeat):
            for mode in wanted:
                runs[mode].append(cpu_of(base + MODES[mode], cwd, environment))
        times = {mode: min(seconds) for mode, seconds in runs.items()}
    plain = times["plain"]
    print(f"{' '.join(pytest_args)} ({args.python}), CPU s, best of {args.repeat}:")
    for mode, seconds in times.items():
        print(f"  {mode:15} {seconds:7.2f} s  {seconds / plain:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
