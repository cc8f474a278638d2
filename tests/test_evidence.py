"""Each rule's default follows the measured evidence, and `gclint rules` /
`gclint explain` say why, with the same numbers as the rule's docs."""
import json
import re

import pytest

from gclint.cli import main
from gclint.evidence import EVIDENCE, Evidence
from gclint.rule import all_rules

RULES = [pytest.param(r, id=r.code) for r in all_rules()]
# The template of a lifetime rule's "Measured on real code" section.
READ = re.compile(r"(\d+) read in\s+context: (\d+) right, (\d+) worth acting on")


def test_every_rule_has_evidence_and_nothing_else_does():
    assert set(EVIDENCE) == {r.code for r in all_rules()}


@pytest.mark.parametrize("rule", RULES)
def test_the_default_follows_the_policy(rule):
    assert rule.DEFAULT == EVIDENCE[rule.code].on_by_default()


@pytest.mark.parametrize("rule", RULES)
def test_the_numbers_are_those_of_the_rule_docs(rule):
    evidence = EVIDENCE[rule.code]
    measured = rule.info().sections["Measured on real code"]
    template = READ.search(measured)
    if template:
        assert tuple(map(int, template.groups())) == (evidence.read, evidence.right, evidence.worth)
    assert ("No finding" in measured) == (evidence.read == 0)


def test_the_bar():
    assert Evidence(5, 5, 3).on_by_default() and not Evidence(5, 5, 2).on_by_default()
    assert not Evidence(10, 8, 8).on_by_default()  # mostly worth acting on, but 20% wrong
    assert Evidence(0, 0, 0, exact=True).on_by_default() and not Evidence(0, 0, 0).on_by_default()
    assert not Evidence(4, 4, 0, exact=True).on_by_default()  # findings that say otherwise win
    assert Evidence(3, 3, 1).why() == "1 of 3 findings read on 14 real projects worth acting on (below the 60% bar)"


def test_rules_and_explain_say_why_with_the_numbers(capsys):
    assert main(["rules", "--format", "json"]) == 0
    rows = {row["code"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["GCL301"]["default"] is True
    assert rows["GCL301"]["why_default"].startswith("11 of 13 findings read on 14 real projects")
    assert rows["GCL202"]["default"] is False and "0 of 24 findings read" in rows["GCL202"]["why_default"]
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    below = lines[lines.index(next(line for line in lines if line.startswith("GCL205"))) + 1]
    assert below.split()[:4] == ["off", "by", "default:", "1"] and "of 38 findings read" in below
    assert main(["explain", "GCL102"]) == 0
    page = capsys.readouterr().out
    assert "off by default: 1 of 3 findings read on 14 real projects worth acting on (below the 60% bar)" in page
