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

from gclint.dynamic.contain import TOKEN_VARIABLE, Containment, Tree, new_token
from gclint.dynamic.evidence import allowed_paths, read_evidence

PROBE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probe.py")
# Output beyond this is a flood: the target is stopped.
FLOOD_BYTES = 16 * 1024 * 1024
# How much of stderr is kept to explain a failure.
STDERR_TAIL = 16 * 1024
# Time a stopped target gets to collect and write its evidence before it is killed.
GRACE_SECONDS = 5.0
# After the target exits, how long its pipes may stay open (held by a leftover process).
PIPE_GRACE_SECONDS = 0.3
POLL_SECONDS = 0.05
# How long a process the target started may take to end after the target did
# (generous: a loaded machine starts a short-lived child slowly, and only a
# target that really leaves a process behind pays for it).
LEFTOVER_GRACE_SECONDS = 5.0


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
    # Worth saying, but the run still saw all of the target (dropped evidence items).
    notes: List[str] = field(default_factory=list)
    # Everything the target wrote on stdout and stderr, as it came (at most
    # FLOOD_BYTES and one read more: past that it is stopped).
    output: str = ""

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
    # Both streams as they came, the end of them: what a failing target said last.
    output_tail: bytes = b""
    output: bytearray = field(default_factory=bytearray)
    returncode: Optional[int] = None
    leftovers: List[str] = field(default_factory=list)


def run_target(
    target: Target, watched: Sequence[str], python: str, timeout: float, memory_limit_mb: int, frames: int,
    containment: Optional[Containment] = None,
) -> ChildRun:
    containment = containment or Containment()
    with tempfile.TemporaryDirectory(prefix="gclint-dynamic-") as tmp:
        tree = Tree(token=new_token(), scratch=tmp)
        containment.add(tree)
        try:
            return _run_in(tmp, tree, target, watched, python, timeout, memory_limit_mb, frames, containment)
        finally:
            containment.remove(tree)


def _run_in(tmp: str, tree: Tree, target: Target, watched: Sequence[str], python: str, timeout: float, memory_limit_mb: int, frames: int, containment: Containment) -> ChildRun:
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
    environment = dict(os.environ, **{TOKEN_VARIABLE: tree.token})
    with containment.spawning():
        tree.start_keeper()
        try:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True, env=environment,
            )
        except OSError as exc:
            tree.release()
            return ChildRun(target, None, [f"cannot start {python}: {exc.strerror or exc}"])
        tree.watch(proc.pid)
    _limit_address_space(proc.pid, memory_limit_mb)
    watch = _supervise(proc, timeout, tree, containment)
    evidence, malformed = read_evidence(evidence_path, allowed_paths(watched, [target.spec["script"]] if "script" in target.spec else []))
    problems = _problems(watch, evidence, timeout, memory_limit_mb, watched)
    return ChildRun(target, evidence, problems, notes=malformed, output=watch.output.decode("utf-8", "replace"))


def _limit_address_space(pid: int, megabytes: int) -> None:
    """RLIMIT_AS from outside (the probe also sets it on itself first thing,
    where prlimit does not exist)."""
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.prlimit(pid, resource.RLIMIT_AS, (limit, limit))
    except (ImportError, AttributeError, OSError, ValueError):
        pass


def _supervise(proc: subprocess.Popen, timeout: float, tree: Tree, containment: Containment) -> _Watch:
    watch = _Watch()
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
            if containment.cancelled.is_set():
                watch.stopped_for = watch.stopped_for or "cancelled"
                containment.kill(tree)
            if watch.stopped_for is None and (now > deadline or watch.output_bytes > FLOOD_BYTES):
                watch.stopped_for = "timeout" if now > deadline else "flood"
                _signal(proc, signal.SIGTERM)
                kill_at = now + GRACE_SECONDS
            if kill_at is not None and now > kill_at:
                containment.kill(tree)
            if not _exited(proc):
                tree.remember_descendants()
                continue
            exited_at = exited_at or now
            if not selector.get_map() or now - exited_at > PIPE_GRACE_SECONDS:
                break
    finally:
        watch.leftovers = _kill_leftovers(proc, tree, containment)
        # Before the probe is reaped: until then its pid, the keeper's
        # target group, cannot be reused.
        tree.release()
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
        if len(watch.output) <= FLOOD_BYTES:
            watch.output += data
        watch.output_tail = (watch.output_tail + data)[-STDERR_TAIL:]
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


def _kill_leftovers(proc: subprocess.Popen, tree: Tree, containment: Containment) -> List[str]:
    """Kill whatever the target left running; describe it."""
    if not _exited(proc):
        containment.kill(tree)
        proc.wait()
        return []
    # A child that is about to end on its own (started just before the
    # target returned) is not a leftover.
    candidates = [p for p in containment.members(tree) if _running(p)]
    _, alive = psutil.wait_procs(candidates, timeout=LEFTOVER_GRACE_SECONDS)
    alive = [p for p in alive if _running(p)]
    described = [_describe(p) for p in alive]
    containment.kill(tree)
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
        if problems and outcome.get("status") == "exit":
            problems[-1] += _last_words(watch.output_tail)
    if watch.leftovers:
        noun = "process" if len(watch.leftovers) == 1 else "processes"
        problems.append(f"left {len(watch.leftovers)} {noun} running after it ended ({'; '.join(watch.leftovers)}); killed")
    return problems


def _last_words(output: bytes, lines: int = 3) -> str:
    """The end of what the target printed (a test runner's summary line)."""
    said = [line.strip() for line in output.decode("utf-8", "replace").splitlines() if line.strip()][-lines:]
    if not said:
        return ""
    shown = " | ".join(line[:200].encode("unicode_escape").decode("ascii") for line in said)
    return f"; its output ends: {shown}"


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
