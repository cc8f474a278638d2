"""flake8 door: a thin adapter over the same engine as `gclint check`.

flake8 does the selecting (`--select GCL`) and its own `# noqa` handling;
the engine applies the same noqa semantics first, so both doors agree.
Rule options (target-version) still come from `[tool.gclint]`.
"""
from __future__ import annotations

import ast
import functools
from dataclasses import replace
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from gclint import __version__
from gclint.config import ConfigError, Settings, find_pyproject, load_settings
from gclint.engine import lint_source
from gclint.rule import known_codes


@functools.lru_cache(maxsize=None)
def _settings(pyproject: Optional[Path]) -> Settings:
    try:
        settings = load_settings(pyproject, known_codes())
    except ConfigError:
        settings = Settings()
    # Selection is flake8's job: every gclint code goes to flake8.
    return replace(settings, select=("GCL",), extend_select=(), ignore=(), per_file_ignores=())


class GclintChecker:
    name = "gclint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: List[str]) -> None:
        # flake8 insists on `tree` for AST plugins; gclint parses with libcst.
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        source = "".join(self.lines)
        where = self.filename if self.filename not in ("-", "stdin") else "."
        settings = _settings(find_pyproject(where))
        for finding in lint_source(source, self.filename, settings):
            yield finding.line, finding.col - 1, f"{finding.code} {finding.message}", type(self)
