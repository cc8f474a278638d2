"""A baseline: today's findings recorded, so that only new ones are reported.

A finding is matched by its path (relative to the baseline file), its code
and the flagged line's text without indentation, never by line number, so
findings survive lines moving above them; identical lines are counted, so
a second copy of a recorded mistake is still reported.
"""
from __future__ import annotations

import functools
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

from gclint.config import ConfigError, Settings
from gclint.model import Finding, Severity
from gclint.report.sources import SourceLines

FORMAT = 1
Key = Tuple[str, str, str]  # path, code, flagged line's text


@dataclass(frozen=True)
class Baseline:
    directory: str  # paths are relative to the baseline file's directory
    counts: Tuple[Tuple[Key, int], ...]

    @classmethod
    def of(cls, findings: Sequence[Finding], sources: SourceLines, directory: str) -> "Baseline":
        # An internal error is not a finding to live with: never recorded.
        keys = Counter(_key(f, sources, directory) for f in findings if f.code != "GCL002")
        return cls(directory, tuple(sorted(keys.items())))

    def __len__(self) -> int:
        return sum(count for _, count in self.counts)

    def new_findings(self, findings: Sequence[Finding], sources: SourceLines) -> List[Finding]:
        left: Counter = Counter()
        for key, count in self.counts:
            left[key] += count
        new = []
        for finding in findings:
            key = _key(finding, sources, self.directory)
            if left[key] > 0 and finding.code != "GCL002":
                left[key] -= 1
            else:
                new.append(finding)
        return new

    def write(self, path: str) -> None:
        # One finding per line, sorted: a reviewable diff when it changes.
        rows = ",\n".join(
            "  " + json.dumps({"path": p, "code": c, "line": text, "count": n}) for (p, c, text), n in self.counts
        )
        payload = f'{{"gclint-baseline": {FORMAT}, "findings": [\n{rows}\n]}}\n' if rows else f'{{"gclint-baseline": {FORMAT}, "findings": []}}\n'
        Path(path).write_text(payload, encoding="utf-8")


def _key(finding: Finding, sources: SourceLines, directory: str) -> Key:
    path = Path(os.path.relpath(os.path.abspath(finding.path), directory)).as_posix()
    return path, finding.code, sources.flagged_text(finding)


def read_baseline(path: str) -> Baseline:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--baseline {path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    if not isinstance(data, dict) or data.get("gclint-baseline") != FORMAT or not isinstance(data.get("findings"), list):
        raise ConfigError(f"--baseline {path}: not a gclint baseline (write one with --write-baseline)")
    counts = tuple(_row(row, path) for row in data["findings"])
    return Baseline(os.path.dirname(os.path.abspath(path)), counts)


def _row(row: Any, where: str) -> Tuple[Key, int]:
    fields = ("path", "code", "line")
    if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in fields):
        raise ConfigError(f"--baseline {where}: every entry needs path, code and line as strings")
    count = row.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ConfigError(f"--baseline {where}: count must be a whole number above 0, got {count!r}")
    return (row["path"], row["code"], row["line"]), count


def not_in_configured_baseline(findings: Sequence[Finding], settings: Settings, text: str) -> List[Finding]:
    """The flake8 door's `baseline = "FILE"`: the findings of one file (all
    in one path, whose text is `text`) that the configured baseline does
    not record; a baseline that cannot be used is one GCL001 instead, as a
    bad configuration is there."""
    if not settings.baseline or not findings:
        return list(findings)
    path = findings[0].path
    baseline, problem = _configured(os.path.join(settings.root or ".", settings.baseline))
    if baseline is None:
        return [Finding(path, 1, 1, "GCL001", f"not analysed: gclint configuration error: {problem}", Severity.ERROR)]
    return baseline.new_findings(findings, SourceLines({path: text}))


@functools.lru_cache(maxsize=8)
def _configured(path: str) -> Tuple[Optional[Baseline], Optional[str]]:
    """Read once per flake8 process, which checks many files with it."""
    try:
        return read_baseline(path), None
    except ConfigError as exc:
        return None, str(exc)
