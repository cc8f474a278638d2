"""Source lines for the text reporter, only from files this run checked.

A finding's path is data (it may come from a cache entry), so the reporter
never opens it blindly: a line is shown only for a path that discovery
handed to the runner, read again without following a symlink, only when it
is a regular file no larger than max-file-size.
"""
from __future__ import annotations

import os
import re
import stat
from typing import Collection, Dict, Iterable, List, Mapping, Optional

from gclint.engine import SourceError, decode
from gclint.model import Finding


_LINE_END = re.compile(r"\r\n|\r|\n")


def python_lines(text: str) -> List[str]:
    """Lines as Python numbers them: a form feed or U+2028 ends no line."""
    return _LINE_END.split(text)


class SourceLines:
    """The lines of the checked files, split once per file."""

    def __init__(self, sources: Optional[Mapping[str, str]] = None) -> None:
        self._texts = dict(sources or {})
        self._lines: Dict[str, List[str]] = {}

    def line(self, path: str, number: int) -> str:
        """Line `number` (1-based) of `path`, "" when it is not known."""
        lines = self._lines.get(path)
        if lines is None:
            lines = self._lines[path] = python_lines(self._texts.get(path, ""))
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def flagged_text(self, finding: Finding) -> str:
        """The flagged line without its indentation: what a baseline and a
        fingerprint match on, so that both survive lines moving."""
        return self.line(finding.path, finding.line).strip()


def checked_sources(findings: Iterable[Finding], checked: Collection[str], max_bytes: int) -> Dict[str, str]:
    """The text of every checked file that has a finding, keyed by its path."""
    sources: Dict[str, str] = {}
    for path in {f.path for f in findings}:
        if path in checked:
            text = _read_text(path, max_bytes)
            if text is not None:
                sources[path] = text
    return sources


def _read_text(path: str, max_bytes: int) -> Optional[str]:
    data = read_regular_file(path, max_bytes)
    if data is None:
        return None
    try:
        return decode(data)
    except SourceError:
        return data.decode("utf-8", "replace")


def read_regular_file(path: str, max_bytes: int) -> Optional[bytes]:
    """The bytes of a regular file of at most `max_bytes`, else None.

    O_NOFOLLOW: a symlink could lead out of the tree; O_NONBLOCK: opening a
    FIFO must not wait for a writer (it is refused after fstat anyway).
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except (OSError, ValueError):
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(max_bytes + 1)
        return data if len(data) <= max_bytes else None
    except OSError:
        return None
    finally:
        os.close(fd)
