"""Human output: `path:line:col: CODE message`, the line, a caret.

Coloured through rich when stdout is a terminal, plain text when piped.
Paths, messages and source lines are made printable first: they come from
the checked tree and must not move the cursor or forge a finding line.
"""
from __future__ import annotations

import collections
import sys
from typing import Dict, Mapping, Optional, Sequence, TextIO, Union

from gclint.model import Finding, Severity
from gclint.report.graph import Picture, finding_pictures, tree_text
from gclint.report.printable import one_line, printable
from gclint.report.sources import SourceLines

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


class TextReporter:
    def __init__(self, stream: Optional[TextIO] = None, color: Optional[bool] = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.color = self.stream.isatty() if color is None else color
        self.quiet = quiet
        self._console = None
        if self.color:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False, soft_wrap=True, force_terminal=True)

    def write(self, findings: Sequence[Finding], sources: Union[None, Mapping[str, str], SourceLines] = None) -> None:
        """`sources`: the text of the files this run checked; a finding in any
        other file is shown without its source line."""
        lines = sources if isinstance(sources, SourceLines) else SourceLines(sources)
        for finding in findings:
            self._finding(finding, lines)

    def _finding(self, f: Finding, sources: SourceLines) -> None:
        path, message = printable(f.path), printable(one_line(f.message))
        if self._console is not None:
            from rich.markup import escape

            style = _STYLE[f.severity]
            self._console.print(f"[bold]{escape(path)}[/]:{f.line}:{f.col}: [{style}]{f.code}[/] {escape(message)}")
        else:
            self.stream.write(f"{path}:{f.line}:{f.col}: {f.code} {message}\n")
        if self.quiet:
            return
        source_line = sources.line(f.path, f.line)
        if source_line.strip():
            # The caret goes under the same character once escapes widen the line.
            caret = " " * len(_shown(source_line[: f.col - 1])) + "^"
            self._plain(f"    {_shown(source_line)}\n    {caret}\n")
        if f.status:
            summary = "; ".join(str(e.get("summary", "")) for e in f.evidence if e.get("summary"))
            self._plain("    " + printable(one_line(f.status + (f": {summary}" if summary else ""))) + "\n")
        for picture in finding_pictures(f.evidence, (f.path, f.line), source_line):
            self._tree(picture)

    def _tree(self, picture: Picture) -> None:
        """A cycle or retained chain as a tree under the finding."""
        drawn = tree_text(picture, color=self._console is not None)
        self.stream.write("".join(f"    {line.rstrip()}\n" for line in drawn.splitlines()))

    def _plain(self, text: str) -> None:
        if self._console is not None:
            self._console.out(text, end="", highlight=False)
        else:
            self.stream.write(text)

    def summary(self, findings: Sequence[Finding], files: int, statistics: bool = False, names: Optional[Dict[str, str]] = None) -> None:
        if statistics:
            self._statistics(findings, names or {})
        if self.quiet:
            return
        noun = "finding" if len(findings) == 1 else "findings"
        files_noun = "file" if files == 1 else "files"
        self._plain(f"{len(findings)} {noun} in {files} {files_noun} checked.\n" if findings else f"No findings in {files} {files_noun} checked.\n")

    def _statistics(self, findings: Sequence[Finding], names: Dict[str, str]) -> None:
        counts = collections.Counter(f.code for f in findings)
        for code, count in sorted(counts.items()):
            label = names.get(code) or next(f.message for f in findings if f.code == code).split(":")[0]
            self._plain(f"{count:<6} {code} {printable(one_line(label))}\n")


def _shown(text: str) -> str:
    # One space per tab keeps the caret under the right character.
    return printable(text.replace("\t", " "))
