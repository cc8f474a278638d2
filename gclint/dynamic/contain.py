"""Keeping targets inside gclint's lifetime: every process a target starts is
found and killed, whichever way gclint's run ends.

Three ways to find a target's processes, because each alone misses some:
- ancestry: the probe's descendants, polled while it runs;
- a token: each run puts GCLINT_DYNAMIC_RUN=<token> in the probe's
  environment, inherited by every descendant that does not scrub it,
  including a double-forked, setsid daemon whose parent already exited;
- adoption: on Linux gclint makes itself a child subreaper
  (PR_SET_CHILD_SUBREAPER), so orphaned descendants become gclint's children
  instead of init's, and are found even with a scrubbed environment.

Exit paths: a normal end kills leftovers (child.py); SIGTERM, SIGINT and
SIGHUP are caught while targets run, kill every tree, then take their usual
course; if gclint dies without a chance to act (SIGKILL), each run's keeper
(keeper.py, a process of its own) sees a pipe from gclint close and kills
the tree.
"""
from __future__ import annotations

import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterator, List, NamedTuple, Optional, Set

import psutil

TOKEN_VARIABLE = "GCLINT_DYNAMIC_RUN"
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
_CAUGHT_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")
# A process's start time is rounded (clock ticks): a little slack.
_START_SLACK_SECONDS = 1.0
_HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(_HERE, "probe.py")
KEEPER = os.path.join(_HERE, "keeper.py")
# A keeper told to stand down exits at once; this is a hang guard.
KEEPER_EXIT_SECONDS = 30.0


def new_token() -> str:
    return secrets.token_hex(12)


class Company(NamedTuple):
    """The other runs a tree is judged among."""

    # No other target runs: an adopted orphan with a scrubbed environment is ours.
    alone: bool
    # Processes gclint started itself (probes, keepers): never orphans.
    own: FrozenSet[int]


@dataclass
class Tree:
    """One target's processes: the probe, and everything found since."""

    token: str
    started: float = field(default_factory=time.time)
    probe: Optional[psutil.Process] = None
    known: Dict[int, psutil.Process] = field(default_factory=dict)
    scratch: Optional[str] = None
    keeper: Optional[subprocess.Popen] = None
    lifeline: Optional[int] = None

    def start_keeper(self) -> None:
        """The keeper (keeper.py) ends the tree if gclint ends first. Without
        one (it cannot start) the run goes on, contained by gclint alone."""
        reader, writer = os.pipe()
        environment = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
        try:
            self.keeper = subprocess.Popen(
                [sys.executable, KEEPER, str(reader), self.token], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                env=environment, pass_fds=(reader,),
            )
        except OSError:
            os.close(writer)
            writer = None
        finally:
            os.close(reader)
        self.lifeline = writer

    def watch(self, pid: int) -> None:
        """The probe has started: tell the keeper which group to end."""
        try:
            self.probe = psutil.Process(pid)
        except psutil.Error:
            self.probe = None
        if self.lifeline is not None:
            try:
                os.write(self.lifeline, b"%d\n" % pid)
            except OSError:
                pass

    def remember_descendants(self) -> None:
        for process in _descendants(self.probe):
            self.known.setdefault(process.pid, process)

    def release(self) -> None:
        """gclint has cleaned up after the run: the keeper can stand down."""
        if self.lifeline is not None:
            try:
                os.write(self.lifeline, b"\ndone\n")
            except OSError:
                pass
            os.close(self.lifeline)
            self.lifeline = None

    def reap_keeper(self) -> None:
        if self.keeper is None:
            return
        try:
            self.keeper.wait(timeout=KEEPER_EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.keeper.kill()
            self.keeper.wait()

    def own_pids(self) -> Set[int]:
        """The processes gclint itself started for this run."""
        return {p.pid for p in (self.probe, self.keeper) if p is not None}

    def members(self, company: Company) -> List[psutil.Process]:
        """Every process of the tree still around, the probe excepted."""
        found = dict(self.known)
        for process in _descendants(self.probe):
            found.setdefault(process.pid, process)
        if subreaper_active():
            orphans = _adopted(self.token, self.started, company)
        else:
            orphans = _carrying_token(self.token, self.started)
        for orphan in orphans:
            found.setdefault(orphan.pid, orphan)
            for process in _descendants(orphan):
                found.setdefault(process.pid, process)
        if self.probe is not None:
            found.pop(self.probe.pid, None)
        return [p for p in found.values() if _same_process(p)]

    def kill(self, company: Company) -> None:
        """SIGKILL the probe's process group, the probe and every member."""
        if self.probe is not None:
            try:
                os.killpg(self.probe.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _kill(self.probe)
        for process in self.members(company):
            _kill(process)


def _descendants(process: Optional[psutil.Process]) -> List[psutil.Process]:
    if process is None:
        return []
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _same_process(process: psutil.Process) -> bool:
    """Still the process we found (not a reused pid), and not a zombie."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _kill(process: psutil.Process) -> None:
    try:
        if process.is_running():
            process.kill()
    except psutil.Error:
        pass


def _token_of(pid: int) -> Optional[str]:
    """The run token in a process's environment, "" if none, None if unreadable."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as source:
            entries = source.read().split(b"\0")
    except FileNotFoundError:
        try:
            return psutil.Process(pid).environ().get(TOKEN_VARIABLE, "")
        except (psutil.Error, OSError):
            return None
    except OSError:
        return None
    prefix = TOKEN_VARIABLE.encode() + b"="
    return next((e[len(prefix):].decode("ascii", "replace") for e in entries if e.startswith(prefix)), "")


def _started_since(process: psutil.Process, since: float) -> bool:
    try:
        return process.create_time() >= since - _START_SLACK_SECONDS
    except psutil.Error:
        return False


def _adopted(token: str, since: float, company: Company) -> List[psutil.Process]:
    """gclint's children that it did not start: orphans adopted by the
    subreaper. Ours when they carry our token, or no token while we run alone."""
    try:
        children = psutil.Process().children()
    except psutil.Error:
        return []
    adopted = []
    for child in children:
        if child.pid in company.own or not _started_since(child, since):
            continue
        found = _token_of(child.pid)
        if found == token or (company.alone and found == ""):
            adopted.append(child)
    return adopted


def _carrying_token(token: str, since: float) -> List[psutil.Process]:
    """Without a subreaper: processes started since the run, with our token."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    found = []
    for process in psutil.process_iter(["create_time", "uids"]):
        info = process.info
        if (info.get("create_time") or 0) < since - _START_SLACK_SECONDS or process.pid == os.getpid():
            continue
        if uid is not None and info.get("uids") is not None and info["uids"].real != uid:
            continue
        if _token_of(process.pid) == token:
            found.append(process)
    return found


# -- the subreaper ------------------------------------------------------------


def _prctl():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl
    except (OSError, AttributeError):
        return None


def subreaper_active() -> bool:
    prctl = _prctl()
    if prctl is None:
        return False
    value = ctypes.c_int(0)
    return prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(value), 0, 0, 0) == 0 and value.value != 0


def set_subreaper(on: bool) -> bool:
    """Linux only; returns whether it is now in the wanted state."""
    prctl = _prctl()
    if prctl is None:
        return False
    return prctl(_PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0) == 0


# -- the guard ----------------------------------------------------------------


class Containment:
    """While open: the trees of the running targets, killed on a signal."""

    def __init__(self) -> None:
        self._trees: Dict[str, Tree] = {}
        # Reentrant: a signal handler runs in the main thread, maybe inside kill_all.
        self._lock = threading.RLock()
        self._retired: List[Tree] = []
        self._previous: Dict[int, Any] = {}
        self._was_subreaper = False
        self.started = time.time()
        self.cancelled = threading.Event()

    def __enter__(self) -> "Containment":
        self._was_subreaper = subreaper_active()
        if not self._was_subreaper:
            set_subreaper(True)
        if threading.current_thread() is threading.main_thread():
            self._catch_signals()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if exc_info[0] is not None:
            self.cancelled.set()
            self.kill_all()

    def close(self) -> List[psutil.Process]:
        """After the last run: orphans nobody could be blamed for killed (and
        returned), signal handlers and subreaper state as they were."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()
        with self._lock:
            retired, self._retired = self._retired, []
        for tree in retired:
            tree.reap_keeper()
        left = []
        if subreaper_active():
            left = [p for p in _adopted("", self.started, Company(alone=True, own=frozenset())) if _same_process(p)]
            for process in left:
                _kill(process)
            psutil.wait_procs(left, timeout=2)
        if not self._was_subreaper:
            set_subreaper(False)
        return left

    def add(self, tree: Tree) -> None:
        with self._lock:
            self._trees[tree.token] = tree

    def remove(self, tree: Tree) -> None:
        with self._lock:
            self._trees.pop(tree.token, None)
            self._retired.append(tree)

    @contextmanager
    def spawning(self) -> Iterator[None]:
        """Around starting a keeper or probe and noting its pid: no tree is
        judged meanwhile, or a process gclint is starting (between fork and
        exec it has gclint's environment, without a token) would look like
        an orphan with a scrubbed environment."""
        with self._lock:
            yield

    def members(self, tree: Tree) -> List[psutil.Process]:
        with self._lock:
            return tree.members(self._company(tree))

    def kill(self, tree: Tree) -> None:
        with self._lock:
            tree.kill(self._company(tree))

    def _company(self, tree: Tree) -> Company:
        own = frozenset(pid for t in list(self._trees.values()) + self._retired for pid in t.own_pids())
        return Company(alone=set(self._trees) <= {tree.token}, own=own)

    def kill_all(self) -> None:
        with self._lock:
            trees = list(self._trees.values())
        for tree in trees:
            self.kill(tree)
            if tree.scratch:
                shutil.rmtree(tree.scratch, ignore_errors=True)

    def _catch_signals(self) -> None:
        for name in _CAUGHT_SIGNALS:
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            current = signal.getsignal(signum)
            if current is signal.SIG_IGN or current is None:
                continue  # ignored (a background job's SIGINT): stays ignored
            self._previous[signum] = current
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.cancelled.set()
        self.kill_all()
        previous = self._previous.get(signum, signal.SIG_DFL)
        self.close()
        if callable(previous):
            previous(signum, frame)  # SIGINT's default raises KeyboardInterrupt
        else:
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)  # end the way the signal would have ended us
