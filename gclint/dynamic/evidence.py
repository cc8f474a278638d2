"""Reading the probe's evidence file without trusting it.

The file is written by a process that runs the target's code, so anything
can be in it: a truncated document, a symlink to /dev/zero, an item without
a line, a path gclint never checked. Every item is checked against the
shape its kind must have; a bad one is dropped and counted, never fatal,
and the rest of the evidence is kept.
"""
from __future__ import annotations

import json
import math
import os
import stat
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Set, Tuple

# An evidence file larger than this is not the probe's.
MAX_EVIDENCE_BYTES = 256 * 1024 * 1024
MAX_TEXT = 2000
MAX_LIST = 10000

Check = Callable[[Any], bool]


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    return (_int(value) or isinstance(value, float)) and math.isfinite(value) and value >= 0


def _text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TEXT


def _optional(check: Check) -> Check:
    return lambda value: value is None or check(value)


def _list_of(check: Check) -> Check:
    return lambda value: isinstance(value, list) and len(value) <= MAX_LIST and all(check(v) for v in value)


def _bool(value: Any) -> bool:
    return isinstance(value, bool)


def _counts(value: Any) -> bool:
    return isinstance(value, dict) and len(value) <= MAX_LIST and all(_text(k) and _int(v) for k, v in value.items())


# Fields any kind may carry (checked in _places_problem), and each kind's own (required, optional).
_PLACE_FIELDS = ("kind", "path", "line", "frames", "sites", "classes", "function", "released_at", "restored_at", "steps")
_SHAPES: Dict[str, Tuple[Dict[str, Check], Dict[str, Check]]] = {
    "cycle": (
        {"objects": _int, "cycles": _int},
        {"bytes": _int, "types": _counts, "chain": _optional(_text), "site_from": _optional(_text),
         "checkpoints": _list_of(_text), "sampled": lambda v: isinstance(v, dict) and _int(v.get("examined")) and _int(v.get("garbage"))},
    ),
    "resurrection": (
        {"objects": _int},
        {"detected_by": _optional(_text), "refcount_grew": _bool, "held_by": _optional(_text)},
    ),
    "resource-warning": ({"message": _text}, {"count": _int}),
    "finalizer-exception": ({"exception": _text}, {"in": _optional(_text), "count": _int}),
    "gc-call": (
        {"calls": _int, "reclaimed": _int, "seconds": _number},
        {"generations": _list_of(lambda g: g in (0, 1, 2)), "missed_in_older_generations": _int},
    ),
    "gc-state": (
        {"call": _text, "effect": _text},
        {"calls": _int, "seconds": _number, "kept_objects": _int, "at_exit": _bool},
    ),
    "retained-object": ({}, {"objects": _int, "bytes": _int, "blocks": _int}),
    # --repeat: what kept growing over the measured runs (gclint/dynamic/growth.py).
    "retained": (
        {"runs": _int},
        {"warmup_runs": _int, "objects": _int, "bytes": _int, "objects_per_run": _list_of(_int), "bytes_per_run": _list_of(_int),
         "types": _counts, "grown_by": _text, "message": _text, "chain": _optional(_text), "chain_steps": _list_of(lambda s: _chain_step(s)),
         "chain_missing": _text},
    ),
    # --repeat: the collections the repeated runs of main() caused (gclint/dynamic/gcprofile.py).
    "gc-profile": (
        {"runs": _int, "collections": _counts},
        {"collected": _int, "uncollectable": _int, "pause_seconds": _number, "longest_pause_seconds": _number, "gclint_collections": _int},
    ),
}
KINDS = frozenset(_SHAPES)
_EDGE_KINDS = frozenset({"attr", "key", "index", "cell", "item", "referent"})


def _chain_step(value: Any) -> bool:
    """One step of a retaining chain (growth.py's docstring); its site is checked with the places."""
    if not isinstance(value, dict) or not _text(value.get("type")) or not _optional(_text)(value.get("name")):
        return False
    edge = value.get("edge")
    edge_ok = edge is None or (isinstance(edge, dict) and edge.get("kind") in _EDGE_KINDS and _optional(_text)(edge.get("label")))
    site = value.get("site")
    return edge_ok and (site is None or (isinstance(site, list) and len(site) == 2))


# Fields of every kind: the tests that showed it (a suite run through the pytest plugin).
_COMMON: Dict[str, Check] = {"tests": _list_of(_text), "test_count": _int}


class Places:
    """Which (path, line) pairs evidence may name: lines of the files gclint
    ran, nothing else (a forged path must not make gclint read a file)."""

    def __init__(self, allowed: Collection[str]) -> None:
        self.allowed = set(allowed)
        self._lengths: Dict[str, Optional[int]] = {}

    def add_file(self, path: Any) -> None:
        """A file the probe added (a --run module's own file): a regular .py file."""
        if isinstance(path, str) and path.endswith(".py") and os.path.isabs(path):
            try:
                if stat.S_ISREG(os.stat(path).st_mode):
                    self.allowed.add(os.path.realpath(path))
            except OSError:
                pass

    def path(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.allowed

    def site(self, value: Any) -> bool:
        return isinstance(value, list) and len(value) == 2 and self.line(value[0], value[1])

    def line(self, path: Any, line: Any) -> bool:
        if not self.path(path) or not _int(line) or line < 1:
            return False
        length = self._length(path)
        return length is None or line <= length

    def _length(self, path: str) -> Optional[int]:
        if path not in self._lengths:
            try:
                with open(path, "rb") as source:
                    self._lengths[path] = source.read().count(b"\n") + 1
            except OSError:
                self._lengths[path] = None
        return self._lengths[path]


def _class_ok(places: Places, value: Any) -> bool:
    if not isinstance(value, dict) or not _text(value.get("name")):
        return False
    path, line = value.get("path"), value.get("line")
    return (path is None and line is None) or places.line(path, line)


def item_problem(item: Any, places: Places) -> Optional[str]:
    """Why this evidence item cannot be used, or None when it can."""
    if not isinstance(item, dict):
        return f"not an object ({type(item).__name__})"
    kind = item.get("kind")
    if kind not in _SHAPES:
        return f"unknown kind {str(kind)[:40]!r}"
    if not places.line(item.get("path"), item.get("line")):
        return f"{kind}: path and line are not a line of a checked file"
    required, optional = _SHAPES[kind]
    for key, check in required.items():
        if key not in item or not check(item[key]):
            return f"{kind}: {key!r} missing or malformed"
    for key, check in {**optional, **_COMMON}.items():
        if key in item and not check(item[key]):
            return f"{kind}: {key!r} malformed"
    return _places_problem(item, places)


def _places_problem(item: Mapping[str, Any], places: Places) -> Optional[str]:
    kind = item["kind"]
    for key in ("frames", "sites"):
        if key in item and not (isinstance(item[key], list) and all(places.site(s) for s in item[key][:MAX_LIST])):
            return f"{kind}: {key!r} names a place outside the checked files"
    for key in ("released_at", "restored_at"):
        if item.get(key) is not None and not places.site(item[key]):
            return f"{kind}: {key!r} names a place outside the checked files"
    if "steps" in item and not _steps_ok(item["steps"], places):
        return f"{kind}: 'steps' malformed"
    steps = item.get("chain_steps") if kind == "retained" else None
    if steps and not all(s.get("site") is None or places.site(s["site"]) for s in steps):
        return f"{kind}: 'chain_steps' names a place outside the checked files"
    if "function" in item and item["function"] is not None and not _function_ok(item["function"], places):
        return f"{kind}: 'function' malformed"
    if "classes" in item and not (isinstance(item["classes"], list) and all(_class_ok(places, c) for c in item["classes"][:MAX_LIST])):
        return f"{kind}: 'classes' malformed"
    return None


# A picture's steps (gclint/report/graph.py): few, each a type, a reference, a site.
_MAX_STEPS = 100


def _steps_ok(value: Any, places: Places) -> bool:
    return isinstance(value, list) and len(value) <= _MAX_STEPS and all(_step_ok(step, places) for step in value)


def _step_ok(step: Any, places: Places) -> bool:
    if not isinstance(step, dict) or not _text(step.get("type")) or not _text(step.get("edge", "")):
        return False
    if "name" in step and not _text(step["name"]):
        return False
    return step.get("site") is None or places.site(step["site"])


def _function_ok(value: Any, places: Places) -> bool:
    # [path, line] of the finalizer, path None when it is not in a checked file.
    return isinstance(value, list) and len(value) == 2 and (value[0] is None or places.line(value[0], value[1]))


# -- the whole document --------------------------------------------------------


def read_evidence(path: str, allowed: Collection[str]) -> Tuple[Optional[Dict[str, Any]], List[str]]:
    """The evidence document with only usable parts, and what was dropped."""
    raw, problem = _read_capped(path)
    if raw is None:
        return None, [problem] if problem else []
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None, ["the evidence file is not valid JSON; its evidence is lost"]
    if not isinstance(data, dict):
        return None, ["the evidence file does not hold an object; its evidence is lost"]
    return sanitize(data, allowed)


def _read_capped(path: str) -> Tuple[Optional[bytes], Optional[str]]:
    """A regular file, not followed through a symlink, at most MAX_EVIDENCE_BYTES."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        return None, None  # the parent explains a missing file from the exit status
    except OSError as exc:
        return None, f"cannot open the evidence file ({exc.strerror or exc}); its evidence is lost"
    with os.fdopen(descriptor, "rb") as source:
        info = os.fstat(source.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, "the evidence file is not a regular file; its evidence is lost"
        if info.st_size > MAX_EVIDENCE_BYTES:
            return None, f"the evidence file is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB; its evidence is lost"
        return source.read(MAX_EVIDENCE_BYTES + 1)[:MAX_EVIDENCE_BYTES], None


def sanitize(data: Mapping[str, Any], allowed: Collection[str]) -> Tuple[Dict[str, Any], List[str]]:
    places = Places(allowed)
    added = data.get("added_files")
    for extra in added if isinstance(added, list) else ():
        places.add_file(extra)
    kept: List[Dict[str, Any]] = []
    reasons: List[str] = []
    items = data.get("evidence")
    for item in items if isinstance(items, list) else ():
        problem = item_problem(item, places)
        if problem is None:
            kept.append(_known_fields(item))
        else:
            reasons.append(problem)
    if items is not None and not isinstance(items, list):
        reasons.append("'evidence' is not a list")
    clean = {
        "python": data.get("python") if _text(data.get("python")) else None,
        "outcome": _outcome(data.get("outcome"), places),
        "evidence": kept,
        "lines": _lines(data.get("lines"), places),
        "rss": _rss(data.get("rss")),
    }
    return clean, _dropped(reasons)


def _known_fields(item: Mapping[str, Any]) -> Dict[str, Any]:
    """Only what the kind defines: nothing else reaches the reports."""
    required, optional = _SHAPES[item["kind"]]
    return {k: v for k, v in item.items() if k in _PLACE_FIELDS or k in required or k in optional or k in _COMMON}


def _dropped(reasons: List[str]) -> List[str]:
    if not reasons:
        return []
    noun = "item" if len(reasons) == 1 else "items"
    return [f"{len(reasons)} malformed evidence {noun} dropped (first: {reasons[0]})"]


def _outcome(value: Any, places: Places) -> Dict[str, Any]:
    """The target's outcome; a malformed one reads as "ended early"."""
    if not isinstance(value, dict) or not _text(value.get("status")):
        return {"status": "running"}
    outcome: Dict[str, Any] = {"status": value["status"]}
    if _text(value.get("error")):
        outcome["error"] = value["error"]
    code = value.get("code")
    if code is None or (isinstance(code, int) and not isinstance(code, bool)) or _text(code):
        outcome["code"] = code
    if places.site(value.get("at")):
        outcome["at"] = value["at"]
    return outcome


def _lines(value: Any, places: Places) -> Dict[str, List[int]]:
    if not isinstance(value, dict):
        return {}
    lines: Dict[str, List[int]] = {}
    for path, ran in value.items():
        if places.path(path) and isinstance(ran, list):
            lines[path] = [n for n in ran if _int(n)]
    return lines


def _rss(value: Any) -> Dict[str, Optional[int]]:
    if not isinstance(value, dict):
        return {}
    return {key: value[key] for key in ("start", "after", "exit") if _int(value.get(key))}


def allowed_paths(watched: Collection[str], extra: Collection[str] = ()) -> Set[str]:
    return {os.path.realpath(p) for p in list(watched) + list(extra)}
