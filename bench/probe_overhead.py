"""Overhead of dynamic mode's probe on the fixtures, as a ratio.

    python bench/probe_overhead.py [--python PATH] [--repeat 3]

For every fixture: the best of N runs of its `main()` in a plain child
process, against the best of N runs of the same fixture as a dynamic-mode
target (child process under the probe), both timed as whole processes.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gclint.dynamic import DynamicOptions, confirm

ROOT = Path(__file__).resolve().parent.parent
PLAIN = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('fixture', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module.main()\n"
)


def best(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    import subprocess

    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    fixtures = sorted((ROOT / "fixtures").rglob("*.py"))
    plain = probed = 0.0
    for path in fixtures:
        plain += best(lambda: subprocess.run([args.python, "-c", PLAIN, str(path)], capture_output=True), args.repeat)
        options = DynamicOptions(python=args.python)
        probed += best(lambda: confirm([], [str(path)], options), args.repeat)
    print(f"{len(fixtures)} fixtures, {args.python}: plain {plain:.2f} s, under the probe {probed:.2f} s, ratio {probed / plain:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
