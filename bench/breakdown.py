"""Where gclint's CPU time goes, on a real corpus, in one process.

    python bench/breakdown.py [CORPUS] [--select GCL|default|CODES] [--profile N] [--floor] [--in-process] [--out FILE]

CORPUS defaults to the running interpreter's standard library without its
tests (the corpus of bench/bench.py). Every file is linted once as
`gclint check --no-cache --jobs 1` does (the runner, with the project's
module summaries; `--in-process`: each file alone through `lint_source`),
with a light section clock around the engine's stages: the
nesting pre-check, the libcst parse, the walk and its dispatch, each rule's
hooks, the shared analysis the rules ask for (gclint.analysis, names),
metadata, positions, noqa, and the cycle collector (timed through
gc.callbacks). Times are exclusive: a rule hook's time excludes the
analysis it triggers, the walk's excludes the hooks, every section's
excludes collections that ran inside it. Times are CPU time of the
process (the parse runs on its own thread while the walk waits), so a
loaded machine slows the figures less than it does wall time. The table
gives each as a share
of the total and as a ratio to the parse measured in the same run, so
figures from a loaded machine stay comparable.

--floor also parses every file of the corpus once with libcst (the floor of
bench/bench.py, which parses files gclint skips when no selected rule is
triggered by their text) and gives gclint's total as a ratio to it.

With --profile N a second pass runs the same corpus under cProfile and
lists, per gclint source file, its own time and its N hottest functions by
own time and by cumulative time (the profiler inflates Python code against
the native parse, so use that pass for where, the first for how much).
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import functools
import gc
import inspect
import os
import pstats
import sys
import sysconfig
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import corpus_files  # noqa: E402  (bench/bench.py, next to this script)

import gclint  # noqa: E402
from gclint import engine, names  # noqa: E402
from gclint.analysis import FileAnalysis  # noqa: E402
from gclint.analysis.bindings import FileIndex  # noqa: E402
from gclint.config import Settings  # noqa: E402
from gclint.rule import all_rules  # noqa: E402

PACKAGE = Path(gclint.__file__).resolve().parent


class Clock:
    """Exclusive time per section label, kept on a stack of open sections."""

    def __init__(self) -> None:
        self.own: Dict[str, float] = defaultdict(float)
        self.calls: Counter = Counter()
        self.open: List[List] = []  # [label, start, time of nested sections]

    def enter(self, label: str) -> None:
        self.open.append([label, time.process_time(), 0.0])

    def leave(self) -> None:
        label, start, nested = self.open.pop()
        elapsed = time.process_time() - start
        self.own[label] += elapsed - nested
        self.calls[label] += 1
        if self.open:
            self.open[-1][2] += elapsed

    def timed(self, label: str, function: Callable) -> Callable:
        if inspect.isgeneratorfunction(function):
            return self._timed_generator(label, function)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            self.enter(label)
            try:
                return function(*args, **kwargs)
            finally:
                self.leave()

        return wrapper

    def _timed_generator(self, label: str, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs) -> Iterator:
            inner = function(*args, **kwargs)
            while True:
                self.enter(label)
                try:
                    item = next(inner)
                except StopIteration:
                    return
                finally:
                    self.leave()
                yield item

        return wrapper

    def on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.enter("cycle collector")
        elif self.open and self.open[-1][0] == "cycle collector":
            self.leave()


def instrument(clock: Clock) -> None:
    """Put the clock around the engine's stages, the rules' hooks and the
    entry points of the shared analysis (patched where they are looked up)."""
    stages = {
        "decode": "decode",
        "nesting pre-check": "refuse_deep_nesting",
        "parse (libcst)": "_parse_on_big_stack",
        "metadata": "_resolve_metadata",
        "positions": "locate",
        "noqa": "suppress",
        "walk + dispatch": "walk",
        "rule selection": "select_rules",
    }
    for label, attr in stages.items():
        setattr(engine, attr, clock.timed(label, getattr(engine, attr)))
    dispatch = engine._dispatch

    def timed_dispatch(rules):
        clock.enter("engine setup")
        try:
            on_enter, on_leave = dispatch(rules)
            return _timed_table(clock, on_enter), _timed_table(clock, on_leave)
        finally:
            clock.leave()

    engine._dispatch = timed_dispatch
    for cls, attrs in ((FileAnalysis, ("facts", "model", "keeper_for_method", "keeper", "resolve")),
                       (FileIndex, ("resolve", "nodes")),
                       (names.NameResolver, ("bindings", "qualified_name"))):
        for attr in attrs:
            label = f"{'names' if cls is names.NameResolver else 'analysis'} {cls.__name__}.{attr}"
            setattr(cls, attr, clock.timed(label, getattr(cls, attr)))
    for attr in ("summary", "local_summary"):
        prop = getattr(FileAnalysis, attr)
        setattr(FileAnalysis, attr, property(clock.timed(f"summaries FileAnalysis.{attr}", prop.fget)))
    from gclint import project

    project.SummaryStore._load = clock.timed("summaries of modules not linted (project.py)", project.SummaryStore._load)
    _time_analysis_entry_points(clock)


def _timed_table(clock: Clock, table: Dict[type, List[Callable]]) -> Dict[type, List[Callable]]:
    return {node_type: [_timed_hook(clock, hook) for hook in hooks] for node_type, hooks in table.items()}


def _timed_hook(clock: Clock, hook: Callable) -> Callable:
    timed = clock.timed(f"rule {hook.__self__.code} ({type(hook.__self__).__module__.rsplit('.', 1)[-1]})", hook)
    timed.__self__ = hook.__self__  # the engine unhooks a failed rule by it
    return timed


def _time_analysis_entry_points(clock: Clock) -> None:
    """Functions of gclint.analysis that rule modules imported: timed as the
    rules call them (calls inside the analysis package stay untimed)."""
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("gclint.rules."):
            continue
        for attr, value in list(vars(module).items()):
            home = getattr(value, "__module__", "") or ""
            if inspect.isfunction(value) and home.startswith("gclint.analysis."):
                label = f"analysis {home.rsplit('.', 1)[-1]}.py (rule calls)"
                setattr(module, attr, clock.timed(label, value))


def read_all(files: Sequence[Path]) -> List[Tuple[str, bytes]]:
    return [(str(f), f.read_bytes()) for f in files]


def lint_all(sources: Sequence[Tuple[str, bytes]], settings: Settings, in_process: bool = False) -> int:
    """Lint every file as `gclint check --no-cache --jobs 1` does (the
    runner: dependency order, project summaries, collector settings), or
    with `in_process` each file alone through lint_source (no project)."""
    if not in_process:
        from gclint.runner import lint_files

        return len(lint_files([path for path, _ in sources], settings, jobs=1).findings)
    found = 0
    with _as_the_runner_does():
        for path, data in sources:
            found += len(engine.lint_source(data, path, settings))
    return found


def _as_the_runner_does():
    from gclint import runner

    tuned = getattr(runner, "collector_tuned", None)
    return tuned() if tuned is not None else contextlib.nullcontext()


def measure(sources: Sequence[Tuple[str, bytes]], settings: Settings, in_process: bool) -> Tuple[Clock, float, int]:
    clock = Clock()
    instrument(clock)
    gc.callbacks.append(clock.on_gc)
    start = time.process_time()
    clock.enter("other (engine glue)")
    try:
        found = lint_all(sources, settings, in_process)
    finally:
        clock.leave()
        gc.callbacks.remove(clock.on_gc)
    return clock, time.process_time() - start, found


def overhead_per_call() -> float:
    """What one timed call costs the clock itself (subtracted per section)."""
    clock = Clock()
    noop = clock.timed("x", lambda: None)
    runs = 200_000
    start = time.process_time()
    for _ in range(runs):
        noop()
    return (time.process_time() - start) / runs


def family(label: str) -> str:
    if label.startswith("rule GCL"):
        return "rules " + label.rsplit("(", 1)[1].rstrip(")")
    if label.startswith("analysis"):
        return "shared analysis (gclint/analysis)"
    if label.startswith("names"):
        return "names (gclint/names.py)"
    if label.startswith("summaries"):
        return "module summaries (analysis/summaries.py, project.py)"
    return label


def render_table(clock: Clock, total: float, per_call: float, files: int, found: int, select: str) -> str:
    own = {label: max(0.0, seconds - per_call * clock.calls[label]) for label, seconds in clock.own.items()}
    overhead = total - sum(own.values())
    parse = own.get("parse (libcst)", float("nan"))
    families: Dict[str, float] = defaultdict(float)
    for label, seconds in own.items():
        families[family(label)] += seconds
    out = [
        f"{files} files, {found} findings, --select {select}; Python {sys.version.split()[0]}; "
        f"{total:.1f} s in all, of which the section clock itself about {overhead:.1f} s.",
        f"gclint without the clock, estimated: {(total - overhead) / parse:.2f}x the parse.",
        "",
        "| stage | seconds | share | × parse |",
        "|---|---|---|---|",
    ]
    measured = total - overhead
    for name, seconds in sorted(families.items(), key=lambda kv: -kv[1]):
        out.append(f"| {name} | {seconds:.2f} | {100 * seconds / measured:.1f}% | {seconds / parse:.3f} |")
    out += ["", "Rules and analysis entry points, one by one:", "", "| section | seconds | calls | × parse |", "|---|---|---|---|"]
    detailed = [label for label in own if label.startswith(("rule GCL", "analysis", "names", "summaries"))]
    for label in sorted(detailed, key=lambda x: -own[x]):
        out.append(f"| {label} | {own[label]:.2f} | {clock.calls[label]} | {own[label] / parse:.3f} |")
    return "\n".join(out)


def profile(sources: Sequence[Tuple[str, bytes]], settings: Settings, top: int, in_process: bool) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    lint_all(sources, settings, in_process)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(entry[2] for entry in stats.stats.values())
    by_file: Dict[str, List[Tuple[str, float, float, int]]] = defaultdict(list)
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():
        where = _short(filename)
        if where:
            by_file[where].append((f"{function}:{line}", own, cumulative, calls))
    out = [f"cProfile pass: {total:.1f} s of profiled time (the profiler inflates Python code).", ""]
    ranked = sorted(by_file.items(), key=lambda kv: -sum(e[1] for e in kv[1]))
    for where, entries in ranked:
        own_total = sum(e[1] for e in entries)
        if own_total < 0.005 * total:
            continue
        out += [f"### {where}: {own_total:.2f} s own ({100 * own_total / total:.1f}%)", "",
                "| function | own s | cumulative s | calls |", "|---|---|---|---|"]
        hottest = sorted(entries, key=lambda e: -e[1])[:top]
        by_cumulative = [e for e in sorted(entries, key=lambda e: -e[2])[:top] if e not in hottest]
        for name, own, cumulative, calls in hottest + by_cumulative:
            out.append(f"| {name} | {own:.2f} | {cumulative:.2f} | {calls} |")
        out.append("")
    return "\n".join(out)


def parse_every_file(sources: Sequence[Tuple[str, bytes]]) -> float:
    import libcst

    start = time.process_time()
    for _, data in sources:
        try:
            libcst.parse_module(data)
        except Exception:  # a file libcst refuses costs what it cost
            pass
    return time.process_time() - start


def _short(filename: str) -> Optional[str]:
    path = Path(filename)
    try:
        return "gclint/" + str(path.resolve().relative_to(PACKAGE))
    except (ValueError, OSError):
        pass
    if "libcst" in path.parts:
        return "libcst (all of it)"
    if filename.startswith("~"):
        return "built-in functions (C; libcst's native parser is here)"
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", nargs="?", default=sysconfig.get_paths()["stdlib"])
    parser.add_argument("--select", default="GCL", help="codes to run (default: every rule; 'default': the default rule set)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also profile: N hottest functions per file")
    parser.add_argument("--out", help="also write the report to this file")
    parser.add_argument("--floor", action="store_true", help="also time libcst's parse of every file (bench.py's floor)")
    parser.add_argument("--in-process", action="store_true",
                        help="lint each file alone through lint_source (no project summaries), not as `gclint check` does")
    args = parser.parse_args(argv)

    files = corpus_files(Path(args.corpus))
    sources = read_all(files)
    # Every file analysed, whatever the default max-file-size of this checkout.
    select = None if args.select == "default" else tuple(args.select.split(","))
    settings = Settings(select=select, max_file_size=4096)
    all_rules()
    # The profiled pass first, so that it does not see the clock's wrappers.
    hotspots = profile(sources, settings, args.profile, args.in_process) if args.profile else ""
    per_call = overhead_per_call()
    clock, total, found = measure(sources, settings, args.in_process)
    if args.floor:
        floor = parse_every_file(sources)
        without_clock = total - per_call * sum(clock.calls.values())
        report_floor = (f"libcst's parse of every file (the floor of bench/bench.py): {floor:.1f} s CPU; "
                        f"gclint without the clock, estimated: {without_clock / floor:.2f}x it")
    report = [f"# CPU breakdown: `python bench/breakdown.py {' '.join(argv if argv is not None else sys.argv[1:])}`", "",
              f"Corpus: {args.corpus} without tests.", "", render_table(clock, total, per_call, len(files), found, args.select)]
    if args.floor:
        report += ["", report_floor]
    if hotspots:
        report += ["", "## Hottest functions per file", "", hotspots]
    text = "\n".join(report) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
