"""One file in, findings out: decode, parse once, one batched walk, noqa."""
from __future__ import annotations

import ast
import io
import re
import threading
import sys
import tokenize
import warnings
from contextlib import nullcontext
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Type, Union

import libcst as cst
from libcst.metadata import MetadataWrapper

from gclint import nesting
from gclint.analysis.resources import FACTORY_TRIGGERS
from gclint.config import Settings
from gclint.context import FileContext, Options, Report
from gclint.model import Finding, Severity
from gclint.positions import Handoff, split_lines, spans
from gclint.project import SummaryStore
from gclint.rule import Rule, all_rules
from gclint.tree import walk


class SourceError(Exception):
    """The file cannot be analysed; becomes one GCL001 finding."""

    def __init__(self, reason: str, line: int = 1, col: int = 1, code: str = "GCL001") -> None:
        super().__init__(reason)
        self.reason, self.line, self.col, self.code = reason, line, col, code


def decode(data: bytes) -> str:
    """Bytes to text as Python does: BOM, then PEP 263 cookie, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"cannot decode: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    try:
        return data.decode(encoding)
    except (UnicodeError, LookupError) as exc:  # UnicodeError: `undefined`, `punycode` ...
        line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
        raise SourceError(f"cannot decode as {encoding}: {_first_line(exc)}", line) from None


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def parse(text: str) -> cst.Module:
    if "\0" in text:
        # Python refuses such source too; libcst cannot say where.
        line = text.count("\n", 0, text.index("\0")) + 1
        raise SourceError("syntax error: source contains a NUL byte", line)
    refuse_deep_nesting(text)
    try:
        return _parse_on_big_stack(text)
    except cst.ParserSyntaxError as exc:
        check_syntax(text, "<source>")  # a file Python rejects is GCL001, not GCL003
        line, col = _libcst_error_position(exc)
        raise SourceError(
            f"valid Python that libcst cannot parse, so it was not analysed: {exc.message}", line, col, code="GCL003"
        ) from None
    except RecursionError:
        raise SourceError("cannot parse: nesting too deep for the parser") from None
    except Exception as exc:  # libcst's native parser raises bare errors on odd input
        check_syntax(text, "<source>")
        line, col = _first_template_string(text)
        raise SourceError(
            f"valid Python that libcst cannot parse, so it was not analysed: libcst failed ({type(exc).__name__}: {_first_line(exc)})",
            line, col, code="GCL003",
        ) from None


def refuse_deep_nesting(text: str) -> None:
    """Refuse, before libcst sees it, nesting that would crash or stall its
    native parser (see gclint/nesting.py)."""
    depth = nesting.measure(text)
    if depth.brackets > nesting.MAX_BRACKETS:
        raise SourceError(
            f"syntax error: too many nested parentheses (Python allows {nesting.MAX_BRACKETS})", depth.line, depth.col
        )
    if depth.chain > nesting.MAX_CHAIN:
        check_syntax(text, "<source>")  # Python itself may refuse it: GCL001
        raise SourceError(
            f"not analysed: an expression about {depth.chain} operators deep, more than libcst parses safely ({nesting.MAX_CHAIN})",
            code="GCL003",
        )


# libcst's parser is native code that recurses once per level of nesting;
# the pre-check bounds the depth, and this stack gives that bound room.
_PARSE_STACK_BYTES = 256 * 1024 * 1024
_STACK_SIZE_LOCK = threading.Lock()


def _parse_on_big_stack(text: str) -> cst.Module:
    handoff: "Handoff[cst.Module]" = Handoff()
    # The stack size applies to threads started after it is set.
    worker = threading.Thread(target=handoff.run, args=(lambda: cst.parse_module(text),), name="gclint-parse", daemon=True)
    try:
        with _STACK_SIZE_LOCK:
            previous = threading.stack_size(_PARSE_STACK_BYTES)
            try:
                worker.start()
            except RuntimeError:  # no room for such a stack (ulimit -v): the pre-check's bound still holds
                return cst.parse_module(text)
            finally:
                threading.stack_size(previous)
    except KeyboardInterrupt:
        # A Ctrl-C between the start and the wait below: the process must not
        # end while the native parser runs on the new thread (that aborts it).
        handoff.wait_if_started(worker)
        raise
    return handoff.result()  # a Ctrl-C waits for the parse: see Handoff


def _first_template_string(text: str) -> Tuple[int, int]:
    """Where the first t-string is (libcst 1.x fails on some of them with a
    bare error); 1:1 when the running Python cannot say."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return 1, 1
    for node in ast.walk(tree):
        if type(node).__name__ == "TemplateStr":
            return node.lineno, node.col_offset + 1
    return 1, 1


_NATIVE_POSITION = re.compile(r"error at (\d+):(\d+)")


def _libcst_error_position(exc: cst.ParserSyntaxError) -> Tuple[int, int]:
    # libcst's native parser puts the true position in its message; the
    # error's own fields can point past it.
    match = _NATIVE_POSITION.search(exc.message)
    if match:
        return int(match.group(1)), int(match.group(2))
    return exc.raw_line, exc.raw_column + 1


def check_syntax(text: str, path: str) -> None:
    """Cheap compile check for files no rule needs to walk."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text, filename=path)
    except SyntaxError as exc:
        # Named, since newer syntax (3.14's t-strings) is an error to an older interpreter.
        running = f"Python {sys.version_info[0]}.{sys.version_info[1]}"
        raise SourceError(f"syntax error for {running}, the interpreter running gclint: {exc.msg}", exc.lineno or 1, exc.offset or 1) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise SourceError(f"cannot parse: {_first_line(exc)}") from None


def _check_without_rules(text: str, path: str) -> None:
    """GCL001 exactly when the full path would give it: Python's compiler
    is cheap, but it may be older than the code, so a file it rejects goes
    to libcst, whose verdict the full path uses."""
    try:
        check_syntax(text, path)
    except SourceError:
        parse(text)
        return


def select_rules(
    settings: Settings, path: str, text: str, project: Optional[SummaryStore] = None, used: Optional[Dict[str, str]] = None
) -> List[Type[Rule]]:
    """The enabled rules whose trigger strings the text contains; with
    `project`, also the resource rules when the file imports a project
    module's factory (its name is no built-in factory's)."""
    options = settings.options_for(path)
    enabled = [r for r in all_rules() if settings.is_enabled(r.code, path)]
    chosen = [r for r in enabled if r.triggered_by(text, options)]
    waiting = [r for r in enabled if r not in chosen and _triggered_by_factories(r)]
    if waiting and project is not None and project.imports_factory(path, text, {} if used is None else used):
        return [r for r in enabled if r in chosen or r in waiting]
    return chosen


def _triggered_by_factories(rule: Type[Rule]) -> bool:
    """A rule whose trigger strings are resource factories' names."""
    return bool(rule.TRIGGERS) and set(rule.TRIGGERS) <= _FACTORY_NAMES


_FACTORY_NAMES = frozenset(FACTORY_TRIGGERS)


def lint_source(
    source: Union[str, bytes],
    path: str = "<stdin>",
    settings: Optional[Settings] = None,
    project: Optional[SummaryStore] = None,
    used: Optional[Dict[str, str]] = None,
) -> List[Finding]:
    """All findings for one file's content, sorted, with noqa applied.

    With `project`, rules see the summaries of the project modules the file
    imports, and `used` (when given) receives {file: summary digest} for each
    one read: a cached result stays valid while they do."""
    settings = settings or Settings()
    used = {} if used is None else used
    try:
        text = decode(source) if isinstance(source, bytes) else source
        text = text.lstrip("\ufeff") if text.startswith("\ufeff") else text
        findings = _analyse(text, path, settings, project, used)
    except SourceError as exc:
        if not settings.is_enabled(exc.code, path):
            return []
        severity = Severity.ERROR if exc.code == "GCL001" else Severity.INFO
        return [Finding(path, exc.line, exc.col, exc.code, f"{path}: {exc.reason}", severity)]
    return sorted(suppress(findings, text), key=lambda f: f.sort_key)


def _analyse(text: str, path: str, settings: Settings, project: Optional[SummaryStore], used: Dict[str, str]) -> List[Finding]:
    limit = settings.max_file_size * 1024
    if len(text) > limit:
        # libcst needs about a kilobyte of memory per byte of dense literal
        # data, and minutes; a multi-megabyte module is almost always data.
        raise SourceError(f"not analysed: {len(text) / 1048576:.1f} MiB is over max-file-size ({settings.max_file_size} KiB)")
    rule_classes = select_rules(settings, path, text, project, used)
    if not rule_classes:
        # No rule wants this file: its summary is made only if an importer asks.
        _check_without_rules(text, path)
        return []
    module = parse(text)
    view = (lambda local: project.view(path, local, used)) if project is not None else None
    ctx = FileContext(path, text, module, settings.options_for(path), view)
    rules = [cls(ctx) for cls in rule_classes]
    _resolve_metadata(ctx, rules)
    on_enter, on_leave = _dispatch(rules)

    def rule_failed(hook: Callable, node: cst.CSTNode, exc: Exception) -> None:
        # One broken rule must not cost the file its other rules' findings.
        rule = hook.__self__
        for table in (on_enter, on_leave):
            for node_type, hooks in table.items():
                table[node_type] = [h for h in hooks if h.__self__ is not rule]
        where = f"{type(exc).__name__}: {_first_line(exc)}"
        ctx.report("GCL002", Severity.ERROR, node, f"internal error: rule {rule.code} failed here ({where}); please report it. Other rules' findings for this file are kept")

    try:
        with project.checking(path, ctx.analysis.local_summary) if project is not None else nullcontext():
            walk(module, on_enter, on_leave, ctx.stack, rule_failed)
        if project is not None:
            # Phase 1 rides on phase 2's parse: importers read this summary.
            project.remember(path, text, ctx.analysis.local_summary)
        return locate(ctx.reports, ctx)
    finally:
        ctx.release()


def _resolve_metadata(ctx: FileContext, rules: Sequence[Rule]) -> None:
    providers = {p for rule in rules for p in rule.METADATA}
    if providers:
        wrapper = MetadataWrapper(ctx.module, unsafe_skip_copy=True)
        ctx.metadata_cache.update(wrapper.resolve_many(providers))


_METHODS: Dict[type, Tuple[Tuple[str, type, bool], ...]] = {}


def _hooks(rule_type: type) -> Tuple[Tuple[str, type, bool], ...]:
    """(method name, node type, on enter?) for every visit_X / leave_X the rule defines."""
    hooks = _METHODS.get(rule_type)
    if hooks is None:
        hooks = tuple(
            (attr, getattr(cst, attr.split("_", 1)[1]), attr.startswith("visit_"))
            for attr in dir(rule_type)
            if attr.startswith(("visit_", "leave_"))
        )
        _METHODS[rule_type] = hooks
    return hooks


def _dispatch(rules: Sequence[Rule]) -> Tuple[Dict[type, List[Callable]], Dict[type, List[Callable]]]:
    on_enter: Dict[type, List[Callable]] = {}
    on_leave: Dict[type, List[Callable]] = {}
    for rule in rules:
        for attr, node_type, entering in _hooks(type(rule)):
            table = on_enter if entering else on_leave
            table.setdefault(node_type, []).append(getattr(rule, attr))
    return on_enter, on_leave


def locate(reports: Sequence[Report], ctx: FileContext) -> List[Finding]:
    """Positions only for the nodes that are reported (one codegen pass, only
    for files that have findings)."""
    if not reports:
        return []
    where = spans(ctx.module, [r.node for r in reports])
    findings = []
    for report in reports:
        (line, col), (end_line, end_col) = where[id(report.node)]
        findings.append(
            Finding(
                ctx.path, line, col + 1, report.code, report.message, report.severity,
                end_line=end_line, end_col=end_col + 1,
            )
        )
    return findings


# flake8's own patterns, so `# noqa` means the same through either door.
_NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.I)
_FILE_NOQA = re.compile(r"#\s*gclint[:=]\s*noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.I)
_SEPARATOR = re.compile(r"[,\s]+")


def _code_list(text: str) -> Tuple[str, ...]:
    # As flake8 does: split, no case folding (`# noqa: gcl401` names no code).
    return tuple(c for c in _SEPARATOR.split(text) if c)


def suppress(findings: Iterable[Finding], text: str) -> List[Finding]:
    findings = list(findings)
    if not findings:
        return findings
    lines = split_lines(text)
    file_codes = _file_noqa(text)
    if file_codes == ():
        return []
    kept = []
    for finding in findings:
        if file_codes and finding.code.startswith(file_codes):
            continue
        line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
        if not _line_suppresses(line, finding.code):
            kept.append(finding)
    return kept


def _file_noqa(text: str) -> Optional[Tuple[str, ...]]:
    """None: no file-level noqa; (): whole file; else the codes it names."""
    if "gclint" not in text:
        return None
    codes: List[str] = []
    for match in _FILE_NOQA.finditer(text):
        if not match.group("codes"):
            return ()
        codes.extend(_code_list(match.group("codes")))
    return tuple(codes) or None


def _line_suppresses(line: str, code: str) -> bool:
    if "noqa" not in line.lower():
        return False
    match = _NOQA.search(line)
    if match is None:
        return False
    if not match.group("codes"):
        return True
    return code.startswith(_code_list(match.group("codes")))
