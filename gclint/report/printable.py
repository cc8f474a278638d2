"""Text that is safe to print on one line of a terminal or a CI log.

File names and messages come from the checked tree (a file may be named
`a.py\\n::error file=x.py::...` or carry terminal escapes), so every
reporter that writes text passes them through here.
"""
from __future__ import annotations

import re

# C0 and C1 controls, DEL, line and paragraph separators, the bidirectional
# overrides ("Trojan Source"), and lone surrogates (an undecodable file name
# under surrogateescape, which would not even encode on stdout).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_BREAK = "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[ \t]*[{_BREAK}]\\s*")
_QUOTED = re.compile("`[^`]*`")
_FIRST_LINE = re.compile(f"[ \t]*[{_BREAK}].*", re.S)


def printable(text: str) -> str:
    """`text` with every unsafe character written as a Python escape."""
    return _UNSAFE.sub(_escaped, text)


def _escaped(match: "re.Match[str]") -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(message: str) -> str:
    """A message on one line: a `quoted` expression that spans lines is cut
    to its first line (`f(...)`); any other line break becomes a space."""
    message = _QUOTED.sub(_first_line_of_quote, message.strip())
    return _LINE_BREAK.sub(" ", message)


def _first_line_of_quote(match: "re.Match[str]") -> str:
    quoted = match.group()
    cut = _FIRST_LINE.sub("", quoted[1:-1])
    return quoted if len(cut) == len(quoted) - 2 else f"`{cut}...`"
