"""docs/rules/ is generated from the rule classes, and what it shows is true."""
import re
from urllib.parse import urlparse

import pytest

from conftest import ROOT
from gclint.config import Settings
from gclint.engine import lint_source
from gclint.model import RULE_DOCS_PATH
from gclint.report.docs import pages, rule_infos
from gclint.rule import all_rules

DOCS = ROOT / RULE_DOCS_PATH
EVERY_RULE = Settings(select=("GCL",))
RULES = [pytest.param(r, id=r.code) for r in all_rules()]


def test_the_pages_are_current():
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    stale = sorted(name for name, text in pages().items() if on_disk.get(name) != text)
    extra = sorted(set(on_disk) - set(pages()))
    assert (stale, extra) == ([], []), "run `python -m gclint.report.docs` and commit docs/rules/"


@pytest.mark.parametrize("rule", RULES)
def test_no_rule_flags_the_use_instead_code(rule):
    info = rule.info()
    assert info.use_instead, f"{rule.__name__} has no USE_INSTEAD"
    for path in ("example.py", "tests/test_example.py"):
        assert [(f.line, f.code) for f in lint_source(info.use_instead, path, EVERY_RULE)] == []


@pytest.mark.parametrize("rule", RULES)
def test_the_example_it_fixes_is_flagged(rule):
    example = rule.INVALID[0].source
    assert rule.code in {f.code for f in lint_source(example, "example.py", Settings(select=(rule.code,)))}


@pytest.mark.parametrize("rule", RULES)
def test_every_rule_has_references(rule):
    assert rule.REFERENCES, f"{rule.__name__} has no REFERENCES"
    for title, url in rule.REFERENCES:
        parsed = urlparse(url)
        assert title.strip() and parsed.scheme == "https" and parsed.netloc in ("docs.python.org", "peps.python.org", "docs.astral.sh", "bugs.python.org", "github.com")


@pytest.mark.parametrize("info", [pytest.param(i, id=i.code) for i in rule_infos()])
def test_a_page_has_every_section(info):
    page = pages()[f"{info.code}.md"]
    headings = re.findall(r"^## (.+)$", page, re.M)
    wanted = ["What it flags", "Why it matters", "Known limits"]
    if info.invalid:
        wanted += ["Example", "Use instead", "References"]
    assert [h for h in headings if h in wanted] == [h for h in ["What it flags", "Why it matters", "Example", "Use instead", "Known limits", "References"] if h in wanted]
    assert (DOCS / f"{info.code}.md").is_file()
