"""Plain data shared by the engine, the rules and the reporters."""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing gclint reports: where it is, what it is, how bad it is.

    Lines are 1-based; columns are 1-based too, as every editor shows them
    (the flake8 adapter converts to flake8's 0-based column).
    """

    path: str
    line: int
    col: int
    code: str
    message: str
    severity: Severity
    end_line: Optional[int] = None
    end_col: Optional[int] = None
    # Filled in by dynamic mode: "confirmed", "not reproduced", "not executed".
    status: Optional[str] = None
    evidence: Tuple[Mapping[str, Any], ...] = ()

    @property
    def sort_key(self) -> Tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.code)

    def as_dict(self) -> Dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "end_col": self.end_col,
            "code": self.code,
            "message": self.message,
            "severity": self.severity.value,
            "status": self.status,
            "evidence": [dict(e) for e in self.evidence],
        }

    def with_path(self, path: str) -> "Finding":
        return replace(self, path=path)


@dataclass(frozen=True)
class Invalid:
    """An INVALID example: the source and the exact (line, col) of each finding."""

    source: str
    expected: Tuple[Tuple[int, int], ...]

    def __init__(self, source: str, *expected: Tuple[int, int]) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "expected", tuple(expected))


DOC_SECTIONS = ("What it flags", "Why it matters", "Known limits")

# Kinds of dynamic-mode evidence a rule can be confirmed by (Rule.EVIDENCE).
EVIDENCE_KINDS = (
    "cycle", "resurrection", "resource-warning", "finalizer-exception", "gc-call", "gc-state", "retained-object", "none",
)

# Finding.status values set by dynamic mode.
CONFIRMED, NOT_REPRODUCED, NOT_EXECUTED = "confirmed", "not reproduced", "not executed"


RULE_DOCS_PATH = "docs/rules"
# The `[project.urls]` label that says where the pages of docs/rules/ are
# published: SARIF's helpUri is that base plus `/GCLxxx.md`. gclint has no
# public address yet, so none is set and SARIF carries each rule's full
# help text instead of a link; an address is never made up.
RULE_DOCS_LABEL = "Rule documentation"


def rule_docs_base(project_urls: Optional[Sequence[str]]) -> Optional[str]:
    """The https base of the rule pages among a distribution's `Project-URL`
    entries (`label, url`), or None when none is published."""
    for entry in project_urls or ():
        label, _, url = entry.partition(",")
        url = url.strip()
        if label.strip().lower() == RULE_DOCS_LABEL.lower() and url.startswith("https://"):
            return url.rstrip("/")
    return None


def installed_rule_docs_base() -> Optional[str]:
    """rule_docs_base() of the installed gclint's metadata."""
    from importlib import metadata

    try:
        urls = metadata.metadata("gclint").get_all("Project-URL")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return None
    return rule_docs_base(urls)


def rule_doc_url(code: str, base: Optional[str]) -> Optional[str]:
    """The address of a rule's page under `base`, or None without a base."""
    return f"{base}/{code}.md" if base else None


@dataclass(frozen=True)
class RuleInfo:
    """What the CLI, the docs and the reporters know about a code."""

    code: str
    name: str
    severity: Severity
    summary: str
    sections: Mapping[str, str] = field(default_factory=dict)
    valid: Sequence[str] = ()
    invalid: Sequence[Invalid] = ()
    # In the set `gclint check` runs when nothing is selected (see rule.Rule.DEFAULT).
    default: bool = True
    # The first INVALID example fixed by hand (Rule.USE_INSTEAD).
    use_instead: str = ""
    references: Tuple[Tuple[str, str], ...] = ()

    def markdown(self) -> str:
        """The rule's page: `gclint explain`, docs/rules/GCLxxx.md, SARIF help."""
        parts = [f"# {self.code} {self.name}", "", self.summary, "", self._status(), ""]
        for title in ("What it flags", "Why it matters"):
            parts += _section(title, self.sections.get(title))
        if self.invalid:
            parts += ["## Example", "", *_code_blocks(i.source for i in self.invalid[:1])]
        if self.use_instead:
            parts += ["## Use instead", "", *_code_blocks([self.use_instead])]
        for title, text in self.sections.items():
            if title not in ("What it flags", "Why it matters"):
                parts += _section(title, text)
        if self.references:
            parts += ["## References", "", *(f"- [{title}]({url})" for title, url in self.references), ""]
        parts += self._more_examples()
        return "\n".join(parts).rstrip() + "\n"

    @property
    def why_default(self) -> Optional[str]:
        """Why the rule is on or off by default, with the measured numbers."""
        from gclint.evidence import why_default

        return why_default(self.code)

    def _status(self) -> str:
        on = "on by default" if self.default else "off by default"
        if self.why_default:
            on += f": {self.why_default}"
        if not self.default:
            on += ". Select it by code, or every rule with `--select GCL`"
        return f"*Severity {self.severity.value}; {on}.*"

    def _more_examples(self) -> List[str]:
        """The rule's other test examples, flagged and not flagged."""
        flagged, clean = self.invalid[1:], self.valid
        if not flagged and not clean:
            return []
        parts = ["## More examples", ""]
        if flagged:
            parts += ["Flagged:", "", *_code_blocks(i.source for i in flagged)]
        if clean:
            parts += ["Not flagged:", "", *_code_blocks(clean)]
        return parts


def _section(title: str, text: Optional[str]) -> List[str]:
    return [f"## {title}", "", text, ""] if text else []


def _code_blocks(sources: Iterable[str]) -> List[str]:
    blocks: List[str] = []
    for source in sources:
        blocks += ["```python", source.rstrip(), "```", ""]
    return blocks


_HEADING = re.compile(r"^(What it flags|Why it matters|Known limits|Measured on real code):\s*$", re.M)


def parse_doc_sections(doc: str) -> Dict[str, str]:
    """Split a rule docstring into its `Heading:` sections, in order."""
    import textwrap

    text = textwrap.dedent(doc).strip("\n")
    # The first line of a class docstring is not indented like the rest.
    first, _, rest = text.partition("\n")
    text = first.strip() + "\n" + textwrap.dedent(rest)
    sections: Dict[str, str] = {}
    matches = list(_HEADING.finditer(text))
    for here, after in zip(matches, matches[1:] + [None]):
        end = after.start() if after else len(text)
        sections[here.group(1)] = textwrap.dedent(text[here.end():end]).strip()
    return sections
