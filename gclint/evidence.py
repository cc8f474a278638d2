"""Why each rule is on or off by default: the measured numbers, in one line.

The numbers are those of each rule's "Measured on real code" section
(tests/test_evidence.py keeps the two in step): findings read in context,
and how many of them a reader judged worth acting on. A rule is on by
default when at least 60% of the findings read were worth acting on (and
90% right), or, without findings on real code, when it matches only a
misuse that is wrong wherever it is (an explicit gc-API call).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

# The share of findings read that must be worth acting on (and right).
WORTH_BAR, RIGHT_BAR = 0.6, 0.9
PROJECTS = "14 real projects"
PROJECTS_AND_STDLIB = "14 real projects and the 3.11 standard library"


@dataclass(frozen=True)
class Evidence:
    read: int  # findings read in context
    right: int
    worth: int  # of those read, worth acting on
    corpus: str = PROJECTS
    # Why, when the count alone does not decide (no finding, thin evidence).
    note: str = ""
    # It matches only a misuse that is wrong wherever it is.
    exact: bool = False

    def meets_bar(self) -> bool:
        return self.read > 0 and self.worth >= WORTH_BAR * self.read and self.right >= RIGHT_BAR * self.read

    def on_by_default(self) -> bool:
        """The policy: measured worth acting on, or exact with no finding to say otherwise."""
        return self.meets_bar() or (self.exact and self.read == 0)

    def why(self) -> str:
        if not self.read:
            counted = f"no finding on {self.corpus}"
        else:
            counted = f"{self.worth} of {self.read} findings read on {self.corpus} worth acting on"
            if not self.note:
                return f"{counted} ({'at or above' if self.meets_bar() else 'below'} the {WORTH_BAR:.0%} bar)"
        return f"{counted}; {self.note}" if self.note else counted


_NO_EVIDENCE = "no evidence it is worth the default set"
_EXPLICIT = "matches only explicit misuse of the gc API"

EVIDENCE: Dict[str, Evidence] = {
    "GCL101": Evidence(0, 0, 0, note=_NO_EVIDENCE),
    "GCL102": Evidence(3, 3, 1),
    "GCL103": Evidence(0, 0, 0, note="an explicit `__del__()` call is a bug wherever it is", exact=True),
    "GCL104": Evidence(4, 4, 1),
    "GCL201": Evidence(2, 2, 0),
    "GCL202": Evidence(24, 24, 0),
    "GCL203": Evidence(19, 19, 1),
    "GCL204": Evidence(32, 32, 1),
    "GCL205": Evidence(38, 38, 1),
    "GCL206": Evidence(37, 37, 1),
    "GCL207": Evidence(0, 0, 0, note=_NO_EVIDENCE),
    "GCL208": Evidence(27, 27, 3),
    "GCL301": Evidence(13, 13, 11, PROJECTS_AND_STDLIB),
    "GCL302": Evidence(4, 4, 2, PROJECTS_AND_STDLIB),
    "GCL303": Evidence(8, 8, 4, PROJECTS_AND_STDLIB),
    "GCL304": Evidence(0, 0, 0, PROJECTS_AND_STDLIB, note=_NO_EVIDENCE),
    "GCL305": Evidence(1, 1, 0, PROJECTS_AND_STDLIB),
    "GCL306": Evidence(1, 1, 0, PROJECTS_AND_STDLIB),
    "GCL401": Evidence(0, 0, 0, PROJECTS_AND_STDLIB, note=_EXPLICIT, exact=True),
    "GCL402": Evidence(0, 0, 0, PROJECTS_AND_STDLIB, note=_EXPLICIT, exact=True),
    "GCL403": Evidence(0, 0, 0, PROJECTS_AND_STDLIB, note="advice, not misuse"),
    "GCL404": Evidence(1, 1, 1, PROJECTS_AND_STDLIB, note=f"thin evidence, and it {_EXPLICIT}", exact=True),
    "GCL405": Evidence(0, 0, 0, PROJECTS_AND_STDLIB, note=_EXPLICIT, exact=True),
    "GCL406": Evidence(0, 0, 0, PROJECTS_AND_STDLIB, note=_EXPLICIT, exact=True),
    "GCL501": Evidence(2, 2, 0),
    "GCL502": Evidence(0, 0, 0, note=_NO_EVIDENCE),
    "GCL503": Evidence(3, 3, 0),
    "GCL504": Evidence(4, 4, 0),
    "GCL505": Evidence(15, 15, 1),
}


def why_default(code: str) -> Optional[str]:
    """One line: why `code` is on or off by default, with the numbers;
    None for the engine's own codes, which are always reported."""
    evidence = EVIDENCE.get(code)
    return evidence.why() if evidence else None
