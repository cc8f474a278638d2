"""flake8 door: a thin adapter over the same engine as `gclint check`.

`[tool.gclint]` (select, ignore, per-file-ignores, exclude, baseline,
respect-gitignore, rule options) applies here as in `gclint check`;
flake8's own `--select` / `--ignore` and `# noqa` then narrow what it
shows. The engine applies the same noqa semantics first, so both doors
agree. Like `gclint check`, the door reads the
summaries of the project modules a file imports (gclint/project.py) and
keeps its findings in the same content-hash cache (the user cache
directory, per project): an unchanged file whose imported summaries are
unchanged costs a read and a hash.
"""
from __future__ import annotations

import ast
import functools
import io
import tokenize
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from gclint import __version__

if TYPE_CHECKING:
    from gclint.cache import Cache
    from gclint.config import Settings
    from gclint.gitignore import GitIgnore
    from gclint.model import Finding

# flake8 imports every installed plugin on every run, `--select F` too: the
# engine (and libcst under it) is imported only when there is a file to check.

_STDIN_NAMES = ("-", "stdin")


@functools.lru_cache(maxsize=None)
def _settings(pyproject: Optional[Path]) -> Tuple[Settings, Optional[str]]:
    """The settings for files under `pyproject`, or why it cannot be used."""
    from gclint.config import ConfigError, Settings, load_settings
    from gclint.report.printable import one_line
    from gclint.rule import known_codes

    try:
        settings = load_settings(pyproject, known_codes())
    except (ConfigError, UnicodeError, RecursionError) as exc:
        # The CLI refuses to run on a bad configuration; so does this door,
        # as a finding an editor shows rather than a traceback.
        return Settings(), one_line(str(exc) or type(exc).__name__)
    # One configuration, every door: [tool.gclint]'s selection (the default
    # set when it selects nothing) applies here too, and flake8's own
    # --select / --ignore narrow it further.
    return settings, None


@functools.lru_cache(maxsize=None)
def _cache(settings: Settings) -> Optional[Cache]:
    """The cache `gclint check` uses for this project (None where the
    platform cannot keep one safely)."""
    from gclint.cache import SUPPORTED, Cache, default_directory

    return Cache(default_directory(settings.root or "."), repr(settings)) if SUPPORTED else None


def findings_for(source: Union[str, bytes], filename: str, settings: Settings) -> List[Finding]:
    """The findings `gclint check` would give, from the cache when they are there."""
    from gclint.project import project_store

    cache = _cache(settings)
    data = source if isinstance(source, bytes) else source.encode("utf-8", "surrogateescape")
    store = project_store(settings, cache)
    if cache is not None:
        key = cache.key(filename, data)
        cached = cache.get(key, filename, data, store.still_valid)
        if cached is not None:
            return cached
    from gclint.engine import lint_source

    used: dict = {}
    findings = lint_source(source, filename, settings, store, used)
    if cache is not None and not any(f.code == "GCL002" for f in findings):
        cache.put(key, filename, findings, used)
    return findings


def flake8_decoding(data: bytes) -> str:
    """The text flake8 makes of a file: its declared encoding, else latin-1."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, UnicodeError, LookupError):
        return data.decode("latin-1")


def _comparable(text: str) -> str:
    # flake8 reads with universal newlines and strips a BOM.
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def source_for(filename: str, lines: List[str], max_bytes: int) -> Union[str, bytes]:
    """The file's own bytes when flake8's lines are that file, else the lines.

    flake8 decodes a file it cannot decode as latin-1, where `gclint check`
    gives GCL001: linting the bytes makes both doors agree. The lines win
    when they differ from the file on disk (stdin with a display name, an
    editor's unsaved buffer).
    """
    from gclint.report.sources import read_regular_file

    text = "".join(lines)
    if filename in _STDIN_NAMES:
        return text
    data = read_regular_file(filename, max_bytes)
    if data is not None and _comparable(flake8_decoding(data)) == _comparable(text):
        return data
    return text


def selects_gclint(select: Optional[List[str]], extend_select: Optional[List[str]]) -> bool:
    """Whether flake8's --select / --extend-select can let a GCL code through
    (no --select at all: flake8's default, which shows plugin codes)."""
    if select is None:
        return True
    chosen = [*select, *(extend_select or ())]
    return any(c and ("GCL".startswith(c) or c.startswith("GCL")) for c in chosen)


def named_paths(filenames: Optional[Sequence[str]], stdin_display_name: str) -> Tuple[str, ...]:
    """The paths flake8 was given, stdin as its display name: a buffer an
    editor pipes in is named, as `gclint check - --stdin-filename` has it."""
    return tuple(stdin_display_name if name == "-" else name for name in filenames or (".",))


class GclintChecker:
    name = "gclint"
    version = __version__
    # flake8 runs every plugin whatever it selects; with no GCL code
    # selected (`flake8 --select F`) the checker does nothing.
    enabled = True
    # The paths flake8 was given (its default is "."): as in `gclint check`,
    # a git-ignored file is skipped when flake8 found it by walking one of
    # them and checked when it was named.
    named: Tuple[str, ...] = (".",)
    # The ignore files read in this flake8 run, one GitIgnore per repository.
    repositories: Dict[str, Optional[GitIgnore]] = {}

    @classmethod
    def parse_options(cls, options: object) -> None:
        cls.enabled = selects_gclint(getattr(options, "select", None), getattr(options, "extend_select", None))
        cls.named = named_paths(getattr(options, "filenames", None), getattr(options, "stdin_display_name", "stdin"))
        cls.repositories = {}

    def __init__(self, tree: ast.AST, filename: str, lines: List[str]) -> None:
        # flake8 insists on `tree` for AST plugins; gclint parses with libcst.
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[Tuple[int, int, str, type]]:
        if not self.enabled:
            return
        from gclint.config import find_pyproject
        from gclint.report.printable import one_line, printable
        from gclint.report.baseline import not_in_configured_baseline

        where = self.filename if self.filename not in _STDIN_NAMES else "."
        settings, problem = _settings(find_pyproject(where))
        if problem is not None:
            yield 1, 0, f"GCL001 not analysed: gclint configuration error: {printable(problem)}", type(self)
            return
        if self.filename not in _STDIN_NAMES and self._skipped(settings):
            return
        source = source_for(self.filename, self.lines, settings.max_file_size * 1024 + 1)
        for finding in not_in_configured_baseline(findings_for(source, self.filename, settings), settings, "".join(self.lines)):
            yield finding.line, finding.col - 1, f"{finding.code} {printable(one_line(finding.message))}", type(self)

    def _skipped(self, settings: Settings) -> bool:
        """Whether `gclint check` on flake8's paths would leave this file
        out: [tool.gclint] exclude applies to every file flake8 hands over,
        .gitignore (unless respect-gitignore = false) to those it walked to."""
        if settings.force_excludes(self.filename):
            return True
        return settings.respect_gitignore and _git_ignored(self.filename, self.named, self.repositories)


def _git_ignored(filename: str, named: Sequence[str], repositories: Dict[str, Optional[GitIgnore]]) -> bool:
    from gclint.gitignore import drop_ignored

    return not drop_ignored([filename], named, repositories)
