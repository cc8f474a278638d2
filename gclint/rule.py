"""The rule model and the registry (the project's only global state).

A rule is one small class: its code, name, severity and message; its
documentation as the class docstring (a summary line, then `What it flags:`,
`Why it matters:` and `Known limits:` sections); the VALID / INVALID examples
that are both its unit tests and the examples `gclint explain` shows; and
`visit_<Node>` / `leave_<Node>` methods the engine calls during its one walk.
"""
from __future__ import annotations

import functools
import textwrap
from typing import TYPE_CHECKING, ClassVar, Dict, List, Optional, Sequence, Tuple, Type

import libcst as cst

from gclint.model import DOC_SECTIONS, Invalid, RuleInfo, Severity, parse_doc_sections

if TYPE_CHECKING:
    from gclint.context import FileContext, Options

_REGISTRY: Dict[str, Type["Rule"]] = {}


def spells_name(text: str, name: str) -> bool:
    """Whether `text` holds `name` as a whole identifier (not `reopen` for
    `open`): how code names a function, class or attribute."""
    start = text.find(name)
    while start >= 0:
        end = start + len(name)
        if not (start and _identifier_char(text[start - 1])) and not (end < len(text) and _identifier_char(text[end])):
            return True
        start = text.find(name, end)
    return False


def _identifier_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    message: ClassVar[str]
    # libcst metadata providers this rule reads through ctx.metadata(); the
    # engine computes only those that active rules declare.
    METADATA: ClassVar[Tuple[type, ...]] = ()
    # The rule is skipped on a file whose text contains none of these
    # strings; they must be necessary for any finding (or leave it empty).
    TRIGGERS: ClassVar[Tuple[str, ...]] = ()
    VALID: ClassVar[Sequence[str]] = ()
    INVALID: ClassVar[Sequence[Invalid]] = ()
    # Which kind of dynamic-mode evidence can confirm a finding of this rule:
    # one of gclint.model.EVIDENCE_KINDS; "none" when nothing observable can.
    EVIDENCE: ClassVar[str] = "none"
    # On in the default selection only when its findings on real code were
    # measured mostly right and mostly worth acting on (the rule's
    # "Measured on real code" section says on what, and how often).
    DEFAULT: ClassVar[bool] = False
    # Documentation beyond the docstring (docs/rules/GCLxxx.md): the first
    # INVALID example rewritten by hand so that no rule flags it, and
    # (title, URL) pairs of CPython docs, PEPs and bug reports.
    USE_INSTEAD: ClassVar[str] = ""
    REFERENCES: ClassVar[Tuple[Tuple[str, str], ...]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:
            return
        if code in _REGISTRY:
            raise ValueError(f"duplicate rule code {code}: {_REGISTRY[code].__name__} and {cls.__name__}")
        _REGISTRY[code] = cls

    def __init__(self, ctx: "FileContext") -> None:
        self.ctx = ctx

    def report(self, node: cst.CSTNode, message: Optional[str] = None) -> None:
        self.ctx.report(self.code, self.severity, node, message or self.message)

    @classmethod
    def triggered_by(cls, text: str, options: Optional["Options"] = None) -> bool:
        if not cls.TRIGGERS:
            return True
        return any(t in text for t in (*cls.TRIGGERS, *cls.configured_triggers(options)))

    @classmethod
    def configured_triggers(cls, options: Optional["Options"]) -> Tuple[str, ...]:
        """Trigger strings that come from the configuration (none by default)."""
        return ()

    @classmethod
    def info(cls) -> RuleInfo:
        doc = cls.__doc__ or ""
        summary = doc.strip().splitlines()[0].strip() if doc.strip() else ""
        return RuleInfo(
            code=cls.code,
            name=cls.name,
            severity=cls.severity,
            summary=summary,
            sections=parse_doc_sections(doc),
            valid=tuple(cls.VALID),
            invalid=tuple(cls.INVALID),
            default=cls.DEFAULT,
            use_instead=textwrap.dedent(cls.USE_INSTEAD).strip("\n") + "\n" if cls.USE_INSTEAD else "",
            references=tuple(cls.REFERENCES),
        )


def _load() -> None:
    import gclint.rules  # noqa: F401  (importing the package registers every family)


def all_rules() -> List[Type[Rule]]:
    _load()
    return [_REGISTRY[code] for code in sorted(_REGISTRY)]


def rule_for(code: str) -> Optional[Type[Rule]]:
    _load()
    return _REGISTRY.get(code.upper())


# Codes the engine and dynamic mode report themselves, outside any rule class.
ENGINE_CODES: Dict[str, RuleInfo] = {
    "GCL001": RuleInfo(
        code="GCL001",
        name="file-not-analysed",
        severity=Severity.ERROR,
        summary="The file could not be read, decoded or parsed, so no rule looked at it.",
        sections={
            "What it flags": "A file gclint was asked to check but could not read, decode "
            "(PEP 263 coding cookie, BOM) or parse. The message names the reason and, for "
            "syntax errors, the position.",
            "Why it matters": "Every other rule is silent on such a file: a clean run would be a false promise.",
            "Known limits": "Syntax is judged by libcst's parser (and, when no rule needs the tree, "
            "by the running interpreter's own compiler), which may differ from the Python version "
            "the file is written for.",
        },
    ),
    "GCL002": RuleInfo(
        code="GCL002",
        name="internal-error",
        severity=Severity.ERROR,
        summary="A rule failed on this file; the other rules' findings are kept.",
        sections={
            "What it flags": "The place where one of gclint's rules raised an exception. The rule is "
            "switched off for the rest of the file; every other rule still runs.",
            "Why it matters": "It is a bug in gclint, not in your code: the file may have findings "
            "that rule would have reported. The command exits with status 2.",
            "Known limits": "Only failures inside rules are located this precisely; a failure in "
            "the engine itself is reported per file on standard error.",
        },
    ),
    "GCL003": RuleInfo(
        code="GCL003",
        name="not-parsed-by-libcst",
        severity=Severity.INFO,
        summary="Valid Python that libcst's parser cannot read, so no rule looked at it.",
        sections={
            "What it flags": "A file the running interpreter compiles but libcst, the parser gclint "
            "is built on, rejects (for example a parenthesised annotated target, `(x): int`).",
            "Why it matters": "The file has not been analysed: a clean result would say nothing about it. "
            "It is a limit of gclint's parser, not a problem in your code.",
            "Known limits": "Reported once per file, at the position libcst gives up.",
        },
    ),
}


def extra_codes() -> Dict[str, RuleInfo]:
    """Codes reported outside rule classes: the engine's and dynamic mode's."""
    from gclint.dynamic.codes import DYNAMIC_CODES

    return {**ENGINE_CODES, **DYNAMIC_CODES}


@functools.lru_cache(maxsize=1)
def default_selection() -> Tuple[str, ...]:
    """What runs when nothing is selected: the engine's and dynamic mode's
    own codes, and every rule marked DEFAULT."""
    return (*extra_codes(), *(r.code for r in all_rules() if r.DEFAULT))


def known_codes() -> List[str]:
    return sorted({*extra_codes(), *(r.code for r in all_rules())})


def required_sections_missing(info: RuleInfo) -> List[str]:
    return [s for s in DOC_SECTIONS if not info.sections.get(s)]
