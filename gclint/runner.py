"""Many files: discovery, a process pool, results in a stable order."""
from __future__ import annotations

import os
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, List, Optional, Sequence, Tuple

from gclint.cache import Cache
from gclint.config import Settings
from gclint.engine import lint_source
from gclint.model import Finding, Severity


@dataclass
class RunResult:
    findings: List[Finding] = field(default_factory=list)
    files: int = 0
    # Problems that are not findings: missing paths, internal errors (exit 2).
    errors: List[str] = field(default_factory=list)


def discover(paths: Sequence[str], settings: Settings) -> Tuple[List[str], List[str]]:
    """Python files under `paths`, and one error per path that does not exist.

    A file named explicitly is always checked, excluded or not.
    """
    files: List[str] = []
    errors: List[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(_walk(path, settings))
        elif os.path.lexists(path):
            files.append(path)
        else:
            errors.append(f"{path}: no such file or directory")
    return sorted(dict.fromkeys(files)), errors


def _walk(root: str, settings: Settings) -> Iterator[str]:
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not settings.is_excluded(os.path.join(directory, d)))
        for name in names:
            path = os.path.join(directory, name)
            if name.endswith((".py", ".pyi")) and not settings.is_excluded(path):
                yield path


def _read(path: str) -> Tuple[Optional[bytes], Optional[str]]:
    try:
        with open(path, "rb") as f:
            return f.read(), None
    except OSError as exc:
        return None, exc.strerror or type(exc).__name__


def lint_file(path: str, settings: Settings, cache: Optional[Cache] = None) -> Tuple[List[Finding], Optional[str]]:
    """Findings for one file; never raises (an internal error comes back as text)."""
    data, reason = _read(path)
    if data is None:
        if not settings.is_enabled("GCL001", path):
            return [], None
        return [Finding(path, 1, 1, "GCL001", f"{path}: cannot read: {reason}", Severity.ERROR)], None
    try:
        findings = lint_source(data, path, settings)
    except Exception:  # a bug in gclint must not end the run
        # The end of the traceback says where; a RecursionError's middle is noise.
        return [], f"{path}: internal error in gclint:\n{traceback.format_exc(limit=-12)}"
    if cache is not None and not any(f.code == "GCL002" for f in findings):
        cache.put(cache.key(path, data), findings)
    return findings, None


def _lint_file_args(args: Tuple[str, Settings, Optional[Cache]]) -> Tuple[List[Finding], Optional[str]]:
    return lint_file(*args)


def lint_files(
    files: Sequence[str],
    settings: Settings,
    jobs: int = 1,
    progress: Optional[Callable[[], None]] = None,
    cache: Optional[Cache] = None,
) -> RunResult:
    result = RunResult(files=len(files))
    misses = []
    for path in files:
        cached = _cached(path, cache)
        if cached is None:
            misses.append(path)
            continue
        result.findings.extend(cached)
        if progress:
            progress()
    # Largest files first, so one big file does not finish the run alone.
    misses.sort(key=_size, reverse=True)
    for findings, error in _map(misses, settings, jobs, cache):
        result.findings.extend(findings)
        if error:
            result.errors.append(error)
        if progress:
            progress()
    result.findings.sort(key=lambda f: f.sort_key)
    return result


def _cached(path: str, cache: Optional[Cache]) -> Optional[List[Finding]]:
    if cache is None:
        return None
    data, _ = _read(path)
    return None if data is None else cache.get(cache.key(path, data))


def _map(
    files: Sequence[str], settings: Settings, jobs: int, cache: Optional[Cache]
) -> Iterable[Tuple[List[Finding], Optional[str]]]:
    jobs = max(1, min(jobs, len(files)))
    if jobs == 1:
        return (lint_file(f, settings, cache) for f in files)
    return _pooled(ProcessPoolExecutor(max_workers=jobs), files, settings, cache)


def _pooled(executor: ProcessPoolExecutor, files: Sequence[str], settings: Settings, cache: Optional[Cache]) -> Iterator:
    with executor:
        yield from executor.map(_lint_file_args, ((f, settings, cache) for f in files), chunksize=4)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def lint_paths(
    paths: Sequence[str], settings: Optional[Settings] = None, jobs: int = 1, cache: Optional[Cache] = None
) -> RunResult:
    settings = settings or Settings()
    files, errors = discover(paths, settings)
    result = lint_files(files, settings, jobs, cache=cache)
    result.errors[:0] = errors
    return result
