"""The parent side of one target: start the probe, watch it, clean up after it.

Whatever the target does (hang, crash by signal, os._exit, flood its output,
leave processes behind, fail at import), the result is a ChildRun with a
one-line problem description, never an exception in gclint.
"""
from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

import psutil

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.py")
# Output beyond this is a flood: the target is stopped.
FLOOD_BYTES = 16 * 1024 * 1024
# How much of stderr is kept to explain a failure.
STDERR_TAIL = 16 * 1024
# Time a stopped target gets to write its evidence before it is killed.
GRACE_SECONDS = 2.0
# After the target exits, how long its pipes may stay open (held by a leftover process).
PIPE_GRACE_SECONDS = 0.3
POLL_SECONDS = 0.05
# How long a process the target started may take to end after the target did.
LEFTOVER_GRACE_SECONDS = 1.0


@dataclass(frozen=True)
class Target:
    """What to run: {"file": path} (call its main()), {"script": path, "args": [...]}
    or {"module": name, "args": [...]}; `label` names it in diagnostics."""

    label: str
    spec: Mapping[str, Any]


@dataclass
class ChildRun:
    target: Target
    evidence: Optional[Dict[str, Any]]
    problems: List[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """The target ran to its end and the probe saw all of it."""
        return self.evidence is not None and not self.problems


@dataclass
class _Watch:
    """What the supervision loop saw."""

    stopped_for: Optional[str] = None
    output_bytes: int = 0
    stderr_tail: bytes = b""
    returncode: Optional[int] = None
    leftovers: List[str] = field(default_factory=list)


def run_target(target: Target, watched: Sequence[str], python: str, timeout: float, memory_limit_mb: int, frames: int) -> ChildRun:
    with tempfile.TemporaryDirectory(prefix="gclint-dynamic-") as tmp:
        evidence_path = os.path.join(tmp, "evidence.json")
        config_path = os.path.join(tmp, "config.json")
        config = {
            "target": dict(target.spec), "watched": list(watched), "evidence": evidence_path,
            "memory_limit_mb": memory_limit_mb, "tracemalloc_frames": frames,
        }
        with open(config_path, "w", encoding="utf-8") as out:
            json.dump(config, out)
        # The probe starts tracemalloc itself, right before the target: see _start_tracing.
        command = [python, PROBE, config_path]
        try:
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        except OSError as exc:
            return ChildRun(target, None, [f"cannot start {python}: {exc.strerror or exc}"])
        _limit_address_space(proc.pid, memory_limit_mb)
        watch = _supervise(proc, timeout)
        evidence = _read_evidence(evidence_path)
    return ChildRun(target, evidence, _problems(watch, evidence, timeout, memory_limit_mb, watched))


def _limit_address_space(pid: int, megabytes: int) -> None:
    """RLIMIT_AS from outside (the probe also sets it on itself first thing,
    where prlimit does not exist)."""
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    except (ImportError, AttributeError, OSError, ValueError):
        pass


def _read_evidence(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as source:
            data = json.load(source)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# -- supervision ----------------------------------------------------------------


def _supervise(proc: subprocess.Popen, timeout: float) -> _Watch:
    watch = _Watch()
    family: Dict[int, psutil.Process] = {}
    deadline = time.monotonic() + timeout
    kill_at: Optional[float] = None
    exited_at: Optional[float] = None
    selector = selectors.DefaultSelector()
    for stream in (proc.stdout, proc.stderr):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ)
    try:
        while True:
            _read_available(selector, proc, watch)
            now = time.monotonic()
            if watch.stopped_for is None and (now > deadline or watch.output_bytes > FLOOD_BYTES):
                watch.stopped_for = "timeout" if now > deadline else "flood"
                _signal(proc, signal.SIGTERM)
                kill_at = now + GRACE_SECONDS
            if kill_at is not None and now > kill_at:
                _kill_group(proc, family)
            if not _exited(proc):
                _remember_descendants(proc, family)
                continue
            exited_at = exited_at or now
            if not selector.get_map() or now - exited_at > PIPE_GRACE_SECONDS:
                break
    finally:
        watch.leftovers = _kill_leftovers(proc, family)
        watch.returncode = proc.wait()
        selector.close()
        proc.stdout.close()
        proc.stderr.close()
    return watch


def _read_available(selector: selectors.BaseSelector, proc: subprocess.Popen, watch: _Watch) -> None:
    if not selector.get_map():
        time.sleep(POLL_SECONDS)
        return
    for key, _ in selector.select(POLL_SECONDS):
        try:
            data = os.read(key.fileobj.fileno(), 1 << 16)
        except BlockingIOError:
            continue
        if not data:
            selector.unregister(key.fileobj)
            continue
        watch.output_bytes += len(data)
        if key.fileobj is proc.stderr:
            watch.stderr_tail = (watch.stderr_tail + data)[-STDERR_TAIL:]


def _exited(proc: subprocess.Popen) -> bool:
    """Whether the child has ended, without reaping it: while it is a zombie
    its process group cannot be reused, so leftovers can be found by group."""
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal(proc: subprocess.Popen, signum: int) -> None:
    try:
        os.kill(proc.pid, signum)
    except ProcessLookupError:
        pass


def _remember_descendants(proc: subprocess.Popen, family: Dict[int, psutil.Process]) -> None:
    """Processes the target started, remembered even if they leave its group."""
    try:
        for child in psutil.Process(proc.pid).children(recursive=True):
            family.setdefault(child.pid, child)
    except psutil.Error:
        pass


def _group_members(pgid: int) -> List[psutil.Process]:
    members = []
    for process in psutil.process_iter():
        try:
            if process.pid != pgid and os.getpgid(process.pid) == pgid:
                members.append(process)
        except (OSError, psutil.Error):
            continue
    return members


def _kill_group(proc: subprocess.Popen, family: Dict[int, psutil.Process]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for process in family.values():
        try:
            process.kill()
        except psutil.Error:
            pass


def _kill_leftovers(proc: subprocess.Popen, family: Dict[int, psutil.Process]) -> List[str]:
    """Kill whatever the target left running; describe it."""
    if not _exited(proc):
        _kill_group(proc, family)
        proc.wait()
        return []
    candidates = {p.pid: p for p in _group_members(proc.pid)}
    for process in family.values():
        candidates.setdefault(process.pid, process)
    # A child that is about to end on its own (started just before the
    # target returned) is not a leftover.
    _, alive = psutil.wait_procs([p for p in candidates.values() if _running(p)], timeout=LEFTOVER_GRACE_SECONDS)
    alive = [p for p in alive if _running(p)]
    described = [_describe(p) for p in alive]
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=2)
    return described


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _describe(process: psutil.Process) -> str:
    try:
        command = " ".join(process.cmdline())[:80] or process.name()
    except psutil.Error:
        command = "?"
    return f"pid {process.pid}: {command}"


# -- what went wrong ------------------------------------------------------------


def _problems(watch: _Watch, evidence: Optional[Dict[str, Any]], timeout: float, memory_limit_mb: int, watched: Sequence[str]) -> List[str]:
    outcome = (evidence or {}).get("outcome") or {}
    problems = []
    if watch.stopped_for == "timeout":
        problems.append(f"timed out after {timeout:g} s (wall clock){_at(outcome)}; stopped")
    elif watch.stopped_for == "flood":
        problems.append(f"flooded its output (more than {FLOOD_BYTES // (1024 * 1024)} MiB on stdout/stderr); stopped")
    elif evidence is None:
        problems.append(_no_evidence(watch, watched))
    else:
        problems.extend(_outcome_problem(outcome, memory_limit_mb))
    if watch.leftovers:
        noun = "process" if len(watch.leftovers) == 1 else "processes"
        problems.append(f"left {len(watch.leftovers)} {noun} running after it ended ({'; '.join(watch.leftovers)}); killed")
    return problems


def _outcome_problem(outcome: Mapping[str, Any], memory_limit_mb: int) -> List[str]:
    status = outcome.get("status")
    error = str(outcome.get("error", ""))
    if status == "import-error":
        return [f"failed at import: {error}{_at(outcome)}"]
    if status == "exception":
        hint = f" (the address-space limit is {memory_limit_mb} MB; see --memory-limit)" if error.startswith("MemoryError") else ""
        return [f"raised {error}{_at(outcome)}{hint}"]
    if status == "os-exit":
        return [f"called os._exit({outcome.get('code')}){_at(outcome)}: no exit handlers, finalizers or final collection ran, so evidence after that point is missing"]
    if status == "exit" and outcome.get("code") not in (0, None):
        return [f"exited with status {outcome.get('code')}"]
    if status == "running":
        return ["ended before the probe finished (the evidence is partial)"]
    return []


def _no_evidence(watch: _Watch, watched: Sequence[str]) -> str:
    code = watch.returncode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"crashed by {name}{_fault_location(watch.stderr_tail, watched)}; no evidence"
    last = watch.stderr_tail.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
    return f"ended with status {code} without writing evidence ({last[0][:200]})"


def _fault_location(stderr: bytes, watched: Sequence[str]) -> str:
    """The innermost line of a checked file in faulthandler's traceback, if any."""
    for line in stderr.decode("utf-8", "replace").splitlines():
        match = _FAULT_FRAME.match(line)
        if match and os.path.realpath(match.group(1)) in watched:
            return f" at {_shown(match.group(1))}:{match.group(2)} in {match.group(3)}"
    return ""


_FAULT_FRAME = re.compile(r'\s*File "(.+)", line (\d+) in (\S+)')


def _at(outcome: Mapping[str, Any]) -> str:
    site = outcome.get("at")
    if not site:
        return ""
    return f" at {_shown(site[0])}:{site[1]}"


def _shown(path: str) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative
