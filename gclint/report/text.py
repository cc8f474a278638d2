"""Human output: `path:line:col: CODE message`, the line, a caret.

Coloured through rich when stdout is a terminal, plain text when piped.
"""
from __future__ import annotations

import collections
import linecache
import sys
from typing import Dict, List, Optional, Sequence, TextIO

from gclint.model import Finding, Severity

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


class TextReporter:
    def __init__(self, stream: Optional[TextIO] = None, color: Optional[bool] = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.color = self.stream.isatty() if color is None else color
        self.quiet = quiet
        self._console = None
        if self.color:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True)

    def write(self, findings: Sequence[Finding], sources: Optional[Dict[str, str]] = None) -> None:
        for finding in findings:
            self._finding(finding, sources or {})

    def _finding(self, f: Finding, sources: Dict[str, str]) -> None:
        head = f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}"
        if self._console is not None:
            from rich.markup import escape

            style = _STYLE[f.severity]
            self._console.print(
                f"[bold]{escape(f.path)}[/]:{f.line}:{f.col}: [{style}]{f.code}[/] {escape(f.message)}"
            )
        else:
            self.stream.write(head + "\n")
        if self.quiet:
            return
        source_line = _source_line(f.path, f.line, sources)
        if source_line.strip():
            caret = " " * (f.col - 1) + "^"
            self._plain(f"    {source_line}\n    {caret}\n")
        if f.status:
            summary = "; ".join(str(e.get("summary", "")) for e in f.evidence if e.get("summary"))
            self._plain(f"    {f.status}" + (f": {summary}" if summary else "") + "\n")

    def _plain(self, text: str) -> None:
        if self._console is not None:
            self._console.out(text, end="", highlight=False)
        else:
            self.stream.write(text)

    def summary(self, findings: Sequence[Finding], files: int, statistics: bool = False) -> None:
        if statistics:
            counts = collections.Counter(f.code for f in findings)
            for code, count in sorted(counts.items()):
                message = next(f.message for f in findings if f.code == code)
                self._plain(f"{count:<6} {code} {message.split(':')[0]}\n")
        if self.quiet:
            return
        noun = "finding" if len(findings) == 1 else "findings"
        files_noun = "file" if files == 1 else "files"
        self._plain(f"{len(findings)} {noun} in {files} {files_noun} checked.\n" if findings else f"No findings in {files} {files_noun} checked.\n")


def _source_line(path: str, line: int, sources: Dict[str, str]) -> str:
    if path in sources:
        lines: List[str] = sources[path].splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else ""
    else:
        text = linecache.getline(path, line)
    # One space per tab keeps the caret under the right character.
    return text.rstrip("\r\n").replace("\t", " ")
