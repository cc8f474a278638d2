"""The README's rule table is the registry's, and its first two commands are CI's."""
import re

from conftest import ROOT
from gclint.cli import rule_table
from gclint.rule import all_rules

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_rule_table_is_current():
    table = re.search(r"<!-- rules:start[^\n]*-->\n(.*?)<!-- rules:end -->", README, re.S).group(1)
    assert table == rule_table([r.info() for r in all_rules()]), "run `gclint rules --format markdown` and paste it"


def test_readme_starts_with_the_two_setup_commands():
    block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).splitlines()
    assert block[0].startswith("python -m pip install . ") and "gclint check fixtures/" in block[0]
    assert block[1].startswith("python -m pip install '.[test]'") and "pytest" in block[1]
