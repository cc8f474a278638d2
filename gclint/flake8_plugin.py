"""flake8 door: a thin adapter over the same engine as `gclint check`.

flake8 does the selecting (`--select GCL`) and its own `# noqa` handling;
the engine applies the same noqa semantics first, so both doors agree.
"""
from __future__ import annotations

import ast
from typing import Iterator, List, Tuple

from gclint import __version__
from gclint.config import Settings
from gclint.engine import lint_source


class GclintChecker:
    name = "gclint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: List[str]) -> None:
        # flake8 insists on `tree` for AST plugins; gclint parses with libcst.
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        source = "".join(self.lines)
        for finding in lint_source(source, self.filename, Settings()):
            yield finding.line, finding.col - 1, f"{finding.code} {finding.message}", type(self)
