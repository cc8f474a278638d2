"""What dynamic mode's probe costs, part by part, on a CPU- and
allocation-heavy target, as ratios of the target's plain CPU time.

    python bench/probe_overhead.py [--python PATH] [--repeat 3] [--target FILE]

Each configuration runs the probe directly (no gclint around it) in a fresh
process; the figure is the best of N of the child's user+system CPU time:

    plain         the target's main() without the probe
    hooks         the probe: gc, finalizer, warning and exit hooks, collections
                  at checkpoints (automatic collection off); no tracemalloc, no lines
    +lines        and the executed lines (sys.monitoring on 3.12+, sys.settrace before)
    +trace1       and tracemalloc, 1 frame
    +trace10      and tracemalloc, 10 frames (gclint's default); tracing starts
                  after the target's imports
    +trace10+imports  the same, tracing the imports too (before: always so)

With no --target, a target of its own: imports a few standard-library
packages (asyncio, email, http.client, json, logging, xml, decimal), then
builds and drops 300,000 small objects per round (dicts, lists, instances,
a few cycles) for 20 rounds, with some arithmetic in between.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "gclint" / "dynamic" / "probe.py"

HEAVY_TARGET = '''
import asyncio
import decimal
import email.parser
import http.client
import json
import logging.handlers
import xml.etree.ElementTree


class Record:
    def __init__(self, key):
        self.key = key
        self.tags = {"a": [key, str(key)], "b": (key, key + 1)}


class Node:
    def __init__(self, parent=None):
        self.parent = parent
        self.children = []
        if parent is not None:
            parent.children.append(self)


def round_of_work(n):
    records = [Record(i) for i in range(n)]
    index = {r.key: r for r in records}
    total = sum(len(r.tags["a"]) for r in index.values())
    for i in range(n // 100):
        Node(Node())  # a parent/child cycle
    return total + sum(i * i % 7 for i in range(n))


def main():
    for _ in range(20):
        assert round_of_work(30000) > 0
'''

PLAIN = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('target', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module.main()\n"
)

CONFIGURATIONS = {
    "hooks": {"tracemalloc_frames": 0, "record_lines": False},
    "+lines": {"tracemalloc_frames": 0, "record_lines": True},
    "+trace1": {"tracemalloc_frames": 1, "record_lines": True},
    "+trace10": {"tracemalloc_frames": 10, "record_lines": True},
    "+trace10+imports": {"tracemalloc_frames": 10, "record_lines": True, "trace_imports": True},
}


def cpu_of(command) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed: {done.stderr.decode()[-500:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def probe_command(python: str, target: Path, tmp: Path, name: str, settings: dict) -> list:
    config = {
        "target": {"file": str(target)}, "watched": [str(target)], "evidence": str(tmp / f"{name}.json"),
        "memory_limit_mb": 4096, **settings,
    }
    path = tmp / f"{name}.config.json"
    path.write_text(json.dumps(config))
    return [python, str(PROBE), str(path)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", help="a file defining main() (default: an allocation-heavy one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        target = Path(args.target).resolve() if args.target else tmp / "heavy_target.py"
        if not args.target:
            target.write_text(HEAVY_TARGET)
        commands = {"plain": [args.python, "-c", PLAIN, str(target)]}
        commands.update((name, probe_command(args.python, target, tmp, name, settings)) for name, settings in CONFIGURATIONS.items())
        # Interleaved rounds: a change in the machine's load hits every configuration alike.
        times = {name: float("inf") for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                times[name] = min(times[name], cpu_of(command))
    plain = times["plain"]
    print(f"{target.name} ({args.python}), CPU s, best of {args.repeat}:")
    for name, seconds in times.items():
        print(f"  {name:17} {seconds:7.2f} s  {seconds / plain:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
