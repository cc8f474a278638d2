"""Every rule's VALID / INVALID examples are its unit tests; its docs are complete."""
import pytest

from gclint import lint_source
from gclint.config import Settings
from gclint.model import DOC_SECTIONS
from gclint.rule import all_rules, required_sections_missing

RULES = all_rules()


def _examples(kind):
    for rule in RULES:
        for index, example in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, example, id=f"{rule.code}-{kind.lower()}-{index}")


def _positions(rule, source):
    return [(f.line, f.col) for f in lint_source(source, "example.py", Settings(select=(rule.code,))) if f.code == rule.code]


@pytest.mark.parametrize("rule, example", list(_examples("INVALID")))
def test_invalid_example_gives_exactly_the_stated_findings(rule, example):
    assert _positions(rule, example.source) == list(example.expected)


@pytest.mark.parametrize("rule, source", list(_examples("VALID")))
def test_valid_example_gives_no_finding(rule, source):
    assert _positions(rule, source) == []


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_is_documented_and_has_examples(rule):
    info = rule.info()
    assert info.summary, "the docstring's first line is the summary"
    assert required_sections_missing(info) == [], f"sections required: {DOC_SECTIONS}"
    assert rule.VALID and rule.INVALID
    assert rule.name == rule.name.lower() and " " not in rule.name and "_" not in rule.name
    assert rule.code.startswith("GCL") and len(rule.code) == 6


def test_codes_and_names_are_unique():
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)


def test_a_duplicate_code_is_refused():
    from gclint.rule import Rule

    with pytest.raises(ValueError, match="duplicate rule code"):
        type("Copy", (Rule,), {"code": RULES[0].code})


@pytest.mark.parametrize("rule", RULES, ids=[r.code for r in RULES])
def test_rule_names_a_known_evidence_kind(rule):
    from gclint.model import EVIDENCE_KINDS

    assert rule.EVIDENCE in EVIDENCE_KINDS
