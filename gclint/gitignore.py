"""Which discovered files git ignores, read from the ignore files themselves.

gclint never runs git on the checked tree: a repository's own config can
name commands that git runs (`core.fsmonitor`, hooks, filters), and a
hostile repository must not make gclint run code. The patterns are read
from every `.gitignore` between the repository root and the file, and from
`.git/info/exclude`, with git's precedence: a deeper file wins, the last
matching pattern in a file wins, `!` re-includes, and nothing under an
ignored directory can be re-included. Not read: the user's global excludes
file (`core.excludesFile`), which would make results depend on the machine,
and the index (a tracked file that matches a pattern is still skipped, as
in ruff).
"""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from gclint.safeio import TooLarge, read_regular_file

# An ignore file larger than this is not read (no real one comes close).
MAX_IGNORE_FILE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Pattern:
    segments: Tuple[str, ...]  # fnmatch patterns, one per path component; "**" spans any number
    negated: bool
    directory_only: bool
    anchored: bool  # matches relative to its file's directory, not at any depth


def parse_pattern(line: str) -> Optional[Pattern]:
    """One line of a .gitignore, or None for a blank line or a comment."""
    line = _strip_trailing_spaces(line.rstrip("\r\n"))
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated or line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    directory_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    segments = tuple(_glob(s) for s in line.lstrip("/").split("/") if s)
    if not anchored:
        segments = ("**", *segments)
    return Pattern(segments, negated, directory_only, anchored)


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped + " "  # `\ ` keeps one escaped space
    return stripped


def _glob(segment: str) -> str:
    """A gitignore segment as an fnmatch pattern: a backslash escapes the
    next character, which fnmatch writes as a one-character class."""
    if segment == "**":
        return segment
    out, chars = [], iter(segment)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            out.append(f"[{escaped}]" if escaped else "")
        else:
            out.append(char)
    return "".join(out)


def matches(pattern: Pattern, parts: Sequence[str], is_dir: bool) -> bool:
    """Whether `parts` (the path relative to the pattern's directory) matches."""
    if pattern.directory_only and not is_dir:
        return False
    return _match_segments(pattern.segments, parts)


def _match_segments(segments: Sequence[str], parts: Sequence[str]) -> bool:
    """Glob matching over path components with `**` as the only wildcard
    that spans components: the greedy two-pointer algorithm, linear in the
    path for each `**`, so a hostile pattern cannot make it backtrack."""
    s = p = 0
    star, star_p = -1, 0
    while p < len(parts):
        if s < len(segments) and segments[s] == "**":
            star, star_p = s, p
            s += 1
        elif s < len(segments) and fnmatch.fnmatchcase(parts[p], segments[s]):
            s += 1
            p += 1
        elif star >= 0:
            star_p += 1
            s, p = star + 1, star_p
        else:
            return False
    return all(seg == "**" for seg in segments[s:])


class GitIgnore:
    """The ignore rules of one repository, read once per directory."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._files: Dict[str, Tuple[Pattern, ...]] = {}
        self._dirs: Dict[str, bool] = {}
        self._exclude = _read_patterns(os.path.join(self.root, ".git", "info", "exclude"))

    def is_ignored(self, path: str, walked: Optional[str] = None) -> bool:
        """Whether git ignores the file `path` (inside this repository).
        Directories at or above `walked`, the directory the user named, do
        not count: naming an ignored directory asks for it to be checked."""
        parts = self._parts(path)
        if parts is None:
            return False
        named = self._parts(walked) if walked else None
        first = len(named) + 1 if named and named != ["."] else 1
        for depth in range(first, len(parts)):
            if self._dir_ignored(parts[:depth]):
                return True
        return self._decide(parts, is_dir=False)

    def _parts(self, path: str) -> Optional[List[str]]:
        rel = os.path.relpath(os.path.abspath(path), self.root)
        parts = rel.replace(os.sep, "/").split("/")
        return None if parts[0] == ".." else parts

    def _dir_ignored(self, parts: Sequence[str]) -> bool:
        key = "/".join(parts)
        if key not in self._dirs:
            self._dirs[key] = parts[-1] == ".git" or self._decide(parts, is_dir=True)
        return self._dirs[key]

    def _decide(self, parts: Sequence[str], is_dir: bool) -> bool:
        """The last matching pattern, deepest ignore file first."""
        for depth in range(len(parts) - 1, -1, -1):
            patterns = self._patterns("/".join(parts[:depth]))
            verdict = _last_match(patterns, parts[depth:], is_dir)
            if verdict is not None:
                return verdict
        verdict = _last_match(self._exclude, parts, is_dir)
        return bool(verdict)

    def _patterns(self, directory: str) -> Tuple[Pattern, ...]:
        if directory not in self._files:
            self._files[directory] = _read_patterns(os.path.join(self.root, directory, ".gitignore"))
        return self._files[directory]


def _last_match(patterns: Sequence[Pattern], parts: Sequence[str], is_dir: bool) -> Optional[bool]:
    for pattern in reversed(patterns):
        if matches(pattern, parts, is_dir):
            return not pattern.negated
    return None


def _read_patterns(path: str) -> Tuple[Pattern, ...]:
    """The patterns of an ignore file; none when it is missing, not a
    regular file, too large or not text (git would not use it either)."""
    try:
        data = read_regular_file(path, MAX_IGNORE_FILE_BYTES, follow=False)
    except (OSError, TooLarge, ValueError):
        return ()
    text = data.decode("utf-8", "surrogateescape")
    return tuple(p for p in map(parse_pattern, text.splitlines()) if p is not None)


def repository_root(path: str) -> Optional[str]:
    """The nearest directory at or above `path` that holds `.git` (a
    directory, or the file a worktree or submodule has), else None."""
    here = os.path.abspath(path)
    if not os.path.isdir(here):
        here = os.path.dirname(here)
    while True:
        if os.path.lexists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def drop_ignored(
    files: Sequence[str], named: Sequence[str], repositories: Optional[Dict[str, Optional[GitIgnore]]] = None
) -> List[str]:
    """`files` (found by walking the paths in `named`) without those git
    ignores; a file in `named` itself is always checked. `repositories`
    keeps the ignore files read, for a caller that asks file by file (the
    flake8 door)."""
    named_files = {os.path.abspath(n) for n in named if not os.path.isdir(n)}
    named_dirs = sorted((os.path.abspath(n) for n in named if os.path.isdir(n)), key=len, reverse=True)
    repositories = {} if repositories is None else repositories
    kept = []
    for path in files:
        absolute = os.path.abspath(path)
        walked = next((d for d in named_dirs if os.path.commonpath([absolute, d]) == d), None)
        ignore = _repository(os.path.dirname(absolute), repositories)
        if ignore is None or absolute in named_files or not ignore.is_ignored(absolute, walked):
            kept.append(path)
    return kept


def _repository(directory: str, known: Dict[str, Optional[GitIgnore]]) -> Optional[GitIgnore]:
    """The ignore rules for files in `directory`, one GitIgnore per repository."""
    if directory not in known:
        root = repository_root(directory)
        shared = next((g for g in known.values() if g is not None and g.root == root), None)
        known[directory] = shared or (GitIgnore(root) if root else None)
    return known[directory]
