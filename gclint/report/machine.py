"""JSON, SARIF 2.1.0 and GitHub Actions annotations."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Sequence

from gclint.model import Finding, RuleInfo, Severity
from gclint.report.printable import one_line, printable

_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=2, sort_keys=True) + "\n"


def render_sarif(findings: Sequence[Finding], rules: Sequence[RuleInfo], version: str) -> str:
    index = {info.code: i for i, info in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "gclint",
                "version": version,
                "rules": [_sarif_rule(info) for info in rules],
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": [_sarif_result(f, index) for f in findings],
    }
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, sort_keys=True) + "\n"


def _sarif_rule(info: RuleInfo) -> Dict[str, Any]:
    what = info.sections.get("What it flags", info.summary)
    return {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": what},
        "help": {"text": info.markdown(), "markdown": info.markdown()},
        "defaultConfiguration": {"level": _SARIF_LEVEL[info.severity]},
    }


def _sarif_result(finding: Finding, index: Dict[str, int]) -> Dict[str, Any]:
    region: Dict[str, int] = {"startLine": finding.line, "startColumn": finding.col}
    if finding.end_line:
        region.update(endLine=finding.end_line, endColumn=finding.end_col or finding.col)
    result: Dict[str, Any] = {
        "ruleId": finding.code,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {"physicalLocation": {"artifactLocation": {"uri": _uri(finding.path)}, "region": region}}
        ],
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
    return Path(path).as_posix().replace("%", "%25").replace(" ", "%20")


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
