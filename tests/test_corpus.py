"""The standard library of the running interpreter: no internal error, and
GCL001 exactly for the files this interpreter cannot compile."""
import ast
import json
import os
import subprocess
import sys
import sysconfig
import warnings

import pytest

STDLIB = sysconfig.get_paths()["stdlib"]


def _uncompilable(root, check):
    bad = set()
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = [d for d in subdirs if d not in ("site-packages", "__pycache__")]
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, "rb") as f:
                    data = f.read()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        check(data, path)
                except (SyntaxError, ValueError):
                    bad.add(path)
    return bad


@pytest.mark.slow
def test_stdlib_runs_clean_and_gcl001_only_for_uncompilable_files():
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--exit-zero", "--format", "json", STDLIB],
        capture_output=True, text=True, timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    findings = json.loads(done.stdout)
    unreadable = {f["path"] for f in findings if f["code"] == "GCL001"}
    # Every file reported cannot be compiled; every file that cannot even be
    # parsed is reported. (A few files parse but fail later compiler checks,
    # such as a misplaced `from __future__`; gclint analyses those.)
    assert unreadable <= _uncompilable(STDLIB, lambda data, path: compile(data, path, "exec", dont_inherit=True))
    assert _uncompilable(STDLIB, lambda data, path: ast.parse(data, path)) <= unreadable
    assert unreadable, "every CPython ships deliberately broken test data"
