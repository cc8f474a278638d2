"""The pre-commit hook, run through `pre-commit try-repo` on scratch repos."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from test_security_cli import hostile_repo

pre_commit = pytest.importorskip("pre_commit")


def git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pre_commit_env(tmp_path_factory):
    # One PRE_COMMIT_HOME for the module: from a clean checkout the hook's
    # environment is installed once, not once per test.
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**os.environ, "PRE_COMMIT_HOME": str(home), "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def try_repo(repo, env):
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "gclint", "--all-files", "--verbose"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900,
    )


def test_hook_flags_the_bad_file_and_passes_the_clean_one(tmp_path, pre_commit_env):
    repo = tmp_path / "scratch"
    repo.mkdir()
    (repo / "bad.py").write_text("import gc\ngc.collect(0)\n")
    (repo / "clean.py").write_text("import gc\ngc.collect()\n")
    done = try_repo(repo, pre_commit_env)
    assert done.returncode == 1, done.stdout + done.stderr
    reported = [line for line in done.stdout.splitlines() if ": GCL" in line]
    assert [line.split(" ", 2)[:2] for line in reported] == [["bad.py:2:1:", "GCL401"]]
    assert "1 finding in 2 files checked." in done.stdout  # require_serial: one run, one summary


def test_the_hook_runs_no_code_for_option_named_files(tmp_path, pre_commit_env):
    repo, marker = hostile_repo(tmp_path)
    done = try_repo(repo, pre_commit_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings in 3 files checked." in done.stdout  # the option-named files were checked as files
    assert not marker.exists()


def test_the_hook_honours_exclude_for_the_files_it_is_handed(tmp_path, pre_commit_env):
    # pre-commit names every file; --force-exclude (in the hook's entry)
    # applies [tool.gclint] exclude to them as a directory walk would.
    repo = tmp_path / "scratch"
    (repo / "vendored" / "lib").mkdir(parents=True)
    (repo / "vendored" / "lib" / "bad.py").write_text("import gc\ngc.collect(0)\n")
    (repo / "app.py").write_text("import gc\ngc.collect()\n")
    (repo / "pyproject.toml").write_text('[tool.gclint]\nextend-exclude = ["vendored"]\n')
    done = try_repo(repo, pre_commit_env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings in 1 file checked." in done.stdout
