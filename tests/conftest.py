import atexit
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import List, Optional, Set, Tuple

import pytest

# The suite's gclint runs (in-process and in subprocesses, which inherit the
# environment) keep their findings cache away from the user's own.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="gclint-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)

# A suite started in the background by a shell without job control (`cmd &`
# in a script) inherits SIGINT ignored, and so would every gclint it starts:
# a process that starts with SIGINT ignored keeps ignoring it, so the tests
# that press Ctrl-C on gclint would wait for nothing. They test a terminal's
# gclint, which starts with the default, so the suite restores it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*(GCL\d+(?:\s*,\s*GCL\d+)*)")


def fixture_files() -> List[Path]:
    return sorted(FIXTURES.rglob("*.py"))


def expectations(path: Path) -> Set[Tuple[int, str]]:
    """(line, code) for every `# expect: CODE` comment in a fixture."""
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = _EXPECT.search(line)
        if match:
            found.update((number, code.strip()) for code in match.group(1).split(","))
    return found


def pyenv_python(version: str) -> Optional[str]:
    """The interpreter pyenv installed as `version`, if there is one."""
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(root) / "versions" / version / "bin" / "python"
    return str(path) if path.exists() else None


# A hang guard for making a venv and installing pytest into it, not a measure.
VENV_GUARD_SECONDS = 900


def python_with_pytest(version: str, root: Path) -> str:
    """A venv of pyenv's `version` under `root` with pytest installed (made
    once per root); the test is skipped where that cannot be had."""
    interpreter = pyenv_python(version)
    if interpreter is None:
        pytest.skip(f"Python {version} is not installed")
    home = root / version
    python = home / "bin" / "python"
    if not python.exists():
        made = subprocess.run([interpreter, "-m", "venv", str(home)], capture_output=True, text=True, timeout=VENV_GUARD_SECONDS)
        if made.returncode != 0:
            pytest.skip(f"cannot make a venv for Python {version}: {made.stderr[-200:]}")
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", "pytest"], capture_output=True, text=True, timeout=VENV_GUARD_SECONDS)
    if installed.returncode != 0:
        pytest.skip(f"cannot install pytest for Python {version} (offline?): {installed.stderr[-200:]}")
    return str(python)
