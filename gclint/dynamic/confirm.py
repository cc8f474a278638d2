"""Match the probe's evidence to static findings; report what no finding explains.

Evidence confirms a finding of a rule that declares its kind when it lies at
the finding's statement, inside the finding's enclosing function, or (for
instances) is of the class the finding is in.
"""
from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from gclint.dynamic.codes import DYNAMIC_CODES, code_for_evidence
from gclint.dynamic.summary import finding_message, is_worth_reporting, summarize
from gclint.model import CONFIRMED, NOT_EXECUTED, NOT_REPRODUCED, Finding
from gclint.rule import rule_for

Span = Tuple[int, int]
Evidence = Dict[str, Any]


def rule_evidence_kind(code: str) -> str:
    rule = rule_for(code)
    return rule.EVIDENCE if rule is not None else "none"


@dataclass(frozen=True)
class Coverage:
    """Which lines ran, and which files can be judged from that."""

    lines: Mapping[str, Set[int]]
    # Files whose own target failed: their unexecuted lines prove nothing.
    uncertain: Set[str]
    any_complete: bool


class Geometry:
    """Statements, functions and classes of one file, from `ast`."""

    def __init__(self, path: str) -> None:
        self.statements: List[Span] = []
        self.functions: List[Span] = []
        self.bodies: Dict[Span, Span] = {}
        self.classes: List[Tuple[Span, str]] = []
        try:
            with open(path, "rb") as source:
                tree = ast.parse(source.read())
        except (OSError, SyntaxError, ValueError):
            return
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt):
                self._add(node)

    def _add(self, node: ast.stmt) -> None:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        end = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        header_end = max(node.lineno, body[0].lineno - 1) if body and isinstance(body, list) else end
        self.statements.append((start, header_end))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.functions.append((start, end))
            self.bodies[(start, header_end)] = (node.body[0].lineno, end)
        elif isinstance(node, ast.ClassDef):
            self.classes.append(((start, end), node.name))

    def statement(self, line: int) -> Optional[Span]:
        return _innermost(self.statements, line)

    def function(self, line: int) -> Optional[Span]:
        return _innermost(self.functions, line)

    def klass(self, line: int) -> Optional[Tuple[Span, str]]:
        spans = [c for c in self.classes if c[0][0] <= line <= c[0][1]]
        return min(spans, key=lambda c: c[0][1] - c[0][0]) if spans else None

    def executed_span(self, line: int) -> Span:
        """The lines whose execution means the finding's code ran: for a
        finding on a `def`, its body (the def itself runs at import)."""
        span = self.statement(line) or (line, line)
        return self.bodies.get(span, span)


def _innermost(spans: Iterable[Span], line: int) -> Optional[Span]:
    inside = [s for s in spans if s[0] <= line <= s[1]]
    return min(inside, key=lambda s: s[1] - s[0]) if inside else None


@functools.lru_cache(maxsize=None)
def _geometry(real_path: str) -> Geometry:
    return Geometry(real_path)


def real(path: str) -> str:
    return os.path.realpath(path)


# -- matching -------------------------------------------------------------------


def _in(span: Optional[Span], line: Optional[int]) -> bool:
    return span is not None and line is not None and span[0] <= line <= span[1]


def _lines_in(places: Iterable[Any], path: str) -> List[int]:
    return [place[1] for place in places if place and place[0] == path]


def matches(evidence: Evidence, finding: Finding) -> bool:
    path = real(finding.path)
    geometry = _geometry(path)
    # Where the evidence happened, and where each of its objects came from
    # (innermost frame); the outer allocation frames only count at the statement.
    places = _lines_in([[evidence.get("path"), evidence.get("line")], *(evidence.get("sites") or ())], path)
    outer = _lines_in(evidence.get("frames") or (), path)
    statement = geometry.statement(finding.line) or (finding.line, finding.end_line or finding.line)
    if any(_in(statement, line) for line in places + outer):
        return True
    function = geometry.function(finding.line)
    if any(_in(function, line) for line in places):
        return True
    return _of_enclosing_class(evidence, path, geometry.klass(finding.line))


def _of_enclosing_class(evidence: Evidence, path: str, klass: Optional[Tuple[Span, str]]) -> bool:
    if klass is None:
        return False
    span, name = klass
    for where in evidence.get("classes") or ():
        if where.get("path") == path and where.get("name", "").split(".")[-1] == name and _in(span, where.get("line")):
            return True
    return False


# -- statuses ---------------------------------------------------------------------


def _status(finding: Finding, coverage: Coverage) -> Optional[str]:
    path = real(finding.path)
    ran = coverage.lines.get(path, set())
    start, end = _geometry(path).executed_span(finding.line)
    if any(start <= line <= end for line in ran):
        return NOT_REPRODUCED
    if path in coverage.uncertain or not coverage.any_complete:
        return None
    return NOT_EXECUTED


def judge(
    findings: Sequence[Finding],
    evidence: Sequence[Evidence],
    coverage: Coverage,
    display: Callable[[str], str],
    kind_of: Optional[Callable[[str], str]] = None,
) -> List[Finding]:
    """Every finding with its dynamic status, then a GCL9xx finding for each
    piece of evidence that no static finding explains."""
    kind_of = kind_of or rule_evidence_kind
    _geometry.cache_clear()  # files may have changed since the last run in this process
    explained: Set[int] = set()
    judged = []
    for finding in findings:
        kind = kind_of(finding.code)
        if kind == "none" or finding.code in DYNAMIC_CODES:
            judged.append(finding)
            continue
        found = [i for i, e in enumerate(evidence) if e.get("kind") == kind and matches(e, finding)]
        explained.update(found)
        if found:
            shown = tuple(_shown(evidence[i], display) for i in found)
            judged.append(replace(finding, status=CONFIRMED, evidence=shown))
        else:
            judged.append(replace(finding, status=_status(finding, coverage)))
    for i, item in enumerate(evidence):
        if i not in explained:
            judged.extend(_unexplained(item, display))
    return judged


def _shown(evidence: Evidence, display: Callable[[str], str]) -> Dict[str, Any]:
    """The evidence as findings carry it: display paths and a summary."""
    shown = _with_display_paths(evidence, display)
    shown["summary"] = summarize(shown)
    return shown


def _with_display_paths(value: Any, display: Callable[[str], str]) -> Any:
    if isinstance(value, dict):
        return {k: (display(v) if k == "path" and isinstance(v, str) else _with_display_paths(v, display)) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int):
            return [display(value[0]), value[1]]
        return [_with_display_paths(v, display) for v in value]
    return value


def _unexplained(evidence: Evidence, display: Callable[[str], str]) -> List[Finding]:
    code = code_for_evidence(evidence.get("kind", ""))
    if code is None or not evidence.get("path") or not is_worth_reporting(evidence):
        return []
    shown = _shown(evidence, display)
    info = DYNAMIC_CODES[code]
    path = display(evidence["path"])
    return [Finding(
        path=path, line=evidence["line"], col=_first_column(evidence["path"], evidence["line"]),
        code=code, message=finding_message(shown), severity=info.severity,
        status=CONFIRMED, evidence=(shown,),
    )]


def _first_column(path: str, line: int) -> int:
    try:
        with open(path, encoding="utf-8", errors="replace") as source:
            for number, text in enumerate(source, 1):
                if number == line:
                    return len(text) - len(text.lstrip()) + 1
    except OSError:
        pass
    return 1
