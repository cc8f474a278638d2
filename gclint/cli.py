"""`gclint check | rules | explain`."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from gclint import __version__
from gclint.cache import Cache, default_directory
from gclint.config import ConfigError, Settings, check_codes, find_pyproject, load_settings, parse_target, with_overrides
from gclint.engine import lint_source
from gclint.model import RuleInfo
from gclint.report import FORMATS, TextReporter, render_github, render_json, render_sarif
from gclint.rule import all_rules, extra_codes, known_codes, rule_for
from gclint.runner import RunResult, discover, lint_files

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# Below this many files a progress bar is only noise.
PROGRESS_MIN_FILES = 200


def _codes(value: str) -> List[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gclint", description="Find Python code that holds memory longer than its author thinks.")
    parser.add_argument("--version", action="version", version=f"gclint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check", help="lint files and directories")
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories ('-' reads stdin); default: .")
    check.add_argument("--select", type=_codes, help="codes or prefixes to report (replaces the configured set)")
    check.add_argument("--extend-select", type=_codes, help="codes or prefixes to add")
    check.add_argument("--ignore", type=_codes, help="codes or prefixes to leave out")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--statistics", action="store_true", help="count findings per code")
    check.add_argument("--quiet", "-q", action="store_true", help="findings only: no source lines, no summary")
    check.add_argument("--stdin-filename", help="the path to report for '-'")
    check.add_argument("--target-version", help="oldest Python the code must run on (py39 ... py314)")
    check.add_argument("--config", help="pyproject.toml to read instead of the nearest one")
    check.add_argument("--no-config", action="store_true", help="ignore pyproject.toml")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the findings cache")
    check.add_argument("--cache-dir", help="where the cache lives (default: per project in the user cache directory, e.g. ~/.cache/gclint)")
    dynamic = check.add_argument_group("dynamic mode (EXECUTES the code it checks, each target in a child process)")
    dynamic.add_argument("--dynamic", action="store_true", help="run every checked file that defines main() and confirm findings")
    dynamic.add_argument("--run", action="append", metavar="'script.py ARGS' | '-m module ARGS'", help="run this program instead (repeatable; implies --dynamic)")
    dynamic.add_argument("--python", metavar="PATH", help="interpreter for the child (default: the one running gclint)")
    dynamic.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="wall-clock limit per target (default: 60)")
    dynamic.add_argument("--memory-limit", type=int, default=2048, metavar="MB", help="address-space limit per target (default: 2048)")
    dynamic.add_argument("--tracemalloc-frames", type=int, default=10, metavar="N", help="frames kept per allocation (default: 10)")

    sub.add_parser("rules", help="list every rule").add_argument("--format", choices=("text", "json", "markdown"), default="text")
    explain = sub.add_parser("explain", help="show a rule's documentation and examples")
    explain.add_argument("code")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "rules":
            return _rules(args.format)
        if args.command == "explain":
            return _explain(args.code)
        return _check(args)
    except ConfigError as exc:
        print(f"gclint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _settings(args: argparse.Namespace) -> Settings:
    codes = known_codes()
    if args.no_config:
        settings = Settings()
    else:
        first = next((p for p in args.paths if p != "-"), ".")
        pyproject = Path(args.config) if args.config else find_pyproject(first)
        settings = load_settings(pyproject, codes)
    for option in ("select", "extend_select", "ignore"):
        check_codes(getattr(args, option) or (), codes, f"--{option.replace('_', '-')}")
    if args.target_version:
        parse_target(args.target_version)
    return with_overrides(
        settings,
        select=tuple(args.select) if args.select is not None else None,
        extend_select=settings.extend_select + tuple(args.extend_select or ()),
        ignore=settings.ignore + tuple(args.ignore or ()),
        target_version=args.target_version,
    )


def _check(args: argparse.Namespace) -> int:
    settings = _settings(args)
    sources = {}
    result = RunResult()
    paths = [p for p in args.paths if p != "-"]
    files: List[str] = []
    if "-" in args.paths:
        name = args.stdin_filename or "<stdin>"
        data = sys.stdin.buffer.read()
        result.findings.extend(lint_source(data, name, settings))
        result.files += 1
        sources[name] = data.decode("utf-8", "replace")
    if paths:
        files, errors = discover(paths, settings)
        result.errors.extend(errors)
        ran = _run(files, settings, args)
        result.findings.extend(ran.findings)
        result.errors.extend(ran.errors)
        result.files += ran.files
    if args.dynamic or args.run:
        _confirm(result, args, settings, files)
    result.findings.sort(key=lambda f: f.sort_key)
    _report(result, args, sources)
    for error in result.errors:
        print(f"gclint: error: {error}", file=sys.stderr)
    if result.errors or any(f.code == "GCL002" for f in result.findings):
        return EXIT_ERROR
    return EXIT_FINDINGS if result.findings and not args.exit_zero else EXIT_CLEAN


def _confirm(result: RunResult, args: argparse.Namespace, settings: Settings, files: List[str]) -> None:
    """Dynamic mode: run targets under gc inspection and mark each finding."""
    from gclint.dynamic import DynamicOptions, confirm

    options = DynamicOptions(
        python=args.python or sys.executable,
        run=tuple(args.run or ()),
        timeout=args.timeout,
        memory_limit_mb=args.memory_limit,
        tracemalloc_frames=args.tracemalloc_frames,
    )
    outcome = confirm(result.findings, files, options)
    result.findings = [f for f in outcome.findings if settings.is_enabled(f.code, f.path)]
    for diagnostic in outcome.diagnostics:
        print(f"gclint: dynamic: {diagnostic}", file=sys.stderr)


def _cache(settings: Settings, args: argparse.Namespace) -> Optional[Cache]:
    if args.no_cache:
        return None
    directory = args.cache_dir or default_directory(settings.root or ".")
    return Cache(directory, repr(settings))


def _run(files: Sequence[str], settings: Settings, args: argparse.Namespace) -> RunResult:
    cache = _cache(settings, args)
    if not (sys.stderr.isatty() and len(files) >= PROGRESS_MIN_FILES and args.format == "text"):
        return lint_files(files, settings, args.jobs, cache=cache)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("checking", total=len(files))
        return lint_files(files, settings, args.jobs, progress=lambda: bar.advance(task), cache=cache)


def _report(result: RunResult, args: argparse.Namespace, sources: dict) -> None:
    findings = result.findings
    if args.format == "json":
        sys.stdout.write(render_json(findings))
    elif args.format == "sarif":
        sys.stdout.write(render_sarif(findings, rule_infos(), __version__))
    elif args.format == "github":
        sys.stdout.write(render_github(findings))
    else:
        reporter = TextReporter(quiet=args.quiet)
        reporter.write(findings, sources)
        reporter.summary(findings, result.files, args.statistics)


def rule_infos() -> List[RuleInfo]:
    return [*extra_codes().values(), *(r.info() for r in all_rules())]


def _rules(fmt: str) -> int:
    infos = [r.info() for r in all_rules()]
    if fmt == "markdown":
        sys.stdout.write(rule_table(infos))
        return EXIT_CLEAN
    if fmt == "json":
        rows = [{"code": i.code, "name": i.name, "severity": i.severity.value, "summary": i.summary} for i in infos]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_CLEAN
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("code", "name", "severity", "summary")
        for i in infos:
            table.add_row(i.code, i.name, i.severity.value, i.summary)
        Console().print(table)
    else:
        for i in infos:
            print(f"{i.code}  {i.name:<34} {i.severity.value:<8} {i.summary}")
    return EXIT_CLEAN


def rule_table(infos: Sequence[RuleInfo]) -> str:
    """The README's rule table (tests/test_readme.py keeps the two in step)."""
    rows = ["| code | name | severity | what it finds |", "|---|---|---|---|"]
    for i in infos:
        summary = i.summary.replace("|", r"\|")
        rows.append(f"| {i.code} | {i.name} | {i.severity.value} | {summary} |")
    return "\n".join(rows) + "\n"


def _explain(code: str) -> int:
    rule = rule_for(code)
    info = rule.info() if rule else extra_codes().get(code.upper())
    if info is None:
        print(f"gclint: error: unknown code {code!r}; `gclint rules` lists them", file=sys.stderr)
        return EXIT_ERROR
    text = info.markdown()
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        sys.stdout.write(text)
    return EXIT_CLEAN
