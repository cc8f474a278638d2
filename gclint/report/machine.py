"""JSON, SARIF 2.1.0 and GitHub Actions annotations."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Sequence

from gclint.model import Finding, RuleInfo, Severity

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
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def render_github(findings: Sequence[Finding]) -> str:
    lines: List[str] = []
    for f in findings:
        props = f"file={_escape(f.path, True)},line={f.line},col={f.col}"
        if f.end_line:
            props += f",endLine={f.end_line},endColumn={f.end_col}"
        props += f",title={f.code}"
        lines.append(f"::{_GITHUB_LEVEL[f.severity]} {props}::{_escape(f.code + ' ' + f.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
