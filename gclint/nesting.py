"""How deeply a file nests, measured before libcst ever sees it.

libcst's native parser recurses once per level of nesting and has no limit
of its own: about 1,300 nested brackets overflow its stack and kill the
process (SIGSEGV, nothing to catch), and a long operator chain costs it
quadratic time (a 1,000-term sum takes 2 s, 4,000 terms 49 s) before it
overflows too. CPython's tokenizer refuses more than 200 nested brackets on
every version gclint supports, so a file deeper than that is not valid
Python and can be refused outright.

The scan is string-aware (brackets inside strings and comments do not count,
replacement fields of f-strings do) and cheap: a regular expression jumps
from one bracket, separator or quote to the next. Besides bracket depth it
estimates the depth of the expression tree: along the current path of open
brackets, the links chained since the last comma or statement end at each
level. A first pass counts code characters as links (an upper bound, for
free); only a file where that bound is high is counted again by operators.
"""
from __future__ import annotations

import re
from typing import List, NamedTuple, Optional, Tuple

# Every CPython from 3.9 to 3.14: "too many nested parentheses" past this.
MAX_BRACKETS = 200
# Links of one expression chain that libcst still parses in seconds and
# within its stack; a 1,000-term sum (which CPython compiles) stays under.
MAX_CHAIN = 5000

_OPEN = "([{"
_CLOSE = ")]}"
# One character class, so the search runs at C speed between events.
_CODE = re.compile(r"[()\[\]{},;#'\"\\\r\n]")
_FIELD = re.compile(r"[()\[\]{},;#'\"\\\r\n:!]")
_PREFIX = re.compile(r"(?<![\w])[rRbBuUfFtT]{1,2}\Z")
_OPERATOR = re.compile(r"[-+*/%@&|^~<>=!.]|\b(?:and|or|not|if|else|lambda|await|in|is|yield|for)\b")
_END_OF_LINE = re.compile(r"[\r\n]")


def _string_body(quote: str, formatted: bool) -> "re.Pattern[str]":
    """What ends a string body: its closing quote, a line end (single-quoted:
    unterminated), or (f/t-strings) a replacement field's `{`. Written as an
    unrolled loop (plain characters in runs, escapes one at a time) because
    a lazy per-character alternation is the slowest way to skip a docstring."""
    q = re.escape(quote[0])
    plain = f"[^\\\\{q}" + ("{" if formatted else "") + ("\\r\\n]" if len(quote) == 1 else "]")
    special = ["\\\\(?:\\r\\n|.)"]
    if len(quote) == 3:
        special.append(f"{q}(?!{q}{q})")
    if formatted:
        special.append("\\{\\{")
    stops = re.escape(quote) + ("|\\{" if formatted else "") + ("|\\r|\\n" if len(quote) == 1 else "")
    return re.compile(f"{plain}*(?:(?:{'|'.join(special)}){plain}*)*(?P<stop>{stops}|$)", re.S)


_BODIES = {(q, f): _string_body(q, f) for q in ("'", '"', "'''", '"""') for f in (False, True)}
_SPEC = re.compile(r"[^{}\r\n]*(?P<stop>[{}]|\r|\n|$)")


class Nesting(NamedTuple):
    brackets: int  # deepest bracket nesting
    chain: int  # estimated depth of the deepest expression
    line: int  # where the deepest bracket opened (1-based)
    col: int


class _Level:
    """One open bracket (or replacement field): where it started and the
    chain counted at the enclosing levels when it opened."""

    __slots__ = ("closer", "base", "links", "field_quote", "in_spec")

    def __init__(self, closer: str, base: int, field_quote: Optional[str] = None, in_spec: bool = False) -> None:
        self.closer, self.base, self.links = closer, base, 0
        # Set for a replacement field: the quote of its string, and whether
        # it sits in another field's format spec (where scanning resumes).
        self.field_quote, self.in_spec = field_quote, in_spec


class _Scan:
    def __init__(self, text: str, by_operator: bool) -> None:
        self.text, self.by_operator = text, by_operator
        self.levels: List[_Level] = [_Level("", 0)]
        self.deepest_bracket, self.deepest_at, self.chain = 0, 0, 0

    def gap(self, start: int, end: int) -> None:
        """Code between two events adds links to the innermost chain."""
        if end <= start:
            return
        top = self.levels[-1]
        if self.by_operator:
            top.links += len(_OPERATOR.findall(self.text, start, end))
        else:
            top.links += end - start
        self.chain = max(self.chain, top.base + top.links)

    def link(self) -> None:
        top = self.levels[-1]
        top.links += 1
        self.chain = max(self.chain, top.base + top.links)

    def open(self, closer: str, at: int, field_quote: Optional[str] = None, in_spec: bool = False) -> None:
        top = self.levels[-1]
        self.levels.append(_Level(closer, top.base + top.links, field_quote, in_spec))
        depth = len(self.levels) - 1
        if depth > self.deepest_bracket:
            self.deepest_bracket, self.deepest_at = depth, at

    def close(self, char: str) -> Optional[_Level]:
        """Pop to the matching level (a stray closer pops nothing); the
        group becomes one link of the enclosing chain."""
        for index in range(len(self.levels) - 1, 0, -1):
            if self.levels[index].closer == char:
                closed = self.levels[index]
                del self.levels[index:]
                self.link()
                return closed
        return None

    def separate(self) -> None:
        self.levels[-1].links = 0


def measure(text: str) -> Nesting:
    """Bracket depth and expression-chain estimate of `text`."""
    scan = _run(text, by_operator=False)
    if scan.chain > MAX_CHAIN:
        scan = _run(text, by_operator=True)
    line = text.count("\n", 0, scan.deepest_at) + 1
    col = scan.deepest_at - (text.rfind("\n", 0, scan.deepest_at) + 1) + 1
    return Nesting(scan.deepest_bracket, scan.chain, line, col)


def _run(text: str, by_operator: bool) -> _Scan:
    scan = _Scan(text, by_operator)
    levels, pos, size = scan.levels, 0, len(text)
    # The common events (brackets, commas, line ends outside fields) are
    # handled inline: this loop is the whole cost of the pre-check.
    while pos < size:
        top = levels[-1]
        in_field = top.field_quote is not None
        match = (_FIELD if in_field else _CODE).search(text, pos)
        if match is None:
            scan.gap(pos, size)
            break
        start = match.start()
        char = text[start]
        if by_operator:
            scan.gap(pos, start)
        else:
            top.links += start - pos
            if top.base + top.links > scan.chain:
                scan.chain = top.base + top.links
        pos = start + 1
        if char == "," or char == ";":
            top.links = 0
        elif char == "\n" or char == "\r":
            if len(levels) == 1:
                top.links = 0
        elif char in _OPEN:
            scan.open(_CLOSE[_OPEN.index(char)], start)
            if scan.deepest_bracket > MAX_BRACKETS:
                break  # refused anyway; the rest cannot change that
        else:
            pos = _event(scan, char, start, in_field)
    return scan


def _event(scan: _Scan, char: str, start: int, in_field: bool) -> int:
    text, end = scan.text, start + 1
    if char in _CLOSE:
        return _after_close(scan, scan.close(char), end)
    if char == "\\":
        # A line continuation (or a stray backslash): the statement goes on.
        return end + (2 if text.startswith("\r\n", end) else 1)
    if char == "#":
        found = _END_OF_LINE.search(text, end)
        return found.start() if found else len(text)
    if char in "'\"":
        scan.link()
        return _skip_string(scan, start)
    if in_field and not text.startswith("=", end):
        return _skip_format_spec(scan, end)  # `:` or `!` starts the spec or conversion
    return end


def _skip_string(scan: _Scan, start: int) -> int:
    text = scan.text
    quote = text[start] * 3 if text.startswith(text[start] * 3, start) else text[start]
    prefix = _PREFIX.search(text, max(0, start - 3), start)
    letters = prefix.group().lower() if prefix else ""
    formatted = "f" in letters or "t" in letters
    return _skip_string_body(scan, quote, formatted, start + len(quote))


def _skip_string_body(scan: _Scan, quote: str, formatted: bool, at: int) -> int:
    found = _BODIES[(quote, formatted)].match(scan.text, at)
    if found is None:
        return len(scan.text)  # unterminated: a syntax error Python reports
    stop = found.group("stop")
    if stop == "{":
        # A replacement field: code again until its `}`, then the string goes on.
        scan.open("}", found.start("stop"), field_quote=quote)
    return found.end()


def _skip_format_spec(scan: _Scan, at: int) -> int:
    """A format spec is text, except that `{` nests a field and `}` ends it."""
    found = _SPEC.match(scan.text, at)
    stop = found.group("stop") if found else ""
    if stop == "{":
        scan.open("}", found.start("stop"), field_quote=scan.levels[-1].field_quote, in_spec=True)
        return found.end()
    if stop == "}":
        return _after_close(scan, scan.close("}"), found.end())
    return found.end() if found else len(scan.text)


def _after_close(scan: _Scan, closed: Optional[_Level], at: int) -> int:
    """After a replacement field closes, its string (or the enclosing
    field's format spec) goes on."""
    if closed is None or closed.field_quote is None:
        return at
    if closed.in_spec:
        return _skip_format_spec(scan, at)
    return _skip_string_body(scan, closed.field_quote, True, at)
