"""Each fixture's static findings are exactly its `# expect:` lines, and it runs."""
import subprocess
import sys

import pytest

from conftest import FIXTURES, expectations, fixture_files
from gclint import lint_source
from gclint.config import Settings
from gclint.project import SummaryStore

FILES = fixture_files()
# The fixtures exercise every rule, on by default or not (as fixtures/pyproject.toml says).
EVERY_RULE = Settings(select=("GCL",))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fixture_findings_equal_expectations(path):
    # With the project around it: fixtures/project's findings come from other modules' summaries.
    found = {(f.line, f.code) for f in lint_source(path.read_bytes(), str(path), EVERY_RULE, SummaryStore(EVERY_RULE))}
    assert found == expectations(path)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fixture_is_a_runnable_program_with_main(path):
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('fixture', {str(path)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "module.main()\n"
    )
    if (path.parent / "__init__.py").exists():  # a package's module, imported as one (its relative imports work)
        name = f"{path.parent.name}.{path.stem}" if path.stem != "__init__" else path.parent.name
        code = f"import sys, importlib\nsys.path.insert(0, {str(path.parent.parent)!r})\nimportlib.import_module({name!r}).main()\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_every_family_has_a_clean_and_a_bad_fixture():
    families = {p.parent.name for p in FILES}
    for family in families:
        members = [p for p in FILES if p.parent.name == family]
        assert any(expectations(p) for p in members), family
        assert any(not expectations(p) for p in members), family
