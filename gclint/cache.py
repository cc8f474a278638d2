"""A content-hash cache of findings, safe under concurrent runs.

An entry is keyed by the file's bytes, its path, the effective settings and
gclint's own code, so any change to one of them misses. Entries are written
atomically (temporary file + rename); an entry that is unreadable, corrupt
or was written for another key is ignored and rewritten, never trusted.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import List, Optional

from gclint import __version__
from gclint.model import Finding, Severity

_FORMAT = 1


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


class Cache:
    def __init__(self, directory: str, settings_fingerprint: str) -> None:
        self.directory = Path(directory)
        self._salt = f"{code_fingerprint()}:{settings_fingerprint}"

    def key(self, path: str, data: bytes) -> str:
        digest = hashlib.sha256(self._salt.encode())
        digest.update(b"\0" + path.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(data)
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Optional[List[Finding]]:
        try:
            with open(self._entry(key), "rb") as f:
                entry = json.loads(f.read())
            if entry.get("key") != key:
                return None
            return [_finding(d) for d in entry["findings"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def put(self, key: str, findings: List[Finding]) -> None:
        target = self._entry(key)
        payload = json.dumps({"key": key, "findings": [f.as_dict() for f in findings]})
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _ignore_in_git(self.directory)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(payload)
            os.replace(tmp, target)
        except OSError:
            pass  # a cache that cannot be written only costs speed


def _finding(data: dict) -> Finding:
    return Finding(
        path=data["path"],
        line=int(data["line"]),
        col=int(data["col"]),
        code=str(data["code"]),
        message=str(data["message"]),
        severity=Severity(data["severity"]),
        end_line=data.get("end_line"),
        end_col=data.get("end_col"),
    )


def _ignore_in_git(directory: Path) -> None:
    marker = directory / ".gitignore"
    if not marker.exists():
        try:
            marker.write_text("# created by gclint\n*\n")
        except OSError:
            pass
