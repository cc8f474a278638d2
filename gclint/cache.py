"""A content-hash cache of findings, safe under concurrent runs and against
the repository being checked.

An entry is keyed by the file's bytes, its path, the effective settings and
gclint's own code, so any change to one of them misses. Entries are written
atomically (temporary file + rename). The repository is not trusted: the
default cache lives in the user's cache directory, not in the checked tree;
directories and entries are opened without following symbolic links, an
entry must be a regular file of bounded size, and every cached finding is
checked against the file it is served for (its own path, lines inside the
file, a known code, a printable message). An entry that fails any check is
a miss and is rewritten, never trusted.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, FrozenSet, Iterator, List, Mapping, Optional, Sequence, Tuple

if TYPE_CHECKING:
    from gclint.analysis.summaries import ModuleSummary

from gclint import __version__
from gclint.model import Finding, Severity
from gclint.safeio import read_regular_file

_FORMAT = 3
# Far above any real entry (a few KiB); a larger one is not read.
MAX_ENTRY_BYTES = 4 * 1024 * 1024
_MAX_MESSAGE = 4000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
# Without these the cache cannot open a path without following links: off.
SUPPORTED = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")


@functools.lru_cache(maxsize=None)
def code_fingerprint() -> str:
    """gclint's version plus the hash of its own source (rules change without
    a version bump during development)."""
    digest = hashlib.sha256(f"{__version__}:{_FORMAT}".encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def user_cache_root() -> Path:
    """The per-user cache directory of this OS, gclint's part of it."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "gclint"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "gclint"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "gclint" / "Cache"
    return Path.home() / ".cache" / "gclint"


def default_directory(project_root: str) -> str:
    """One cache per project, outside it, keyed by the project's real path."""
    real = os.path.realpath(project_root)
    name = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return str(user_cache_root() / name)


def summary_key(text: str, factories: Mapping[str, str]) -> str:
    """A module summary's key: the module's text, the resource factory table
    it was made with, and gclint's code (not the path: the same text has the
    same summary wherever it is)."""
    digest = hashlib.sha256(f"summary:{code_fingerprint()}".encode())
    digest.update(json.dumps(sorted(factories.items())).encode())
    digest.update(b"\0" + text.encode("utf-8", "surrogateescape"))
    return "s" + digest.hexdigest()[1:]


# Which other modules' summaries a file's findings were made with: {file: digest}.
Used = Mapping[str, str]


class Cache:
    """`findings=False`: a cache of module summaries only (a run with
    --no-cache keeps them in a temporary directory, so each module is still
    parsed once)."""

    def __init__(self, directory: str, settings_fingerprint: str, known_codes: Sequence[str] = (), findings: bool = True) -> None:
        self.directory = Path(directory)
        self._salt = f"{code_fingerprint()}:{settings_fingerprint}"
        self.known_codes = frozenset(known_codes)
        self.findings = findings
        self._chain_real: Optional[bool] = None
        # Per settings, the summary store of this process (gclint/project.py).
        self.stores: Dict[str, Any] = {}
        # The checked files some other checked file imports, when the run
        # scanned them (project.dependency_order); None: not known.
        self.imported: Optional[FrozenSet[str]] = None

    def __getstate__(self) -> Dict[str, Any]:
        # A worker process gets the cache, not what this process learned.
        return {**self.__dict__, "stores": {}}

    def key(self, path: str, data: bytes) -> str:
        digest = hashlib.sha256(self._salt.encode())
        digest.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(data)
        return digest.hexdigest()

    def get(
        self, key: str, path: str, data: bytes, still_valid: Optional[Callable[[List[Tuple[str, str]]], bool]] = None
    ) -> Optional[List[Finding]]:
        """The cached findings for `path` with content `data`, or None; an
        entry made with other modules' summaries is served only when
        `still_valid` says those summaries are unchanged."""
        raw = self._read_entry(key) if self.findings else None
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            if entry["key"] != key or entry["path"] != path:
                return None
            used = [(_text(p), _text(d)) for p, d in entry.get("used", [])]
            if used and (still_valid is None or not still_valid(used)):
                return None
            lines = _line_count(data)
            return [_finding(item, path, lines, self._codes()) for item in entry["findings"]]
        except (ValueError, KeyError, TypeError, AttributeError):  # ValueError covers a finding that fails a check
            return None

    def put(self, key: str, path: str, findings: List[Finding], used: Used = {}) -> None:
        if not self.findings:
            return
        entry = {"key": key, "path": path, "findings": [f.as_dict() for f in findings], "used": sorted(used.items())}
        self._write_entry(key, json.dumps(entry).encode())

    def get_summary(self, key: str) -> Optional["ModuleSummary"]:
        from gclint.analysis.summaries import ModuleSummary

        raw = self._read_entry(key)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            return ModuleSummary.from_dict(entry["summary"]) if entry["key"] == key else None
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def put_summary(self, key: str, summary: "ModuleSummary") -> None:
        self._write_entry(key, json.dumps({"key": key, "summary": summary.to_dict()}).encode())

    def _write_entry(self, key: str, payload: bytes) -> None:
        try:
            with self._subdirectory(key, create=True) as fd:
                _write_atomically(fd, f"{key}.json", payload)
        except (OSError, ValueError):
            pass  # a cache that cannot be written only costs speed

    def _codes(self) -> frozenset:
        if not self.known_codes:
            from gclint.rule import known_codes

            self.known_codes = frozenset(known_codes())
        return self.known_codes

    def _read_entry(self, key: str) -> Optional[bytes]:
        try:
            with self._subdirectory(key, create=False) as fd:
                return read_regular_file(f"{key}.json", MAX_ENTRY_BYTES, dir_fd=fd)
        except (OSError, ValueError):
            return None

    @contextmanager
    def _subdirectory(self, key: str, create: bool) -> Iterator[int]:
        """A descriptor of the entry's directory, reached without following a
        symbolic link at any step below the cache directory's parent."""
        if not SUPPORTED:
            raise ValueError("this platform cannot open files without following links")
        if self._chain_real is None:
            self._chain_real = _chain_is_real(self.directory)  # once per process: it costs a stat per level
        if not self._chain_real:
            raise ValueError("a symbolic link on the way to the cache directory")
        if create:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory, _DIR_FLAGS)
        try:
            if create:
                _ignore_in_git(fd)
                try:
                    os.mkdir(key[:2], 0o700, dir_fd=fd)
                except FileExistsError:
                    pass
            sub = os.open(key[:2], _DIR_FLAGS, dir_fd=fd)
        finally:
            os.close(fd)
        try:
            yield sub
        finally:
            os.close(sub)


def _chain_is_real(directory: Path) -> bool:
    """No symbolic link among the directories leading to the cache, except
    those the user's own environment puts there (ancestors of the working
    directory and of the home directory): a repository can only plant a
    link below those."""
    trusted = {str(p) for base in (Path.cwd(), Path.home()) for p in (base, *base.parents)}
    path = Path(os.path.abspath(directory))
    return not any(os.path.islink(p) and str(p) not in trusted for p in (path, *path.parents))


def _write_atomically(dir_fd: int, name: str, payload: bytes) -> None:
    temporary = f".tmp-{os.getpid()}-{os.urandom(6).hex()}"
    fd = os.open(temporary, _WRITE_FLAGS, 0o600, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def _line_count(data: bytes) -> int:
    # Python's line ends: \r\n, \r and \n.
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + 1


def _text(value: Any) -> str:
    if type(value) is not str:
        raise ValueError(f"{value!r} is not a string")
    return value


def _integer(value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{value!r} is not an integer in [{low}, {high}]")
    return value


def _optional_integer(value: Any, low: int, high: int) -> Optional[int]:
    return None if value is None else _integer(value, low, high)


def _finding(data: Mapping[str, Any], path: str, lines: int, codes: frozenset) -> Finding:
    """A cached finding, or ValueError when it could not be one gclint made
    for this file."""
    message = data["message"]
    if data["path"] != path or data["code"] not in codes:
        raise ValueError("finding for another file or with an unknown code")
    if type(message) is not str or len(message) > _MAX_MESSAGE or _CONTROL.search(message):
        raise ValueError("message is not one printable line")
    if data.get("status") is not None or data.get("evidence"):
        raise ValueError("dynamic results are never cached")
    line = _integer(data["line"], 1, lines)
    return Finding(
        path=path,
        line=line,
        col=_integer(data["col"], 1, 1 << 24),
        code=data["code"],
        message=message,
        severity=Severity(data["severity"]),
        end_line=_optional_integer(data.get("end_line"), line, lines),
        end_col=_optional_integer(data.get("end_col"), 1, 1 << 24),
    )


def _ignore_in_git(dir_fd: int) -> None:
    """A --cache-dir inside a repository should not be committed."""
    try:
        fd = os.open(".gitignore", _WRITE_FLAGS, 0o644, dir_fd=dir_fd)
    except OSError:
        return  # already there (or not writable)
    with os.fdopen(fd, "w") as f:
        f.write("# created by gclint\n*\n")
