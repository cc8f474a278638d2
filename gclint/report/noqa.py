"""`gclint check --add-noqa`: suppress today's findings where they are.

ruff's convention: `# noqa: CODE` at the end of the flagged line, merged
into a `# noqa: ...` comment the line already has. A line whose end lies
inside a string or after a backslash cannot take a comment; its findings
are listed instead of the file being broken.
"""
from __future__ import annotations

import io
import os
import re
import tempfile
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Collection, Dict, List, Optional, Sequence, Set, Tuple

from gclint.model import Finding
from gclint.report.sources import read_regular_file

# The engine's own codes are about the whole file; a noqa comment cannot
# suppress them.
FILE_LEVEL = ("GCL001", "GCL002", "GCL003")
MAX_BYTES = 64 * 1024 * 1024
_NOQA_CODES = re.compile(r"(?P<head>#\s*noqa\s*:\s*)(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*)", re.I)
_PHYSICAL_LINE = re.compile(r".*?(?:\r\n|\r|\n)|.+", re.S)
_LINE_END = re.compile(r"[ \t]*(\r\n|\r|\n)?$")


@dataclass
class NoqaOutcome:
    added: int = 0
    files: int = 0
    skipped: List[str] = field(default_factory=list)


def add_noqa(findings: Sequence[Finding], checked: Collection[str]) -> NoqaOutcome:
    outcome = NoqaOutcome()
    for path, wanted in _codes_by_line(findings, checked, outcome).items():
        added = _add_to_file(path, wanted, outcome)
        if added:
            outcome.added += added
            outcome.files += 1
    return outcome


def _codes_by_line(findings: Sequence[Finding], checked: Collection[str], outcome: NoqaOutcome) -> Dict[str, Dict[int, List[str]]]:
    wanted: Dict[str, Dict[int, List[str]]] = defaultdict(lambda: defaultdict(list))
    for f in findings:
        if f.code in FILE_LEVEL:
            outcome.skipped.append(f"{f.path}:{f.line}: {f.code} is about the whole file; a noqa comment cannot suppress it")
        elif f.path not in checked:
            outcome.skipped.append(f"{f.path}:{f.line}: {f.code} is not in a file this run checked")
        elif f.code not in wanted[f.path][f.line]:
            wanted[f.path][f.line].append(f.code)
    return wanted


def _add_to_file(path: str, wanted: Dict[int, List[str]], outcome: NoqaOutcome) -> int:
    data = read_regular_file(path, MAX_BYTES)
    decoded = _decode(data) if data is not None else None
    if decoded is None:
        outcome.skipped.extend(f"{path}:{line}: cannot read or decode the file again" for line in wanted)
        return 0
    text, encoding = decoded
    lines = _PHYSICAL_LINE.findall(text)
    open_lines = commentable_lines(text)
    if open_lines is None:
        outcome.skipped.extend(f"{path}:{line}: the file does not tokenize" for line in wanted)
        return 0
    added = 0
    for number, codes in sorted(wanted.items()):
        if number not in open_lines or not 0 < number <= len(lines):
            outcome.skipped.append(f"{path}:{number}: {', '.join(codes)}: the line ends inside a string or after a backslash")
            continue
        lines[number - 1] = with_noqa(lines[number - 1], codes)
        added += 1
    if added:
        _replace(path, "".join(lines).encode(encoding))
    return added


def _decode(data: bytes) -> Optional[Tuple[str, str]]:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding), encoding
    except (SyntaxError, UnicodeError, LookupError):
        return None


def commentable_lines(text: str) -> Optional[Set[int]]:
    """Lines whose end is outside any string and not after a backslash: the
    tokenizer ends exactly those with a NEWLINE or NL token."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return None
    return {t.start[0] for t in tokens if t.type in (tokenize.NEWLINE, tokenize.NL)}


def with_noqa(line: str, codes: Sequence[str]) -> str:
    """`line` with `codes` added to its noqa comment (a new one if none)."""
    match = _NOQA_CODES.search(line)
    if match:
        present = [c for c in re.split(r"[,\s]+", match.group("codes")) if c]
        merged = ", ".join(present + [c for c in codes if c not in present])
        return line[: match.start("codes")] + merged + line[match.end("codes"):]
    end = _LINE_END.search(line)
    ending = end.group(1) or ""
    return f"{line[: end.start()]}  # noqa: {', '.join(codes)}{ending}"


def _replace(path: str, data: bytes) -> None:
    """Write atomically, keeping the file's permissions."""
    mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".gclint-noqa-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
