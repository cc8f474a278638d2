"""Dynamic mode: run code under gc inspection and confirm static findings.

Executes the code it checks, always in a child process.
"""
from __future__ import annotations

import ast
import os
import shlex
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from gclint.dynamic.child import ChildRun, Target, run_target
from gclint.dynamic.contain import Containment
from gclint.dynamic.confirm import Coverage, judge, real
from gclint.dynamic.gcprofile import summary as gc_summary
from gclint.model import Finding


@dataclass(frozen=True)
class DynamicOptions:
    python: str
    run: Tuple[str, ...] = ()
    timeout: float = 60.0
    memory_limit_mb: int = 2048
    tracemalloc_frames: int = 10
    # Where each target's whole output goes (None: only a failing target's last lines, in its diagnostic).
    output_file: Optional[str] = None
    # --repeat N: call each main() again, warm-up runs then N measured ones, and report what keeps growing.
    repeat: int = 0


@dataclass(frozen=True)
class TargetOutput:
    """What one target wrote, for a report a person reads (--format html)."""

    label: str
    said: str
    output: str


@dataclass
class Outcome:
    findings: List[Finding]
    diagnostics: List[str]
    outputs: List[TargetOutput] = field(default_factory=list)


def confirm(findings: List[Finding], files: List[str], options: DynamicOptions) -> Outcome:
    """Run the targets, then give every finding its dynamic status."""
    targets = program_targets(options.run) if options.run else main_targets(files)
    if not targets:
        return Outcome(list(findings), ["no target: no checked file defines main() without required arguments (use --run)"])
    targets, repeat_notes = with_repeat(targets, options.repeat)
    watched = sorted({real(f) for f in files})
    containment = Containment()
    try:
        runs = _run_all(targets, watched, options, containment)
    finally:
        orphans = containment.close()
    evidence = [item for run in runs for item in _items(run)]
    display = _display_paths(files)
    judged = judge(findings, evidence, _coverage(runs), display)
    diagnostics = repeat_notes + [f"{run.target.label}: {problem}" for run in runs for problem in run.problems + run.notes]
    diagnostics += gc_profile_notes(evidence)
    if orphans:
        diagnostics.append(f"{len(orphans)} process(es) with a scrubbed environment were left running by one of the targets; killed")
    if options.output_file:
        diagnostics.extend(_write_outputs(options.output_file, runs))
    outputs = [TargetOutput(run.target.label, "; ".join(run.problems) or "ran to its end", run.output) for run in runs]
    return Outcome(judged, diagnostics, outputs)


def with_repeat(targets: Sequence[Target], runs: int) -> Tuple[List[Target], List[str]]:
    """Targets that call main() carry the number of measured runs to the probe."""
    if not runs:
        return list(targets), []
    repeated = [Target(t.label, {**t.spec, "repeat": runs}) if "file" in t.spec else t for t in targets]
    if all("file" in t.spec for t in targets):
        return repeated, []
    return repeated, ["--repeat applies to files that define main(); a --run program runs once (for a test suite: --run '-m pytest --gclint-repeat N')"]


def gc_profile_notes(evidence: Sequence[Dict[str, Any]]) -> List[str]:
    """One line per target measured with --repeat: what its runs cost the collector."""
    return [f"{e['target']}: gc during {e['runs']} runs of main(): {gc_summary(e)}" for e in evidence if e.get("kind") == "gc-profile"]


def _write_outputs(path: str, runs: Sequence[ChildRun]) -> List[str]:
    """Each target's whole output under a header naming it and its problems."""
    try:
        with open(path, "w", encoding="utf-8", errors="replace") as out:
            for run in runs:
                said = "; ".join(run.problems) or "ran to its end"
                out.write(f"===== {run.target.label}: {said}\n")
                out.write(run.output)
                if run.output and not run.output.endswith("\n"):
                    out.write("\n")
    except OSError as exc:
        return [f"--target-output {path}: cannot write: {exc.strerror or exc}"]
    return []


def main_targets(files: Sequence[str]) -> List[Target]:
    return [Target(path, {"file": real(path)}) for path in files if defines_main(path)]


def defines_main(path: str) -> bool:
    """A top-level `def main()` that can be called without arguments."""
    try:
        with open(path, "rb") as source:
            data = source.read()
    except OSError:
        return False
    if b"def main" not in data:  # most files: no parse at all
        return False
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(node, ast.FunctionDef) and node.name == "main" and _no_required(node.args) for node in tree.body)


def _no_required(args: ast.arguments) -> bool:
    positional = len(args.posonlyargs) + len(args.args)
    return positional == len(args.defaults) and all(d is not None for d in args.kw_defaults)


def program_targets(runs: Sequence[str]) -> List[Target]:
    """`--run "script.py ARGS"` / `--run "-m package.module ARGS"`."""
    targets = []
    for text in runs:
        words = shlex.split(text)
        if len(words) >= 2 and words[0] == "-m":
            targets.append(Target(text, {"module": words[1], "args": words[2:]}))
        elif words:
            targets.append(Target(text, {"script": os.path.abspath(words[0]), "args": words[1:]}))
    return targets


def _run_all(targets: Sequence[Target], watched: List[str], options: DynamicOptions, containment: Containment) -> List[ChildRun]:
    def one(target: Target) -> ChildRun:
        if containment.cancelled.is_set():
            return ChildRun(target, None, ["not run: gclint was stopped"])
        try:
            return run_target(target, watched, options.python, options.timeout, options.memory_limit_mb, options.tracemalloc_frames, containment)
        except Exception as exc:  # a bug here must cost one target, not the run
            return ChildRun(target, None, [f"internal error while running it: {type(exc).__name__}: {exc}"])

    workers = max(1, min(len(targets), os.cpu_count() or 1))
    # The containment closes before the pool joins its threads: on an
    # exception or a signal every tree is killed, so no worker waits long.
    with ThreadPoolExecutor(max_workers=workers) as pool, containment:
        return list(pool.map(one, targets))


def _items(run: ChildRun) -> List[Dict[str, Any]]:
    """The run's evidence, each item saying which target it came from."""
    if run.evidence is None:
        return []
    rss = run.evidence.get("rss") or {}
    origin = {"target": run.target.label, "python": run.evidence.get("python"), "rss_before": rss.get("start"), "rss_after": rss.get("after")}
    # Validated when read (gclint.dynamic.evidence): every item has its kind's shape.
    return [{**item, **origin} for item in run.evidence.get("evidence") or []]


def _coverage(runs: Sequence[ChildRun]) -> Coverage:
    lines: Dict[str, set] = {}
    for run in runs:
        for path, ran in ((run.evidence or {}).get("lines") or {}).items():
            lines.setdefault(path, set()).update(ran)
    uncertain = {real(run.target.spec["file"]) for run in runs if not run.complete and "file" in run.target.spec}
    return Coverage(lines=lines, uncertain=uncertain, any_complete=any(run.complete for run in runs))


def _display_paths(files: Sequence[str]):
    """Evidence paths are real paths; show them as the user named the files."""
    shown = {real(f): f for f in files}

    def display(path: str) -> str:
        if path in shown:
            return shown[path]
        relative = os.path.relpath(path)
        return path if relative.startswith("..") else relative

    return display
