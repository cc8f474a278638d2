"""Each GCL3xx fixture really leaks (a ResourceWarning) or really does not.

A bad fixture (one with `# expect:` lines) must emit at least one
ResourceWarning when run under `python -X dev -W always::ResourceWarning`;
a clean look-alike must emit none. sqlite3 connections warn only from
Python 3.13 on, so fixtures that expect GCL304 run under a 3.13+
interpreter when one is installed.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, expectations

RESOURCES = sorted((FIXTURES / "resources").glob("*.py"))
_RUN = (
    "import gc, importlib.util\n"
    "spec = importlib.util.spec_from_file_location('fixture', {path!r})\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "spec.loader.exec_module(module)\n"
    "module.main()\n"
    "del module\n"
    "gc.collect()\n"
)


def _interpreter(path: Path) -> str:
    if not any(code == "GCL304" for _, code in expectations(path)):
        return sys.executable
    if sys.version_info >= (3, 13):
        return sys.executable
    # pyenv shims for inactive versions exist but fail, so look for real binaries.
    installed = sorted(Path.home().glob(".pyenv/versions/3.1[3-9]*/bin/python3"))
    if installed:
        return str(installed[-1])
    pytest.skip("sqlite3 warns about unclosed connections only on Python 3.13+; none installed")


def _resource_warnings(path: Path) -> str:
    command = [_interpreter(path), "-X", "dev", "-W", "always::ResourceWarning", "-c", _RUN.format(path=str(path))]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return "\n".join(line for line in done.stderr.splitlines() if "ResourceWarning" in line)


@pytest.mark.parametrize("path", RESOURCES, ids=[p.name for p in RESOURCES])
def test_bad_fixture_warns_and_clean_fixture_does_not(path):
    warnings = _resource_warnings(path)
    if expectations(path):
        assert warnings, f"{path.name} expects findings but emitted no ResourceWarning"
    else:
        assert warnings == "", f"{path.name} is a clean look-alike but emitted:\n{warnings}"
