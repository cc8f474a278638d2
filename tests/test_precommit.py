"""The pre-commit hook, run through `pre-commit try-repo` on a scratch repo."""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

pre_commit = pytest.importorskip("pre_commit")


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_hook_flags_the_bad_file_and_passes_the_clean_one(tmp_path):
    repo = tmp_path / "scratch"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    (repo / "bad.py").write_text("import gc\ngc.collect(0)\n")
    (repo / "clean.py").write_text("import gc\ngc.collect()\n")
    git("add", ".", cwd=repo)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "gclint", "--all-files"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    reported = [line for line in done.stdout.splitlines() if ": GCL" in line]
    assert [line.split(" ", 2)[:2] for line in reported] == [["bad.py:2:1:", "GCL401"]]
