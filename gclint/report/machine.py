"""JSON, SARIF 2.1.0 and GitHub Actions annotations."""
from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence
from urllib.parse import quote

from gclint.model import Finding, RuleInfo, Severity, rule_doc_url
from gclint.report.printable import one_line, printable
from gclint.report.sources import SourceLines

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_json(findings: Sequence[Finding]) -> str:
    rows = [{**f.as_dict(), "message": one_line(f.message)} for f in findings]
    return json.dumps(rows, indent=2, sort_keys=True) + "\n"


# Codes that say a file was not analysed (or gclint failed on it): SARIF
# reports those as notifications about the tool's run, not as results a
# reviewer must triage.
NOT_ANALYSED = ("GCL001", "GCL002", "GCL003")
FINGERPRINT = "gclint/v1"


def render_sarif(
    findings: Sequence[Finding],
    rules: Sequence[RuleInfo],
    version: str,
    sources: Optional[SourceLines] = None,
    docs_base: Optional[str] = None,
) -> str:
    """The SARIF log; each rule links to its page under `docs_base` when
    the pages are published (model.installed_rule_docs_base), and always
    carries the page's whole text as its help."""
    sources = sources or SourceLines()
    index = {info.code: i for i, info in enumerate(rules)}
    results = [f for f in findings if f.code not in NOT_ANALYSED]
    notes = [f for f in findings if f.code in NOT_ANALYSED]
    prints = fingerprints(results, sources)
    run = {
        "tool": {
            "driver": {
                "name": "gclint",
                "version": version,
                "rules": [_sarif_rule(info, docs_base) for info in rules],
            }
        },
        "invocations": [
            {
                "executionSuccessful": not any(f.code == "GCL002" for f in notes),
                "toolExecutionNotifications": [_notification(f) for f in notes],
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(f, index, p) for f, p in zip(results, prints)],
    }
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


def fingerprints(findings: Sequence[Finding], sources: SourceLines) -> List[str]:
    """One fingerprint per finding that survives lines moving: the path, the
    code and the flagged line's text, with a count for identical lines."""
    seen: Counter = Counter()
    prints = []
    for f in findings:
        digest = hashlib.sha256("\0".join((_uri(f.path), f.code, sources.flagged_text(f))).encode("utf-8", "surrogateescape"))
        key = digest.hexdigest()[:32]
        seen[key] += 1
        prints.append(f"{key}:{seen[key]}")
    return prints


def _sarif_rule(info: RuleInfo, docs_base: Optional[str]) -> Dict[str, Any]:
    what = info.sections.get("What it flags", info.summary)
    rule = {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": what},
        "help": {"text": info.markdown(), "markdown": info.markdown()},
        "defaultConfiguration": {"level": _SARIF_LEVEL[info.severity]},
    }
    url = rule_doc_url(info.code, docs_base)
    if url:
        rule["helpUri"] = url
    return rule


def _region(finding: Finding) -> Dict[str, int]:
    region: Dict[str, int] = {"startLine": finding.line, "startColumn": finding.col}
    if finding.end_line:
        region.update(endLine=finding.end_line, endColumn=finding.end_col or finding.col)
    return region


def _location(finding: Finding) -> Dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(finding.path)}, "region": _region(finding)}}


def _notification(finding: Finding) -> Dict[str, Any]:
    return {
        "descriptor": {"id": finding.code},
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": one_line(finding.message)},
        "locations": [_location(finding)],
    }


def _sarif_result(finding: Finding, index: Dict[str, int], fingerprint: str) -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "ruleId": finding.code,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": one_line(finding.message)},
        "locations": [_location(finding)],
        "partialFingerprints": {FINGERPRINT: fingerprint},
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.status:
        result["properties"] = {"dynamicStatus": finding.status, "evidence": [dict(e) for e in finding.evidence]}
    return result


def _uri(path: str) -> str:
    """A relative path as a URI reference (what code scanning expects)."""
    if os.path.isabs(path):
        try:
            path = os.path.relpath(path)
        except ValueError:
            return Path(path).as_uri()
    return quote(Path(path).as_posix(), safe="/", errors="surrogateescape")


def _escape(text: str, property_value: bool = False) -> str:
    # Controls first (a raw ESC colours the log; a newline would end the
    # command), then the workflow-command escapes of what remains.
    text = printable(text).replace("%", "%25")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(findings: Sequence[Finding]) -> str:
    lines = [f"::{_GITHUB_LEVEL[f.severity]} {_github_properties(f)}::{_escape(f.code + ' ' + one_line(f.message))}" for f in findings]
    return "\n".join(lines) + ("\n" if lines else "")


def _github_properties(f: Finding) -> str:
    props = f"file={_escape(_github_path(f.path), True)},line={f.line}"
    if f.end_line and f.end_line != f.line:
        # GitHub takes columns only on a single-line range.
        props += f",endLine={f.end_line}"
    else:
        props += f",col={f.col}" + (f",endLine={f.line},endColumn={f.end_col}" if f.end_col else "")
    return props + f",title={f.code}"


def _github_path(path: str) -> str:
    """GitHub matches annotations to the repository's paths: no `./`."""
    while path.startswith("./"):
        path = path[2:]
    return path
