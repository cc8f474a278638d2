"""`gclint check | rules | explain`."""
from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import sys
import traceback
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, TextIO, Tuple

from gclint import __version__
from gclint.cache import Cache, default_directory
from gclint.config import ConfigError, Settings, check_codes, find_pyproject, load_settings, parse_target, with_overrides
from gclint.engine import lint_source
from gclint.gitignore import drop_ignored
from gclint.model import Finding, RuleInfo, Severity, installed_rule_docs_base
from gclint.report import FORMATS, TextReporter, render_github, render_json, render_sarif
from gclint.report.printable import printable
from gclint.report.baseline import Baseline, read_baseline
from gclint.report.docs import rule_infos
from gclint.report.noqa import add_noqa
from gclint.report.sources import SourceLines, checked_sources
from gclint.rule import all_rules, extra_codes, known_codes, rule_for
from gclint.runner import Done, RunResult, discover, lint_files

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# Below this many files a progress bar is only noise.
PROGRESS_MIN_FILES = 200


# Options that run code or write files. A file named like one of them
# (`--run=evil.py`, an executable `--dynamic`) must never become the option:
# after the first path they are refused (argparse would take them anywhere).
# Pre-commit and scripts put `--` before file names, after which everything
# is a path.
BEFORE_PATHS_ONLY = (
    "--dynamic", "--run", "--python", "--timeout", "--memory-limit", "--tracemalloc-frames",
    "--target-output", "--output-file", "--write-baseline", "--add-noqa", "--graph", "--repeat",
)
# These, and the options that choose which files gclint trusts, are refused
# wherever they are when the word is also an existing file (`gclint check *`
# expands to option-named files first).
NEVER_A_FILE_NAME = BEFORE_PATHS_ONLY + ("--config", "--cache-dir", "--baseline")
# --fail-on LEVEL: the severities that make the exit status 1.
FAIL_ON = ("error", "warning", "info")
DEFAULT_FAIL_ON = "warning"


def _codes(value: str) -> List[str]:
    return [c.strip().upper() for c in value.split(",") if c.strip()]


def _count(minimum: int, maximum: Optional[int] = None):
    """An argparse type: a whole number in [minimum, maximum]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds above 0, got {text!r}")
    return value


def _command(text: str) -> str:
    """`--run` text, split later as a shell would: refuse what cannot split."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"cannot split {text!r} like a shell command: {exc}") from None
    if not words or words == ["-m"]:
        raise argparse.ArgumentTypeError(f"{text!r} names no script or module")
    return text


def build_parser() -> argparse.ArgumentParser:
    # No abbreviations: a file named `--dyn` must not mean `--dynamic`.
    parser = argparse.ArgumentParser(
        prog="gclint", description="Find Python code that holds memory longer than its author thinks.", allow_abbrev=False
    )
    parser.add_argument("--version", action="version", version=f"gclint {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check", help="lint files and directories", allow_abbrev=False)
    check.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or directories ('-' reads stdin); default: .")
    # "extend": a repeated --select adds up instead of keeping the last one.
    check.add_argument("--select", action="extend", type=_codes, help="codes or prefixes to report (replaces the configured set; repeatable)")
    check.add_argument("--extend-select", action="extend", type=_codes, help="codes or prefixes to add")
    check.add_argument("--ignore", action="extend", type=_codes, help="codes or prefixes to leave out")
    check.add_argument("--format", choices=FORMATS, default="text")
    check.add_argument("--output-file", metavar="FILE", help="write the report to FILE instead of stdout")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour the text report (auto: on a terminal, unless NO_COLOR; FORCE_COLOR forces it)")
    check.add_argument("--fail-on", choices=FAIL_ON, default=None, help="lowest severity that makes the exit status 1 (default: warning; info findings are shown but pass)")
    check.add_argument("--jobs", "-j", type=_count(1), default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    check.add_argument("--statistics", action="store_true", help="count findings per code")
    check.add_argument("--quiet", "-q", action="store_true", help="findings only: no source lines, no summary")
    check.add_argument("--stdin-filename", help="the path to report for '-'")
    check.add_argument("--target-version", help="oldest Python the code must run on (py38 ... py314; default: from requires-python, else py39)")
    check.add_argument("--config", help="pyproject.toml to read instead of the nearest one")
    check.add_argument("--no-config", action="store_true", help="ignore pyproject.toml")
    check.add_argument("--force-exclude", action="store_true", help="apply exclude / extend-exclude to paths named on the command line too (the pre-commit hook does)")
    check.add_argument("--no-cache", action="store_true", help="neither read nor write the findings cache")
    check.add_argument("--cache-dir", help="where the cache lives (default: per project in the user cache directory, e.g. ~/.cache/gclint)")
    adopt = check.add_argument_group("adopting gclint on an existing project")
    adopt.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in FILE (matched by path, code and the flagged line's text)")
    adopt.add_argument("--write-baseline", metavar="FILE", help="record today's findings in FILE and exit 0")
    adopt.add_argument("--add-noqa", action="store_true", help="append `# noqa: CODE` to every flagged line (merged with an existing noqa comment)")
    dynamic = check.add_argument_group("dynamic mode (EXECUTES the code it checks, each target in a child process)")
    dynamic.add_argument("--dynamic", action="store_true", help="run every checked file that defines main() and confirm findings")
    dynamic.add_argument("--run", action="append", type=_command, metavar="'script.py ARGS' | '-m module ARGS'", help="run this program instead (repeatable; implies --dynamic)")
    dynamic.add_argument("--python", metavar="PATH", help="interpreter for the child (default: the one running gclint)")
    dynamic.add_argument("--timeout", type=_seconds, default=60.0, metavar="SECONDS", help="wall-clock limit per target (default: 60)")
    dynamic.add_argument("--memory-limit", type=_count(1), default=2048, metavar="MB", help="address-space limit per target (default: 2048)")
    # tracemalloc.start() takes 1 to 65535 frames.
    dynamic.add_argument("--target-output", metavar="FILE", help="write each target's whole stdout and stderr to FILE (a failing target's last lines are in the diagnostic)")
    dynamic.add_argument("--graph", metavar="DIR", help="draw each confirmed cycle in DIR: Graphviz DOT, and SVG when `dot` is on PATH")
    dynamic.add_argument("--repeat", type=_count(2, 1000), default=0, metavar="N", help="call each main() again: 2 warm-up runs, then N measured ones; report what grew in every one (implies --dynamic)")
    dynamic.add_argument("--tracemalloc-frames", type=_count(1, 65535), default=10, metavar="N", help="frames kept per allocation (default: 10)")
    check.set_defaults(_options=_value_options(check))

    sub.add_parser("rules", help="list every rule").add_argument("--format", choices=("text", "json", "markdown"), default="text")
    explain = sub.add_parser("explain", help="show a rule's documentation and examples")
    explain.add_argument("code")
    return parser


def _value_options(parser: argparse.ArgumentParser) -> frozenset:
    """Option strings of `parser` that take a value in the next word."""
    return frozenset(o for action in parser._actions if action.nargs != 0 for o in action.option_strings)


def late_option_error(argv: Sequence[str], value_options: frozenset) -> Optional[str]:
    """Why `argv` (the words after `check`) must be refused, if it must."""
    first_path = None
    words = iter(argv)
    for word in words:
        if word == "--":
            return None
        if not word.startswith("-") or word == "-":
            first_path = first_path or word
            continue
        name = word.split("=", 1)[0]
        if name in BEFORE_PATHS_ONLY and first_path is not None:
            return f"{name} must come before the paths (it follows {first_path!r}); a file named like an option is never taken as one, so put file names after `--`"
        if name in NEVER_A_FILE_NAME and os.path.lexists(word):
            return f"{word!r} is both an option and a file here; to check the file, put it after `--`"
        if name in value_options and "=" not in word:
            next(words, None)
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        words = argv[argv.index("check") + 1:]
        problem = late_option_error(words, args._options)
        if problem:
            parser.error(problem)
    try:
        return _command_status(args)
    except BrokenPipeError:
        return _closed_pipe()
    except KeyboardInterrupt:
        print("gclint: interrupted", file=sys.stderr)
        return 130
    except Exception:  # a bug in gclint: exit 2, never the findings status
        print(f"gclint: internal error, please report it:\n{traceback.format_exc(limit=-8)}", file=sys.stderr, end="")
        return EXIT_ERROR


def _command_status(args: argparse.Namespace) -> int:
    try:
        if args.command == "rules":
            return _rules(args.format)
        if args.command == "explain":
            return _explain(args.code)
        return _check(args)
    except ConfigError as exc:
        print(f"gclint: error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _closed_pipe() -> int:
    """The reader went away (`gclint check | head -1`): stop quietly.

    Python would print an error when it flushes stdout at exit; point stdout
    at /dev/null so there is nothing left to flush.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 1  # what Python itself exits with on EPIPE


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
    if args.add_noqa and "-" in args.paths:
        raise ConfigError("--add-noqa edits files; it cannot edit standard input")
    if args.graph and not (args.dynamic or args.run or args.repeat):
        raise ConfigError("--graph draws what dynamic mode saw: add --dynamic (or --run)")
    result, files, stdin_text = _lint(args, settings)
    outputs = _confirm(result, args, settings, files) if args.dynamic or args.run or args.repeat else []
    result.findings.sort(key=lambda f: f.sort_key)
    # Stdin's text wins over a checked file of the same (display) name.
    sources = SourceLines({**checked_sources(result.findings, set(files), settings.max_file_size * 1024), **stdin_text})
    for error in result.errors:
        print(f"gclint: error: {printable_error(error)}", file=sys.stderr)
    internal_failure = bool(result.errors) or any(f.code == "GCL002" for f in result.findings)
    if args.write_baseline:
        return _write_baseline(args.write_baseline, result.findings, sources, internal_failure)
    if args.add_noqa:
        return _add_noqa(result.findings, set(files), internal_failure)
    baseline = _baseline_file(args, settings)
    if baseline:
        result.findings = read_baseline(baseline).new_findings(result.findings, sources)
    if args.graph:
        _draw(args.graph, result.findings, sources)
    _report(result, args, sources, outputs)
    if internal_failure:
        return EXIT_ERROR
    return EXIT_FINDINGS if _fails(result.findings, args, _fail_on(args, settings)) else EXIT_CLEAN


def _lint(args: argparse.Namespace, settings: Settings) -> Tuple[RunResult, List[str], Dict[str, str]]:
    """Findings for stdin and the paths, the files checked, stdin's text."""
    result = RunResult()
    stdin_text: Dict[str, str] = {}
    paths = [p for p in args.paths if p != "-" and not (args.force_exclude and settings.force_excludes(p))]
    files: List[str] = []
    name = args.stdin_filename or "<stdin>"
    # An editor pipes an excluded file too; with --force-exclude it gets nothing.
    excluded_stdin = bool(args.force_exclude and args.stdin_filename and settings.force_excludes(name))
    if "-" in args.paths and not excluded_stdin:
        data = sys.stdin.buffer.read()
        result.findings.extend(lint_source(data, name, settings))
        result.files += 1
        stdin_text[name] = data.decode("utf-8", "replace")
    if paths:
        files, errors = discover(paths, settings)
        if settings.respect_gitignore:
            files = drop_ignored(files, named=paths)
        result.errors.extend(errors)
        ran = _run(files, settings, args)
        result.findings.extend(ran.findings)
        result.errors.extend(ran.errors)
        result.files += ran.files
    return result, files, stdin_text


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


def _fails(findings: Sequence[Finding], args: argparse.Namespace, fail_on: str) -> bool:
    """Whether the findings make the exit status 1 (`--fail-on`, `--exit-zero`)."""
    if args.exit_zero:
        return False
    lowest = _SEVERITY_RANK[Severity(fail_on)]
    return any(_SEVERITY_RANK[f.severity] >= lowest for f in findings)


def _fail_on(args: argparse.Namespace, settings: Settings) -> str:
    """--fail-on, else `fail-on` in [tool.gclint], else warning."""
    return args.fail_on or settings.fail_on or DEFAULT_FAIL_ON


def _baseline_file(args: argparse.Namespace, settings: Settings) -> Optional[str]:
    """--baseline, else the configured one (relative to its pyproject.toml)."""
    if args.baseline:
        return args.baseline
    configured = settings.baseline
    return os.path.join(settings.root or ".", configured) if configured else None


def _write_baseline(path: str, findings: Sequence[Finding], sources: SourceLines, internal_failure: bool) -> int:
    baseline = Baseline.of(findings, sources, os.path.dirname(os.path.abspath(path)))
    try:
        baseline.write(path)
    except OSError as exc:
        raise ConfigError(f"--write-baseline {path}: cannot write: {exc.strerror or exc}") from None
    print(f"gclint: recorded {len(baseline)} findings in {path}", file=sys.stderr)
    return EXIT_ERROR if internal_failure else EXIT_CLEAN


def _add_noqa(findings: Sequence[Finding], checked: Set[str], internal_failure: bool) -> int:
    outcome = add_noqa(findings, checked)
    print(f"gclint: added {outcome.added} noqa comments in {outcome.files} files", file=sys.stderr)
    for problem in outcome.skipped:
        print(f"gclint: not suppressed: {printable(problem)}", file=sys.stderr)
    if internal_failure:
        return EXIT_ERROR
    return EXIT_FINDINGS if outcome.skipped else EXIT_CLEAN


def printable_error(error: str) -> str:
    """An error text made printable line by line (a traceback keeps its lines)."""
    return "\n".join(printable(line) for line in error.splitlines())


def _confirm(result: RunResult, args: argparse.Namespace, settings: Settings, files: List[str]) -> List[Any]:
    """Dynamic mode: run targets under gc inspection and mark each finding;
    what each target wrote."""
    from gclint.dynamic import DynamicOptions, confirm

    options = DynamicOptions(
        python=args.python or sys.executable,
        run=tuple(args.run or ()),
        timeout=args.timeout,
        memory_limit_mb=args.memory_limit,
        tracemalloc_frames=args.tracemalloc_frames,
        output_file=args.target_output,
        repeat=args.repeat,
    )
    outcome = confirm(result.findings, files, options)
    result.findings = [f for f in outcome.findings if settings.is_enabled(f.code, f.path)]
    for diagnostic in outcome.diagnostics:
        print(f"gclint: dynamic: {printable_error(diagnostic)}", file=sys.stderr)
    return outcome.outputs


def _draw(directory: str, findings: Sequence[Finding], sources: SourceLines) -> None:
    """--graph: one picture per confirmed cycle or retained chain."""
    from gclint.report.graph import write_finding_pictures

    try:
        written = write_finding_pictures(directory, findings, sources.line)
    except OSError as exc:
        raise ConfigError(f"--graph {directory}: cannot write: {exc.strerror or exc}") from None
    print(f"gclint: drew {len(written)} pictures in {printable(directory)}", file=sys.stderr)


def _cache(settings: Settings, args: argparse.Namespace) -> Optional[Cache]:
    if args.no_cache:
        return None
    directory = args.cache_dir or default_directory(settings.root or ".")
    return Cache(directory, repr(settings))


def _run(files: Sequence[str], settings: Settings, args: argparse.Namespace) -> RunResult:
    cache = _cache(settings, args)
    if not (sys.stderr.isatty() and len(files) >= PROGRESS_MIN_FILES and args.format == "text"):
        return lint_files(files, settings, args.jobs, cache=cache)
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    # Files done / total for the reader; the bar and its estimate follow bytes.
    columns = (TextColumn("checking {task.fields[files]}"), BarColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("checking", total=None, files=f"0/{len(files)} files")

        def show(done: Done) -> None:
            bar.update(task, total=done.bytes_total or 1, completed=done.bytes, files=f"{done.files}/{done.files_total} files")

        return lint_files(files, settings, args.jobs, progress=show, cache=cache)


def _report(result: RunResult, args: argparse.Namespace, sources: SourceLines, outputs: Sequence[Any] = ()) -> None:
    if not args.output_file:
        _write_report(sys.stdout, result, args, sources, outputs)
        return
    try:
        with open(args.output_file, "w", encoding="utf-8", newline="\n") as stream:
            _write_report(stream, result, args, sources, outputs)
    except OSError as exc:
        raise ConfigError(f"--output-file {args.output_file}: cannot write: {exc.strerror or exc}") from None


def _write_report(stream: TextIO, result: RunResult, args: argparse.Namespace, sources: SourceLines, outputs: Sequence[Any] = ()) -> None:
    findings = result.findings
    if args.format == "html":
        from gclint.report.html import render_html

        stream.write(render_html(findings, sources, outputs, result.files, __version__))
    elif args.format == "json":
        stream.write(render_json(findings))
    elif args.format == "sarif":
        stream.write(render_sarif(findings, rule_infos(), __version__, sources, installed_rule_docs_base()))
    elif args.format == "github":
        stream.write(render_github(findings))
    else:
        reporter = TextReporter(stream, color=use_color(args.color, stream), quiet=args.quiet)
        reporter.write(findings, sources)
        reporter.summary(findings, result.files, args.statistics, {i.code: i.name for i in rule_infos()})


def use_color(choice: str, stream: TextIO, environ: Optional[Mapping[str, str]] = None) -> bool:
    """`--color`: always / never, or auto: NO_COLOR (https://no-color.org)
    turns it off, FORCE_COLOR on, else colour on a terminal only."""
    environ = os.environ if environ is None else environ
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def _rules(fmt: str) -> int:
    infos = [r.info() for r in all_rules()]
    if fmt == "markdown":
        sys.stdout.write(rule_table(infos))
        return EXIT_CLEAN
    if fmt == "json":
        rows = [
            {
                "code": i.code, "name": i.name, "severity": i.severity.value, "default": i.default,
                "why_default": i.why_default, "summary": i.summary,
            }
            for i in infos
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return EXIT_CLEAN
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("code", "name", "severity", "default", "summary", "why on / off (measured)")
        for i in infos:
            table.add_row(i.code, i.name, i.severity.value, _on(i), i.summary, i.why_default or "")
        Console().print(table)
    else:
        for i in infos:
            print(f"{i.code}  {i.name:<34} {i.severity.value:<8} {_on(i):<3} {i.summary}")
            print(f"{'':8}{_on(i)} by default: {i.why_default}")
    return EXIT_CLEAN


def _on(info: RuleInfo) -> str:
    return "on" if info.default else "off"


def rule_table(infos: Sequence[RuleInfo]) -> str:
    """The README's rule table (tests/test_readme.py keeps the two in step)."""
    rows = ["| code | name | severity | default | why (measured) | what it finds |", "|---|---|---|---|---|---|"]
    for i in infos:
        summary = i.summary.replace("|", r"\|")
        rows.append(f"| {i.code} | {i.name} | {i.severity.value} | {_on(i)} | {i.why_default or ''} | {summary} |")
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
