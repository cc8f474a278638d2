"""Many files: discovery, a process pool that survives its workers, cache.

What is checked (the rules the README states):
- A path named on the command line is always checked, whatever the
  excludes say; excludes apply to what discovery finds below it.
- Discovery takes regular `.py`/`.pyi` files only: FIFOs, devices and
  sockets are skipped, and so is a symbolic link whose target leaves the
  directory being walked (a link to a file inside it is fine).
- The same file reached by two spellings (`a.py`, `./a.py`, a link) is
  checked and reported once, under the first spelling.
- Every read is capped at max-file-size and never blocks.
"""
from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import signal
import stat
import traceback
from collections import deque
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Iterator, List, NamedTuple, Optional, Sequence, Set, Tuple

from gclint.cache import Cache
from gclint.config import Settings
from gclint.engine import lint_source
from gclint.model import Finding, Severity
from gclint.positions import on_fresh_thread
from gclint.project import SummaryStore, dependency_order, project_store, run_cache
from gclint.safeio import TooLarge, read_regular_file

Outcome = Tuple[List[Finding], Optional[str]]


@dataclass
class RunResult:
    findings: List[Finding] = field(default_factory=list)
    files: int = 0
    # Problems that are not findings: missing paths, unreadable directories,
    # internal errors and crashed workers. Any of them means exit status 2.
    errors: List[str] = field(default_factory=list)


def discover(paths: Sequence[str], settings: Settings) -> Tuple[List[str], List[str]]:
    """Python files under `paths`, and one error per path that cannot be used."""
    files: List[str] = []
    errors: List[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(_walk(path, settings, errors))
        elif os.path.islink(path) and not _inside(os.path.realpath(path), settings.root or os.getcwd()):
            # A repository can commit `x.py -> ~/.ssh/id_rsa`; a hook names it.
            errors.append(f"{path}: not checked: a symbolic link to a file outside the project")
        elif os.path.lexists(path):
            files.append(path)  # named explicitly: checked, or a clear GCL001
        else:
            errors.append(f"{path}: no such file or directory")
    return sorted(_once_each(files)), errors


def _once_each(files: Sequence[str]) -> List[str]:
    seen: Set[str] = set()
    unique = []
    for path in files:
        identity = os.path.realpath(path)
        if identity not in seen:
            seen.add(identity)
            unique.append(path)
    return unique


def _walk(root: str, settings: Settings, errors: List[str]) -> Iterator[str]:
    real_root = os.path.realpath(root)

    def unreadable(exc: OSError) -> None:
        errors.append(f"{exc.filename}: cannot read directory: {exc.strerror or type(exc).__name__}")

    for directory, subdirs, names in os.walk(root, onerror=unreadable):
        subdirs[:] = sorted(d for d in subdirs if not settings.is_excluded(os.path.join(directory, d), root))
        for name in sorted(names):
            path = os.path.join(directory, name)
            if name.endswith((".py", ".pyi")) and not settings.is_excluded(path, root) and _is_source(path, real_root):
                yield path


def _is_source(path: str, real_root: str) -> bool:
    """A regular file, or a link to one inside the walked tree (a dangling
    link inside it too: it gets a clear GCL001)."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISREG(info.st_mode):
        return True
    if not stat.S_ISLNK(info.st_mode):
        return False
    if not _inside(os.path.realpath(path), real_root):
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def _inside(real_path: str, root: str) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([real_path, real_root]) == real_root


def read_source(path: str, settings: Settings) -> Tuple[Optional[bytes], Optional[str]]:
    """The file's bytes, or why not (never more than max-file-size + 1 bytes
    read, never blocked by a FIFO)."""
    limit = settings.max_file_size * 1024
    try:
        return read_regular_file(path, limit, follow=True), None
    except OSError as exc:
        return None, f"cannot read: {exc.strerror or type(exc).__name__}"
    except TooLarge:
        return None, f"not analysed: over max-file-size ({settings.max_file_size} KiB)"
    except ValueError as exc:
        return None, f"cannot read: {exc}"


def lint_file(path: str, settings: Settings, cache: Optional[Cache] = None) -> Outcome:
    """Findings for one file; never raises (an internal error comes back as text)."""
    data, reason = read_source(path, settings)
    if data is None:
        if not settings.is_enabled("GCL001", path):
            return [], None
        return [Finding(path, 1, 1, "GCL001", f"{path}: {reason}", Severity.ERROR)], None
    try:
        used: Dict[str, str] = {}
        findings = lint_source(data, path, settings, project_store(settings, cache), used)
    except Exception:  # a bug in gclint must not end the run
        # The end of the traceback says where; a RecursionError's middle is noise.
        return [], f"{path}: internal error in gclint:\n{traceback.format_exc(limit=-12)}"
    if cache is not None and not any(f.code == "GCL002" for f in findings):
        cache.put(cache.key(path, data), path, findings, used)
    return findings, None


class Done(NamedTuple):
    """How far a run is, for a progress display: files and bytes, done and in all.
    Bytes make a sane estimate (cost follows size, and the largest files go first)."""

    files: int
    files_total: int
    bytes: int
    bytes_total: int


Progress = Callable[[Done], None]


def lint_files(
    files: Sequence[str],
    settings: Settings,
    jobs: int = 1,
    progress: Optional[Progress] = None,
    cache: Optional[Cache] = None,
) -> RunResult:
    """Findings for `files`, each checked with the summaries of the project
    modules it imports (gclint/project.py); without a cache, those summaries
    live in a temporary one for the run."""
    with run_cache(cache, settings) as usable:
        return _lint_files(files, settings, jobs, progress, usable)


def _lint_files(
    files: Sequence[str],
    settings: Settings,
    jobs: int = 1,
    progress: Optional[Progress] = None,
    cache: Optional[Cache] = None,
) -> RunResult:
    result = RunResult(files=len(files))
    sizes = {path: _size(path) for path in files}
    tally = _Tally(progress, len(files), sum(sizes.values()))
    tally.report()  # 0 of N from the start, before the first file is done
    misses = []
    for path in files:
        cached = _cached(path, settings, cache)
        if cached is None:
            misses.append(path)
            continue
        result.findings.extend(cached)
        tally.add(sizes[path])
    # Largest files first, so one big file does not finish the run alone.
    misses.sort(key=sizes.__getitem__, reverse=True)
    misses = dependency_order(misses, settings, cache)  # and imported modules before their importers
    with collector_tuned():
        for path, (findings, error) in _map(misses, settings, jobs, cache, sizes):
            result.findings.extend(findings)
            if error:
                result.errors.append(error)
            tally.add(sizes[path])
    result.findings.sort(key=lambda f: f.sort_key)
    return result


class _Tally:
    def __init__(self, progress: Optional[Progress], files_total: int, bytes_total: int) -> None:
        self.progress = progress
        self.files_total, self.bytes_total = files_total, bytes_total
        self.files = self.bytes = 0

    def add(self, size: int) -> None:
        self.files += 1
        self.bytes += size
        self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(Done(self.files, self.files_total, self.bytes, self.bytes_total))


def _cached(path: str, settings: Settings, cache: Optional[Cache]) -> Optional[List[Finding]]:
    if cache is None:
        return None
    data, _ = read_source(path, settings)
    return None if data is None else cache.get(cache.key(path, data), path, data, project_store(settings, cache).still_valid)


FileOutcome = Tuple[str, Outcome]  # a file, and what came of it


def _map(files: Sequence[str], settings: Settings, jobs: int, cache: Optional[Cache], sizes: Dict[str, int]) -> Iterator[FileOutcome]:
    jobs = max(1, min(jobs, len(files)))
    if jobs == 1:
        return _in_order(files, settings, cache, sizes)
    return _pooled(files, settings, cache, jobs)


def _in_order(files: Sequence[str], settings: Settings, cache: Optional[Cache], sizes: Dict[str, int]) -> Iterator[FileOutcome]:
    """Files one after the other in this process. A file still to come
    whose summary another file's rules ask for is checked then, so its one
    parse serves both (modules in an import cycle cannot all come after
    the modules they import)."""
    store = project_store(settings, cache)
    early = _EarlyChecks(files, settings, cache, sizes, store)
    store.early = early.check
    try:
        for path in files:
            yield path, early.outcome(path)
    finally:
        store.early = None


# Files checked early inside one another on one thread's stack; the next
# one goes on a fresh thread (the standard library's 147-module import
# cycle nests 20 deep). At most this many threads: a chain of cycle members
# asking each about the next would otherwise nest as deep as the chain.
_EARLY_DEPTH = 6
_EARLY_THREADS = 8


class _EarlyChecks:
    """The files of an in-process run, each checked once: in its turn, or
    earlier when asked. Never more source is held as trees at once than
    the run's largest file, so the peak memory stays that file's, and
    never more than a few files inside one another on one stack (each is
    a walk and its rules on the stack of the one that asked). A file
    asking before its own parse (its pre-filter) holds no tree yet."""

    def __init__(self, files: Sequence[str], settings: Settings, cache: Optional[Cache], sizes: Dict[str, int], store: SummaryStore) -> None:
        self.settings, self.cache, self.store = settings, cache, store
        self.pending = {os.path.abspath(f): f for f in files}
        self.sizes = {os.path.abspath(f): size for f, size in sizes.items()}
        self.bound = max(self.sizes.values(), default=0)
        self.depth = 0  # early checks under way, one inside the other
        self.done: Dict[str, Outcome] = {}

    def outcome(self, path: str) -> Outcome:
        key = os.path.abspath(path)
        if key in self.done:
            return self.done.pop(key)
        self.pending.pop(key, None)
        return lint_file(path, self.settings, self.cache)

    def check(self, path: str) -> bool:
        """Check `path` now if it is still to come and fits; whether it was."""
        key = os.path.abspath(path)
        original = self.pending.get(key)
        held = sum(self.sizes.get(k, 0) for k in self.store.walking())
        if original is None or self.depth >= _EARLY_DEPTH * _EARLY_THREADS or held + self.sizes.get(key, 0) > self.bound:
            return False
        del self.pending[key]
        fresh = self.depth and self.depth % _EARLY_DEPTH == 0
        self.depth += 1
        try:
            work = functools.partial(lint_file, original, self.settings, self.cache)
            self.done[key] = on_fresh_thread(work, "gclint-early-check") if fresh else work()
        except RuntimeError:  # no thread to be had (lint_file itself never raises): checked in its turn
            self.pending[key] = original
            return False
        finally:
            self.depth -= 1
        return True


def _pooled(files: Sequence[str], settings: Settings, cache: Optional[Cache], jobs: int) -> Iterator[FileOutcome]:
    """Files over a pool of worker processes. A worker that dies (a native
    crash, the OOM killer) breaks the pool: the files it may have held are
    suspects, the others go on in a new pool, and each suspect is then
    checked alone; a file that kills its worker alone too gets GCL001."""
    todo: Deque[str] = deque(files)
    suspects: List[str] = []
    while todo:
        suspects.extend((yield from _until_broken(todo, settings, cache, jobs)))
    for path in suspects:
        again = yield from _until_broken(deque([path]), settings, cache, 1)
        if again:
            yield path, _crashed(path, settings)


def _until_broken(
    todo: Deque[str], settings: Settings, cache: Optional[Cache], jobs: int
) -> Iterator[FileOutcome]:
    """Run files from `todo` until it is empty or the pool breaks; returns
    (as the generator's value) the files in flight when it broke."""
    before = set(multiprocessing.active_children())
    with ProcessPoolExecutor(max_workers=jobs, initializer=_worker_started, initargs=(settings, cache)) as pool:
        try:
            return (yield from _drain(pool, todo, settings, cache, jobs))
        except BaseException:  # Ctrl-C, or the caller stopped early: do not wait for the workers
            _abandon(pool, before)
            raise


def _drain(
    pool: ProcessPoolExecutor, todo: Deque[str], settings: Settings, cache: Optional[Cache], jobs: int
) -> Iterator[FileOutcome]:
    running: Dict[Future, str] = {}
    while todo or running:
        # Two per worker keeps them busy and bounds the suspects.
        while todo and len(running) < 2 * jobs:
            path = todo.popleft()
            with _no_interrupt_while_workers_start():
                running[pool.submit(_worker_lint, path)] = path
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            try:
                outcome = future.result()
            except BrokenProcessPool:
                return list(running.values())
            yield running.pop(future), outcome
    return []


# A file's syntax tree is hundreds of thousands of objects, allocated at
# once and acyclic, and linting makes no cycles of its own (see
# tests/test_memory.py): the default thresholds (700, 10, 10) make the
# collector walk the young tree again and again during the parse for
# nothing. Measured on the standard library: about 10% less CPU.
COLLECTOR_THRESHOLDS = (50_000, 20, 100)


@contextmanager
def collector_tuned() -> Iterator[None]:
    """The collector tuned for big acyclic trees while files are linted
    in this process, then as it was."""
    previous = gc.get_threshold()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def _no_interrupt_while_workers_start() -> Iterator[None]:
    """SIGINT held back while submit() may start a worker: a worker that got
    it before its initializer would print a traceback, and a Ctrl-C between
    the start of a worker and the pool noting it would leave that worker
    unknown, so not stopped. The signal is delivered right after."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# A worker's run: its settings and cache, given once when it starts, so that
# one summary store serves every file it checks (a cache sent with each
# file would arrive as a new object each time, with a new, empty store).
_WORKER_RUN: Dict[str, Tuple[Settings, Optional[Cache]]] = {}


def _worker_lint(path: str) -> Outcome:
    settings, cache = _WORKER_RUN["run"]
    return lint_file(path, settings, cache)


def _worker_started(settings: Settings, cache: Optional[Cache]) -> None:
    if cache is not None:
        cache.stores = {}  # a forked worker inherits the parent's: it starts its own
    _WORKER_RUN["run"] = (settings, cache)
    # Ctrl-C reaches the whole process group; the parent alone decides what
    # it means (it stops the workers), so no worker prints a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # started with SIGINT held back (see above)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    gc.set_threshold(*COLLECTOR_THRESHOLDS)  # the worker only ever lints


def _abandon(pool: ProcessPoolExecutor, before: Set[multiprocessing.process.BaseProcess]) -> None:
    """Stop at once: cancel what has not started and end the workers, which
    may be deep in a big file (the pool itself would wait for them): the
    pool's, and any child process started since the pool was made."""
    known = list((getattr(pool, "_processes", None) or {}).values())
    workers = known + [p for p in multiprocessing.active_children() if p not in before and p not in known]
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(timeout=5)


def _crashed(path: str, settings: Settings) -> Outcome:
    reason = "gclint's worker process died while checking this file (the parser crashed or ran out of memory)"
    findings = [Finding(path, 1, 1, "GCL001", f"{path}: {reason}", Severity.ERROR)] if settings.is_enabled("GCL001", path) else []
    return findings, f"{path}: {reason}"


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
