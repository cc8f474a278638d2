"""`[tool.gclint]` in pyproject.toml, and code selection.

Selection follows flake8 and ruff: a code is on when the most specific
prefix that names it comes from select / extend-select rather than ignore
(on a tie, ignore wins).
"""
from __future__ import annotations

import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from gclint.context import Options
from gclint.safeio import read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9 / 3.10
    import tomli as tomllib


class ConfigError(Exception):
    """A configuration problem the user must fix; reported in one line, exit 2."""


# A name matches at any depth; a pattern with a slash (`/build`) matches the
# path relative to the project root (or, outside a project, to the path
# being walked). `build`, `dist` and `venv` are also real package names (the
# standard library has a `venv` package), so only the project's own top
# level ones are excluded by default; any directory holding a pyvenv.cfg is
# a virtual environment and is skipped whatever its name.
DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".venv", "/build", "/dist", "__pycache__",
    ".tox", ".nox", "node_modules", "site-packages", ".gclint_cache",
)
MAX_PYPROJECT_BYTES = 4 * 1024 * 1024
_TARGET = re.compile(r"^py3(\d{1,2})$")
FAIL_ON = ("error", "warning", "info")
SUPPORTED_TARGETS = tuple(f"py3{minor}" for minor in range(8, 15))
DEFAULT_TARGET = "py39"
# The lower bound of a requires-python specifier: `>=3.8`, `~=3.10`, `==3.11.*`, `>3.8`.
_LOWER_BOUND = re.compile(r"^\s*(>=|~=|==|===|>)\s*3\.(\d{1,2})")


@dataclass(frozen=True)
class Settings:
    # None: the default set (rules measured worth acting on; rule.default_selection).
    select: Optional[Tuple[str, ...]] = None
    extend_select: Tuple[str, ...] = ()
    ignore: Tuple[str, ...] = ()
    exclude: Tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    target_version: str = DEFAULT_TARGET
    max_file_size: int = 512  # KiB; larger files get GCL001 (a tree costs up to 1.7 KB per byte: README, Performance)
    extend_resource_factories: Tuple[str, ...] = ()
    root: Optional[str] = None  # directory of the pyproject.toml, if any
    baseline: Optional[str] = None  # a --write-baseline file, relative to root
    fail_on: Optional[str] = None  # lowest severity that makes the exit status 1
    # Files git ignores (.gitignore, .git/info/exclude) are not checked when
    # discovery finds them (gclint.gitignore); a path named explicitly is.
    respect_gitignore: bool = True

    def is_enabled(self, code: str, path: Optional[str] = None) -> bool:
        ignore = self.ignore + self._ignored_for(path)
        return self._chosen(code) > _longest_prefix(code, ignore)

    def _chosen(self, code: str) -> int:
        """How specifically `code` is selected (-1: not at all). The default
        set counts as selecting "GCL", so any ignore prefix overrides it."""
        if self.select is None:
            from gclint.rule import default_selection  # the rules import this module

            base = len("GCL") if code in default_selection() else -1
        else:
            base = _longest_prefix(code, self.select)
        return max(base, _longest_prefix(code, self.extend_select))

    def _ignored_for(self, path: Optional[str]) -> Tuple[str, ...]:
        if not path or not self.per_file_ignores:
            return ()
        rel = self.relative(path)
        codes: List[str] = []
        for pattern, pattern_codes in self.per_file_ignores:
            if _path_matches(rel, pattern):
                codes.extend(pattern_codes)
        return tuple(codes)

    def relative(self, path: str) -> str:
        if self.root:
            try:
                return Path(os.path.abspath(path)).relative_to(self.root).as_posix()
            except ValueError:
                pass
        return PurePosixPath(Path(path).as_posix()).as_posix()

    def is_excluded(self, path: str, walked: str) -> bool:
        """Whether discovery, walking `walked`, skips `path` below it (a path
        named on the command line is never excluded itself)."""
        name = os.path.basename(path.rstrip("/\\")) or path
        rel = self._anchor_relative(path, walked)
        for pattern in self.exclude + self.extend_exclude:
            if "/" in pattern.rstrip("/"):
                if fnmatch.fnmatch(rel, pattern.strip("/")):
                    return True
            elif fnmatch.fnmatch(name, pattern.rstrip("/")):
                return True
        return os.path.isfile(os.path.join(path, "pyvenv.cfg"))

    def force_excludes(self, path: str) -> bool:
        """Whether `path` or a directory it is in is excluded, though it was
        named (ruff's force-exclude): what `--force-exclude`, the pre-commit
        hook and the flake8 door use, since they are handed file names."""
        base = os.path.abspath(self.root or os.getcwd())
        absolute = os.path.abspath(path)
        if os.path.commonpath([absolute, base]) != base:
            base = os.path.dirname(absolute)
        parts = Path(os.path.relpath(absolute, base)).parts
        prefixes = (os.path.join(base, *parts[: i + 1]) for i in range(len(parts)))
        return any(self.is_excluded(prefix, base) for prefix in prefixes if prefix != base)

    def _anchor_relative(self, path: str, walked: str) -> str:
        """`path` relative to the project root when the walk is inside the
        project, else relative to the walked path."""
        absolute, base = os.path.abspath(path), os.path.abspath(walked)
        if self.root and os.path.commonpath([os.path.abspath(self.root), base]) == os.path.abspath(self.root):
            base = os.path.abspath(self.root)
        return Path(os.path.relpath(absolute, base)).as_posix()

    def options_for(self, path: str) -> Options:
        return Options(
            target_version=parse_target(self.target_version),
            is_test_file=is_test_path(path),
            extra_resource_factories=self.extend_resource_factories,
        )


def _longest_prefix(code: str, prefixes: Iterable[str]) -> int:
    """Length of the longest prefix of `code` among `prefixes` (-1 when none)."""
    return max((len(p) for p in prefixes if code.startswith(p)), default=-1)


def _path_matches(rel: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern + "/*")


def is_test_path(path: str) -> bool:
    parts = PurePosixPath(Path(path).as_posix()).parts
    name = parts[-1] if parts else ""
    return (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("conftest.py", "tests.py", "test.py")
        # A package named `testing/` is usually a library (numpy.testing).
        or any(p in ("test", "tests") for p in parts[:-1])
    )


def parse_target(value: str) -> Tuple[int, int]:
    match = _TARGET.match(value)
    if not match or value not in SUPPORTED_TARGETS:
        raise ConfigError(f"target-version {value!r}: expected one of {', '.join(SUPPORTED_TARGETS)}")
    return (3, int(match.group(1)))


def find_pyproject(start: str) -> Optional[Path]:
    """The nearest pyproject.toml at or above `start`."""
    here = Path(os.path.abspath(start))
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


_LIST_KEYS = {"select", "extend-select", "ignore", "exclude", "extend-exclude", "extend-resource-factories"}
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_CODE_KEYS = {"select", "extend-select", "ignore"}


def load_settings(pyproject: Optional[Path], known_codes: Sequence[str]) -> Settings:
    if pyproject is None:
        return Settings()
    try:
        raw = read_regular_file(str(pyproject), MAX_PYPROJECT_BYTES, follow=True)
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, ValueError) as exc:  # TOMLDecodeError, UnicodeDecodeError, not a regular file, too large
        raise ConfigError(f"{pyproject}: cannot read: {_one_line(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{pyproject}: cannot read: nested too deeply") from None
    tool = data.get("tool", {})
    table = tool.get("gclint", {}) if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        raise ConfigError(f"{pyproject}: [tool.gclint] must be a table")
    settings = settings_from_table(table, str(pyproject), known_codes, root=str(pyproject.parent))
    if "target-version" in table:
        return settings
    return replace(settings, target_version=target_from_requires_python(data.get("project")))


def target_from_requires_python(project: Any) -> str:
    """The target-version `[project] requires-python` implies (its lower
    bound, clamped to the supported range), else the default."""
    spec = project.get("requires-python") if isinstance(project, dict) else None
    if not isinstance(spec, str):
        return DEFAULT_TARGET
    minors = [int(m.group(2)) for m in map(_LOWER_BOUND.match, spec.split(",")) if m]
    if not minors:
        return DEFAULT_TARGET
    oldest, newest = (int(SUPPORTED_TARGETS[i][3:]) for i in (0, -1))
    return f"py3{min(max(max(minors), oldest), newest)}"


def _one_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def settings_from_table(
    table: Mapping[str, Any], where: str, known_codes: Sequence[str], root: Optional[str] = None
) -> Settings:
    values: Dict[str, Any] = {"root": root}
    for key, value in table.items():
        if key in _LIST_KEYS:
            items = _string_list(value, key, where)
            if key in _CODE_KEYS:
                check_codes(items, known_codes, f"{where}: {key}")
            if key == "extend-resource-factories":
                bad = [i for i in items if not _DOTTED.match(i)]
                if bad:
                    raise ConfigError(f"{where}: extend-resource-factories: {bad[0]!r} is not a dotted name such as \"mypkg.db.connect\"")
            values[key.replace("-", "_")] = items
        elif key == "per-file-ignores":
            values["per_file_ignores"] = _per_file_ignores(value, where, known_codes)
        elif key == "max-file-size":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{where}: max-file-size must be a positive number of KiB")
            values["max_file_size"] = value
        elif key == "target-version":
            if not isinstance(value, str):
                raise ConfigError(f"{where}: target-version must be a string such as \"py311\"")
            try:
                parse_target(value)
            except ConfigError as exc:
                raise ConfigError(f"{where}: {exc}") from None
            values["target_version"] = value
        elif key == "baseline":
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{where}: baseline must be the path of a --write-baseline file")
            values["baseline"] = value
        elif key == "respect-gitignore":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: respect-gitignore must be true or false")
            values["respect_gitignore"] = value
        elif key == "fail-on":
            if value not in FAIL_ON:
                raise ConfigError(f"{where}: fail-on must be one of {', '.join(FAIL_ON)}")
            values["fail_on"] = value
        else:
            raise ConfigError(f"{where}: unknown key {key!r} in [tool.gclint]")
    return Settings(**values)


def _string_list(value: Any, key: str, where: str) -> Tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _per_file_ignores(value: Any, where: str, known_codes: Sequence[str]) -> Tuple[Tuple[str, Tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: per-file-ignores must be a table of pattern = [codes]")
    pairs = []
    for pattern, codes in value.items():
        items = _string_list(codes, f"per-file-ignores[{pattern!r}]", where)
        check_codes(items, known_codes, f"{where}: per-file-ignores[{pattern!r}]")
        pairs.append((pattern, items))
    return tuple(pairs)


def check_codes(codes: Iterable[str], known_codes: Sequence[str], where: str) -> None:
    for code in codes:
        if not code or not any(k.startswith(code) for k in known_codes):
            raise ConfigError(f"{where}: unknown code or prefix {code!r}")


def with_overrides(settings: Settings, **overrides: Any) -> Settings:
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})
